// child.hpp - run one untrusted child process with limits.
//
// The child gets its own session and process group (setsid), RLIMIT_CPU,
// RLIMIT_CORE = 0, RLIMIT_FSIZE, RLIMIT_NPROC and (unless sanitizers are in
// use) RLIMIT_AS; it may run as another user (tito drops root privileges for
// test cases, see sandbox.hpp), with no_new_privs, folders it must not see hidden, and a parent-death signal;
// stdin is /dev/null, stdout and stderr are captured and truncated. A
// wall-clock timeout kills the whole process group with SIGKILL, and the group
// is killed after the child exits too. tito is the child subreaper of
// everything it starts: a descendant that left the process group (setsid,
// double fork) is reparented to tito when its parent dies and is killed by
// the sweep after the case, so nothing a case started outlives it.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace tito {

struct ChildLimits {
    double timeout_s = 10;          // wall clock
    long cpu_s = 0;                 // RLIMIT_CPU (0: derived from the timeout)
    long long file_bytes = 256ll << 20;  // RLIMIT_FSIZE
    long long memory_bytes = 0;     // RLIMIT_AS (0: none)
    size_t capture_bytes = 64 << 10;     // per stream
    long processes = 0;             // RLIMIT_NPROC budget (0: none): the limit is the tasks
                                    // the child's user runs when it starts plus this.
                                    // RLIMIT_NPROC never binds for root.
    long run_as_uid = -1;           // >= 0: setgroups/setgid/setuid to this user before exec
    long run_as_gid = -1;
    std::string work_dir;           // after dropping privileges: chdir here when the
                                    // inherited working directory is not accessible
    std::vector<std::string> hide_dirs;  // each covered by an empty read-only tmpfs in a
                                         // mount namespace of the child's own (a user
                                         // namespace too when tito is not root); the child
                                         // does not start when that fails
};

struct ChildResult {
    bool started = false;
    std::string start_error;  // why exec failed
    int exit_code = -1;       // when it exited normally
    int signal = 0;           // when a signal ended it
    bool timed_out = false;   // we killed it at the wall-clock limit
    std::string out, err;     // captured (truncated: head and tail kept)
    size_t out_total = 0, err_total = 0;
    double seconds = 0;
};

// argv[0] is the path of the program. env: variables to set (or override) on
// top of this process's environment.
ChildResult run_child(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env, const ChildLimits& limits);

// Kill and reap the processes that were reparented to tito (it is their
// subreaper) and are not a child run_child is waiting for: what a finished
// case left behind outside its process group. run_child calls it after every
// child; safe to call from any thread.
void sweep_orphans();

// "SIGSEGV (segmentation fault)" style name of a signal.
std::string signal_description(int sig);

// The last `lines` lines of a text.
std::string tail_lines(const std::string& text, size_t lines);

}  // namespace tito
