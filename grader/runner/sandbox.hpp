// sandbox.hpp - who the test-case children run as, and their process limit.
//
// RLIMIT_NPROC limits the tasks (processes and threads) of a *user*, and the
// kernel never applies it to root. So when tito runs as root (CI, many course
// machines) each test case drops to an unprivileged user before exec:
// $TITO_CHILD_USER, default `nobody` (setgroups/setgid/setuid). That user must
// be able to read the grader and the module libraries; tito checks this first
// (in a throw-away child that switches user and calls access()) and, when it
// cannot, runs the cases as root and says that the process limit is not
// enforced. As a normal user nothing changes user and the limit binds.
//
// The limit is counted when each child starts: the tasks the user runs at
// that moment (other test cases, other graders running as the same user)
// plus a budget for the child (threads of the thread pool and of OpenBLAS
// included). An unbounded fork bomb stops at the budget.
#pragma once

#include <string>
#include <vector>

namespace tito {

struct SandboxPlan {
    long uid = -1, gid = -1;  // >= 0: the cases run as this user
    std::string user;         // its name ("" when the cases run as tito's user)
    long processes = 0;       // the budget of every child (ChildLimits::processes); 0: none
    bool nproc_enforced = true;
    std::string warning;      // one paragraph when something is not enforced
};

// Tasks (processes and threads) one test case may add by default.
long default_processes_budget();

// readable: files the children must read (libraries); executable: programs
// they exec. processes: the budget per child (0: the default).
SandboxPlan plan_sandbox(const std::vector<std::string>& readable,
                         const std::vector<std::string>& executable, long processes);

// Make `dir` (created by tito, mode 0700) usable by the plan's user: the
// directory becomes traversable (0711) and `dir/<sub>` is created, owned by
// that user, mode 0700. Returns the sub-directory.
std::string prepare_child_dir(const std::string& dir, const std::string& sub, const SandboxPlan& plan);

// Tasks of a real user id now, summed over /proc/*/status ("Threads:").
long count_user_tasks(long uid);

}  // namespace tito
