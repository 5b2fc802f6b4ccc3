// spawn.cpp - see spawn.hpp. Between clone and exec only system calls run
// (the trusted process has threads); every string is prepared before.
#include "remote/spawn.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tinytorch/error.hpp"

namespace tt::remote {
namespace {

// Every prefix of an absolute path, shortest first: "/a", "/a/b", ...
std::vector<std::string> prefixes(const std::string& path) {
    std::vector<std::string> out;
    for (size_t i = 1; i <= path.size(); ++i)
        if (i == path.size() || path[i] == '/') out.push_back(path.substr(0, i));
    return out;
}

enum Stage : int {
    stage_userns = 1, stage_private, stage_tmpfs, stage_hide, stage_bind, stage_chdir, stage_user, stage_exec
};

const char* stage_name(int stage) {
    switch (stage) {
        case stage_userns: return "setting up the user namespace";
        case stage_private: return "making the mount namespace private";
        case stage_tmpfs: return "mounting a private /tmp";
        case stage_hide: return "hiding a folder";
        case stage_bind: return "mounting the worker's folders";
        case stage_chdir: return "entering the scratch folder";
        case stage_user: return "switching to the case's user";
        default: return "running the worker";
    }
}

bool write_file(const char* path, const char* text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == static_cast<ssize_t>(strlen(text));
}

}  // namespace

Spawned spawn_worker(const SpawnPlan& plan) {
    if (plan.exe.empty() || plan.exe[0] != '/')
        throw LoadError("the module worker program must be an absolute path (TITO_WORKER_EXE)");
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        throw LoadError(std::string("cannot create the worker's socket: ") + strerror(errno));
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) throw LoadError(std::string("pipe: ") + strerror(errno));
    int exe_fd = open(plan.exe.c_str(), O_RDONLY | O_CLOEXEC);
    if (exe_fd < 0) throw LoadError("cannot open the module worker " + plan.exe + ": " + strerror(errno));
    // The folders to mount back are opened in the child, inside its own mount
    // namespace (a bind mount cannot take its source from another namespace),
    // at these fixed descriptor numbers.
    constexpr int lib_fd = 1000, tmp_fd = 1001;
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    // Everything the child needs, prepared now.
    const bool as_root = geteuid() == 0;
    const bool userns = plan.namespaces && !as_root;
    std::string uid_map = std::to_string(geteuid()) + " " + std::to_string(geteuid()) + " 1\n";
    std::string gid_map = std::to_string(getegid()) + " " + std::to_string(getegid()) + " 1\n";
    std::string lib_src = "/proc/self/fd/" + std::to_string(lib_fd);
    std::string tmp_src = "/proc/self/fd/" + std::to_string(tmp_fd);
    std::vector<std::string> mkdirs;
    for (const std::string* dir : {&plan.lib_dir, &plan.tmp_dir})
        if (!dir->empty())
            for (const std::string& p : prefixes(*dir)) mkdirs.push_back(p);
    std::vector<std::string> env_strings = {"TITO_IMPL=" + plan.impl, "TITO_LIB_DIR=" + plan.lib_dir,
                                            "PATH=/usr/bin:/bin", "LANG=C.UTF-8"};
    if (!plan.tmp_dir.empty()) {
        env_strings.push_back("TMPDIR=" + plan.tmp_dir);
        env_strings.push_back("HOME=" + plan.tmp_dir);
    }
    for (const char* keep : {"TITO_SANITIZE", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
                             "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                             "TITO_THREADS", "TERM"})
        if (const char* v = std::getenv(keep)) env_strings.push_back(std::string(keep) + "=" + v);
    std::vector<char*> envp, argv;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string a0 = "tt_worker", a1 = "--fd", a2 = "3";
    argv = {a0.data(), a1.data(), a2.data(), nullptr};
    const char* empty = "";
    const uid_t uid = static_cast<uid_t>(plan.uid);
    const gid_t gid = static_cast<gid_t>(plan.gid);
    const bool drop = as_root && plan.uid > 0 && plan.gid >= 0;

    long flags = SIGCHLD;
    if (plan.namespaces)
        flags |= CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
                 (userns ? CLONE_NEWUSER : 0);
    pid_t pid = static_cast<pid_t>(syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr));
    if (pid < 0) {
        int err = errno;
        for (int fd : {sv[0], sv[1], report[0], report[1], exe_fd, null_fd})
            if (fd >= 0) close(fd);
        throw LoadError(std::string("cannot start the module worker") +
                        (plan.namespaces ? " in its own namespaces" : "") + ": " + strerror(err) +
                        (plan.namespaces ? " (TITO_WORKER_ISOLATE=none runs it without them, with weaker isolation)"
                                         : ""));
    }
    if (pid == 0) {
        auto fail = [&](int stage) {
            int msg[2] = {stage, errno};
            ssize_t ignored = write(report[1], msg, sizeof msg);
            (void)ignored;
            _exit(127);
        };
        if (userns) {
            if (!write_file("/proc/self/setgroups", "deny\n") || !write_file("/proc/self/uid_map", uid_map.c_str()) ||
                !write_file("/proc/self/gid_map", gid_map.c_str()))
                fail(stage_userns);
        }
        if (plan.namespaces) {
            if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail(stage_private);
            if (!plan.lib_dir.empty()) {
                int fd = open(plan.lib_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0 || dup2(fd, lib_fd) < 0) fail(stage_bind);
            }
            if (!plan.tmp_dir.empty()) {
                int fd = open(plan.tmp_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0 || dup2(fd, tmp_fd) < 0) fail(stage_bind);
            }
            for (const char* dir : {"/tmp", "/var/tmp", "/dev/shm"})
                if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=512m,mode=1777") != 0 && errno != ENOENT)
                    fail(stage_tmpfs);
            for (const std::string& h : plan.hide)
                if (mount("tmpfs", h.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755") != 0 &&
                    errno != ENOENT && errno != ENOTDIR)
                    fail(stage_hide);
            for (const std::string& d : mkdirs) mkdir(d.c_str(), 0755);
            if (!plan.lib_dir.empty()) {
                if (mount(lib_src.c_str(), plan.lib_dir.c_str(), nullptr, MS_BIND, nullptr) != 0) fail(stage_bind);
                mount(nullptr, plan.lib_dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
                      nullptr);
            }
            if (!plan.tmp_dir.empty() && mount(tmp_src.c_str(), plan.tmp_dir.c_str(), nullptr, MS_BIND, nullptr) != 0)
                fail(stage_bind);
            // Its own /proc: the processes of this namespace only.
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
        }
        if (plan.namespaces) {
            // PID 1 of a namespace ignores the signals it has no handler for
            // (abort() would not end it), so the worker is its only child and
            // this first process just waits for it and passes on how it
            // ended (128 + signal); when it exits, the kernel ends every
            // other process of the namespace.
            pid_t worker = static_cast<pid_t>(syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr));
            if (worker > 0) {
                close_range(0, ~0u, 0);
                int status = 0;
                for (;;) {
                    pid_t r = waitpid(-1, &status, 0);
                    if (r == worker) break;
                    if (r < 0 && errno != EINTR) _exit(127);
                }
                _exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
            }
        }
        if (!plan.tmp_dir.empty() && chdir(plan.tmp_dir.c_str()) != 0) fail(stage_chdir);
        if (plan.nproc > 0) {
            struct rlimit lim = {static_cast<rlim_t>(plan.nproc), static_cast<rlim_t>(plan.nproc)};
            setrlimit(RLIMIT_NPROC, &lim);
        }
        if (drop) {
            // Raw system calls: after a raw clone of a process with threads,
            // glibc's setuid would wait for the parent's threads to follow.
            if (syscall(SYS_setgroups, 0, nullptr) != 0 || syscall(SYS_setresgid, gid, gid, gid) != 0 ||
                syscall(SYS_setresuid, uid, uid, uid) != 0)
                fail(stage_user);
        }
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (null_fd >= 0) dup2(null_fd, 0);
        if (sv[1] == 3) fcntl(3, F_SETFD, 0);
        else dup2(sv[1], 3);
        close_range(4, ~0u, CLOSE_RANGE_CLOEXEC);
        signal(SIGPIPE, SIG_DFL);
        syscall(SYS_execveat, exe_fd, empty, argv.data(), envp.data(), AT_EMPTY_PATH);
        fail(stage_exec);
    }
    close(sv[1]);
    close(report[1]);
    for (int fd : {exe_fd, null_fd})
        if (fd >= 0) close(fd);
    int msg[2] = {0, 0};
    ssize_t got;
    do {
        got = read(report[0], msg, sizeof msg);
    } while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got == static_cast<ssize_t>(sizeof msg)) {
        waitpid(pid, nullptr, 0);
        close(sv[0]);
        throw LoadError(std::string("cannot start the module worker (") + stage_name(msg[0]) +
                        "): " + strerror(msg[1]));
    }
    return Spawned{pid, sv[0]};
}

}  // namespace tt::remote
