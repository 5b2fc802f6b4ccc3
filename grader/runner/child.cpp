// child.cpp - fork/exec with limits, output capture and a wall-clock timeout.
#include "child.hpp"
#include "sandbox.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <thread>
#include <cstdlib>

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

extern char** environ;

namespace tito {

namespace {

// Keeps the first half and the last half of a stream within `limit` bytes.
class Capture {
public:
    explicit Capture(size_t limit) : head_cap_(limit / 2), tail_cap_(limit - limit / 2) {}

    void add(const char* data, size_t n) {
        total_ += n;
        size_t to_head = std::min(n, head_cap_ - std::min(head_cap_, head_.size()));
        head_.append(data, to_head);
        if (to_head < n) {
            tail_.append(data + to_head, n - to_head);
            if (tail_.size() > 2 * tail_cap_) tail_.erase(0, tail_.size() - tail_cap_);
        }
    }

    std::string text() const {
        if (tail_.size() <= tail_cap_ && head_.size() + tail_.size() == total_) return head_ + tail_;
        std::string tail = tail_.size() > tail_cap_ ? tail_.substr(tail_.size() - tail_cap_) : tail_;
        size_t omitted = total_ - head_.size() - tail.size();
        return head_ + "\n[... " + std::to_string(omitted) + " bytes of output omitted ...]\n" + tail;
    }

    size_t total() const { return total_; }

private:
    size_t head_cap_, tail_cap_;
    std::string head_, tail_;
    size_t total_ = 0;
};

void set_limit(int resource, rlim_t soft, rlim_t hard) {
    struct rlimit lim;
    if (getrlimit(resource, &lim) == 0) {
        // Never raise above the current hard limit (not allowed unprivileged).
        if (lim.rlim_max != RLIM_INFINITY) {
            hard = std::min(hard, lim.rlim_max);
            soft = std::min(soft, hard);
        }
    }
    lim.rlim_cur = soft;
    lim.rlim_max = hard;
    setrlimit(resource, &lim);
}

// Children in their own sessions do not get the terminal's Ctrl-C: when tito
// is interrupted it kills the process groups still running, then dies of the
// same signal. Slots are lock-free so the handler may read them.
constexpr int kSlots = 256;
std::atomic<pid_t> g_running[kSlots];

void kill_running_and_die(int sig) {
    for (auto& slot : g_running) {
        pid_t pid = slot.load();
        if (pid > 0) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);  // in case it has not called setsid yet
        }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void install_interrupt_handlers() {
    static std::once_flag once;
    std::call_once(once, [] {
        // Orphaned descendants of a case come back to tito (not to init), so
        // the sweep can kill what escaped the process group.
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
            struct sigaction sa {};
            sa.sa_handler = kill_running_and_die;
            sigemptyset(&sa.sa_mask);
            sigaction(sig, &sa, nullptr);
        }
    });
}

// Held around fork + registration, and by the sweep, so that the sweep never
// mistakes a child that was just forked for an orphan.
std::mutex g_spawn_mu;

bool is_running_child(pid_t pid) {
    for (auto& slot : g_running)
        if (slot.load() == pid) return true;
    return false;
}

// Registers a running child for the handler (and the sweep) while in scope.
class RunningSlot {
public:
    RunningSlot() = default;
    void set(pid_t pid) {
        for (int i = 0; i < kSlots; ++i) {
            pid_t expected = 0;
            if (g_running[i].compare_exchange_strong(expected, pid)) {
                index_ = i;
                return;
            }
        }
    }
    ~RunningSlot() { clear(); }
    void clear() {
        if (index_ >= 0) g_running[index_].store(0);
        index_ = -1;
    }
    RunningSlot(const RunningSlot&) = delete;
    RunningSlot& operator=(const RunningSlot&) = delete;

private:
    int index_ = -1;
};

// The direct children of this process: /proc/self/task/*/children, else a
// scan of every process's parent.
std::vector<pid_t> direct_children() {
    std::vector<pid_t> kids;
    bool have_children_files = false;
    if (DIR* d = opendir("/proc/self/task")) {
        while (dirent* e = readdir(d)) {
            if (e->d_name[0] == '.') continue;
            std::ifstream in(std::string("/proc/self/task/") + e->d_name + "/children");
            if (!in) continue;
            have_children_files = true;
            long pid;
            while (in >> pid) kids.push_back(static_cast<pid_t>(pid));
        }
        closedir(d);
    }
    if (have_children_files) return kids;
    pid_t self = getpid();
    if (DIR* d = opendir("/proc")) {
        while (dirent* e = readdir(d)) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
            std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
            std::string line;
            if (!std::getline(in, line)) continue;
            // pid (comm) state ppid ...: comm may contain spaces and parentheses.
            size_t close = line.rfind(')');
            if (close == std::string::npos) continue;
            std::istringstream rest(line.substr(close + 1));
            std::string state;
            long ppid = 0;
            if (rest >> state >> ppid && ppid == self) kids.push_back(static_cast<pid_t>(std::atol(e->d_name)));
        }
        closedir(d);
    }
    return kids;
}

}  // namespace

