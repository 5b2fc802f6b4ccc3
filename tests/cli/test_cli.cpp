// The tito command as a student and an instructor use it: grading module 01,
// status, stubs check, usage errors and the milestone gate, all through the
// real bin/tito-cli.
#include "cli_helpers.hpp"

#include <regex>
#include <set>

#include "tinytorch/progress.hpp"
#include "tinytorch/runtime.hpp"

using namespace cli_test;
namespace progress = tt::progress;

namespace {

std::string lib(int module, const char* variant) {
    const tt::ModuleInfo& info = tt::module_info(module);
    return std::string(TT_TEST_LIB_DIR) + "/tt_" + info.dir + "_" + variant + ".so";
}

progress::Json parse_json_file(const fs::path& p) {
    std::string text = read_file(p);
    INFO("results file " << p << ":\n" << text);
    REQUIRE(!text.empty());
    return progress::Json::parse(text);
}

}  // namespace

TEST_CASE("grade 01 on the reference scores full marks and writes Gradescope JSON and JUnit", "[cli][grade]") {
    REQUIRE(fs::exists(std::string(TT_TEST_BIN_DIR) + "/tt_grade_01"));
    TempDir tmp;
    fs::path store = tmp.path / "progress.json";
    fs::path json = tmp.path / "results.json";
    fs::path junit = tmp.path / "junit.xml";
    Result r = run_tito({"grade", "01", "--impl", "reference", "--json", json.string(), "--junit",
                         junit.string()},
                        {{"TITO_PROGRESS", store.string()}});
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    progress::Json doc = parse_json_file(json);
    REQUIRE(doc.find("score"));
    REQUIRE(doc.find("max_score"));
    CHECK(doc.find("max_score")->as_number() > 0);
    CHECK(doc.find("score")->as_number() == doc.find("max_score")->as_number());
    const progress::Json* tests = doc.find("tests");
    REQUIRE(tests);
    REQUIRE(tests->is_array());
    REQUIRE(tests->size() > 0);
    double sum = 0;
    for (const progress::Json& t : tests->items()) {
        CHECK(t.string_or("status", "") == "passed");
        CHECK(!t.string_or("name", "").empty());
        CHECK(t.find("output"));
        CHECK(t.number_or("score", -1) == t.number_or("max_score", -2));
        sum += t.number_or("max_score", 0);
    }
    CHECK(sum == doc.find("max_score")->as_number());
    std::string xml = read_file(junit);
    CHECK(contains(xml, "<testsuites"));
    CHECK(contains(xml, "failures=\"0\""));
    // Recorded in the store given by TITO_PROGRESS, as a reference grade.
    progress::Store s = progress::load(store.string());
    auto rec = s.find(1, progress::Mode::reference);
    REQUIRE(rec);
    CHECK(rec->passed_all);
    CHECK(rec->score == doc.find("score")->as_number());
}

TEST_CASE("grade 01 on the student stubs: every case not implemented, score 0, no crash", "[cli][grade]") {
    REQUIRE(fs::exists(lib(1, "student")));
    TempDir tmp;
    fs::path store = tmp.path / "progress.json";
    fs::path json = tmp.path / "results.json";
    Result r = run_tito({"grade", "01", "--impl", "student", "--json", json.string()},
                        {{"TITO_PROGRESS", store.string()}});
    INFO(r.out << r.err);
    CHECK(r.code == 1);
    CHECK_FALSE(r.signaled);
    progress::Json doc = parse_json_file(json);
    CHECK(doc.number_or("score", -1) == 0);
    CHECK(doc.number_or("max_score", 0) > 0);
    for (const progress::Json& t : doc.find("tests")->items()) {
        INFO(t.string_or("name", "") << ": " << t.string_or("output", ""));
        CHECK(t.string_or("status", "") == "failed");
        CHECK(t.string_or("output", "").rfind("not implemented", 0) == 0);
        CHECK_FALSE(contains(t.string_or("output", ""), "crashed"));
    }
    // The readable report explains what to do: the stub's message names the file.
    CHECK(contains(r.out, "not implemented"));
    CHECK(contains(r.out, "modules/01_tensor/student/"));
    // Recorded (integrated: module 01 has nothing below it) with the library hash.
    progress::Store s = progress::load(store.string());
    auto rec = s.find(1, progress::Mode::integrated);
    REQUIRE(rec);
    CHECK_FALSE(rec->passed_all);
    REQUIRE(rec->libraries.size() == 1);
    CHECK(rec->libraries[0].hash == progress::hash_file(lib(1, "student")));
}

