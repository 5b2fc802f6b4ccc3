// Every module, both variants, through the real tito program: the reference
// (and module 09's fast variant) earns full marks; the generated stub earns zero with every case reported as
// not implemented, a non-zero exit, and no crash. One ctest per module
// (label NN_name), selected with the Catch2 tag [NN].
#include <catch2/catch.hpp>

#include "common/subprocess.hpp"

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <unistd.h>

namespace {

struct Graded {
    int code = -1;
    std::string out, json;
};

Graded grade(const std::string& module, const std::string& impl) {
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("tt_grading_" + module + "_" + impl + "_" + std::to_string(getpid()));
    fs::create_directories(dir);
    std::string json = (dir / "results.json").string();
    std::string cmd = "TITO_PROGRESS='" + (dir / "progress.json").string() + "' '" + TT_TEST_BIN_DIR +
                      "/tito-cli' grade " + module + " --impl " + impl + " --json '" + json + "'";
    tt_test::RunResult r = tt_test::run_command(cmd);
    Graded g;
    g.code = r.code;
    g.out = r.out;
    std::ifstream in(json);
    std::stringstream ss;
    ss << in.rdbuf();
    g.json = ss.str();
    fs::remove_all(dir);
    return g;
}

double number(const std::string& json, const std::string& key) {
    std::smatch m;
    REQUIRE(std::regex_search(json, m, std::regex("\"" + key + "\"\\s*:\\s*([0-9.]+)")));
    return std::stod(m[1]);
}

size_t count(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
}

void check_module(const std::string& nn) {
    SECTION("the reference earns full marks") {
        Graded g = grade(nn, "reference");
        INFO(g.out);
        REQUIRE(g.code == 0);
        REQUIRE(number(g.json, "max_score") > 0);
        REQUIRE(number(g.json, "score") == number(g.json, "max_score"));
    }
    SECTION("the stub earns zero, every case not implemented, no crash") {
        Graded g = grade(nn, "student");
        INFO(g.out);
        REQUIRE(g.code == 1);
        REQUIRE(number(g.json, "score") == 0);
        size_t tests = count(g.json, "\"max_score\"") - 1;  // minus the top-level one
        REQUIRE(tests > 0);
        REQUIRE(count(g.out, "not implemented") >= tests);
        REQUIRE(g.out.find("crashed") == std::string::npos);
        REQUIRE(g.out.find("timed out") == std::string::npos);
    }
}

}  // namespace

TEST_CASE("module 01 grades", "[01]") { check_module("01"); }
TEST_CASE("module 02 grades", "[02]") { check_module("02"); }
TEST_CASE("module 03 grades", "[03]") { check_module("03"); }
TEST_CASE("module 04 grades", "[04]") { check_module("04"); }
TEST_CASE("module 05 grades", "[05]") { check_module("05"); }
TEST_CASE("module 06 grades", "[06]") { check_module("06"); }
TEST_CASE("module 07 grades", "[07]") { check_module("07"); }
TEST_CASE("module 08 grades", "[08]") { check_module("08"); }
TEST_CASE("module 09 grades", "[09]") { check_module("09"); }

#ifdef TT_TEST_HAVE_FAST_09
TEST_CASE("module 09's fast variant earns full marks too", "[09]") {
    Graded g = grade("09", "reference,09=fast");
    INFO(g.out);
    REQUIRE(g.code == 0);
    REQUIRE(number(g.json, "max_score") > 0);
    REQUIRE(number(g.json, "score") == number(g.json, "max_score"));
}
#endif

// ------------------------------------------------------------------ feedback

