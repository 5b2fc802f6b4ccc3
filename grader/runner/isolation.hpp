// isolation.hpp - where and as whom the student code of a grading run runs.
//
// The suite (bin/tt_grade_NN) is trusted: it runs as tito's user, holds the
// tests and writes the report. Student modules run in a worker process the
// suite starts (core/src/remote/remote.hpp); this file prepares what that
// worker gets: a private copy of just the libraries it may load (never the
// graded modules' reference or fast libraries), a scratch folder per case,
// an unprivileged user per case when tito is root, and the namespaces that
// hide everything else and end every process with the case.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "tinytorch/runtime.hpp"

namespace tito {

struct IsolationPlan {
    std::string worker_exe;               // bin/tt_worker
    std::string lib_dir;                  // private copies (mode 0755/0644)
    std::string run_dir;                  // removed at the end of the run
    bool namespaces = false;
    std::vector<std::string> hide;        // folders the worker never sees
    std::vector<std::string> forbidden;   // libraries the worker must never map
    long processes = 0;                   // RLIMIT_NPROC of the worker's user
    std::string warning;                  // one paragraph when isolation is weaker
    ~IsolationPlan();
};

// Whether PID, mount, network and IPC namespaces (and, for a normal user, a
// user namespace) can be created here. TITO_WORKER_ISOLATE=none turns them off.
bool namespaces_available();

// Prepare the worker's libraries for a suite of `module` graded with `choice`
// from `lib_dir`. `hide` are the folders to hide (checkout, build tree).
void plan_isolation(IsolationPlan& plan, int module, const tt::ImplChoice& choice, const std::string& lib_dir,
                    const std::string& bin_dir, const std::vector<std::string>& hide, long processes);

// The per-case part: a scratch folder owned by the case's user, and the
// environment that tells the suite how to start its worker.
struct CaseSandbox {
    std::string tmp_dir;
    long uid = -1, gid = -1;
    bool namespaces = false;
    std::map<std::string, std::string> env;
};
CaseSandbox open_case(const IsolationPlan& plan, const std::string& parent, size_t index);
// After the case: every process of the case's user killed, its folder removed.
void close_case(const CaseSandbox& box);

// Commands that load student modules in tito's own process tree (the
// milestone, the playground, benchmarks) do not isolate them: as root they
// refuse unless the user opts in (--allow-root). False (after printing why,
// with the fix) when the command must not go on. `what`: "milestone 04", ...
bool student_code_may_run(const std::string& what, bool allow_root);

}  // namespace tito
