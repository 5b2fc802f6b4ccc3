// Grader hardening: broken student libraries are graded by the real tito-cli
// and the real module 01 suite. Each misbehaviour costs only the cases it
// breaks, with the right outcome, and the run always completes: no crash, no
// hang, no lost result, no student code before the pre-flight allowed it.
#include "cli/cli_helpers.hpp"

#include <chrono>
#include <csignal>
#include <thread>

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tinytorch/abi/tt_common.h"
#include "tinytorch/progress.hpp"

using namespace cli_test;
namespace progress = tt::progress;

namespace {

std::string fixture(const std::string& name) { return std::string(TT_HARDENING_FIXTURE_DIR) + "/" + name; }

struct Graded {
    Result run;
    progress::Json doc;
    double seconds = 0;
    const progress::Json* test(const std::string& name_prefix) const {
        const progress::Json* tests = doc.find("tests");
        if (!tests) return nullptr;
        for (const progress::Json& t : tests->items())
            if (t.string_or("name", "").rfind(name_prefix, 0) == 0) return &t;
        return nullptr;
    }
    std::string output(const std::string& name_prefix) const {
        const progress::Json* t = test(name_prefix);
        return t ? t->string_or("output", "") : "(no case named " + name_prefix + "...)";
    }
    size_t count() const {
        const progress::Json* tests = doc.find("tests");
        return tests ? tests->items().size() : 0;
    }
};

Graded grade(const TempDir& tmp, const std::string& lib_dir, std::vector<std::string> extra = {},
             std::map<std::string, std::string> env = {}) {
    fs::path json = tmp.path / "results.json";
    std::vector<std::string> args = {"grade", "01", "--impl", "student", "--no-record", "--json", json.string(),
                                     "--junit", (tmp.path / "junit.xml").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    env["TITO_LIB_DIR"] = lib_dir;
    env["TITO_PROGRESS"] = (tmp.path / "progress.json").string();
    Graded g;
    auto start = std::chrono::steady_clock::now();
    g.run = run_tito(args, env);
    g.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string text = read_file(json);
    if (!text.empty()) g.doc = progress::Json::parse(text);
    return g;
}

// Whether tito said that the process limit does not bind (root without a
// usable unprivileged user).
bool nproc_enforced(const Result& r) { return !contains(r.err, "RLIMIT_NPROC) is not enforced"); }

// Live (not zombie) processes whose name is `comm`.
int live_processes_named(const std::string& comm) {
    int n = 0;
    DIR* d = opendir("/proc");
    if (!d) return 0;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        std::string stat = read_file(fs::path("/proc") / e->d_name / "stat");
        size_t open = stat.find('('), close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos || close + 2 >= stat.size()) continue;
        if (stat.substr(open + 1, close - open - 1) == comm && stat[close + 2] != 'Z') ++n;
    }
    closedir(d);
    return n;
}

// Live processes whose environment contains `needle`.
int live_processes_with_env(const std::string& needle) {
    int n = 0;
    DIR* d = opendir("/proc");
    if (!d) return 0;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        std::string env = read_file(fs::path("/proc") / e->d_name / "environ");
        std::string stat = read_file(fs::path("/proc") / e->d_name / "stat");
        size_t close = stat.rfind(')');
        bool zombie = close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
        if (!zombie && env.find(needle) != std::string::npos) ++n;
    }
    closedir(d);
    return n;
}

// Every case of a run that never started a case is a load error.
void require_all_load_errors(const Graded& g, const std::string& must_contain) {
    REQUIRE(g.count() > 10);
    for (const progress::Json& t : g.doc.find("tests")->items()) {
        INFO(t.string_or("name", ""));
        std::string out = t.string_or("output", "");
        CHECK(t.string_or("status", "") == "failed");
        CHECK(t.number_or("score", -1) == 0);
        CHECK(out.rfind("load error", 0) == 0);
        CHECK(contains(out, must_contain));
    }
    CHECK(g.doc.number_or("score", -1) == 0);
    CHECK(g.run.code == 3);
}

}  // namespace