namespace {

namespace fs = std::filesystem;

// A library folder holding the reference libraries of the build and the
// fixture's student library in place of the real one.
struct FixtureLibs {
    fs::path dir;
    explicit FixtureLibs(const std::string& fixture) {
        dir = fs::temp_directory_path() / ("tt_grading_fixture_" + fixture + "_" + std::to_string(getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        for (const fs::directory_entry& e : fs::directory_iterator(TT_TEST_LIB_DIR))
            if (e.path().filename().string().find("_reference.so") != std::string::npos)
                fs::copy_file(e.path(), dir / e.path().filename());
        for (const fs::directory_entry& e : fs::directory_iterator(fs::path(TT_GRADING_FIXTURES) / fixture))
            if (e.path().extension() == ".so") fs::copy_file(e.path(), dir / e.path().filename());
    }
    ~FixtureLibs() { fs::remove_all(dir); }
};

tt_test::RunResult tito_on(const FixtureLibs& libs, const std::string& args) {
    return tt_test::run_command("TITO_LIB_DIR='" + libs.dir.string() + "' TITO_PROGRESS='" +
                                (libs.dir / "progress.json").string() + "' '" + TT_TEST_BIN_DIR + "/tito-cli' " +
                                args);
}

// The block of output that belongs to the case whose line starts with `mark name`.
std::string case_block(const std::string& out, const std::string& name) {
    size_t at = out.find(name);
    if (at == std::string::npos) return "";
    size_t end = out.find("\n  \xE2\x9C", at);  // the next case line (a check mark or a cross)
    return out.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace

TEST_CASE("the naive float sigmoid fails the tail case and passes the others", "[feedback]") {
    FixtureLibs libs("mistakes_02");
    tt_test::RunResult r = tito_on(libs, "test 02 -k sigmoid");
    INFO(r.out);
    REQUIRE(r.code == 1);
    CHECK(r.out.find("\xE2\x9C\x93 sigmoid of 0 and +-ln 3") != std::string::npos);
    CHECK(r.out.find("\xE2\x9C\x93 sigmoid matches a double computation") != std::string::npos);
    std::string tail = case_block(r.out, "sigmoid keeps its tiny tail");
    REQUIRE(!tail.empty());
    CHECK(tail.find("[0/1]") != std::string::npos);
}

TEST_CASE("a failure names the case's own line, its inputs and the first differing index", "[feedback]") {
    FixtureLibs libs("mistakes_02");
    tt_test::RunResult r = tito_on(libs, "test 02 -k 'tiny tail'");
    INFO(r.out);
    std::string block = case_block(r.out, "sigmoid keeps its tiny tail");
    REQUIRE(!block.empty());
    // The line of grade::require_close in the suite, not the helper's.
    std::ifstream suite(std::string(TT_TEST_SOURCE_DIR) + "/grader/suites/02_activations.cpp");
    std::string line;
    int n = 0, call_line = 0;
    bool in_case = false;
    while (std::getline(suite, line)) {
        ++n;
        if (line.find("sigmoid keeps its tiny tail") != std::string::npos) in_case = true;
        if (in_case && line.find("grade::require_close") != std::string::npos) {
            call_line = n;
            break;
        }
    }
    REQUIRE(call_line > 0);
    CHECK(block.find("02_activations.cpp:" + std::to_string(call_line)) != std::string::npos);
    CHECK(block.find("common/grading.cpp") == std::string::npos);
    // The captured input, printed NumPy-like with its shape.
    CHECK(block.find("x := tensor([-88.8000, -89.0000, -90.0000, -92.0000], shape=[4])") != std::string::npos);
    // The first difference by index, then expected beside actual.
    CHECK(block.find("element [0] differs: expected 2.7205e-39, actual 0") != std::string::npos);
    CHECK(block.find("4 of 4 elements differ") != std::string::npos);
    CHECK(block.find("expected [") != std::string::npos);
    CHECK(block.find("actual   [") != std::string::npos);
}

TEST_CASE("a failure on a matrix names the element as [row, column]", "[feedback]") {
    FixtureLibs libs("mistakes_02");
    tt_test::RunResult r = tito_on(libs, "test 02 -k 'relu zeroes'");
    INFO(r.out);
    std::string block = case_block(r.out, "relu zeroes negatives");
    REQUIRE(!block.empty());
    // relu(x) = |x| on [[-2, -0.5, 0], [0.5, 3, -7]]: wrong at [0, 0], [0, 1], [1, 2].
    CHECK(block.find("element [0, 0] differs: expected 0, actual 2") != std::string::npos);
    CHECK(block.find("3 of 6 elements differ") != std::string::npos);
    CHECK(block.find("[1, 2]") != std::string::npos);
    CHECK(block.find("row [0, :]") != std::string::npos);
    // A matrix starts on its own line, its rows aligned.
    size_t at = block.find("x := \n");
    REQUIRE(at != std::string::npos);
    size_t row0 = block.find("tensor([[-2.0, -0.5,  0.0],\n", at), row1 = block.find("[ 0.5,  3.0, -7.0]]", at);
    REQUIRE(row0 != std::string::npos);
    REQUIRE(row1 != std::string::npos);
    size_t col0 = row0 - block.rfind('\n', row0) + 8, col1 = row1 - block.rfind('\n', row1);  // "tensor([" is 8 wide
    CHECK(col0 == col1);
}

TEST_CASE("a case whose module leaks memory passes with a leak warning; a clean module gets none", "[feedback]") {
    FixtureLibs libs("mistakes_02");
    // tanh is right but leaks one scratch tensor (struct + data) per call.
    tt_test::RunResult r = tito_on(libs, "test 02 -k 'tanh of 0'");
    INFO(r.out);
    std::string block = case_block(r.out, "tanh of 0 and ln 2");
    REQUIRE(!block.empty());
    CHECK(block.find("[1/1]") != std::string::npos);
    CHECK(block.find("memory leak: 2 allocations") != std::string::npos);
    CHECK(r.out.find("1 case leaked memory") != std::string::npos);
    // sigmoid frees what it makes: no warning.
    tt_test::RunResult clean = tito_on(libs, "test 02 -k 'sigmoid of 0'");
    INFO(clean.out);
    CHECK(clean.out.find("\xE2\x9C\x93 sigmoid of 0") != std::string::npos);
    CHECK(clean.out.find("memory leak") == std::string::npos);
}
