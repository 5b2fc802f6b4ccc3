// sandbox.hpp - the process budget of a test case.
//
// RLIMIT_NPROC limits the tasks (processes and threads) of a *user*, and the
// kernel never applies it to root; student code runs as an unprivileged user
// (the case's own, see isolation.hpp) or as tito's own non-root user. The
// limit is counted when each child starts: the tasks the user runs at that
// moment plus a budget for the child (threads of the thread pool and of
// OpenBLAS included). An unbounded fork bomb stops at the budget.
#pragma once

namespace tito {

// Tasks (processes and threads) one test case may add by default.
long default_processes_budget();

// Tasks of a real user id now, summed over /proc/*/status ("Threads:").
long count_user_tasks(long uid);

}  // namespace tito
