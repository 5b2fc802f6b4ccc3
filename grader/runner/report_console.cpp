// report_console.cpp - what the student reads in the terminal: one line per
// case (with why it failed), the grade table, the isolated and integrated
// scores side by side.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <regex>

#include "cli.hpp"
#include "grading.hpp"

namespace progress = tt::progress;

namespace tito::grading {

namespace {

const char* colour_of(Outcome o) {
    switch (o) {
        case Outcome::passed: return "32";
        case Outcome::not_implemented: return "33";
        default: return "31";
    }
}

}  // namespace

std::vector<std::string> describe_failure(const CatchFailure& f) {
    std::vector<std::string> d;
    std::string where = f.location.empty() ? "" : "at " + f.location;
    if (!f.sections.empty()) {
        if (!where.empty()) where += ' ';
        where += "in section \"" + f.sections + '"';
    }
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

CaseResult visible_part(const CaseResult& r, bool show_hidden) {
    // A blocked run's reason is the pre-run check's, not the case's.
    if (!r.test.hidden || show_hidden || r.outcome == Outcome::passed || r.blocked) return r;
    // A hidden case shows its name, outcome and points; what it asserted and
    // printed could quote the hidden test (or be made to, by student code).
    CaseResult v = r;
    v.reason = r.outcome == Outcome::not_implemented
                   ? "a hidden test that needs a function not implemented yet"
                   : "";
    v.details = {"(a hidden test: its details are not shown)"};
    v.output.clear();
    return v;
}

void print_case_line(std::ostream& os, const CaseResult& r, bool with_reason) {
    bool ok = r.outcome == Outcome::passed;
    os << "  " << paint(ok ? "✓" : "✗", colour_of(r.outcome)) << " " << r.test.name << "  ["
       << format_number(r.score) << "/" << format_number(r.test.points) << "]";
    if (!ok) os << "  " << paint(outcome_name(r.outcome), colour_of(r.outcome));
    os << "\n";
    if (!with_reason) return;
    if (!ok && !r.reason.empty() && r.outcome != Outcome::failed)
        os << "      " << r.reason << "\n";
    for (const std::string& d : r.details) os << "      " << d << "\n";
}

// ---------------------------------------------------------------- tito test, case by case

namespace {

// "create (creation.cpp)" from a stub's reason, "module 01 create failed
// [NOT_IMPLEMENTED]: create is not implemented yet: edit .../creation.cpp ...";
// the whole reason when it has no such form (a hidden case's).
std::string missing_function(const std::string& reason, std::string* file) {
    static const std::regex re(R"(([A-Za-z_][A-Za-z0-9_]*) is not implemented yet: edit (\S+?)[ ,;)])");
    std::smatch m;
    if (!std::regex_search(reason, m, re)) return "";
    std::string path = m[2].str();
    size_t slash = path.find_last_of('/');
    *file = slash == std::string::npos ? path : path.substr(slash + 1);
    return m[1].str();
}

// "2 allocations (124 bytes) ... never released" when the case's module
// worker reported a leak at its end (core/src/remote/client.cpp), else "".
std::string leak_of(const CaseResult& r) {
    static const std::string kLeak = "tt_worker: memory leak: ";
    size_t at = r.output.find(kLeak);
    if (at == std::string::npos) return "";
    size_t end = r.output.find('\n', at);
    return r.output.substr(at + kLeak.size(), end == std::string::npos ? end : end - at - kLeak.size());
}

bool mentions_non_finite(const CaseResult& r) {
    for (const std::string& d : r.details)
        if (d.find("NaN or inf") != std::string::npos) return true;
    return false;
}

}  // namespace

CaseStream::CaseStream(std::ostream& os, int module, bool verbose, bool sanitized)
    : os_(os), module_(module), verbose_(verbose), sanitized_(sanitized) {}

void CaseStream::add(const CaseResult& r) {
    if (r.outcome == Outcome::not_implemented && !verbose_) {
        std::string file;
        std::string fn = missing_function(r.reason, &file);
        std::string key = fn.empty() ? r.reason : fn;
        auto it = std::find_if(waiting_.begin(), waiting_.end(), [&](const Waiting& w) { return w.key == key; });
        if (it != waiting_.end()) {  // said once already: counted, not repeated
            it->cases++;
            return;
        }
        waiting_.push_back({key, fn, file, 1});
    }
    // A load error shared by every case is explained once.
    bool repeat = r.outcome == Outcome::load_error && r.reason == last_load_error_;
    print_case_line(os_, r, !repeat);
    if (r.outcome == Outcome::load_error) last_load_error_ = r.reason;
    if (std::string what = leak_of(r); !what.empty()) {
        os_ << "      " << paint("memory leak", "33") << ": " << what
            << ": a tensor your code created and never freed (a temporary, or an error path),"
               " or a free that forgets data or grad. Points are not taken for it.\n";
        ++leaky_cases_;
    }
    if (!sanitized_ && (r.outcome == Outcome::crashed || mentions_non_finite(r))) {
        if (r.outcome == Outcome::crashed)
            os_ << "      a crash is often a read or write past the end of a buffer; the sanitizer build shows where:\n"
                << "        ./tito test " << two_digits(module_) << " --sanitize -k '" << r.test.name << "'\n";
        hinted_sanitize_ = true;
    }
    os_.flush();
}

void CaseStream::finish(const Tally& tally) {
    int collapsed = 0;
    for (const Waiting& w : waiting_) collapsed += w.cases - 1;
    if (collapsed > 0) {
        std::vector<Waiting> order = waiting_;
        std::stable_sort(order.begin(), order.end(), [](const Waiting& a, const Waiting& b) { return a.cases > b.cases; });
        os_ << "\nNot implemented yet (" << collapsed << " more case" << (collapsed == 1 ? "" : "s")
            << " not shown; -v shows every one):\n";
        for (const Waiting& w : order) {
            os_ << "  " << w.cases;
            if (w.function.empty())  // a hidden case's reason names no function
                os_ << (w.cases == 1 ? " case: " : " cases: ") << w.key;
            else
                os_ << " case" << (w.cases == 1 ? " waits" : "s wait") << " for `" << w.function << "` (" << w.file << ")";
            os_ << "\n";
        }
        os_ << "  The README of module " << two_digits(module_)
            << " lists the functions in the order to write them.\n";
    }
    if (leaky_cases_ > 0)
        os_ << "\n" << leaky_cases_ << " case" << (leaky_cases_ == 1 ? "" : "s")
            << " leaked memory (see above). A leak costs no points here, but a training loop runs out of memory"
               " with it.\n";
    os_ << "\n" << tally.summary() << ". Score " << format_number(tally.score) << "/" << format_number(tally.max)
        << ".\n";
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

void print_grade_table(std::ostream& os, const std::vector<CaseResult>& results, const Tally& tally,
                       bool verbose) {
    size_t width = 20;
    for (const auto& r : results) width = std::max(width, std::min<size_t>(r.test.name.size(), 60));
    os << "  " << std::left << std::setw(static_cast<int>(width)) << "case" << "  " << std::setw(16)
       << "outcome" << "points\n";
    os << "  " << std::string(width + 24, '-') << "\n";
    for (const auto& r : results) {
        std::string name = r.test.name.size() > width ? r.test.name.substr(0, width - 1) + "…" : r.test.name;
        std::string pts = format_number(r.score) + "/" + format_number(r.test.points);
        os << "  " << std::left << std::setw(static_cast<int>(width)) << name << "  "
           << paint(outcome_name(r.outcome), colour_of(r.outcome))
           << std::string(16 - std::min<size_t>(15, std::string(outcome_name(r.outcome)).size()), ' ') << pts
           << "\n";
    }
    os << "  " << std::string(width + 24, '-') << "\n";
    os << "  " << std::left << std::setw(static_cast<int>(width)) << "total" << "  " << std::setw(16) << ""
       << format_number(tally.score) << "/" << format_number(tally.max) << "\n";
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
    bool any_leak = false;
    for (const auto& r : results) {
        std::string what = leak_of(r);
        if (what.empty()) continue;
        if (!any_leak) os << "\nMemory leaks (no points taken; a training loop runs out of memory with them):\n";
        any_leak = true;
        os << "  - " << r.test.name << ": " << what << "\n";
    }
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
    const std::string nn = two_digits(module);
    // The modules below NN: "01" under module 02, "01-04" under module 05.
    const std::string below_range = module == 2 ? "01" : "01-" + two_digits(module - 1);
    os << "\nIsolated and integrated, side by side:\n";
    if (isolated && isolated_tally) {
        size_t width = 20;
        for (const auto& r : integrated) width = std::max(width, std::min<size_t>(r.test.name.size(), 52));
        auto cell = [](const CaseResult* r) {
            if (!r) return std::string("-");
            std::string s = r->outcome == Outcome::passed ? "✓ " : "✗ ";
            s += format_number(r->score) + "/" + format_number(r->test.points);
            if (r->outcome != Outcome::passed) {
                s += ' ';
                s += outcome_name(r->outcome);
            }
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
           << pad(format_number(isolated_tally->score) + "/" + format_number(isolated_tally->max), 24)
           << format_number(integrated_tally.score) << "/" << format_number(integrated_tally.max) << "\n";
        if (differ > 0)
            os << "  " << differ << " case" << (differ == 1 ? " passes" : "s pass")
               << " isolated but not integrated: the difference is in your module" << (module == 2 ? " " : "s ")
               << below_range << " (the integrated run uses " << (module == 2 ? "it" : "them")
               << " instead of the reference).\n";
    } else if (recorded) {
        std::string iso = "your module " + nn + " on reference " + below_range, integ = "your own 01-" + nn;
        size_t w = std::max(iso.size(), integ.size()) + 3;
        os << "  isolated    " << iso << std::string(w - iso.size(), ' ') << format_number(recorded->score)
           << "/" << format_number(recorded->max_score) << "   (recorded " << recorded->timestamp
           << "; your module " << nn << " is unchanged since)\n";
        os << "  integrated  " << integ << std::string(w - integ.size(), ' ') << format_number(integrated_tally.score)
           << "/" << format_number(integrated_tally.max) << "   (now)\n";
        if (recorded->score > integrated_tally.score)
            os << "  The integrated score is lower: the difference is in your module" << (module == 2 ? " " : "s ")
               << below_range << ".\n";
    }
}

}  // namespace tito::grading