TEST_CASE("a misbehaving student library costs only the cases it breaks", "[hardening]") {
    TempDir tmp;
    // Room for the grader's own threads (thread pool and OpenBLAS: one per
    // core each) and a few more; the flood wants 200.
    long budget = 2 * static_cast<long>(std::max(1u, std::thread::hardware_concurrency())) + 48;
    Graded g = grade(tmp, fixture("misbehave"), {"--timeout", "2", "--processes", std::to_string(budget)});
    INFO(g.run.out << g.run.err);
    CHECK_FALSE(g.run.signaled);
    CHECK(g.run.code == 1);
    REQUIRE(g.count() > 20);
    CHECK(g.seconds < 45);

    // The run went on around the broken cases: create works in this library.
    const progress::Json* create = g.test("create gives a zero-filled tensor");
    REQUIRE(create);
    CHECK(create->string_or("status", "") == "passed");

    // transpose writes through a bad pointer (in a sanitizer build, e.g. the
    // asan preset, AddressSanitizer reports the SEGV itself).
    std::string crash = g.output("transpose of a matrix swaps rows and columns");
    const char* sanitize = std::getenv("TITO_SANITIZE");
    if (sanitize && *sanitize && std::string(sanitize) != "0") {
        CHECK((crash.rfind("crashed", 0) == 0 || crash.rfind("memory error", 0) == 0));
        CHECK(contains(crash, "SEGV"));
    } else {
        CHECK(crash.rfind("crashed", 0) == 0);
        CHECK(contains(crash, "SIGSEGV"));
    }

    // reshape never returns.
    std::string loop = g.output("reshape keeps the element order");
    CHECK(loop.rfind("timed out", 0) == 0);
    CHECK(contains(loop, "timed out after 2 s"));

    // matmul asks for 64 GiB: the address-space limit refuses it; nothing hangs.
    std::string alloc = g.output("matmul of two matrices, worked by hand");
    CHECK((alloc.rfind("failed", 0) == 0 || alloc.rfind("crashed", 0) == 0));
    CHECK(contains(alloc, "64 GiB"));

    // sum forks up to 200 children: the process limit stops it when it binds,
    // and nothing it started is left afterwards (not even the child that left
    // the process group with setsid).
    std::string flood = g.output("sum and mean over everything");
    CHECK(flood.rfind("failed", 0) == 0);
    CHECK(contains(flood, "fixture process flood"));
    if (nproc_enforced(g.run) && budget < 190) CHECK(contains(flood, "fork failed after"));
    CHECK(live_processes_named("tt-flood-child") == 0);

    // argmax writes 100 MB to stdout: captured, truncated, the run completes.
    std::string output_flood = g.output("argmax returns the first maximum");
    CHECK(output_flood.rfind("failed", 0) == 0);
    CHECK(contains(output_flood, "bytes of output omitted"));
    CHECK(output_flood.size() < 200 * 1024);

    // Root drops to an unprivileged user for the cases (when it can).
    std::string who = g.output("max along each axis");
    CHECK(who.rfind("not implemented", 0) == 0);
    if (geteuid() == 0 && nproc_enforced(g.run)) CHECK_FALSE(contains(who, "running as uid 0)"));

    std::string junit = read_file(tmp.path / "junit.xml");
    CHECK(contains(junit, "<error type=\"timed out\""));
    CHECK(contains(g.run.out, "timed out"));
}

TEST_CASE("a static initialiser that throws or aborts is a load error, and grading goes on", "[hardening]") {
    TempDir tmp;
    Graded thrown = grade(tmp, fixture("static_throw"));
    INFO(thrown.run.out << thrown.run.err);
    require_all_load_errors(thrown, "static initialiser");
    // std::terminate (SIGABRT); in a sanitizer build the exception may
    // instead unwind through dlopen into the load check, which names it.
    CHECK((contains(thrown.output("create"), "SIGABRT") || contains(thrown.output("create"), "exception escaped")));
    CHECK(contains(thrown.output("create"), "a global constructor throws"));
    CHECK(thrown.seconds < 20);

    Graded aborted = grade(tmp, fixture("static_abort"));
    INFO(aborted.run.out << aborted.run.err);
    require_all_load_errors(aborted, "SIGABRT");
    CHECK(contains(aborted.output("create"), "a global constructor calls abort()"));
    // The readable report says it once, not once per case.
    CHECK(contains(aborted.run.out, "cases had this load error"));
}