TEST_CASE("test 01 -k runs only the matching cases and explains them", "[cli][test]") {
    TempDir tmp;
    Result r = run_tito({"test", "01", "--impl", "reference", "-k", "MATMUL"},
                        {{"TITO_PROGRESS", (tmp.path / "p.json").string()}});
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    CHECK(contains(r.out, "matmul"));
    CHECK_FALSE(contains(r.out, "reshape"));
    CHECK(contains(r.out, "✓"));
    CHECK_FALSE(fs::exists(tmp.path / "p.json"));  // test records nothing
}

TEST_CASE("status lists the nine modules and the milestone gate without loading code", "[cli][status]") {
    TempDir tmp;
    Result r = run_tito({"status"}, {{"TITO_PROGRESS", (tmp.path / "p.json").string()}});
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    for (int m = 1; m <= 9; ++m) {
        std::string row = progress::two_digits(m) + " " + tt::module_info(m).name;
        INFO(row);
        CHECK(contains(r.out, row));
    }
    CHECK(contains(r.out, "Milestone 04"));
    CHECK(contains(r.out, "LOCKED"));
    CHECK(contains(r.out, "./tito grade 09 --integrated"));
}

TEST_CASE("stubs check: the committed student files match the generator", "[cli][stubs]") {
    if (!fs::is_directory(fs::path(TT_TEST_SOURCE_DIR) / "modules" / "01_tensor" / "reference")) {
        WARN("no reference sources (a student release): skipped");
        return;
    }
    Result r = run_tito({"stubs", "check"}, {});
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    CHECK(contains(r.out, "in sync"));
}

TEST_CASE("usage errors exit 2 with a hint", "[cli][usage]") {
    TempDir tmp;
    std::map<std::string, std::string> env = {{"TITO_PROGRESS", (tmp.path / "p.json").string()}};
    const std::vector<std::vector<std::string>> bad = {
        {},
        {"frobnicate"},
        {"test"},
        {"test", "10"},
        {"test", "ab"},
        {"grade", "01", "--no-such-option"},
        {"grade", "01", "--impl", "reference", "--integrated"},
        {"--impl", "nonsense", "status"},
        {"test", "01", "--impl", "01=maybe"},
        {"stubs"},
        {"stubs", "frobnicate"},
        {"milestone", "run"},
        {"milestone", "run", "05"},
        {"milestone", "dance"},
        {"test", "01", "--timeout", "0"},
    };
    for (const auto& args : bad) {
        std::string line;
        for (const auto& a : args) line += a + " ";
        INFO("tito-cli " << line);
        Result r = run_tito(args, env);
        INFO(r.out << r.err);
        CHECK(r.code == 2);
        CHECK(contains(r.err + r.out, "--help"));
    }
    // --help everywhere exits 0 and shows the exit code table.
    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{{"--help"}, {"test", "--help"}, {"grade", "--help"},
                                               {"status", "--help"}, {"stubs", "check", "--help"},
                                               {"stubs", "generate", "--help"}, {"milestone", "--help"},
                                               {"help", "grade"}}) {
        Result r = run_tito(args, env);
        INFO(args[0]);
        CHECK(r.code == 0);
        CHECK(contains(r.out, "Exit codes"));
    }
}

TEST_CASE("a mistyped command gets a suggestion; a milestone part that does not exist is not 'locked'",
          "[cli][usage]") {
    TempDir tmp;
    std::map<std::string, std::string> env = {{"TITO_PROGRESS", (tmp.path / "p.json").string()}};
    Result typo = run_tito({"tets", "01"}, env);
    CHECK(typo.code == 2);
    CHECK(contains(typo.err, "unknown command 'tets' (did you mean test?)"));
    Result far = run_tito({"frobnicate"}, env);
    CHECK(far.code == 2);
    CHECK_FALSE(contains(far.err, "did you mean"));
    // No grade is recorded, so the milestone is locked: part 3 is still "no such part".
    Result part = run_tito({"milestone", "run", "04", "3"}, env);
    INFO(part.out << part.err);
    CHECK(part.code == 2);
    CHECK(contains(part.err, "no milestone 04 part matches '3'"));
    CHECK_FALSE(contains(part.out + part.err, "locked"));
}

