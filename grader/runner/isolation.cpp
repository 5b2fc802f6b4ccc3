// isolation.cpp - see isolation.hpp.
#include "isolation.hpp"
#include "sandbox.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace tito {

namespace {

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) s += (s.empty() ? "" : ":") + x;
    return s;
}

std::string lib_name(int m, tt::Variant v) {
    return "tt_" + std::string(tt::module_info(m).dir) + "_" + tt::variant_name(v) + ".so";
}

// Users for the cases of one tito process: far above any real account, one
// per concurrent case (the case index), distinct between tito processes.
long case_uid(size_t index) {
    return 2000000000L + static_cast<long>(getpid() % 30000) * 1024 + static_cast<long>(index % 1024);
}

}  // namespace

IsolationPlan::~IsolationPlan() {
    if (run_dir.empty()) return;
    std::error_code ec;
    fs::remove_all(run_dir, ec);
}

bool namespaces_available() {
    static int cached = -1;
    if (cached >= 0) return cached == 1;
    const char* env = std::getenv("TITO_WORKER_ISOLATE");
    if (env && std::string(env) == "none") return (cached = 0) == 1;
    int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
                (geteuid() != 0 ? CLONE_NEWUSER : 0);
    pid_t pid = fork();
    if (pid == 0) _exit(unshare(flags) == 0 ? 0 : 1);
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    cached = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 1 : 0;
    return cached == 1;
}

void plan_isolation(IsolationPlan& plan, int module, const tt::ImplChoice& choice, const std::string& lib_dir,
                    const std::string& bin_dir, const std::vector<std::string>& hide, long processes) {
    plan.worker_exe = (fs::path(bin_dir) / "tt_worker").string();
    bool any_student = false;
    for (int m = 1; m <= module; ++m) any_student = any_student || choice[m - 1] == tt::Variant::student;
    if (any_student && !fs::exists(plan.worker_exe))
        throw std::runtime_error(plan.worker_exe + " is not built (run ./tito, or cmake --build)");
    plan.namespaces = namespaces_available();
    plan.processes = processes;
    plan.hide = hide;
    for (const char* d : {"/root", "/home"})
        if (fs::exists(d)) plan.hide.push_back(d);
    // The private library folder, beside the libraries (an executable mount).
    std::string tmpl = (fs::path(lib_dir).parent_path() / ".tito-worker-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("cannot create " + tmpl + ": " + std::strerror(errno));
    plan.run_dir = tmpl;
    plan.lib_dir = (fs::path(tmpl) / "lib").string();
    fs::create_directories(plan.lib_dir);
    for (int m = 1; m <= module; ++m) {
        // Student code may load what the choice names for modules 01..NN,
        // and never another variant of a module graded as the student's.
        fs::path src = fs::path(lib_dir) / lib_name(m, choice[m - 1]);
        if (fs::exists(src)) fs::copy_file(src, fs::path(plan.lib_dir) / src.filename());
        if (choice[m - 1] != tt::Variant::student) continue;
        for (tt::Variant v : {tt::Variant::reference, tt::Variant::fast})
            plan.forbidden.push_back((fs::path(lib_dir) / lib_name(m, v)).string());
    }
    chmod(plan.run_dir.c_str(), 0755);
    chmod(plan.lib_dir.c_str(), 0755);
    for (const auto& e : fs::directory_iterator(plan.lib_dir)) chmod(e.path().c_str(), 0644);
    if (!plan.namespaces)
        plan.warning =
            "tito: namespaces are not available here (or TITO_WORKER_ISOLATE=none): the module under test "
            "runs without its own PID and mount namespaces, so it can see this checkout" +
            std::string(geteuid() == 0 ? " as its own unprivileged user" : " as your user") +
            ", and a process it leaves behind is killed by user (root) or process group only.";
}

CaseSandbox open_case(const IsolationPlan& plan, const std::string& parent, size_t index) {
    CaseSandbox box;
    box.tmp_dir = (fs::path(parent) / ("case-" + std::to_string(index))).string();
    std::error_code ec;
    fs::remove_all(box.tmp_dir, ec);
    if (mkdir(box.tmp_dir.c_str(), 0700) != 0)
        throw std::runtime_error("cannot create " + box.tmp_dir + ": " + std::strerror(errno));
    if (geteuid() == 0) {
        box.uid = box.gid = case_uid(index);
        if (chown(box.tmp_dir.c_str(), static_cast<uid_t>(box.uid), static_cast<gid_t>(box.gid)) != 0)
            throw std::runtime_error("cannot give " + box.tmp_dir + " to the case's user: " + std::strerror(errno));
    }
    box.namespaces = plan.namespaces;
    box.env = {{"TITO_WORKER_EXE", plan.worker_exe},
               {"TITO_WORKER_LIB_DIR", plan.lib_dir},
               {"TITO_WORKER_TMP", box.tmp_dir},
               {"TITO_WORKER_ISOLATE", plan.namespaces ? "namespaces" : "none"},
               {"TITO_WORKER_HIDE", join(plan.hide)},
               {"TITO_WORKER_FORBID", join(plan.forbidden)},
               {"TITO_WORKER_NPROC", std::to_string(plan.processes)},
               {"TMPDIR", box.tmp_dir}};
    if (box.uid >= 0) {
        box.env["TITO_WORKER_UID"] = std::to_string(box.uid);
        box.env["TITO_WORKER_GID"] = std::to_string(box.gid);
    }
    return box;
}

void close_case(const CaseSandbox& box) {
    // With namespaces the worker was PID 1 of its own PID namespace, and the
    // kernel ended everything in it when it ended. Otherwise whatever still
    // runs as the case's user (a process that left the process group) is
    // killed by user: kill(-1) as that user reaches exactly its processes.
    if (box.uid > 0 && geteuid() == 0 && !box.namespaces) {
        for (int round = 0; round < 50 && count_user_tasks(box.uid) > 0; ++round) {
            pid_t pid = fork();
            if (pid == 0) {
                if (setgid(static_cast<gid_t>(box.gid)) != 0 || setuid(static_cast<uid_t>(box.uid)) != 0) _exit(2);
                kill(-1, SIGKILL);
                _exit(0);
            }
            while (pid > 0 && waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
            }
            usleep(2000);
        }
    }
    std::error_code ec;
    fs::remove_all(box.tmp_dir, ec);
    // Without namespaces a case's files in the shared temporary folders
    // outlive it: remove what its user left there.
    if (box.uid > 0 && !box.namespaces)
        for (const char* shared : {"/dev/shm", "/var/tmp", "/tmp"})
            for (auto it = fs::directory_iterator(shared, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
                struct stat st {};
                if (lstat(it->path().c_str(), &st) == 0 && st.st_uid == static_cast<uid_t>(box.uid))
                    fs::remove_all(it->path(), ec);
            }
}

bool student_code_may_run(const std::string& what, bool allow_root) {
    if (geteuid() != 0 || allow_root) return true;
    std::cerr << "tito: tito runs as root, and " << what <<
           " would run the student modules (code tito does not isolate here) with root's rights.\n"
           "  Run it as a normal user (e.g. sudo -u <you> ./tito ...), or, if you trust this code, add "
           "--allow-root.\n  (Grading is different: tito test/grade run student code as an unprivileged user "
           "of its own.)\n";
    return false;
}

}  // namespace tito
