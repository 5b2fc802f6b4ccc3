// grading.hpp - the pieces of `tito test NN` / `tito grade NN`, one job per file:
//
//   grading.cpp           the command: options → prerequisites → run → report → record
//   case_run.cpp          listing the cases of a suite, running each in its own process,
//                         the pre-run checks (pre-flight, load check)
//   report_console.cpp    what the student reads in the terminal
//   report_gradescope.cpp Gradescope's results.json
//   report_junit.cpp      JUnit XML for CI systems
//   text.cpp              the small text helpers all of them share
//
// Scores come only from the case list tito reads from the suite (names,
// [points:N] and [hidden] tags) and from outcomes tito decides; nothing a
// process that ran student code wrote is trusted for points.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "catch_xml.hpp"
#include "child.hpp"
#include "isolation.hpp"
#include "tinytorch/progress.hpp"
#include "tinytorch/runtime.hpp"

namespace tito::grading {

enum class Outcome { passed, failed, not_implemented, crashed, timed_out, load_error, memory_error };
const char* outcome_name(Outcome o);

// One test case as the suite lists it (tito's own listing, before any case ran).
struct TestCaseEntry {
    std::string name;
    double points = 1;    // from a [points:N] tag; 1 without one
    bool hidden = false;  // from a [hidden] tag: details are not shown to the student
};

struct CaseResult {
    TestCaseEntry test;
    Outcome outcome = Outcome::failed;
    double score = 0;
    std::string reason;                // one line: why it did not pass
    std::vector<std::string> details;  // expected/actual, infos, stderr tail
    std::string output;                // captured stdout/stderr of the child
    double seconds = 0;
    bool blocked = false;              // no case ran: the pre-run checks failed (same reason for all)
};

struct RunSettings {
    int module = 0;
    std::string spec;
    tt::ImplChoice choice{};
    std::string grader;      // bin/tt_grade_NN
    std::string load_check;  // bin/tt_load_check ("" when not built: skipped)
    std::string lib_dir;     // the module libraries the children load
    ChildLimits limits;
    int jobs = 1;
    std::string tmp_dir;
    std::string cases_dir;   // the cases' scratch folders (each owned by its case's user)
    std::string report_dir;  // the suites' XML reports (tito's only: no student code sees it)
    const IsolationPlan* iso = nullptr;  // where the student modules run (isolation.hpp)
    bool sanitized = false;    // sanitizer build: findings become "memory error"
    bool show_hidden = false;  // instructors: show what hidden cases printed and asserted
    std::map<std::string, std::string> env;  // on top of TITO_IMPL
};

// Counts and points of a run, case by case.
struct Tally {
    std::map<Outcome, int> count;
    double score = 0, max = 0;
    int passed = 0, total = 0;
    void add(const CaseResult& r);
    std::string summary() const;  // "3 passed, 1 failed"
};

// ---- case_run.cpp
// Module n and its prerequisites (transitively), as a bit mask.
uint32_t needed_modules(int n);
std::string library_path(const std::string& lib_dir, int m, tt::Variant v);
// The suite's cases with their points and visibility; throws when the suite cannot list them.
std::vector<TestCaseEntry> list_cases(const RunSettings& rs);
// The pre-run checks, then every case (rs.jobs at a time); results handed to
// `done` in the cases' order.
std::vector<CaseResult> execute(const RunSettings& rs, const std::vector<TestCaseEntry>& cases,
                                const std::function<void(const CaseResult&)>& done);

// ---- report_console.cpp
std::string describe_choice(int module, const tt::ImplChoice& choice);
std::vector<std::string> describe_failure(const CatchFailure& f);
// What a student may see of a case: for a hidden case without show_hidden,
// its details and output are withheld.
CaseResult visible_part(const CaseResult& r, bool show_hidden);
std::string case_text(const CaseResult& r);  // outcome, reason and details as plain text
void print_case_line(std::ostream& os, const CaseResult& r, bool with_reason = true);
// `tito test`: each case as it finishes, then the summary. A function that is
// not implemented yet is explained at its first case; the other cases that
// wait for it are counted and named in one line at the end ("34 cases wait
// for `create` (creation.cpp)"), unless verbose. A crash suggests the
// sanitizer run of that one case.
class CaseStream {
public:
    CaseStream(std::ostream& os, int module, bool verbose, bool sanitized);
    void add(const CaseResult& r);
    void finish(const Tally& tally);  // the collapsed list and "N passed, ... Score x/y."

private:
    struct Waiting {
        std::string key, function, file;
        int cases = 0;
    };
    std::ostream& os_;
    int module_;
    bool verbose_, sanitized_;
    bool hinted_sanitize_ = false;
    int leaky_cases_ = 0;
    std::string last_load_error_;
    std::vector<Waiting> waiting_;
};
void print_grade_table(std::ostream& os, const std::vector<CaseResult>& results, const Tally& tally,
                       bool verbose);
// `grade NN --integrated`: the isolated score next to the integrated one;
// `isolated` when the isolated grade ran now, else the fresh `recorded` one.
void print_side_by_side(std::ostream& os, int module, const std::vector<CaseResult>& integrated,
                        const Tally& integrated_tally, const std::vector<CaseResult>* isolated,
                        const Tally* isolated_tally, const tt::progress::GradeRecord* recorded);

// ---- report_gradescope.cpp
// results.json. total_cases / total_points: of the whole run; while it is
// still going (fewer results than cases) the report says how far it got.
std::string gradescope_json(const RunSettings& rs, const std::vector<CaseResult>& results, const Tally& t,
                            size_t total_cases = 0, double total_points = -1);

// ---- report_junit.cpp
std::string junit_xml(const RunSettings& rs, const std::vector<CaseResult>& results, const Tally& t);

// ---- text.cpp
std::string lower(std::string s);
bool contains_icase(const std::string& hay, const std::string& needle);
std::vector<std::string> split_lines(const std::string& s);
// The first line of `text` that mentions `needle` (case-insensitive), else its first line.
std::string line_with(const std::string& text, const std::string& needle);
// `text` line by line, the first line after `label`, the others aligned under it.
void add_indented(std::vector<std::string>& out, const std::string& label, const std::string& text);

}  // namespace tito::grading