TEST_CASE("a module whose grader is not built is reported as not built yet", "[cli][test]") {
    TempDir tmp;
    // An empty bin dir of a fake build: copy tito-cli there.
    fs::path bin = tmp.path / "build" / "bin";
    fs::create_directories(bin);
    fs::copy_file(tito_cli(), bin / "tito-cli");
    Result r = run_tito({"test", "07"}, {{"TITO_PROGRESS", (tmp.path / "p.json").string()}},
                        (bin / "tito-cli").string());
    INFO(r.out << r.err);
    CHECK(r.code == 3);
    CHECK(contains(r.err, "not built yet"));
    Result s = run_tito({"status"}, {{"TITO_PROGRESS", (tmp.path / "p.json").string()}},
                        (bin / "tito-cli").string());
    CHECK(s.code == 0);
    CHECK(contains(s.out, "not built"));
}

TEST_CASE("a corrupt progress store is set aside with a warning, never a crash", "[cli][progress]") {
    TempDir tmp;
    fs::path store = tmp.path / "progress.json";
    write_file(store, "{\"version\": 1, \"grades\": {\"09\": {\"integrated\": {\"score\": 5,");  // truncated
    Result r = run_tito({"status"}, {{"TITO_PROGRESS", store.string()}});
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    CHECK(contains(r.err, "corrupt"));
    CHECK_FALSE(fs::exists(store));
    int aside = 0;
    for (const auto& e : fs::directory_iterator(tmp.path)) {
        if (e.path().filename().string().rfind("progress.json.corrupt-", 0) == 0) {
            ++aside;
            CHECK(read_file(e.path()).rfind("{\"version\": 1", 0) == 0);  // kept as it was
        }
    }
    CHECK(aside == 1);
    // Grading afterwards writes a fresh, valid store.
    Result g = run_tito({"grade", "01", "--impl", "reference"}, {{"TITO_PROGRESS", store.string()}});
    CHECK(g.code == 0);
    CHECK_NOTHROW(progress::Json::parse(read_file(store)));
}

TEST_CASE("milestone gate: locked without a grade, unlocked by a fresh pass, stale after a rebuild", "[cli][gate]") {
    TempDir tmp;
    fs::path store = tmp.path / "progress.json";
    // Stand-in student libraries (only their bytes matter to the gate).
    fs::path libs = tmp.path / "lib";
    for (int m = 1; m <= 9; ++m)
        write_file(libs / fs::path(lib(m, "student")).filename(), "library " + std::to_string(m));
    std::map<std::string, std::string> env = {{"TITO_PROGRESS", store.string()},
                                              {"TITO_LIB_DIR", libs.string()}};

    Result locked = run_tito({"milestone", "run", "04"}, env);
    INFO(locked.out << locked.err);
    CHECK(locked.code == 5);
    CHECK(contains(locked.out, "has not been graded"));
    CHECK(contains(locked.out, "./tito grade 09 --integrated"));

    // Record what `tito grade 09 --integrated` records after a full pass.
    tt::ImplChoice student;
    student.fill(tt::Variant::student);
    progress::GradeRecord rec;
    rec.module = 9;
    rec.mode = progress::classify(9, student);
    REQUIRE(rec.mode == progress::Mode::integrated);
    rec.score = rec.max_score = 40;
    rec.cases = rec.passed = 12;
    rec.passed_all = true;
    rec.timestamp = progress::now_iso8601(&rec.time);
    rec.impl = "student";
    rec.libraries = progress::stamp_libraries(9, student, libs.string());
    progress::record_grade(rec, store.string());

    Result list = run_tito({"milestone", "list"}, env);
    INFO(list.out << list.err);
    CHECK(list.code == 0);
    CHECK(contains(list.out, "UNLOCKED"));

    // Rebuilding module 03 with different code makes the pass stale.
    write_file(libs / fs::path(lib(3, "student")).filename(), "library 3, changed");
    Result stale = run_tito({"milestone", "run", "04"}, env);
    INFO(stale.out << stale.err);
    CHECK(stale.code == 5);
    CHECK(contains(stale.out, "module 03 (layers)"));
    CHECK(contains(stale.out, "stale"));
    Result status = run_tito({"status"}, env);
    CHECK(contains(status.out, "STALE"));
    CHECK(contains(status.out, "LOCKED"));
    // status says why: which library changed since which grade.
    CHECK(contains(status.out, "09 integrated: module 03 (layers): its student library was rebuilt with different "
                               "code since the grade of " + rec.timestamp));
}

