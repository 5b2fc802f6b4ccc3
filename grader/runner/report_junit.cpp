// report_junit.cpp - a JUnit XML report of `tito grade --junit` for CI systems.
#include <sstream>

#include "cli.hpp"
#include "grading.hpp"

namespace tito::grading {

namespace {

std::string xml_escape(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        switch (c) {
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '&': out += "&amp;"; break;
            case '"': out += "&quot;"; break;
            case '\n': case '\t': case '\r': out += static_cast<char>(c); break;
            default:
                if (c < 0x20) out += "?";  // not allowed in XML 1.0
                else out += static_cast<char>(c);
        }
    }
    return out;
}

// Reports are replaced atomically (a temporary file in the same directory,

}  // namespace

std::string junit_xml(const RunSettings& rs, const std::vector<CaseResult>& results, const Tally& t) {
    int failures = 0, errors = 0;
    double time = 0;
    for (const CaseResult& r : results) {
        if (r.outcome == Outcome::failed || r.outcome == Outcome::not_implemented ||
            r.outcome == Outcome::memory_error)
            failures++;
        else if (r.outcome != Outcome::passed) errors++;
        time += r.seconds;
    }
    std::string suite = "module " + two_digits(rs.module) + " (" + tt::module_info(rs.module).name + ")";
    std::ostringstream os;
    os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
       << "<testsuites name=\"tito\" tests=\"" << t.total << "\" failures=\"" << failures
       << "\" errors=\"" << errors << "\" time=\"" << time << "\">\n"
       << "  <testsuite name=\"" << xml_escape(suite) << "\" tests=\"" << t.total << "\" failures=\""
       << failures << "\" errors=\"" << errors << "\" time=\"" << time << "\">\n"
       << "    <properties>\n"
       << "      <property name=\"impl\" value=\"" << xml_escape(rs.spec) << "\"/>\n"
       << "      <property name=\"score\" value=\"" << format_number(t.score) << "\"/>\n"
       << "      <property name=\"max_score\" value=\"" << format_number(t.max) << "\"/>\n"
       << "    </properties>\n";
    for (const CaseResult& r : results) {
        os << "    <testcase classname=\"tt_grade_" << two_digits(rs.module) << "\" name=\""
           << xml_escape(r.test.name) << "\" time=\"" << r.seconds << "\"";
        if (r.outcome == Outcome::passed) {
            os << "/>\n";
            continue;
        }
        os << ">\n";
        bool failure = r.outcome == Outcome::failed || r.outcome == Outcome::not_implemented ||
                       r.outcome == Outcome::memory_error;
        std::string message = r.reason.empty() ? outcome_name(r.outcome) : r.reason;
        os << "      <" << (failure ? "failure" : "error") << " type=\"" << outcome_name(r.outcome)
           << "\" message=\"" << xml_escape(message) << "\">" << xml_escape(case_text(r)) << "</"
           << (failure ? "failure" : "error") << ">\n";
        if (!r.output.empty()) os << "      <system-out>" << xml_escape(r.output) << "</system-out>\n";
        os << "    </testcase>\n";
    }
    os << "  </testsuite>\n</testsuites>\n";
    return os.str();
}

}  // namespace tito::grading
