// child.cpp - fork/exec with limits, output capture and a wall-clock timeout.
#include "child.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

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
        if (pid > 0) kill(-pid, SIGKILL);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void install_interrupt_handlers() {
    static std::once_flag once;
    std::call_once(once, [] {
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
            struct sigaction sa {};
            sa.sa_handler = kill_running_and_die;
            sigemptyset(&sa.sa_mask);
            sigaction(sig, &sa, nullptr);
        }
    });
}

// Registers a running child for the handler while in scope.
class RunningSlot {
public:
    explicit RunningSlot(pid_t pid) {
        for (int i = 0; i < kSlots; ++i) {
            pid_t expected = 0;
            if (g_running[i].compare_exchange_strong(expected, pid)) {
                index_ = i;
                return;
            }
        }
    }
    ~RunningSlot() {
        if (index_ >= 0) g_running[index_].store(0);
    }
    RunningSlot(const RunningSlot&) = delete;
    RunningSlot& operator=(const RunningSlot&) = delete;

private:
    int index_ = -1;
};

}  // namespace

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
    std::vector<std::string> env_strings;
    for (char** e = environ; e && *e; ++e) {
        std::string kv = *e;
        std::string key = kv.substr(0, kv.find('='));
        if (!env.count(key)) env_strings.push_back(kv);
    }
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

    auto start = std::chrono::steady_clock::now();
    pid_t pid = fork();
    if (pid < 0) {
        result.start_error = std::string("fork: ") + std::strerror(errno);
        for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], exec_pipe[0], exec_pipe[1], devnull})
            if (fd >= 0) close(fd);
        return result;
    }
    if (pid == 0) {
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
        // Default signal dispositions for the child.
        signal(SIGPIPE, SIG_DFL);
        execve(args[0], args.data(), envp.data());
        int err = errno;
        ssize_t ignored = write(exec_pipe[1], &err, sizeof err);
        (void)ignored;
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    close(exec_pipe[1]);
    if (devnull >= 0) close(devnull);

    int exec_errno = 0;
    ssize_t got;
    do {
        got = read(exec_pipe[0], &exec_errno, sizeof exec_errno);
    } while (got < 0 && errno == EINTR);
    close(exec_pipe[0]);
    if (got == static_cast<ssize_t>(sizeof exec_errno)) {
        waitpid(pid, nullptr, 0);
        close(out_pipe[0]);
        close(err_pipe[0]);
        result.start_error = "cannot run " + argv[0] + ": " + std::strerror(exec_errno);
        return result;
    }
    result.started = true;
    RunningSlot slot(pid);

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
    char buf[16384];
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

    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
    result.out = out.text();
    result.err = err.text();
    result.out_total = out.total();
    result.err_total = err.total();
    return result;
}

}  // namespace tito