TEST_CASE("end to end: grade 09 --integrated on a completed stack unlocks milestone 04", "[cli][gate][e2e]") {
    // e2e-lib: the reference sources built as the student variant, standing in
    // for a student who completed every module (cmake/TinyTorchModule.cmake).
    fs::path e2e = fs::path(TT_TEST_BUILD_DIR) / "e2e-lib";
    if (!fs::exists(e2e / "tt_09_spatial_student.so")) {
        WARN("no " << e2e << " (reference sources not built): skipped");
        return;
    }
    TempDir tmp;
    fs::copy(e2e, tmp.path / "lib");
    std::map<std::string, std::string> env = {{"TITO_PROGRESS", (tmp.path / "progress.json").string()},
                                              {"TITO_LIB_DIR", (tmp.path / "lib").string()}};
    Result grade = run_tito({"grade", "09", "--integrated"}, env);
    INFO(grade.out << grade.err);
    REQUIRE(grade.code == 0);
    CHECK(contains(grade.out, "Milestone 04: unlocked"));
    auto rec = progress::load((tmp.path / "progress.json").string()).find(9, progress::Mode::integrated);
    REQUIRE(rec);
    CHECK(rec->libraries.size() == 9);

    Result list = run_tito({"milestone", "list"}, env);
    CHECK(contains(list.out, "UNLOCKED"));
    if (fs::exists(std::string(TT_TEST_BIN_DIR) + "/milestone_04_part1")) {
        // Unlocked: tito hands over to the program (its --help exits 0 at once);
        // as root only with --allow-root, since the milestone loads student
        // code in tito's own process tree.
        if (geteuid() == 0) {
            Result refused = run_tito({"milestone", "run", "04", "1", "--", "--help"}, env);
            CHECK(refused.code == 2);
            CHECK(contains(refused.err, "--allow-root"));
            CHECK(!contains(refused.out, "Usage: milestone_04_part1"));
        }
        Result run = run_tito({"milestone", "run", "04", "1", "--allow-root", "--", "--help"}, env);
        INFO(run.out << run.err);
        CHECK(run.code == 0);
        CHECK(contains(run.out, "on YOUR modules"));
        CHECK(contains(run.out, "Usage: milestone_04_part1"));
    }

    // The student rebuilds module 07 with different code: the pass is stale.
    {
        std::ofstream touch(tmp.path / "lib" / "tt_07_training_student.so", std::ios::app | std::ios::binary);
        touch << "changed";
    }
    Result stale = run_tito({"milestone", "run", "04"}, env);
    INFO(stale.out << stale.err);
    CHECK(stale.code == 5);
    CHECK(contains(stale.out, "module 07 (training)"));
}