void sweep_orphans() {
    std::vector<pid_t> orphans;
    {
        std::lock_guard<std::mutex> lock(g_spawn_mu);
        for (pid_t pid : direct_children()) {
            if (pid <= 0 || is_running_child(pid)) continue;
            kill(pid, SIGKILL);
            orphans.push_back(pid);
        }
    }
    // Reap them (they are our children now); give up on one that does not
    // die within a second (the next sweep tries again).
    for (pid_t pid : orphans) {
        for (int i = 0; i < 100; ++i) {
            pid_t w = waitpid(pid, nullptr, WNOHANG);
            if (w == pid || (w < 0 && errno != EINTR)) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
}

std::string signal_description(int sig) {
    switch (sig) {
        case SIGSEGV: return "SIGSEGV (segmentation fault: an invalid memory access)";
        case SIGABRT: return "SIGABRT (aborted: assert() or std::terminate)";
        case SIGFPE: return "SIGFPE (arithmetic error, e.g. integer division by zero)";
        case SIGBUS: return "SIGBUS (bus error: misaligned or unmapped memory)";
        case SIGILL: return "SIGILL (illegal instruction)";
        case SIGKILL: return "SIGKILL (killed)";
        case SIGTERM: return "SIGTERM (terminated)";
        case SIGXCPU: return "SIGXCPU (CPU time limit exceeded)";
        case SIGXFSZ: return "SIGXFSZ (file size limit exceeded)";
        case SIGTRAP: return "SIGTRAP (trace trap)";
        case SIGPIPE: return "SIGPIPE (broken pipe)";
        case SIGSYS: return "SIGSYS (bad system call)";
        default: return "signal " + std::to_string(sig);
    }
}

std::string tail_lines(const std::string& text, size_t lines) {
    size_t end = text.size();
    while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r')) --end;
    size_t pos = end;
    for (size_t n = 0; pos > 0; --pos)
        if (text[pos - 1] == '\n' && ++n == lines) break;
    return text.substr(pos, end - pos);
}

ChildResult run_child(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env, const ChildLimits& limits) {
    ChildResult result;
    // Everything the child needs is prepared before fork (only async-signal-
    // safe calls happen between fork and exec).
    // A clean environment: a few harmless variables of tito's own, then what
    // the caller sets. Nothing else (no LD_PRELOAD, no LD_LIBRARY_PATH).
    static const char* const kept[] = {"PATH", "HOME", "LANG", "LC_ALL", "TERM", "TZ", "USER",
                                       "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
                                       "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                       "TITO_THREADS", "TITO_SANITIZE", "TITO_WORKER_ISOLATE",
                                       "CMAKE_BUILD_PARALLEL_LEVEL", "CC", "CXX"};
    std::vector<std::string> env_strings;
    for (const char* key : kept)
        if (const char* v = std::getenv(key); v && !env.count(key)) env_strings.push_back(std::string(key) + "=" + v);
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, args;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    for (auto& s : argv_copy) args.push_back(s.data());
    args.push_back(nullptr);

    long cpu = limits.cpu_s;
    if (cpu <= 0) {
        // Wall time is the real limit; the CPU limit is a backstop should the
        // parent die. Threads (BLAS) may burn CPU faster than wall time.
        long cores = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
        cpu = static_cast<long>(std::ceil(limits.timeout_s)) * cores + 5;
    }

    int out_pipe[2], err_pipe[2], exec_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
        pipe2(exec_pipe, O_CLOEXEC) != 0) {
        result.start_error = std::string("pipe: ") + std::strerror(errno);
        return result;
    }
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    install_interrupt_handlers();

    const pid_t parent_pid = getpid();
    const bool drop = limits.run_as_uid >= 0 && limits.run_as_gid >= 0;
    // RLIMIT_NPROC counts every task of the user: what it runs now (other
    // cases, other graders as the same user) plus the child's budget.
    long nproc = 0;
    if (limits.processes > 0 && (drop || geteuid() != 0))
        nproc = count_user_tasks(drop ? limits.run_as_uid : static_cast<long>(getuid())) + limits.processes;
    const uid_t run_uid = static_cast<uid_t>(limits.run_as_uid);
    const gid_t run_gid = static_cast<gid_t>(limits.run_as_gid);
    const char* work_dir = limits.work_dir.empty() ? nullptr : limits.work_dir.c_str();
    // Prepared before fork: the child may only make async-signal-safe calls.
    std::vector<const char*> hide;
    for (const std::string& d : limits.hide_dirs) hide.push_back(d.c_str());
    const bool hide_as_user = !hide.empty() && geteuid() != 0;
    const std::string uid_map = std::to_string(geteuid()) + " " + std::to_string(geteuid()) + " 1\n";
    const std::string gid_map = std::to_string(getegid()) + " " + std::to_string(getegid()) + " 1\n";
    RunningSlot slot;

    auto start = std::chrono::steady_clock::now();
    pid_t pid;
    {
        std::lock_guard<std::mutex> lock(g_spawn_mu);
        pid = fork();
        if (pid > 0) slot.set(pid);
    }
    if (pid < 0) {
        result.start_error = std::string("fork: ") + std::strerror(errno);
        for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], exec_pipe[0], exec_pipe[1], devnull})
            if (fd >= 0) close(fd);
        return result;
    }
    if (pid == 0) {
        // Only async-signal-safe calls from here to execve. On failure the
        // child reports {stage, errno} through exec_pipe.
        auto fail = [&](int stage) {
            int report[2] = {stage, errno};
            ssize_t ignored = write(exec_pipe[1], report, sizeof report);
            (void)ignored;
            _exit(127);
        };
        setsid();
        if (devnull >= 0) dup2(devnull, 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        set_limit(RLIMIT_CORE, 0, 0);
        set_limit(RLIMIT_CPU, static_cast<rlim_t>(cpu), static_cast<rlim_t>(cpu + 2));
        set_limit(RLIMIT_FSIZE, static_cast<rlim_t>(limits.file_bytes),
                  static_cast<rlim_t>(limits.file_bytes));
        if (limits.memory_bytes > 0)
            set_limit(RLIMIT_AS, static_cast<rlim_t>(limits.memory_bytes),
                      static_cast<rlim_t>(limits.memory_bytes));
        if (nproc > 0) set_limit(RLIMIT_NPROC, static_cast<rlim_t>(nproc), static_cast<rlim_t>(nproc));
        if (!hide.empty()) {
            // A private mount table in which each hidden folder is an empty,
            // read-only tmpfs. Not root: in a user namespace mapping only
            // tito's own ids, so file access stays exactly as before.
            if (unshare(CLONE_NEWNS | (hide_as_user ? CLONE_NEWUSER : 0)) != 0) fail(3);
            if (hide_as_user) {
                auto write_file = [&](const char* path, const char* text, size_t n) {
                    int fd = open(path, O_WRONLY | O_CLOEXEC);
                    if (fd < 0 || write(fd, text, n) != static_cast<ssize_t>(n)) fail(3);
                    close(fd);
                };
                write_file("/proc/self/setgroups", "deny", 4);
                write_file("/proc/self/uid_map", uid_map.data(), uid_map.size());
                write_file("/proc/self/gid_map", gid_map.data(), gid_map.size());
            }
            if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail(3);
            for (const char* dir : hide)
                if (mount("tmpfs", dir, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555") != 0)
                    fail(3);
        }
        if (drop) {
            // Root is not bound by RLIMIT_NPROC: the case runs as another user.
            if (setgroups(0, nullptr) != 0) fail(1);
            if (setgid(run_gid) != 0) fail(1);
            if (setuid(run_uid) != 0) fail(1);
            if (work_dir && access(".", X_OK) != 0 && chdir(work_dir) != 0) fail(2);
        }
        // No setuid binary can give the case privileges back.
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        // Die with tito (set after setuid, which clears it).
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (getppid() != parent_pid) _exit(137);
        // Descriptors tito holds open (other cases' pipes) close at exec.
        close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
        // Default signal dispositions for the child.
        signal(SIGPIPE, SIG_DFL);
        execve(args[0], args.data(), envp.data());
        fail(0);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    close(exec_pipe[1]);
    if (devnull >= 0) close(devnull);

    int report[2] = {0, 0};
    ssize_t got;
    do {
        got = read(exec_pipe[0], report, sizeof report);
    } while (got < 0 && errno == EINTR);
    close(exec_pipe[0]);
    if (got == static_cast<ssize_t>(sizeof report)) {
        waitpid(pid, nullptr, 0);
        slot.clear();
        close(out_pipe[0]);
        close(err_pipe[0]);
        const char* what = report[0] == 1   ? "cannot switch to the unprivileged user for "
                           : report[0] == 2 ? "cannot enter a working directory for "
                           : report[0] == 3 ? "cannot hide the checkout (no mount namespace) from "
                                            : "cannot run ";
        result.start_error = what + argv[0] + ": " + std::strerror(report[1]);
        return result;
    }
    result.started = true;

    Capture out(limits.capture_bytes), err(limits.capture_bytes);
    struct pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    Capture* caps[2] = {&out, &err};
    int open_fds = 2;
    bool exited = false;
    int status = 0;
    auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    double drain_deadline = -1;  // after exit: how long to wait for stray writers
    char buf[65536];
    while (open_fds > 0 || !exited) {
        if (!exited) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid) {
                exited = true;
                result.seconds = elapsed();
                kill(-pid, SIGKILL);  // anything the child left behind
                drain_deadline = elapsed() + 1.0;
            }
        }
        if (!exited && !result.timed_out && elapsed() > limits.timeout_s) {
            result.timed_out = true;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
        }
        if (open_fds == 0) {
            if (!exited) {
                pid_t w = waitpid(pid, &status, 0);
                if (w == pid) {
                    exited = true;
                    result.seconds = elapsed();
                    kill(-pid, SIGKILL);
                }
            }
            continue;
        }
        if (exited && elapsed() > drain_deadline) break;
        int n = poll(fds, 2, 20);
        if (n < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t r = read(fds[i].fd, buf, sizeof buf);
            if (r > 0) {
                caps[i]->add(buf, static_cast<size_t>(r));
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) close(f.fd);

    slot.clear();
    sweep_orphans();

    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
    result.out = out.text();
    result.err = err.text();
    result.out_total = out.total();
    result.err_total = err.total();
    return result;
}

}  // namespace tito
