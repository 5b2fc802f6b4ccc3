// status.cpp - `tito status`: the nine modules, their libraries and grades,
// and the milestone gate. Reads library files (existence and hash) only:
// nothing is loaded.
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "tinytorch/progress.hpp"

namespace fs = std::filesystem;
namespace progress = tt::progress;

namespace tito {

namespace {

std::string ago(int64_t t) {
    int64_t d = static_cast<int64_t>(std::time(nullptr)) - t;
    if (t <= 0) return "";
    if (d < 0) d = 0;
    if (d < 10) return "just now";
    if (d < 90) return std::to_string(d) + " s ago";
    if (d < 90 * 60) return std::to_string(d / 60) + " min ago";
    if (d < 36 * 3600) return std::to_string(d / 3600) + " h ago";
    return std::to_string(d / 86400) + " d ago";
}

std::string num(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
}

// "18/20 2 h ago", "20/20 ✓ 5 min ago STALE", or "-".
// `why` gets the reasons a grade no longer counts (a library rebuilt or gone
// since, a record that does not verify).
std::string grade_cell(const std::optional<progress::GradeRecord>& r, const std::string& lib_dir,
                       bool& stale, std::vector<std::string>& why) {
    stale = false;
    if (!r) return "-";
    std::string s = num(r->score) + "/" + num(r->max_score) + (r->passed_all ? " ✓" : "");
    std::string when = ago(r->time);
    if (!when.empty()) s += " " + when;
    progress::Freshness f = progress::check_fresh(*r, lib_dir);
    stale = !f.fresh;
    if (stale) {
        s += r->unverified.empty() ? " STALE" : " FORGED/EDITED";
        for (const std::string& reason : f.reasons)
            why.push_back(two_digits(r->module) + " " + progress::mode_name(r->mode) + ": " + reason);
    }
    return s;
}

// Width in terminal columns of a UTF-8 string (continuation bytes take none).
size_t columns(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

std::string pad(const std::string& s, size_t w) { return s + std::string(w > columns(s) ? w - columns(s) : 0, ' '); }

}  // namespace

int cmd_status(const std::vector<std::string>& args) {
    po::options_description opts("Options");
    opts.add_options()("help,h", "show this help")(
        "impl", po::value<std::string>(),
        "module choice to show as 'uses' (default: TITO_IMPL, else student)");
    po::variables_map vm = parse_args(args, opts, {}, "status");
    if (vm.count("help")) {
        print_help("tito status [--impl SPEC]",
                   "Show the nine modules: whether the student and reference libraries are\n"
                   "built, which one SPEC selects, the last isolated and integrated grade (score,\n"
                   "when, STALE when the student library changed since), and whether milestone\n"
                   "04 is unlocked. No module code is loaded: libraries are only hashed.",
                   opts);
        return kOk;
    }
    std::string spec = vm.count("impl") ? vm["impl"].as<std::string>()
                       : globals().impl ? *globals().impl
                                        : impl_from_env().value_or("student");
    tt::ImplChoice choice = parse_spec_or_usage(spec, "status");
    const Paths& p = paths();
    std::string store_path = progress::default_store_path();
    progress::Store store = progress::load(store_path);

    std::cout << "TinyTorch C++ status   (module choice: " << spec << ")\n"
              << "  libraries: " << p.lib_dir << "\n  progress:  " << store_path << "\n\n";
    const size_t wn = 17, wl = 10, wu = 11, wg = 26;
    std::cout << "  " << pad("module", wn) << pad("student", wl) << pad("reference", wl)
              << pad("grader", wl) << pad("uses", wu) << pad("isolated grade", wg) << "integrated grade\n";
    std::cout << "  " << std::string(wn + 3 * wl + wu + wg + 18, '-') << "\n";
    bool any_stale = false;
    std::vector<std::string> why_stale;
    for (int m = 1; m <= tt::kModuleCount; ++m) {
        const tt::ModuleInfo& info = tt::module_info(m);
        auto built = [&](tt::Variant v) {
            return fs::exists(tt::module_library_path(m, v)) ? "built" : "not built";
        };
        bool grader = fs::exists(fs::path(p.bin_dir) / ("tt_grade_" + two_digits(m)));
        auto iso = store.find(m, progress::Mode::isolated);
        auto integ = store.find(m, progress::Mode::integrated);
        // For module 01 the two modes are the same run (nothing below it).
        bool same_run = m == 1 && !iso;
        if (same_run) iso = integ;
        bool s1 = false, s2 = false;
        std::string iso_cell = grade_cell(iso, p.lib_dir, s1, why_stale);
        std::string int_cell = same_run ? iso_cell : grade_cell(integ, p.lib_dir, s2, why_stale);
        any_stale = any_stale || s1 || s2;
        std::cout << "  " << pad(two_digits(m) + " " + info.name, wn) << pad(built(tt::Variant::student), wl)
                  << pad(built(tt::Variant::reference), wl) << pad(grader ? "built" : "not built", wl)
                  << pad(tt::variant_name(choice[m - 1]), wu) << pad(iso_cell, wg) << int_cell << "\n";
    }
    if (any_stale) {
        std::cout << "\n  STALE or FORGED/EDITED: that grade no longer counts; grade the module again.\n";
        for (const std::string& why : why_stale) std::cout << "    " << why << "\n";
    }

    progress::GateStatus g = progress::gate_status(9, store, p.lib_dir);
    std::cout << "\nMilestone 04 (1998 CNN revolution): " << (g.unlocked ? "UNLOCKED" : "LOCKED") << "\n";
    if (g.unlocked) {
        std::cout << "  module 09 passed on your own stack (" << g.record->timestamp
                  << "); run it: ./tito milestone run 04\n";
    } else {
        for (const std::string& why : g.reasons) std::cout << "  - " << why << "\n";
        std::cout << "  to unlock: " << g.fix_command << "\n";
    }
    return kOk;
}

}  // namespace tito