TEST_CASE("test 01 on the stubs: each missing function explained once, the rest counted", "[cli][test]") {
    REQUIRE(fs::exists(lib(1, "student")));
    TempDir tmp;
    Result r = run_tito({"test", "01", "--impl", "student"}, {{"TITO_PROGRESS", (tmp.path / "p.json").string()}});
    INFO(r.out << r.err);
    CHECK(r.code == 1);
    // Count the cases, the case lines shown and the cases said to wait.
    std::smatch m;
    REQUIRE(std::regex_search(r.out, m, std::regex("([0-9]+) not implemented\\. Score 0/")));
    int cases = std::stoi(m[1]);
    int lines = 0, waiting = 0, groups = 0;
    std::istringstream in(r.out);
    std::string line;
    std::set<std::string> explained;
    std::regex fn_re("([A-Za-z_]+) is not implemented yet: edit");
    std::regex wait_re("^  ([0-9]+) cases?(?: waits? for `([A-Za-z_]+)`|: )");
    while (std::getline(in, line)) {
        if (line.rfind("  \xE2\x9C\x97 ", 0) == 0) ++lines;
        if (std::regex_search(line, m, fn_re)) explained.insert(m[1]);
        if (std::regex_search(line, m, wait_re)) {
            waiting += std::stoi(m[1]);
            ++groups;
            if (m[2].matched) CHECK(explained.count(m[2]) == 1);  // its hint was shown above
        }
    }
    CHECK(cases > 20);
    CHECK(lines == groups);        // one case line per missing function
    CHECK(lines < cases / 2);      // not a wall of near-identical lines
    CHECK(waiting == cases);       // every case is accounted for
    CHECK(contains(r.out, "cases wait for `create` (creation.cpp)"));
    CHECK(contains(r.out, "-v shows every one"));

    Result all = run_tito({"test", "01", "--impl", "student", "-v"}, {{"TITO_PROGRESS", (tmp.path / "p.json").string()}});
    size_t n = 0;
    for (size_t at = all.out.find("  \xE2\x9C\x97 "); at != std::string::npos; at = all.out.find("  \xE2\x9C\x97 ", at + 1)) ++n;
    CHECK(static_cast<int>(n) == cases);
}

TEST_CASE("a crashed case suggests the sanitizer run of that case", "[cli][test]") {
    TempDir tmp;
    Result r = run_tito({"test", "01", "--impl", "reference", "--grader", TT_CLI_FIXTURE_GRADER, "--timeout", "1",
                         "-k", "segfault"},
                        {{"TITO_PROGRESS", (tmp.path / "p.json").string()}});
    INFO(r.out << r.err);
    CHECK(contains(r.out, "crashed with SIGSEGV"));
    std::smatch m;
    REQUIRE(std::regex_search(r.out, m, std::regex("\xE2\x9C\x97 ([^\\n]*segfault[^\\n]*?)  \\[")));
    CHECK(contains(r.out, "./tito test 01 --sanitize -k '" + m[1].str() + "'"));
}

TEST_CASE("run playground: built with the project, runs on the chosen modules", "[cli][playground]") {
    TempDir tmp;
    std::map<std::string, std::string> env = {{"TITO_PROGRESS", (tmp.path / "p.json").string()}};
    // The playground is student code: as root it runs only with --allow-root.
    if (geteuid() == 0) {
        Result refused = run_tito({"run", "playground", "--impl", "reference"}, env);
        CHECK(refused.code == 2);
        CHECK(contains(refused.err, "--allow-root"));
    }
    Result ref = run_tito({"run", "playground", "--impl", "reference", "--allow-root"}, env);
    INFO(ref.out << ref.err);
    CHECK(ref.code == 0);
    CHECK(contains(ref.out, "modules: reference"));
    // NumPy-like printing of a [2, 3] tensor, rows aligned under each other.
    CHECK(contains(ref.out, "tensor([[1., 2., 3.],\n        [4., 5., 6.]], shape=[2, 3])"));
    // On the stubs (the default: every module the student's) it stops at the
    // first function not written yet, with the stub's message.
    Result stub = run_tito({"run", "playground", "--allow-root"}, env);
    INFO(stub.out << stub.err);
    CHECK(stub.code == 1);
    CHECK(contains(stub.out, "modules: student"));
    CHECK(contains(stub.err, "is not implemented yet"));
    Result bad = run_tito({"run", "nothing"}, env);
    CHECK(bad.code == 2);
}

