// case_run.cpp - the cases of a grading suite: listing them (names, points,
// visibility), the checks before any case runs (pre-flight of the student
// libraries, one load of the module stack), and running every case in its
// own process with the student modules in an isolated worker (isolation.hpp).
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.hpp"
#include "grading.hpp"
#include "preflight.hpp"
#include "sandbox.hpp"
#include "sanitize.hpp"

namespace fs = std::filesystem;

namespace tito::grading {

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

void Tally::add(const CaseResult& r) {
    count[r.outcome]++;
    score += r.score;
    max += r.test.points;
    total++;
    if (r.outcome == Outcome::passed) passed++;
}

std::string Tally::summary() const {
    std::string s;
    for (Outcome o : {Outcome::passed, Outcome::failed, Outcome::not_implemented, Outcome::memory_error,
                      Outcome::crashed, Outcome::timed_out, Outcome::load_error}) {
        auto it = count.find(o);
        if (it == count.end() || it->second == 0) continue;
        s += (s.empty() ? "" : ", ") + std::to_string(it->second) + " " + outcome_name(o);
    }
    return s;
}

namespace {

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

}  // namespace

// Points per test case: list the tags, then the cases carrying each
// [points:N] tag. Cases without a points tag are worth 1 point. A case is
// hidden when it carries the [hidden] tag (or, as older suites wrote it, its
// name starts with "hidden:"): hiding one case too many is the safe mistake.
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
    std::set<std::string> hidden;
    static const std::regex hidden_re(R"(\[hidden\])", std::regex::icase);
    if (std::regex_search(tags.out, hidden_re))
        for (const std::string& n : list_names(rs, "[hidden]")) hidden.insert(n);
    std::vector<TestCaseEntry> cases;
    for (const std::string& n : names) {
        TestCaseEntry e{n, 1};
        if (auto it = points.find(n); it != points.end()) e.points = it->second;
        e.hidden = hidden.count(n) > 0 || lower(n).rfind("hidden:", 0) == 0;
        cases.push_back(e);
    }
    return cases;
}

namespace {

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
        res.reason = "timed out after " + format_number(rs.limits.timeout_s) +
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

}  // namespace

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

namespace {

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
        b.reason = "loading the module libraries timed out after " + format_number(rs.limits.timeout_s) +
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

}  // namespace

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
        r.blocked = true;
        r.reason = blocked->reason;
        r.details = blocked->details;
        results.push_back(r);
        done(r);
    }
    return results;
}


}  // namespace tito::grading
