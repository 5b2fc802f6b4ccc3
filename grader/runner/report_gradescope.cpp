// report_gradescope.cpp - Gradescope's results.json for `tito grade --json`
// (https://gradescope-autograders.readthedocs.io/en/latest/specs/).
#include "cli.hpp"
#include "grading.hpp"

namespace progress = tt::progress;

namespace tito::grading {

std::string gradescope_json(const RunSettings& rs, const std::vector<CaseResult>& results,
                            const Tally& t, size_t total_cases, double total_points) {
    progress::Json doc = progress::Json::object();
    bool partial = total_cases > results.size();
    doc.set("score", t.score);
    doc.set("max_score", partial && total_points >= 0 ? total_points : t.max);
    std::string summary = t.summary().empty() ? "no test case finished yet" : t.summary();
    std::string output = "Module " + two_digits(rs.module) + " (" + tt::module_info(rs.module).name + "), " +
                         describe_choice(rs.module, rs.choice) + ": " + summary + ".";
    if (partial)
        output += " INCOMPLETE: " + std::to_string(results.size()) + " of " + std::to_string(total_cases) +
                  " test cases finished (the run was interrupted, or is still running).";
    if (rs.sanitized) output += " Sanitizer build (AddressSanitizer + UBSan).";
    doc.set("output", output);
    double seconds = 0;
    for (const CaseResult& r : results) seconds += r.seconds;
    doc.set("execution_time", seconds);
    progress::Json tests = progress::Json::array();
    for (const CaseResult& r : results) {
        progress::Json j = progress::Json::object();
        j.set("name", r.test.name);
        j.set("score", r.score);
        j.set("max_score", r.test.points);
        j.set("status", r.outcome == Outcome::passed ? "passed" : "failed");
        j.set("execution_time", r.seconds);
        // Visibility comes from the [hidden] tag, never from the case name;
        // grade-batch maps it to the instructor's --hidden-visibility.
        if (r.test.hidden) j.set("visibility", "after_published");
        std::string out = case_text(r);
        if (r.outcome != Outcome::passed && !r.output.empty()) out += "--- output ---\n" + r.output;
        j.set("output", out);
        tests.push_back(j);
    }
    doc.set("tests", tests);
    return doc.dump(2) + "\n";
}

}  // namespace tito::grading
