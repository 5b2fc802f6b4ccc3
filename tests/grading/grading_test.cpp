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
