// sandbox.cpp - the unprivileged user for test cases and RLIMIT_NPROC.
#include "sandbox.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace tito {

namespace {

long cores() { return std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)); }

// In a throw-away child: switch to uid/gid and try every path. Returns the
// index of the first path the user cannot use (-1: all fine), or -2 when the
// switch itself failed.
int first_inaccessible(long uid, long gid, const std::vector<std::string>& readable,
                       const std::vector<std::string>& executable) {
    int fds[2];
    if (pipe(fds) != 0) return -2;
    std::vector<const char*> paths;
    std::vector<int> modes;
    for (const auto& p : readable) paths.push_back(p.c_str()), modes.push_back(R_OK);
    for (const auto& p : executable) paths.push_back(p.c_str()), modes.push_back(R_OK | X_OK);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -2;
    }
    if (pid == 0) {
        close(fds[0]);
        int answer = -1;
        if (setgroups(0, nullptr) != 0 || setgid(static_cast<gid_t>(gid)) != 0 ||
            setuid(static_cast<uid_t>(uid)) != 0) {
            answer = -2;
        } else {
            for (size_t i = 0; i < paths.size(); ++i)
                if (access(paths[i], modes[i]) != 0) {
                    answer = static_cast<int>(i);
                    break;
                }
        }
        ssize_t ignored = write(fds[1], &answer, sizeof answer);
        (void)ignored;
        _exit(0);
    }
    close(fds[1]);
    int answer = -2;
    ssize_t got;
    do {
        got = read(fds[0], &answer, sizeof answer);
    } while (got < 0 && errno == EINTR);
    if (got != static_cast<ssize_t>(sizeof answer)) answer = -2;
    close(fds[0]);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return answer;
}

}  // namespace

long default_processes_budget() {
    // The grader's thread pool and OpenBLAS each start one thread per core;
    // the rest is room for what a test legitimately starts.
    return 2 * cores() + 64;
}

long count_user_tasks(long uid) {
    long total = 0;
    DIR* d = opendir("/proc");
    if (!d) return 0;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        std::ifstream in(std::string("/proc/") + e->d_name + "/status");
        std::string line;
        long real_uid = -1, threads = 1;
        while (std::getline(in, line)) {
            if (line.rfind("Uid:", 0) == 0) {
                std::istringstream ss(line.substr(4));
                ss >> real_uid;
            } else if (line.rfind("Threads:", 0) == 0) {
                std::istringstream ss(line.substr(8));
                ss >> threads;
            }
        }
        if (real_uid == uid) total += std::max(1L, threads);
    }
    closedir(d);
    return total;
}

SandboxPlan plan_sandbox(const std::vector<std::string>& readable,
                         const std::vector<std::string>& executable, long processes) {
    SandboxPlan plan;
    long budget = processes > 0 ? processes : default_processes_budget();
    if (geteuid() != 0) {
        // A normal user: the limit binds. The user's other programs (a desktop
        // session) may start threads while a case runs: some room for them.
        plan.processes = processes > 0 ? budget : budget + 64;
        return plan;
    }

    const char* env = std::getenv("TITO_CHILD_USER");
    std::string user = env && *env ? env : "nobody";
    auto not_enforced = [&](const std::string& why) {
        plan.uid = plan.gid = -1;
        plan.user.clear();
        plan.nproc_enforced = false;
        plan.processes = 0;
        plan.warning = "tito: running as root, and " + why +
                       ": the test cases run as root, so the process limit (RLIMIT_NPROC) is not "
                       "enforced (root is exempt from it). The time, memory, file-size and output "
                       "limits still apply.";
        return plan;
    };
    if (user == "root" || user == "none" || user == "0")
        return not_enforced("TITO_CHILD_USER=" + user + " keeps the test cases as root");
    struct passwd pw_storage {};
    struct passwd* pw = nullptr;
    std::vector<char> buf(16384);
    if (getpwnam_r(user.c_str(), &pw_storage, buf.data(), buf.size(), &pw) != 0 || pw == nullptr)
        return not_enforced("there is no user '" + user + "' to run the test cases as (set TITO_CHILD_USER)");
    if (pw->pw_uid == 0) return not_enforced("the user '" + user + "' is root");
    long uid = static_cast<long>(pw->pw_uid), gid = static_cast<long>(pw->pw_gid);
    int bad = first_inaccessible(uid, gid, readable, executable);
    if (bad == -2) return not_enforced("switching to the user '" + user + "' failed");
    if (bad >= 0) {
        std::string path = static_cast<size_t>(bad) < readable.size()
                               ? readable[static_cast<size_t>(bad)]
                               : executable[static_cast<size_t>(bad) - readable.size()];
        plan = not_enforced("the user '" + user + "' cannot read " + path);
        plan.warning += " Fix: make the checkout readable by '" + user +
                        "' (chmod o+rx on its directories, o+r on its files), or run tito as a normal "
                        "user, or set TITO_CHILD_USER to a user who can read it.";
        return plan;
    }
    plan.uid = uid;
    plan.gid = gid;
    plan.user = user;
    plan.processes = budget;
    return plan;
}

std::string prepare_child_dir(const std::string& dir, const std::string& sub, const SandboxPlan& plan) {
    fs::path p = fs::path(dir) / sub;
    std::error_code ec;
    fs::create_directories(p, ec);
    if (ec) throw std::runtime_error("cannot create " + p.string() + ": " + ec.message());
    if (plan.uid >= 0) {
        if (chmod(dir.c_str(), 0711) != 0 ||
            chown(p.c_str(), static_cast<uid_t>(plan.uid), static_cast<gid_t>(plan.gid)) != 0 ||
            chmod(p.c_str(), 0700) != 0)
            throw std::runtime_error("cannot prepare " + p.string() + " for the user '" + plan.user +
                                     "': " + std::strerror(errno));
    }
    return p.string();
}

}  // namespace tito