TEST_CASE("the launcher shows a long build as progress with the time left, and a failed one as its errors",
          "[cli][launcher]") {
    // A stand-in cmake whose build prints ninja's "[n/m]" lines, and a
    // stand-in tito-cli: only the launcher's own behaviour is under test.
    TempDir tmp;
    fs::path tools = tmp.path / "tools", build = tmp.path / "build";
    fs::create_directories(tools);
    fs::create_directories(build / "bin");
    write_file(build / "CMakeCache.txt", "");
    write_file(build / "bin/tito-cli", "#!/bin/sh\necho \"cli ran $*\"\n");
    fs::permissions(build / "bin/tito-cli", fs::perms::owner_all);
    auto fake_cmake = [&](const std::string& body) {
        write_file(tools / "cmake", "#!/bin/sh\nif [ \"$1\" = --build ]; then\n" + body + "\nfi\nexit 0\n");
        fs::permissions(tools / "cmake", fs::perms::owner_all);
    };
    std::string launcher = std::string(TT_TEST_SOURCE_DIR) + "/tito";
    std::map<std::string, std::string> env = {{"PATH", tools.string() + ":" + std::getenv("PATH")},
                                              {"TITO_BUILD_DIR", build.string()}};

    fake_cmake("i=1; while [ $i -le 40 ]; do echo \"[$i/40] Building CXX object x$i.o\"; i=$((i+1)); done");
    Result ok = run_tito({"status"}, env, launcher);
    INFO(ok.out << ok.err);
    CHECK(ok.code == 0);
    CHECK(contains(ok.out, "cli ran status"));
    CHECK(contains(ok.err, "tito: building 4/40 (10%)"));
    CHECK(contains(ok.err, "tito: building 40/40 (100%)"));
    CHECK(contains(ok.err, "build steps done in"));
    CHECK(contains(read_file(build / "tito-build.log"), "[40/40] Building CXX object x40.o"));  // the full log

    // A small rebuild stays quiet.
    fake_cmake("echo '[1/2] Building CXX object a.o'; echo '[2/2] Linking CXX executable a'");
    Result quiet = run_tito({"status"}, env, launcher);
    CHECK(quiet.code == 0);
    CHECK(quiet.err.empty());

    // A failed build: exit 4 and the compiler's error, without the step lines.
    fake_cmake("echo '[1/40] Building CXX object x1.o'; echo 'x1.cpp:3: error: boom'; exit 1");
    Result bad = run_tito({"status"}, env, launcher);
    INFO(bad.out << bad.err);
    CHECK(bad.code == 4);
    CHECK(contains(bad.err, "x1.cpp:3: error: boom"));
    CHECK_FALSE(contains(bad.err, "[1/40]"));
    CHECK_FALSE(contains(bad.out, "cli ran"));
}

TEST_CASE("grades live in the checkout's .tito/, not in the build directory; an old store moves there",
          "[cli][progress]") {
    // A build directory of our own (tito-cli copied into <tmp>/build/bin) and
    // a checkout of our own (TITO_SOURCE_DIR), so nothing real is touched.
    TempDir tmp;
    fs::path build = tmp.path / "build", repo = tmp.path / "repo";
    fs::create_directories(build / "bin");
    fs::create_directories(repo / "modules");
    fs::copy_file(tito_cli(), build / "bin/tito-cli");
    const std::string cli = (build / "bin/tito-cli").string();

    // What an older tito wrote: <build>/progress.json and its key.
    progress::GradeRecord rec;
    rec.module = 2;
    rec.mode = progress::Mode::isolated;
    rec.score = 20;
    rec.max_score = 25;
    rec.cases = 18;
    rec.passed = 14;
    rec.timestamp = progress::now_iso8601(&rec.time);
    rec.impl = "reference,02=student";
    progress::record_grade(rec, (build / "progress.json").string());
    REQUIRE(fs::exists(build / "progress.json.key"));

    std::map<std::string, std::string> env = {{"TITO_SOURCE_DIR", repo.string()}};
    Result r = run_tito({"status"}, env, cli);
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    CHECK(contains(r.err, "moved the progress store from " + (build / "progress.json").string()));
    CHECK(contains(r.out, (repo / ".tito/progress.json").string()));
    CHECK_FALSE(fs::exists(build / "progress.json"));
    CHECK_FALSE(fs::exists(build / "progress.json.key"));
    // The grade came along with its key: it still verifies.
    progress::Store s = progress::load((repo / ".tito/progress.json").string());
    auto moved = s.find(2, progress::Mode::isolated);
    REQUIRE(moved);
    CHECK(moved->score == 20);
    CHECK(moved->unverified.empty());
    CHECK(contains(r.out, "20/25"));
    CHECK_FALSE(contains(r.out, "FORGED"));

    // Deleting the build directory keeps the grades; nothing moves twice.
    fs::remove_all(build);
    fs::create_directories(build / "bin");
    fs::copy_file(tito_cli(), build / "bin/tito-cli");
    Result again = run_tito({"status"}, env, cli);
    CHECK_FALSE(contains(again.err, "moved"));
    CHECK(contains(again.out, "20/25"));
}
