// The grading runner against a fixture suite with one case per outcome: a
// crash or an endless loop fails only its own case, with a clear reason.
#include "cli_helpers.hpp"

#include "tinytorch/progress.hpp"

using namespace cli_test;
namespace progress = tt::progress;

namespace {

struct Graded {
    Result run;
    progress::Json doc;
    const progress::Json* test(const std::string& name) const {
        for (const progress::Json& t : doc.find("tests")->items())
            if (t.string_or("name", "") == name) return &t;
        return nullptr;
    }
};

Graded grade_fixture(const TempDir& tmp) {
    fs::path json = tmp.path / "results.json";
    Graded g;
    g.run = run_tito({"grade", "01", "--impl", "reference", "--grader", TT_CLI_FIXTURE_GRADER,
                      "--timeout", "1", "--no-record", "--json", json.string(), "--junit",
                      (tmp.path / "junit.xml").string()},
                     {{"TITO_PROGRESS", (tmp.path / "p.json").string()}});
    g.doc = progress::Json::parse(read_file(json));
    return g;
}

}  // namespace

TEST_CASE("every outcome of a test case is recognised and reported", "[cli][runner]") {
    TempDir tmp;
    Graded g = grade_fixture(tmp);
    INFO(g.run.out << g.run.err);
    CHECK_FALSE(g.run.signaled);
    CHECK(g.run.code == 3);  // a load error outranks failures
    CHECK_FALSE(fs::exists(tmp.path / "p.json"));  // --no-record

    auto output_of = [&](const std::string& name) {
        const progress::Json* t = g.test(name);
        INFO("case " << name);
        REQUIRE(t);
        return t->string_or("output", "");
    };
    auto status_of = [&](const std::string& name) { return g.test(name)->string_or("status", ""); };

    CHECK(status_of("passes") == "passed");
    CHECK(g.test("passes")->number_or("score", 0) == 2);
    CHECK(status_of("name, with [brackets] and * star") == "passed");
    CHECK(g.test("untagged case is worth one point")->number_or("max_score", 0) == 1);

    std::string values = output_of("fails with values");
    CHECK(values.rfind("failed", 0) == 0);
    CHECK(contains(values, "REQUIRE( got == 3 )"));
    CHECK(contains(values, "with values: 2 == 3"));
    CHECK(contains(values, "info: the info message"));
    CHECK(contains(values, "fake_grader.cpp:"));
    CHECK(g.test("fails with values")->number_or("max_score", 0) == 3);
    CHECK(g.test("fails with values")->number_or("score", -1) == 0);

    std::string message = output_of("fails with a message");
    CHECK(contains(message, "expected 1.5, actual 2.5"));
    CHECK(contains(message, "the section"));

    CHECK(output_of("not implemented").rfind("not implemented: ", 0) == 0);
    CHECK(contains(output_of("not implemented"), "modules/01_tensor/student/elementwise.cpp"));

    CHECK(contains(output_of("segfaults"), "crashed with SIGSEGV"));
    CHECK(contains(output_of("aborts"), "crashed with SIGABRT"));
    CHECK(contains(output_of("loops forever"), "timed out after 1 s"));
    CHECK(contains(output_of("exits in the middle"), "crashed"));
    CHECK(contains(output_of("cannot load"), "load error"));
    CHECK(contains(output_of("cannot load"), "could not load module library"));

    // Output is captured and truncated (1 MB written to stderr).
    std::string flood = output_of("floods stderr");
    CHECK(contains(flood, "bytes of output omitted"));
    CHECK(contains(flood, "the last line"));
    CHECK(flood.size() < 80 * 1024);

    for (const progress::Json& t : g.doc.find("tests")->items())
        if (t.string_or("status", "") == "failed") CHECK(t.number_or("score", -1) == 0);
    CHECK(g.doc.number_or("score", -1) == 4);  // passes (2) + bracket name (1) + untagged (1)
    CHECK(g.doc.number_or("max_score", 0) == 15);

    std::string junit = read_file(tmp.path / "junit.xml");
    CHECK(contains(junit, "<error type=\"crashed\""));
    CHECK(contains(junit, "<failure type=\"not implemented\""));
    CHECK(contains(junit, "name=\"name, with [brackets] and * star\""));
}

TEST_CASE("the readable report shows a mark per case and the reasons", "[cli][runner]") {
    TempDir tmp;
    Result r = run_tito({"test", "01", "--impl", "reference", "--grader", TT_CLI_FIXTURE_GRADER,
                         "--timeout", "1", "-k", "fails", "-k", "segfault"},
                        {{"TITO_PROGRESS", (tmp.path / "p.json").string()}});
    INFO(r.out << r.err);
    CHECK(r.code == 1);
    CHECK(contains(r.out, "✗ fails with values"));
    CHECK(contains(r.out, "with values: 2 == 3"));
    CHECK(contains(r.out, "crashed with SIGSEGV"));
    CHECK_FALSE(contains(r.out, "loops forever"));

    Result none = run_tito({"test", "01", "--impl", "reference", "--grader", TT_CLI_FIXTURE_GRADER,
                            "-k", "no case has this name"},
                           {{"TITO_PROGRESS", (tmp.path / "p.json").string()}});
    CHECK(none.code == 2);
}

TEST_CASE("parallel jobs give the same results in the same order", "[cli][runner]") {
    TempDir tmp;
    Result r = run_tito({"test", "01", "--impl", "reference", "--grader", TT_CLI_FIXTURE_GRADER,
                         "--timeout", "1", "--jobs", "4"},
                        {{"TITO_PROGRESS", (tmp.path / "p.json").string()}});
    INFO(r.out << r.err);
    CHECK(r.code == 3);
    size_t a = r.out.find("passes"), b = r.out.find("loops forever"), c = r.out.find("floods stderr");
    CHECK(a < b);
    CHECK(b < c);
    CHECK(contains(r.out, "3 passed"));
}