TEST_CASE("a missing symbol is a load error with the dynamic linker's words", "[hardening]") {
    TempDir tmp;
    Graded g = grade(tmp, fixture("missing_symbol"));
    INFO(g.run.out << g.run.err);
    require_all_load_errors(g, "tt_fixture_never_defined");
    CHECK(contains(g.output("create"), "undefined symbol"));
}

TEST_CASE("an ABI mismatch is a load error naming both versions", "[hardening]") {
    TempDir tmp;
    Graded g = grade(tmp, fixture("abi_major"));
    INFO(g.run.out << g.run.err);
    require_all_load_errors(g, "ABI version 2.0 does not match");
}

TEST_CASE("the pre-flight refuses forbidden and extra exports and dlopen before any code runs", "[hardening]") {
    TempDir tmp;
    // The fixtures leave this file when any of their code runs.
    fs::path marks = tmp.path / "marks";
    fs::create_directories(marks);
    chmod(marks.c_str(), 0777);  // the cases may run as an unprivileged user
    fs::path marker = marks / "ran";
    std::map<std::string, std::string> env = {{"TT_FIXTURE_MARKER", marker.string()}};

    Graded forbidden = grade(tmp, fixture("forbidden"), {}, env);
    INFO(forbidden.run.out << forbidden.run.err);
    require_all_load_errors(forbidden, "rejected before running");
    CHECK(contains(forbidden.output("create"), "__lsan_is_turned_off"));
    CHECK(contains(forbidden.output("create"), "LeakSanitizer"));

    Graded extra = grade(tmp, fixture("extra_export"), {}, env);
    INFO(extra.run.out << extra.run.err);
    require_all_load_errors(extra, "rejected before running");
    CHECK(contains(extra.output("create"), "tt_fixture_helper_everyone_sees"));
    CHECK(contains(extra.output("create"), "may export only tt_entry_01_tensor"));

    Graded dl = grade(tmp, fixture("dlopen"), {}, env);
    INFO(dl.run.out << dl.run.err);
    require_all_load_errors(dl, "rejected before running");
    CHECK(contains(dl.output("create"), "it calls dlopen"));

    CHECK_FALSE(fs::exists(marker));
}

TEST_CASE("sanitizer reports are memory errors in a sanitizer run", "[hardening]") {
    TempDir tmp;
    std::vector<std::string> args = {"grade", "01", "--impl", "reference", "--grader", TT_SANITIZER_REPORT_GRADER,
                                     "--no-record", "--json", (tmp.path / "r.json").string()};
    std::map<std::string, std::string> env = {{"TITO_PROGRESS", (tmp.path / "p.json").string()},
                                              {"TITO_SANITIZE", "1"}};
    Result r = run_tito(args, env);
    INFO(r.out << r.err);
    Graded g;
    g.doc = progress::Json::parse(read_file(tmp.path / "r.json"));
    CHECK(r.code == 1);
    CHECK(g.test("clean")->string_or("status", "") == "passed");
    std::string heap = g.output("heap overflow");
    CHECK(heap.rfind("memory error: AddressSanitizer: heap-buffer-overflow", 0) == 0);
    CHECK(contains(heap, "elementwise.cpp:42"));
    CHECK(contains(heap, "SUMMARY: AddressSanitizer"));
    std::string ub = g.output("undefined behaviour");
    CHECK(ub.rfind("memory error: undefined behaviour at modules/01_tensor/student/shape.cpp:17:23", 0) == 0);
    CHECK(contains(ub, "signed integer overflow"));
    std::string leak = g.output("leaks after passing");
    CHECK(leak.rfind("memory error: LeakSanitizer: detected memory leaks", 0) == 0);
    CHECK(contains(leak, "creation.cpp:30"));
    CHECK(g.test("prints the words")->string_or("status", "") == "passed");
    CHECK(contains(r.out, "memory error"));

    // Without a sanitizer build the same exit is an ordinary crash. (In a
    // sanitizer build, e.g. the asan preset, every run is a sanitizer run.)
    const char* sanitize = std::getenv("TITO_SANITIZE");
    if (sanitize && *sanitize && std::string(sanitize) != "0") return;
    env.erase("TITO_SANITIZE");
    Result plain = run_tito({"test", "01", "--impl", "reference", "--grader", TT_SANITIZER_REPORT_GRADER, "-k",
                             "heap overflow"},
                            env);
    CHECK(contains(plain.out, "crashed"));
    CHECK_FALSE(contains(plain.out, "memory error"));
}

