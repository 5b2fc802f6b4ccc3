// grading.cpp - `tito test NN` and `tito grade NN`: one child process per test
// case of bin/tt_grade_NN, outcomes read from Catch2's XML report.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <cerrno>
#include <cstring>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catch_xml.hpp"
#include "isolation.hpp"
#include "child.hpp"
#include "cli.hpp"
#include "preflight.hpp"
#include "sandbox.hpp"
#include "sanitize.hpp"
#include "tinytorch/progress.hpp"

namespace fs = std::filesystem;
namespace progress = tt::progress;

namespace tito {

namespace {

enum class Outcome { passed, failed, not_implemented, crashed, timed_out, load_error, memory_error };

const char* outcome_name(Outcome o) {
    switch (o) {
        case Outcome::passed: return "passed";
        case Outcome::failed: return "failed";
        case Outcome::not_implemented: return "not implemented";
        case Outcome::crashed: return "crashed";
        case Outcome::timed_out: return "timed out";
        case Outcome::load_error: return "load error";
        case Outcome::memory_error: return "memory error";
    }
    return "?";
}

struct TestCaseEntry {
    std::string name;
    double points = 1;
};

struct CaseResult {
    TestCaseEntry test;
    Outcome outcome = Outcome::failed;
    double score = 0;
    std::string reason;                // one line: why it did not pass
    std::vector<std::string> details;  // expected/actual, infos, stderr tail
    std::string output;                // captured stdout/stderr of the child
    double seconds = 0;
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
    bool sanitized = false;  // sanitizer build: findings become "memory error"
    std::map<std::string, std::string> env;  // on top of TITO_IMPL
};

// The environment of every child: the module choice, where the libraries
// are, a private TMPDIR, and TITO_SANITIZE for sanitizer builds.
std::map<std::string, std::string> child_env(const RunSettings& rs) {
    std::map<std::string, std::string> env = rs.env;
    env["TITO_IMPL"] = rs.spec;
    if (!rs.lib_dir.empty()) env["TITO_LIB_DIR"] = rs.lib_dir;
    if (!rs.cases_dir.empty()) env["TMPDIR"] = rs.cases_dir;
    if (rs.sanitized) env["TITO_SANITIZE"] = "1";
    return env;
}

std::string fmt_points(double v) {
    std::ostringstream os;
    os << std::setprecision(6) << v;
    return os.str();
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool contains_icase(const std::string& hay, const std::string& needle) {
    return lower(hay).find(lower(needle)) != std::string::npos;
}

// Catch2 test specs treat , [ ] " * \ and a leading ~ specially.
std::string escape_test_spec(const std::string& name) {
    std::string out;
    for (size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        if (c == '\\' || c == ',' || c == '[' || c == ']' || c == '"' || c == '*' ||
            (c == '~' && i == 0))
            out += '\\';
        out += c;
    }
    return out;
}

std::vector<std::string> split_lines(const std::string& s) {
    std::vector<std::string> lines;
    std::stringstream ss(s);
    std::string line;
    while (std::getline(ss, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

// ---------------------------------------------------------------- listing

[[noreturn]] void listing_failed(const RunSettings& rs, const ChildResult& r, const std::string& what) {
    std::ostringstream os;
    os << "cannot list the test cases of " << rs.grader << " (" << what << "): ";
    if (!r.started) os << r.start_error;
    else if (r.timed_out) os << "timed out";
    else if (r.signal) os << "killed by " << signal_description(r.signal);
    else os << "exit code " << r.exit_code;
    if (!r.err.empty()) os << "\n" << tail_lines(r.err, 20);
    throw std::runtime_error(os.str());
}

std::vector<std::string> list_names(const RunSettings& rs, const std::string& filter) {
    std::vector<std::string> argv = {rs.grader};
    if (!filter.empty()) argv.push_back(filter);
    argv.push_back("--list-test-names-only");
    ChildLimits lim = rs.limits;
    lim.capture_bytes = 8 << 20;
    ChildResult r = run_child(argv, child_env(rs), lim);
    // Catch2 returns the number of listed cases as the exit code.
    if (!r.started || r.timed_out || r.signal) listing_failed(rs, r, "--list-test-names-only");
    std::vector<std::string> names;
    for (std::string line : split_lines(r.out)) {
        if (line.empty()) continue;
        if (line.size() >= 2 && line.front() == '"' && line.back() == '"' && line[1] == '#')
            line = line.substr(1, line.size() - 2);
        names.push_back(line);
    }
    return names;
}

// Points per test case: list the tags, then the cases carrying each
// [points:N] tag. Cases without a points tag are worth 1 point.
std::vector<TestCaseEntry> list_cases(const RunSettings& rs) {
    std::vector<std::string> names = list_names(rs, "");
    ChildResult tags = run_child({rs.grader, "--list-tags"}, child_env(rs), rs.limits);
    if (!tags.started || tags.timed_out || tags.signal) listing_failed(rs, tags, "--list-tags");
    std::map<std::string, double> points;
    static const std::regex tag_re(R"(\[points:\s*[0-9]+(?:\.[0-9]+)?\s*\])", std::regex::icase);
    std::set<std::string> seen;
    for (auto it = std::sregex_iterator(tags.out.begin(), tags.out.end(), tag_re);
         it != std::sregex_iterator(); ++it) {
        std::string tag = it->str();
        if (!seen.insert(lower(tag)).second) continue;
        double p = points_from_tags(tag).value_or(1);
        for (const std::string& n : list_names(rs, tag))
            points[n] = p;
    }
    std::vector<TestCaseEntry> cases;
    for (const std::string& n : names) {
        TestCaseEntry e{n, 1};
        if (auto it = points.find(n); it != points.end()) e.points = it->second;
        cases.push_back(e);
    }
    return cases;
}

// ---------------------------------------------------------------- one case

// The loader's tt::LoadError says "could not load module library ..."; a
// checkpoint or data file that cannot be loaded is an ordinary failure.
bool is_load_error_text(const std::string& s) {
    return s.find("LoadError") != std::string::npos || contains_icase(s, "could not load module") ||
           contains_icase(s, "cannot load module");
}

bool is_not_implemented_text(const std::string& s) {
    return s.find("NOT_IMPLEMENTED") != std::string::npos ||
           s.find("is not implemented yet") != std::string::npos;
}

// The line of `text` that mentions `needle` (for one-line reasons).
std::string line_with(const std::string& text, const std::string& needle) {
    for (const std::string& line : split_lines(text))
        if (contains_icase(line, needle)) return line;
    return split_lines(text).empty() ? text : split_lines(text).front();
}

void add_indented(std::vector<std::string>& out, const std::string& label, const std::string& text) {
    std::vector<std::string> lines = split_lines(text);
    for (size_t i = 0; i < lines.size(); ++i)
        out.push_back((i == 0 ? label : std::string(label.size(), ' ')) + lines[i]);
}

std::vector<std::string> describe_failure(const CatchFailure& f) {
    std::vector<std::string> d;
    std::string where = f.location.empty() ? "" : "at " + f.location;
    if (!f.sections.empty()) where += (where.empty() ? "" : " ") + std::string("in section \"") + f.sections + "\"";
    if (!where.empty()) d.push_back(where);
    if (!f.expression.empty() && f.expression.find("{Unknown expression") == std::string::npos) {
        d.push_back((f.macro.empty() ? "CHECK" : f.macro) + "( " + f.expression + " )");
        if (!f.expanded.empty() && f.expanded != f.expression) add_indented(d, "with values: ", f.expanded);
    }
    for (const std::string& info : f.infos) add_indented(d, "info: ", info);
    if (!f.message.empty()) {
        const char* label = f.kind == "exception" ? "exception: " : f.kind == "fatal" ? "fatal: " : "message: ";
        add_indented(d, label, f.message);
    }
    return d;
}

std::string failure_text(const CatchCase& cc) {
    std::string all;
    for (const CatchFailure& f : cc.failures) {
        all += f.expression + "\n" + f.expanded + "\n" + f.message + "\n";
        for (const std::string& i : f.infos) all += i + "\n";
    }
    return all;
}

CaseResult run_case(const RunSettings& rs, const TestCaseEntry& test, size_t index) {
    CaseResult res;
    res.test = test;
    // The suite writes its report where only tito can: the student code it
    // grades runs in the suite's worker, as the case's own user, in
    // namespaces that do not even show this folder.
    std::string xml_path = rs.report_dir + "/case-" + std::to_string(index) + ".xml";
    std::vector<std::string> argv = {rs.grader, escape_test_spec(test.name), "-r", "xml", "-o", xml_path};
    std::error_code stale_ec;
    fs::remove(xml_path, stale_ec);
    std::map<std::string, std::string> env = child_env(rs);
    CaseSandbox box;
    if (rs.iso) {
        box = open_case(*rs.iso, rs.cases_dir, index);
        for (const auto& [k, v] : box.env) env[k] = v;
    }
    ChildResult r = run_child(argv, env, rs.limits);
    if (rs.iso) close_case(box);
    res.seconds = r.seconds;

    // The report is the child's (up to RLIMIT_FSIZE): read at most 16 MiB;
    // the reader closes a truncated document.
    // The directory belongs to the child's user: only a regular file is read,
    // never through a symbolic link a case may have planted.
    std::string xml;
    if (int fd = ::open(xml_path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK); fd >= 0) {
        struct stat st {};
        if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            xml.resize(static_cast<size_t>(std::min<off_t>(st.st_size, 16 << 20)));
            size_t got = 0;
            while (got < xml.size()) {
                ssize_t n = ::read(fd, xml.data() + got, xml.size() - got);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) break;
                got += static_cast<size_t>(n);
            }
            xml.resize(got);
        }
        ::close(fd);
    }
    std::error_code rm_ec;
    fs::remove(xml_path, rm_ec);
    CatchCase cc = read_catch_case(xml);  // points come from the case list, never from a report
    // What Catch captured is kept like the pipes: 64 KiB, head and tail.
    for (std::string* text : {&cc.captured_stdout, &cc.captured_stderr})
        if (text->size() > (64u << 10))
            *text = text->substr(0, 32u << 10) + "\n[... " + std::to_string(text->size() - (64u << 10)) +
                    " bytes of output omitted ...]\n" + text->substr(text->size() - (32u << 10));
    std::string output;
    if (!cc.captured_stdout.empty()) output += cc.captured_stdout + "\n";
    if (!r.out.empty()) output += r.out + (r.out.back() == '\n' ? "" : "\n");
    if (!cc.captured_stderr.empty()) output += cc.captured_stderr + "\n";
    if (!r.err.empty()) output += r.err + (r.err.back() == '\n' ? "" : "\n");
    res.output = output;
    std::string stderr_all = cc.captured_stderr + "\n" + r.err;
    auto add_stderr_tail = [&] {
        std::string tail = tail_lines(stderr_all, 15);
        if (tail.find_first_not_of(" \n") != std::string::npos) add_indented(res.details, "stderr: ", tail);
    };
    auto add_failures = [&](size_t max) {
        for (size_t i = 0; i < cc.failures.size() && i < max; ++i)
            for (const std::string& line : describe_failure(cc.failures[i])) res.details.push_back(line);
        if (cc.failures.size() > max)
            res.details.push_back("(" + std::to_string(cc.failures.size() - max) + " more failed assertions)");
    };
    std::string ftext = failure_text(cc);
    std::optional<SanitizerFinding> finding;
    if (rs.sanitized && r.started && !r.timed_out) finding = find_sanitizer_report(r.err);

    if (!r.started) {
        res.outcome = Outcome::load_error;
        res.reason = r.start_error;
    } else if (r.timed_out) {
        res.outcome = Outcome::timed_out;
        res.reason = "timed out after " + fmt_points(rs.limits.timeout_s) +
                     " s (an endless loop? use --timeout for slow machines)";
        add_stderr_tail();
    } else if (r.exit_code == 86 && !r.signal) {
        // The suite's tripwire: the worker mapped a library it must not use.
        res.outcome = Outcome::failed;
        res.reason = line_with(r.err, "INTEGRITY");
    } else if (r.signal == SIGXCPU) {
        res.outcome = Outcome::timed_out;
        res.reason = "timed out: exceeded its CPU time limit";
    } else if (finding) {
        res.outcome = Outcome::memory_error;
        res.reason = finding->reason;
        res.details = finding->details;
        add_failures(1);
    } else if (r.signal) {
        res.outcome = Outcome::crashed;
        res.reason = "crashed with " + signal_description(r.signal);
        add_failures(2);
        add_stderr_tail();
    } else if (cc.finished && cc.success && r.exit_code == 0) {
        res.outcome = Outcome::passed;
        res.score = res.test.points;
    } else if (is_load_error_text(ftext) || (!cc.finished && is_load_error_text(stderr_all))) {
        res.outcome = Outcome::load_error;
        std::string src = is_load_error_text(ftext) ? ftext : stderr_all;
        res.reason = line_with(src, "load");
        add_failures(1);
    } else if (cc.finished && is_not_implemented_text(ftext)) {
        res.outcome = Outcome::not_implemented;
        std::string line = line_with(ftext, "not implemented yet");
        if (line.find("not implemented yet") == std::string::npos) line = line_with(ftext, "NOT_IMPLEMENTED");
        res.reason = line;
    } else if (cc.finished) {
        res.outcome = Outcome::failed;
        res.reason = "failed";
        add_failures(3);
    } else if (!cc.found && r.exit_code != 0 && xml.empty()) {
        res.outcome = Outcome::crashed;
        res.reason = "the grader exited with code " + std::to_string(r.exit_code) +
                     " without running the test case";
        add_stderr_tail();
    } else {
        res.outcome = Outcome::crashed;
        res.reason = "exited with code " + std::to_string(r.exit_code) +
                     " in the middle of the test (exit() called, or a sanitizer report)";
        add_failures(2);
        add_stderr_tail();
    }
    return res;
}

// ---------------------------------------------------------------- output

struct Tally {
    std::map<Outcome, int> count;
    double score = 0, max = 0;
    int passed = 0, total = 0;
    void add(const CaseResult& r) {
        count[r.outcome]++;
        score += r.score;
        max += r.test.points;
        total++;
        if (r.outcome == Outcome::passed) passed++;
    }
    std::string summary() const {
        std::string s;
        for (Outcome o : {Outcome::passed, Outcome::failed, Outcome::not_implemented, Outcome::memory_error,
                          Outcome::crashed, Outcome::timed_out, Outcome::load_error}) {
            auto it = count.find(o);
            if (it == count.end() || it->second == 0) continue;
            s += (s.empty() ? "" : ", ") + std::to_string(it->second) + " " + outcome_name(o);
        }
        return s;
    }
};

const char* colour_of(Outcome o) {
    switch (o) {
        case Outcome::passed: return "32";
        case Outcome::not_implemented: return "33";
        default: return "31";
    }
}

void print_case_line(std::ostream& os, const CaseResult& r, bool with_reason = true) {
    bool ok = r.outcome == Outcome::passed;
    os << "  " << paint(ok ? "✓" : "✗", colour_of(r.outcome)) << " " << r.test.name << "  ["
       << fmt_points(r.score) << "/" << fmt_points(r.test.points) << "]";
    if (!ok) os << "  " << paint(outcome_name(r.outcome), colour_of(r.outcome));
    os << "\n";
    if (!with_reason) return;
    if (!ok && !r.reason.empty() && r.outcome != Outcome::failed)
        os << "      " << r.reason << "\n";
    for (const std::string& d : r.details) os << "      " << d << "\n";
}

std::string case_text(const CaseResult& r) {
    std::string s = std::string(outcome_name(r.outcome));
    if (r.outcome != Outcome::passed && r.outcome != Outcome::failed && !r.reason.empty())
        s += ": " + r.reason;
    s += "\n";
    for (const std::string& d : r.details) s += d + "\n";
    return s;
}

std::string describe_choice(int module, const tt::ImplChoice& choice) {
    std::string nn = two_digits(module);
    switch (progress::classify(module, choice)) {
        case progress::Mode::isolated: return "isolated: your module " + nn + " on the reference modules below it";
        case progress::Mode::integrated:
            return module == 1 ? "your module 01" : "integrated: your own modules 01-" + nn;
        case progress::Mode::reference: return "the REFERENCE implementation (not your code)";
        case progress::Mode::custom: return "a custom mix of student and reference modules";
    }
    return "";
}

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
// fsync, rename): a reader, or a run killed half-way, never sees half a file.
void write_text_file(const std::string& path, const std::string& text) {
    if (path == "-") {
        std::cout << text;
        return;
    }
    std::error_code ec;
    fs::path p = fs::absolute(path);
    fs::create_directories(p.parent_path(), ec);
    static std::atomic<int> counter{0};
    std::string tmp = (p.parent_path() / ("." + p.filename().string() + ".tmp-" + std::to_string(getpid()) +
                                          "-" + std::to_string(counter++)))
                          .string();
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    size_t done = 0;
    while (done < text.size()) {
        ssize_t w = ::write(fd, text.data() + done, text.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw std::runtime_error("cannot write " + path + ": " + std::strerror(err));
        }
        done += static_cast<size_t>(w);
    }
    ::fsync(fd);
    ::close(fd);
    if (::rename(tmp.c_str(), p.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw std::runtime_error("cannot write " + path + ": " + std::strerror(err));
    }
}

// total_cases / total_points: of the whole run; while it is still going
// (fewer results than cases) the report says how far it got.
std::string gradescope_json(const RunSettings& rs, const std::vector<CaseResult>& results,
                            const Tally& t, size_t total_cases = 0, double total_points = -1) {
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
    progress::Json tests = progress::Json::array();
    for (const CaseResult& r : results) {
        progress::Json j = progress::Json::object();
        j.set("name", r.test.name);
        j.set("score", r.score);
        j.set("max_score", r.test.points);
        j.set("status", r.outcome == Outcome::passed ? "passed" : "failed");
        std::string out = case_text(r);
        if (r.outcome != Outcome::passed && !r.output.empty()) out += "--- output ---\n" + r.output;
        j.set("output", out);
        tests.push_back(j);
    }
    doc.set("tests", tests);
    return doc.dump(2) + "\n";
}

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
       << "      <property name=\"score\" value=\"" << fmt_points(t.score) << "\"/>\n"
       << "      <property name=\"max_score\" value=\"" << fmt_points(t.max) << "\"/>\n"
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

// Run every case (jobs workers), handing results to `done` in order.
std::vector<CaseResult> run_all(const RunSettings& rs, const std::vector<TestCaseEntry>& cases,
                                const std::function<void(const CaseResult&)>& done) {
    std::vector<CaseResult> results(cases.size());
    std::vector<bool> ready(cases.size(), false);
    std::mutex mu;
    std::condition_variable cv;
    std::atomic<size_t> next{0};
    auto worker = [&] {
        for (;;) {
            size_t i = next++;
            if (i >= cases.size()) return;
            CaseResult r = run_case(rs, cases[i], i);
            std::lock_guard<std::mutex> lock(mu);
            results[i] = std::move(r);
            ready[i] = true;
            cv.notify_all();
        }
    };
    std::vector<std::thread> threads;
    int jobs = std::max(1, std::min<int>(rs.jobs, static_cast<int>(cases.size())));
    for (int j = 0; j < jobs; ++j) threads.emplace_back(worker);
    for (size_t i = 0; i < cases.size(); ++i) {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return ready[i]; });
        CaseResult copy = results[i];
        lock.unlock();
        done(copy);
    }
    for (auto& t : threads) t.join();
    return results;
}

// Which module libraries a suite of module n needs for sure: n and its
// prerequisites (transitively).
uint32_t needed_modules(int n) {
    uint32_t mask = 1u << n;
    for (bool changed = true; changed;) {
        changed = false;
        for (int m = 1; m <= tt::kModuleCount; ++m) {
            if (!(mask & (1u << m))) continue;
            uint32_t more = tt::module_info(m).deps_mask & ~mask;
            if (more) {
                mask |= more;
                changed = true;
            }
        }
    }
    return mask;
}

std::string library_path(const std::string& lib_dir, int m, tt::Variant v) {
    return (fs::path(lib_dir) / ("tt_" + std::string(tt::module_info(m).dir) + "_" + tt::variant_name(v) + ".so"))
        .string();
}

// Why no case of a run can start: a student library failed the pre-flight,
// or loading the module stack failed in the load check.
struct Blocked {
    std::string reason;
    std::vector<std::string> details;
};

std::optional<Blocked> check_before_running(const RunSettings& rs, uint32_t needed) {
    // 1. Pre-flight: each student library is read as a file; none of its code runs.
    for (int m = 1; m <= tt::kModuleCount; ++m) {
        if (!(needed & (1u << m)) || rs.choice[m - 1] != tt::Variant::student) continue;
        std::string path = library_path(rs.lib_dir, m, tt::Variant::student);
        PreflightResult pf = preflight_library(path, tt::module_info(m).entry);
        if (pf.ok) continue;
        Blocked b;
        b.reason = "rejected before running: " + fs::path(path).filename().string() + ": " + pf.problems.front();
        for (size_t i = 1; i < pf.problems.size(); ++i) b.details.push_back("also: " + pf.problems[i]);
        b.details.push_back("library: " + path);
        b.details.push_back("no test case of this module ran; every case scores 0");
        return b;
    }
    // 2. Load the stack once in a child with the limits of a test case: a
    //    missing symbol, a bad static initialiser or an ABI mismatch shows here.
    if (rs.load_check.empty()) return std::nullopt;
    std::map<std::string, std::string> env = child_env(rs);
    CaseSandbox box;
    if (rs.iso) {
        box = open_case(*rs.iso, rs.cases_dir, 100000);
        for (const auto& [k, v] : box.env) env[k] = v;
    }
    ChildResult r = run_child({rs.load_check, two_digits(rs.module)}, env, rs.limits);
    if (rs.iso) close_case(box);
    Blocked b;
    auto stderr_tail = [&] {
        std::string tail = tail_lines(r.err, 12);
        if (tail.find_first_not_of(" \n") != std::string::npos) add_indented(b.details, "stderr: ", tail);
    };
    if (!r.started) {
        b.reason = "the modules could not be loaded: " + r.start_error;
        return b;
    }
    std::optional<SanitizerFinding> finding;
    if (rs.sanitized && !r.timed_out) finding = find_sanitizer_report(r.err);
    if (r.timed_out) {
        b.reason = "loading the module libraries timed out after " + fmt_points(rs.limits.timeout_s) +
                   " s (a static initialiser or init function that never returns?)";
        stderr_tail();
    } else if (finding) {
        b.reason = "loading the module libraries: " + finding->reason;
        b.details = finding->details;
    } else if (r.signal) {
        b.reason = "loading the module libraries crashed with " + signal_description(r.signal) +
                   ": a static initialiser (the constructor of a global object) or the init function "
                   "of a module library failed before any test ran";
        stderr_tail();
    } else if (r.exit_code == 3 || r.exit_code == 4) {
        std::vector<std::string> lines = split_lines(r.err);
        while (!lines.empty() && lines.back().empty()) lines.pop_back();
        b.reason = lines.empty() ? "the module libraries could not be loaded" : lines.front();
        for (size_t i = 1; i < lines.size() && i < 12; ++i) b.details.push_back(lines[i]);
    } else if (r.exit_code != 0) {
        b.reason = "loading the module libraries failed (exit code " + std::to_string(r.exit_code) +
                   "; exit() called by a static initialiser?)";
        stderr_tail();
    } else {
        return std::nullopt;
    }
    b.details.push_back("no test case of this module ran; every case scores 0");
    return b;
}

// The pre-run checks, then every case; results handed to `done` in order.
std::vector<CaseResult> execute(const RunSettings& rs, const std::vector<TestCaseEntry>& cases,
                                const std::function<void(const CaseResult&)>& done) {
    std::optional<Blocked> blocked = check_before_running(rs, needed_modules(rs.module));
    if (!blocked) return run_all(rs, cases, done);
    std::vector<CaseResult> results;
    for (const TestCaseEntry& t : cases) {
        CaseResult r;
        r.test = t;
        r.outcome = Outcome::load_error;
        r.reason = blocked->reason;
        r.details = blocked->details;
        results.push_back(r);
        done(r);
    }
    return results;
}

// Record a grade in the progress store; prints where (or why not).
void record_grade(const RunSettings& rs, const Tally& tally,
                  const std::vector<progress::LibraryStamp>& stamps, std::ostream& os) {
    progress::GradeRecord rec;
    rec.module = rs.module;
    rec.mode = progress::classify(rs.module, rs.choice);
    rec.score = tally.score;
    rec.max_score = tally.max;
    rec.cases = tally.total;
    rec.passed = tally.passed;
    rec.passed_all = tally.passed == tally.total && tally.total > 0;
    rec.timestamp = progress::now_iso8601(&rec.time);
    rec.impl = tt::format_impl_choice(rs.choice);
    rec.libraries = stamps;
    std::string store_path = progress::default_store_path();
    const std::string nn = two_digits(rs.module);
    try {
        progress::Store store = progress::record_grade(rec, store_path);
        os << "Recorded as the " << progress::mode_name(rec.mode) << " grade of module " << nn << " in "
           << store_path << ".\n";
        if (rs.module == 9) {
            progress::GateStatus g = progress::gate_status(9, store, paths().lib_dir);
            os << "Milestone 04: " << (g.unlocked ? "unlocked: run ./tito milestone run 04" : "locked") << "\n";
            if (!g.unlocked)
                for (const auto& why : g.reasons) os << "  - " << why << "\n";
        }
    } catch (const std::exception& e) {
        std::cerr << "tito: could not record the grade: " << e.what() << "\n";
    }
}

void print_grade_table(std::ostream& os, const std::vector<CaseResult>& results, const Tally& tally,
                       bool verbose) {
    size_t width = 20;
    for (const auto& r : results) width = std::max(width, std::min<size_t>(r.test.name.size(), 60));
    os << "  " << std::left << std::setw(static_cast<int>(width)) << "case" << "  " << std::setw(16)
       << "outcome" << "points\n";
    os << "  " << std::string(width + 24, '-') << "\n";
    for (const auto& r : results) {
        std::string name = r.test.name.size() > width ? r.test.name.substr(0, width - 1) + "…" : r.test.name;
        std::string pts = fmt_points(r.score) + "/" + fmt_points(r.test.points);
        os << "  " << std::left << std::setw(static_cast<int>(width)) << name << "  "
           << paint(outcome_name(r.outcome), colour_of(r.outcome))
           << std::string(16 - std::min<size_t>(15, std::string(outcome_name(r.outcome)).size()), ' ') << pts
           << "\n";
    }
    os << "  " << std::string(width + 24, '-') << "\n";
    os << "  " << std::left << std::setw(static_cast<int>(width)) << "total" << "  " << std::setw(16) << ""
       << fmt_points(tally.score) << "/" << fmt_points(tally.max) << "\n";
    bool any_detail = false;
    // Functions not implemented yet: each message once, with how many cases need it.
    std::vector<std::pair<std::string, int>> missing;
    // A load error shared by many cases (a rejected library) is shown once.
    std::vector<std::pair<std::string, int>> load_errors;
    for (const auto& r : results) {
        if (r.outcome == Outcome::passed) continue;
        if (r.outcome == Outcome::not_implemented && !verbose) {
            auto it = std::find_if(missing.begin(), missing.end(), [&](const auto& m) { return m.first == r.reason; });
            if (it == missing.end()) missing.emplace_back(r.reason, 1);
            else it->second++;
            continue;
        }
        if (r.outcome == Outcome::load_error) {
            auto it = std::find_if(load_errors.begin(), load_errors.end(),
                                   [&](const auto& m) { return m.first == r.reason; });
            if (it != load_errors.end()) {
                it->second++;
                continue;
            }
            load_errors.emplace_back(r.reason, 1);
        }
        if (!any_detail) os << "\nWhat went wrong:\n";
        any_detail = true;
        print_case_line(os, r);
        if (verbose && !r.output.empty()) os << "      output:\n" << r.output;
    }
    for (const auto& [reason, n] : load_errors)
        if (n > 1) os << "  (" << n << " cases had this load error)\n";
    if (!missing.empty()) os << "\nNot implemented yet:\n";
    for (const auto& [reason, n] : missing)
        os << "  - " << reason << "\n    (needed by " << n << " case" << (n == 1 ? "" : "s") << ")\n";
}

// `grade NN --integrated`: the isolated score next to the integrated one.
// `isolated` holds the per-case results when the isolated grade ran now;
// otherwise `recorded` is the fresh isolated record.
void print_side_by_side(std::ostream& os, int module, const std::vector<CaseResult>& integrated,
                        const Tally& integrated_tally, const std::vector<CaseResult>* isolated,
                        const Tally* isolated_tally, const progress::GradeRecord* recorded) {
    const std::string nn = two_digits(module), below = two_digits(module - 1);
    os << "\nIsolated and integrated, side by side:\n";
    if (isolated && isolated_tally) {
        size_t width = 20;
        for (const auto& r : integrated) width = std::max(width, std::min<size_t>(r.test.name.size(), 52));
        auto cell = [](const CaseResult* r) {
            if (!r) return std::string("-");
            std::string s = r->outcome == Outcome::passed ? "✓ " : "✗ ";
            s += fmt_points(r->score) + "/" + fmt_points(r->test.points);
            if (r->outcome != Outcome::passed) s += " " + std::string(outcome_name(r->outcome));
            return s;
        };
        auto pad = [](const std::string& s, size_t w) {
            // ✓ and ✗ are three bytes and one column.
            size_t cols = 0;
            for (unsigned char c : s) cols += (c & 0xC0) != 0x80;
            return s + std::string(w > cols ? w - cols : 1, ' ');
        };
        os << "  " << pad("case", width + 2) << pad("isolated", 24) << "integrated\n";
        os << "  " << std::string(width + 2 + 24 + 24, '-') << "\n";
        int differ = 0;
        for (const auto& r : integrated) {
            const CaseResult* iso = nullptr;
            for (const auto& c : *isolated)
                if (c.test.name == r.test.name) iso = &c;
            if (iso && iso->outcome == Outcome::passed && r.outcome != Outcome::passed) ++differ;
            std::string name = r.test.name.size() > width ? r.test.name.substr(0, width - 1) + "…" : r.test.name;
            os << "  " << pad(name, width + 2) << pad(cell(iso), 24) << cell(&r) << "\n";
        }
        os << "  " << std::string(width + 2 + 24 + 24, '-') << "\n";
        os << "  " << pad("total", width + 2)
           << pad(fmt_points(isolated_tally->score) + "/" + fmt_points(isolated_tally->max), 24)
           << fmt_points(integrated_tally.score) << "/" << fmt_points(integrated_tally.max) << "\n";
        if (differ > 0)
            os << "  " << differ << " case" << (differ == 1 ? " passes" : "s pass")
               << " isolated but not integrated: the difference is in your modules 01-" << below
               << " (the integrated run uses them instead of the reference).\n";
    } else if (recorded) {
        os << "  isolated    your " << nn << " on reference 01-" << below << "   " << fmt_points(recorded->score)
           << "/" << fmt_points(recorded->max_score) << "   (recorded " << recorded->timestamp
           << "; your module " << nn << " is unchanged since)\n";
        os << "  integrated  your own 01-" << nn << "              " << fmt_points(integrated_tally.score) << "/"
           << fmt_points(integrated_tally.max) << "   (now)\n";
        if (recorded->score > integrated_tally.score)
            os << "  The integrated score is lower: the difference is in your modules 01-" << below << ".\n";
    }
}

}  // namespace

int cmd_test(const std::vector<std::string>& args, bool grade) {
    const std::string command = grade ? "grade" : "test";
    po::options_description opts("Options");
    auto add = opts.add_options();
    add("help,h", "show this help");
    add("impl", po::value<std::string>(), "module choice, e.g. reference,03=student (see tito --help)");
    add("integrated", grade ? "grade on your own stack: student 01..NN, reference above (and show the "
                              "isolated score next to it)"
                            : "grade on your own stack: student 01..NN, reference above");
    if (!grade)
        add("filter,k", po::value<std::vector<std::string>>(),
            "run only the cases whose name contains this text (case-insensitive; repeatable)");
    add("timeout", po::value<double>()->default_value(10), "wall-clock seconds per test case");
    add("memory", po::value<long>()->default_value(-1, "auto"),
        "address-space limit per test case in MiB (auto: 4096, or 256 per CPU core when more; "
        "0: none; always off for sanitizer builds)");
    add("processes", po::value<long>()->default_value(0, "auto"),
        "processes and threads a test case may add to what its user runs already "
        "(RLIMIT_NPROC; auto: 2 per CPU core + 64)");
    add("jobs,j", po::value<int>()->default_value(1), "test cases to run at the same time");
    add("sanitize", "build the grader and the libraries with AddressSanitizer + UBSan in "
                    "<build>-asan and report memory errors and undefined behaviour");
    if (grade) {
        add("json", po::value<std::string>(), "write Gradescope results.json here ('-': stdout); "
                                              "rewritten after every case");
        add("junit", po::value<std::string>(), "write a JUnit XML report here");
        add("no-record", "do not record the grade in the progress store");
    }
    add("verbose,v", "also show the output of the test cases that did not pass");
    add("grader", po::value<std::string>(),
        "run this grading-suite binary instead of bin/tt_grade_NN (instructors: hidden tests)");
    po::options_description hidden;
    hidden.add_options()("module", po::value<std::string>());
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("module", 1);
    po::variables_map vm = parse_args(args, all, pos, command);
    if (vm.count("help")) {
        if (grade)
            print_help("tito grade NN [--impl SPEC | --integrated] [--json PATH] [--junit PATH]",
                       "Grade module NN: every test case of bin/tt_grade_NN in its own process,\n"
                       "a score table, the result recorded in the progress store (with the hashes\n"
                       "of the student libraries graded), and optional Gradescope/JUnit reports.\n"
                       "Default: isolated (your NN on reference 01..NN-1); --integrated also shows\n"
                       "the isolated score. Exit 0 only when every case passed.",
                       opts);
        else
            print_help("tito test NN [--impl SPEC | --integrated] [-k FILTER] [--sanitize]",
                       "Run the grading suite of module NN, each test case in its own process\n"
                       "(time and memory limits; a crash fails only that case), and show why each\n"
                       "case failed: the assertion, the expected and actual values, the hint of a\n"
                       "function that is not implemented yet. Nothing is recorded.\n"
                       "Default: isolated (your NN on reference 01..NN-1).",
                       opts);
        return kOk;
    }
    if (!vm.count("module")) throw UsageError{"which module? e.g. tito " + command + " 01", command};
    const int module = parse_module_arg(vm["module"].as<std::string>(), command);
    const std::string nn = two_digits(module);
    const tt::ModuleInfo& info = tt::module_info(module);

    // The spec: --impl here, else global --impl, else --integrated, else TITO_IMPL, else isolated.
    std::optional<std::string> spec;
    std::string spec_origin;
    if (vm.count("impl")) spec = vm["impl"].as<std::string>(), spec_origin = "--impl";
    else if (globals().impl) spec = globals().impl, spec_origin = "--impl";
    if (spec && vm.count("integrated"))
        throw UsageError{"--integrated and --impl both choose the modules: give one", command};
    if (!spec && vm.count("integrated")) {
        spec = module < tt::kModuleCount ? "student," + two_digits(module + 1) + "-09=reference" : "student";
        spec_origin = "--integrated";
    }
    if (!spec) {
        if (auto env = impl_from_env()) spec = env, spec_origin = "TITO_IMPL";
    }
    if (!spec) spec = "reference," + nn + "=student", spec_origin = "default";
    RunSettings rs;
    rs.module = module;
    rs.spec = *spec;
    rs.choice = parse_spec_or_usage(rs.spec, command);
    rs.limits.timeout_s = vm["timeout"].as<double>();
    if (!(rs.limits.timeout_s > 0)) throw UsageError{"--timeout must be positive", command};
    long memory = vm["memory"].as<long>();
    if (memory < 0 && vm["memory"].defaulted()) {
        // Thread stacks and BLAS buffers reserve address space per core.
        memory = std::max(4096L, 256L * std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
    }
    if (memory < 0) throw UsageError{"--memory must be 0 or more", command};
    long processes = vm["processes"].as<long>();
    if (processes < 0) throw UsageError{"--processes must be 0 (auto) or more", command};
    const char* sanitize_env = std::getenv("TITO_SANITIZE");
    const bool build_sanitize = vm.count("sanitize") > 0;
    rs.sanitized = build_sanitize || (sanitize_env && *sanitize_env && std::string(sanitize_env) != "0");
    // AddressSanitizer reserves terabytes of address space (its shadow memory).
    rs.limits.memory_bytes = rs.sanitized ? 0 : static_cast<long long>(memory) << 20;
    rs.jobs = vm["jobs"].as<int>();
    if (rs.jobs < 1) throw UsageError{"--jobs must be at least 1", command};
    bool verbose = vm.count("verbose") > 0;
    // With --json - the report goes to stdout, so the readable text goes to stderr.
    const bool json_stdout = grade && vm.count("json") && vm["json"].as<std::string>() == "-";
    std::ostream& os = json_stdout ? std::cerr : std::cout;
    const uint32_t needed = needed_modules(module);

    // What must exist before anything runs.
    const Paths& p = paths();
    std::string bin_dir = p.bin_dir;
    rs.lib_dir = p.lib_dir;
    if (build_sanitize) {
        std::string error;
        std::optional<SanitizeBuild> b = build_sanitized(module, rs.choice, needed, os, error);
        if (!b) {
            std::cerr << "tito: " << error << "\n";
            return kBuildError;
        }
        bin_dir = b->bin_dir;
        rs.lib_dir = b->lib_dir;
    }
    rs.grader = (fs::path(bin_dir) / ("tt_grade_" + nn)).string();
    if (std::string lc = (fs::path(bin_dir) / "tt_load_check").string(); fs::exists(lc)) rs.load_check = lc;
    if (vm.count("grader")) {
        rs.grader = fs::absolute(vm["grader"].as<std::string>()).string();
        if (!fs::exists(rs.grader)) {
            std::cerr << "tito: the grader " << rs.grader << " does not exist\n";
            return kLoadError;
        }
        // The load check of the grader's own build (a sanitizer build's
        // libraries load only into a sanitizer build's program).
        if (std::string lc = (fs::path(rs.grader).parent_path() / "tt_load_check").string(); fs::exists(lc))
            rs.load_check = lc;
    }
    if (!fs::exists(rs.grader)) {
        std::cerr << "tito: module " << nn << " (" << info.name << ") is not built yet: its grader "
                  << rs.grader << " does not exist.\n";
        bool has_suite = !p.source_dir.empty() &&
                         fs::exists(fs::path(p.source_dir) / "grader" / "suites" / (std::string(info.dir) + ".cpp"));
        if (has_suite)
            std::cerr << "  build it: ./tito (or cmake --build " << p.build_dir << ")\n";
        else
            std::cerr << "  its grading suite grader/suites/" << info.dir << ".cpp is not in this checkout.\n";
        return kLoadError;
    }
    bool missing = false;
    for (int m = 1; m <= tt::kModuleCount; ++m) {
        if (!(needed & (1u << m))) continue;
        std::string lib = library_path(rs.lib_dir, m, rs.choice[m - 1]);
        if (fs::exists(lib)) continue;
        if (!missing)
            std::cerr << "tito: module " << nn << " needs libraries that are not built yet:\n";
        missing = true;
        std::cerr << "  module " << two_digits(m) << " (" << tt::module_info(m).name << "), "
                  << tt::variant_name(rs.choice[m - 1]) << ": " << lib << " does not exist\n";
    }
    if (missing) {
        std::cerr << "  build with ./tito (or cmake --build " << p.build_dir
                  << "); a module without sources is not in this checkout yet.\n";
        return kLoadError;
    }

    // A grader built with the sanitizers cannot run under an address-space
    // limit (its shadow memory): treat the run as a sanitizer run.
    if (!rs.sanitized && links_sanitizer_runtime(rs.grader)) {
        rs.sanitized = true;
        rs.limits.memory_bytes = 0;
    }

    // The suites run as tito's user (they load no student code); the student
    // modules run in each suite's worker, prepared here (isolation.hpp).
    long budget = processes > 0 ? processes : default_processes_budget();
    rs.limits.processes = geteuid() == 0 ? 0 : budget + 64;
    IsolationPlan isolation;
    // The worker comes from the build that runs the suite (beside it), else this tito's.
    std::string worker_dir = fs::exists(fs::path(rs.grader).parent_path() / "tt_worker")
                                 ? fs::path(rs.grader).parent_path().string() : bin_dir;
    plan_isolation(isolation, module, rs.choice, rs.lib_dir, worker_dir, {p.source_dir, p.build_dir, rs.lib_dir},
                   budget);
    if (!isolation.warning.empty()) std::cerr << isolation.warning << "\n";
    rs.iso = &isolation;

    // A private directory for the XML reports (and the children's TMPDIR).
    std::string tmpl = (fs::temp_directory_path() / "tito-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory in " +
                                                        fs::temp_directory_path().string());
    rs.tmp_dir = tmpl;
    struct Cleanup {
        std::string dir;
        ~Cleanup() {
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
    } cleanup{rs.tmp_dir};
    rs.cases_dir = (fs::path(rs.tmp_dir) / "cases").string();
    rs.report_dir = (fs::path(rs.tmp_dir) / "reports").string();
    fs::create_directories(rs.cases_dir);
    fs::create_directories(rs.report_dir);
    chmod(rs.tmp_dir.c_str(), 0711);  // the cases' users reach their own folder only
    chmod(rs.cases_dir.c_str(), 0711);
    chmod(rs.report_dir.c_str(), 0700);

    // Stamp the student libraries before running: the grade is tied to these bytes.
    std::vector<progress::LibraryStamp> stamps = progress::stamp_libraries(module, rs.choice, rs.lib_dir);

    std::vector<TestCaseEntry> cases = list_cases(rs);
    if (vm.count("filter")) {
        auto filters = vm["filter"].as<std::vector<std::string>>();
        std::vector<TestCaseEntry> kept;
        for (const auto& c : cases)
            for (const auto& f : filters)
                if (contains_icase(c.name, f)) {
                    kept.push_back(c);
                    break;
                }
        if (kept.empty()) {
            std::cerr << "tito: no test case of module " << nn << " matches -k";
            for (const auto& f : filters) std::cerr << " '" << f << "'";
            std::cerr << " (" << cases.size() << " cases; list them with "
                      << rs.grader << " --list-test-names-only)\n";
            return kUsage;
        }
        cases = kept;
    }
    if (cases.empty()) {
        std::cerr << "tito: the grader " << rs.grader << " has no test cases.\n";
        return kTestsFailed;
    }
    double total_points = 0;
    for (const auto& c : cases) total_points += c.points;

    os << (grade ? "Grading" : "Testing") << " module " << nn << " (" << info.name << "), "
       << describe_choice(module, rs.choice) << "\n  TITO_IMPL=" << rs.spec;
    if (spec_origin == "TITO_IMPL") os << " (from the TITO_IMPL environment variable)";
    if (rs.sanitized) os << "\n  sanitizer build (AddressSanitizer + UBSan): libraries from " << rs.lib_dir;
    os << "\n  " << cases.size() << " test case" << (cases.size() == 1 ? "" : "s")
       << ", each in its own process (timeout " << fmt_points(rs.limits.timeout_s) << " s";
    os << "; your code runs in a separate worker process"
       << (isolation.namespaces ? " in its own namespaces" : "")
       << (geteuid() == 0 ? ", as an unprivileged user of its own" : "") << ")\n\n";

    const std::string json_path = grade && vm.count("json") ? vm["json"].as<std::string>() : "";
    Tally tally;
    std::vector<CaseResult> finished;
    std::string last_reason;
    std::vector<CaseResult> results = execute(rs, cases, [&](const CaseResult& r) {
        tally.add(r);
        if (!grade) {
            // A load error shared by every case is explained once.
            bool repeat = r.outcome == Outcome::load_error && r.reason == last_reason;
            print_case_line(os, r, !repeat);
            if (r.outcome == Outcome::load_error) last_reason = r.reason;
            if (verbose && r.outcome != Outcome::passed && !r.output.empty())
                os << "      output:\n" << r.output;
            os.flush();
        }
        // results.json after every case: a run killed half-way leaves what finished.
        if (!json_path.empty() && json_path != "-") {
            finished.push_back(r);
            try {
                write_text_file(json_path, gradescope_json(rs, finished, tally, cases.size(), total_points));
            } catch (const std::exception& e) {
                std::cerr << "tito: " << e.what() << "\n";
            }
        }
    });

    if (grade) print_grade_table(os, results, tally, verbose);
    os << "\n" << tally.summary() << ". Score " << fmt_points(tally.score) << "/"
       << fmt_points(tally.max) << ".\n";

    int code = kOk;
    if (tally.count[Outcome::load_error] > 0) code = kLoadError;
    else if (tally.passed != tally.total) code = kTestsFailed;
    if (!grade) return code;

    // A --sanitize run is a check of another build, not a grade. (Under
    // TITO_SANITIZE alone, tito itself is the sanitizer build's and records
    // in that build's store.)
    const bool record = !vm.count("no-record") && !build_sanitize;
    if (record) record_grade(rs, tally, stamps, os);
    else if (!vm.count("no-record"))
        os << "Not recorded: a --sanitize run is a check, not a grade (run ./tito grade " << nn
           << " without --sanitize to record one).\n";

    // --integrated: the isolated score next to it (recorded and fresh, or run now).
    std::string extra_output;
    if (progress::classify(module, rs.choice) == progress::Mode::integrated && module > 1) {
        std::optional<progress::GradeRecord> iso_record;
        if (!build_sanitize) {
            progress::Store store = progress::load();
            iso_record = store.find(module, progress::Mode::isolated);
            if (iso_record && !progress::check_fresh(*iso_record, rs.lib_dir).fresh) iso_record.reset();
        }
        if (iso_record) {
            print_side_by_side(os, module, results, tally, nullptr, nullptr, &*iso_record);
            extra_output = " Isolated (recorded " + iso_record->timestamp + "): " + fmt_points(iso_record->score) +
                           "/" + fmt_points(iso_record->max_score) + ".";
        } else {
            RunSettings iso = rs;
            iso.spec = "reference," + nn + "=student";
            iso.choice = parse_spec_or_usage(iso.spec, command);
            std::string absent;
            for (int m = 1; m < module; ++m)
                if ((needed & (1u << m)) && !fs::exists(library_path(iso.lib_dir, m, tt::Variant::reference)))
                    absent = library_path(iso.lib_dir, m, tt::Variant::reference);
            if (!absent.empty()) {
                os << "\n(No isolated score to compare: it needs the reference libraries, and " << absent
                   << " does not exist.)\n";
            } else {
                os << "\nRunning the isolated grade too (your " << nn << " on reference 01-"
                   << two_digits(module - 1) << "), to compare ...\n";
                os.flush();
                IsolationPlan iso_isolation;
                plan_isolation(iso_isolation, module, iso.choice, iso.lib_dir, worker_dir, isolation.hide, budget);
                iso.iso = &iso_isolation;
                Tally iso_tally;
                std::vector<CaseResult> iso_results =
                    execute(iso, cases, [&](const CaseResult& r) { iso_tally.add(r); });
                if (record)
                    record_grade(iso, iso_tally, progress::stamp_libraries(module, iso.choice, iso.lib_dir), os);
                print_side_by_side(os, module, results, tally, &iso_results, &iso_tally, nullptr);
                extra_output = " Isolated: " + fmt_points(iso_tally.score) + "/" + fmt_points(iso_tally.max) + ".";
            }
        }
    }

    if (!json_path.empty()) {
        std::string doc = gradescope_json(rs, results, tally);
        if (!extra_output.empty()) {
            progress::Json j = progress::Json::parse(doc);
            j.set("output", j.string_or("output", "") + extra_output);
            doc = j.dump(2) + "\n";
        }
        write_text_file(json_path, doc);
    }
    if (vm.count("junit")) write_text_file(vm["junit"].as<std::string>(), junit_xml(rs, results, tally));
    return code;
}

}  // namespace tito