TEST_CASE("results.json is valid after tito is killed in the middle of a run", "[hardening]") {
    TempDir tmp;
    fs::path json = tmp.path / "results.json";
    std::string lib_dir = fixture("misbehave");
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        setenv("TITO_LIB_DIR", lib_dir.c_str(), 1);
        setenv("TITO_PROGRESS", (tmp.path / "p.json").c_str(), 1);
        unsetenv("TITO_IMPL");
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        std::string cli = tito_cli();
        // A long timeout: the endless loop in reshape keeps the run busy.
        execl(cli.c_str(), cli.c_str(), "grade", "01", "--impl", "student", "--no-record", "--timeout", "60",
              "--json", json.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    // Wait until some cases are in the file, then kill tito outright.
    progress::Json doc;
    size_t finished = 0;
    for (int i = 0; i < 300 && finished < 3; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::string text = read_file(json);
        if (text.empty()) continue;
        doc = progress::Json::parse(text);  // every version of the file is complete JSON
        finished = doc.find("tests")->items().size();
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(finished >= 3);
    doc = progress::Json::parse(read_file(json));
    CHECK(contains(doc.string_or("output", ""), "INCOMPLETE"));
    CHECK(doc.number_or("max_score", 0) > doc.number_or("score", 0));
    CHECK(doc.find("tests")->items().size() >= 3);
    // The case that was running dies with tito (parent-death signal).
    int left = 1;
    for (int i = 0; i < 40 && left > 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        left = live_processes_with_env("TITO_LIB_DIR=" + lib_dir);
    }
    CHECK(left == 0);
}

TEST_CASE("grade --integrated shows the isolated score next to it", "[hardening]") {
    TempDir tmp;
    std::map<std::string, std::string> env = {{"TITO_PROGRESS", (tmp.path / "p.json").string()}};
    // No isolated grade recorded: both run now, case by case.
    Result both = run_tito({"grade", "02", "--integrated"}, env);
    INFO(both.out << both.err);
    CHECK(contains(both.out, "Running the isolated grade too"));
    CHECK(contains(both.out, "Isolated and integrated, side by side"));
    CHECK(contains(both.out, "isolated"));
    CHECK(contains(both.out, "integrated"));
    progress::Store store = progress::load((tmp.path / "p.json").string());
    CHECK(store.find(2, progress::Mode::isolated));
    CHECK(store.find(2, progress::Mode::integrated));

    // A fresh isolated record is shown instead of running it again.
    Result again = run_tito({"grade", "02", "--integrated"}, env);
    INFO(again.out << again.err);
    CHECK_FALSE(contains(again.out, "Running the isolated grade too"));
    CHECK(contains(again.out, "recorded"));
}

TEST_CASE("in a sanitizer build a real heap overflow and a signed overflow are memory errors", "[hardening]") {
    // The fixtures and graders of this build are instrumented only in a
    // sanitizer build (the asan preset, which sets TITO_SANITIZE).
    const char* sanitize = std::getenv("TITO_SANITIZE");
    if (!(sanitize && *sanitize && std::string(sanitize) != "0")) {
        SUCCEED("not a sanitizer build: run with the asan preset (ctest --preset asan -L hardening)");
        return;
    }
    TempDir tmp;
    Graded g = grade(tmp, fixture("sanitizer_bugs"));
    INFO(g.run.out << g.run.err);
    std::string heap = g.output("add, sub, mul, div of same-shape tensors");
    CHECK(heap.rfind("memory error: AddressSanitizer: heap-buffer-overflow", 0) == 0);
    CHECK(contains(heap, "bad_student.cpp"));
    std::string ub = g.output("scalar forms add, subtract, multiply and divide");
    CHECK(ub.rfind("memory error: undefined behaviour at", 0) == 0);
    CHECK(contains(ub, "signed integer overflow"));
    CHECK(g.test("create gives a zero-filled tensor")->string_or("status", "") == "passed");
}

// ------------------------------------------------------------ integrity
// A student who wants points without the work: the grade comes only from the
// suite's own process, which never loads student code.

TEST_CASE("a forged passing report, even worth 1000 points a case, scores nothing", "[hardening][integrity]") {
    TempDir tmp;
    Graded g = grade(tmp, fixture("hostile"));
    REQUIRE(g.count() > 0);
    double score = 0, max = 0;
    for (const progress::Json& t : g.doc.find("tests")->items()) {
        score += t.number_or("score", 0);
        max += t.number_or("max_score", 0);
    }
    CHECK(max < 100);  // the suite's own points, not the report's 1000s
    // Only create/from_data/free/copy work in this library: whatever passes
    // uses nothing else. The reshape cases, where the forgery happens, fail.
    const progress::Json* forged = g.test("reshape keeps the element order");
    REQUIRE(forged != nullptr);
    CHECK(forged->number_or("score", -1) == 0);
    CHECK(score < max / 2);
}

// Whether tito's workers get their namespaces here (the same probe as
// isolation.cpp): without them the worker sees the checkout, and only the
// tripwire (a forbidden library in its maps fails the case) guards the grade.
bool worker_namespaces_here() {
    const char* env = std::getenv("TITO_WORKER_ISOLATE");
    if (env && std::string(env) == "none") return false;
    int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
                (geteuid() != 0 ? CLONE_NEWUSER : 0);
    pid_t pid = fork();
    if (pid == 0) _exit(unshare(flags) == 0 ? 0 : 1);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST_CASE("student code can read neither the reference library, nor the hidden tests, nor the suite",
          "[hardening][integrity]") {
    if (!worker_namespaces_here()) {
        WARN("no namespaces for the worker here: it can see the checkout (the tripwire test covers this case)");
        return;
    }
    TempDir tmp;
    Graded g = grade(tmp, fixture("hostile"));
    std::string said = g.output("transpose of a matrix");
    INFO(said);
    CHECK(contains(said, "fixture probe"));
    CHECK(!contains(said, "READABLE"));
}

TEST_CASE("nothing a case starts outlives it: no process chain, no file in /dev/shm", "[hardening][integrity]") {
    std::error_code ec;
    fs::remove("/dev/shm/tt-escapee-file", ec);
    TempDir tmp;
    Graded g = grade(tmp, fixture("hostile"));
    REQUIRE(g.count() > 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(live_processes_named("tt-escapee") == 0);
    CHECK(!fs::exists("/dev/shm/tt-escapee-file"));
}

TEST_CASE("a correct module whose static destructor aborts gets full marks", "[hardening][integrity]") {
    TempDir tmp;
    Graded g = grade(tmp, fixture("dtor_abort"));
    INFO(g.run.out << g.run.err);
    REQUIRE(g.count() > 0);
    const progress::Json* tests = g.doc.find("tests");
    for (const progress::Json& t : tests->items()) {
        INFO(t.string_or("name", ""));
        CHECK(t.number_or("score", -1) == t.number_or("max_score", -2));
    }
}

TEST_CASE("a library that finds dlopen at run time and forwards to the reference scores nothing",
          "[hardening][integrity]") {
    // The attack works where nothing contains it: loaded here, in the test's
    // own process, the fixture hands out the reference's table.
    {
        void* lib = dlopen(fixture("forwarder/tt_01_tensor_student.so").c_str(), RTLD_NOW | RTLD_LOCAL);
        REQUIRE(lib != nullptr);
        auto entry = reinterpret_cast<const tt_module_descriptor* (*)()>(dlsym(lib, "tt_entry_01_tensor"));
        REQUIRE(entry != nullptr);
        const tt_module_descriptor* d = entry();
        REQUIRE(d != nullptr);
        Dl_info where{};
        REQUIRE(dladdr(d->api, &where) != 0);
        INFO("the table handed out lives in " << where.dli_fname);
        CHECK(contains(where.dli_fname, "tt_01_tensor_reference.so"));
        CHECK(d->variant == TT_VARIANT_STUDENT);
    }
    // Graded, the worker cannot open the reference (or the tripwire fails
    // the case when it does): no case passes but on the fixture's own code.
    TempDir tmp;
    Graded g = grade(tmp, fixture("forwarder"));
    INFO(g.run.out << g.run.err);
    REQUIRE(g.count() > 10);
    for (const progress::Json& t : g.doc.find("tests")->items()) {
        INFO(t.string_or("name", "") << ": " << t.string_or("output", ""));
        const std::string name = t.string_or("name", "");
        bool own_code = contains(name, "create") || contains(name, "empty") || contains(name, "from_data") ||
                        contains(name, "free") ||
                        contains(name, "copy");
        if (!own_code) CHECK(t.number_or("score", -1) == 0);
    }
}

TEST_CASE("what a hidden case asserted and printed is withheld unless an instructor asks", "[hardening][integrity]") {
    // The hostile fixture's reshape prints a forged report and exits; a
    // hidden case calls reshape, and so does a visible one.
    const std::string hidden_case = "hidden: argmax of a reshaped tensor";
    TempDir tmp;
    Graded g = grade(tmp, fixture("hostile"));
    const progress::Json* t = g.test(hidden_case);
    REQUIRE(t != nullptr);
    INFO(t->string_or("output", ""));
    CHECK(t->number_or("score", -1) == 0);
    CHECK(t->string_or("visibility", "") == "after_published");
    CHECK(!contains(t->string_or("output", ""), "forged"));
    CHECK(contains(g.output("reshape keeps the element order"), "forged"));  // visible cases still explain
    // Visibility comes from the [hidden] tag, not from a "hidden:" name.
    const progress::Json* by_tag = g.test("an outer product by broadcasting");
    REQUIRE(by_tag != nullptr);
    CHECK(by_tag->string_or("visibility", "") == "after_published");
    CHECK(contains(by_tag->string_or("output", ""), "a hidden test"));

    TempDir tmp2;
    Graded shown = grade(tmp2, fixture("hostile"), {"--show-hidden"});
    const progress::Json* s = shown.test(hidden_case);
    REQUIRE(s != nullptr);
    CHECK(contains(s->string_or("output", ""), "forged"));
}

TEST_CASE("a complete module of each of 01-09 scores full marks through the worker", "[hardening][integrity]") {
    // e2e-lib: the reference sources built as student libraries. Whatever the
    // worker boundary changes (private /tmp, another user, mirrored state),
    // a correct student must lose nothing by it.
    const fs::path e2e = fs::path(TT_TEST_BUILD_DIR) / "e2e-lib";
    if (!fs::exists(e2e / "tt_09_spatial_student.so")) {
        WARN("no " << e2e << " (reference sources not built): skipped");
        return;
    }
    for (int m = 1; m <= 9; ++m) {
        const std::string nn = std::string(m < 10 ? "0" : "") + std::to_string(m);
        TempDir tmp;
        fs::path lib = tmp.path / "lib";
        fs::create_directories(lib);
        for (const auto& e : fs::directory_iterator(TT_TEST_LIB_DIR))
            if (e.path().filename().string().find("_reference.so") != std::string::npos)
                fs::copy_file(e.path(), lib / e.path().filename());
        for (const auto& e : fs::directory_iterator(e2e))
            if (e.path().filename().string().rfind("tt_" + nn + "_", 0) == 0)
                fs::copy_file(e.path(), lib / e.path().filename());
        fs::path json = tmp.path / "results.json";
        Result r = run_tito({"grade", nn, "--no-record", "--json", json.string()},
                            {{"TITO_LIB_DIR", lib.string()}, {"TITO_PROGRESS", (tmp.path / "p.json").string()}});
        INFO("module " << nn << ":\n" << r.out << r.err);
        progress::Json doc = progress::Json::parse(read_file(json));
        CHECK(r.code == 0);
        CHECK(doc.number_or("score", -1) == doc.number_or("max_score", -2));
        CHECK(doc.number_or("max_score", 0) > 0);
    }
}
