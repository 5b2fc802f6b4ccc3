// milestone.cpp - `tito milestone list|run`: milestone 04 and its gate.
//
// The milestone programs (bin/milestone_04_part1, _part2) check the gate
// themselves too; tito checks it first so the message comes before anything
// is loaded, then execs the program (its exit code is tito's).
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <unistd.h>

#include "cli.hpp"
#include "isolation.hpp"
#include "tinytorch/progress.hpp"

namespace fs = std::filesystem;
namespace progress = tt::progress;

namespace tito {

namespace {

const char* const kTitle = "04  The 1998 CNN revolution (LeNet on TinyDigits, then CIFAR-10)";

// bin/milestone_04_<part>, sorted.
std::vector<std::string> milestone_parts() {
    std::vector<std::string> parts;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(paths().bin_dir, ec)) {
        std::string name = e.path().filename().string();
        if (name.rfind("milestone_04_", 0) == 0 && e.is_regular_file() &&
            access(e.path().c_str(), X_OK) == 0)
            parts.push_back(name.substr(13));
    }
    std::sort(parts.begin(), parts.end());
    return parts;
}

// "1", "part1", "tinydigits" -> "part1"; "" when nothing matches.
std::string resolve_part(const std::string& want, const std::vector<std::string>& parts,
                         std::string& error) {
    std::string w = want;
    std::transform(w.begin(), w.end(), w.begin(), [](unsigned char c) { return std::tolower(c); });
    if (w == "tinydigits" || w == "lenet") w = "part1";
    if (w == "cifar10" || w == "cifar" || w == "mnist" || w == "fashion-mnist") w = "part2";
    if (!w.empty() && w.size() <= 6 && w.find_first_not_of("0123456789") == std::string::npos)
        w = "part" + std::to_string(std::stoi(w));
    std::vector<std::string> hits;
    for (const auto& p : parts)
        if (p == w) return p;
    for (const auto& p : parts)
        if (p.find(w) != std::string::npos) hits.push_back(p);
    if (hits.size() == 1) return hits[0];
    error = hits.empty() ? "no milestone 04 part matches '" + want + "'" : "'" + want + "' matches several parts";
    return "";
}

void print_locked(const progress::GateStatus& g) {
    std::cout << "Milestone 04 is locked: it runs on your own modules once module 09 passes its\n"
                 "grader on your own stack (student 01-09).\n";
    for (const std::string& why : g.reasons) std::cout << "  - " << why << "\n";
    std::cout << "\nTo unlock: " << g.fix_command << "\n"
              << "To watch it on the reference modules instead: ./tito milestone run 04 --reference\n";
}

int milestone_list() {
    const Paths& p = paths();
    progress::GateStatus g = progress::gate_status(9, progress::load(), p.lib_dir);
    std::cout << "Milestones:\n  " << kTitle << "\n      "
              << (g.unlocked ? "UNLOCKED: ./tito milestone run 04" : "LOCKED") << "\n";
    for (const std::string& why : g.reasons) std::cout << "      - " << why << "\n";
    if (!g.unlocked) std::cout << "      to unlock: " << g.fix_command << "\n";
    std::vector<std::string> parts = milestone_parts();
    if (parts.empty()) {
        std::cout << "      programs: not built yet (no " << p.bin_dir << "/milestone_04_*)\n";
    } else {
        std::cout << "      programs:";
        for (const auto& part : parts) std::cout << " " << part;
        std::cout << "   (./tito milestone run 04 PART; --reference for the reference modules)\n";
    }
    return kOk;
}

}  // namespace

int cmd_milestone(const std::vector<std::string>& all_args) {
    // Everything after "--" goes to the milestone program untouched.
    const auto [args, passthrough] = split_at_double_dash(all_args);

    po::options_description opts("Options");
    opts.add_options()("help,h", "show this help")(
        "reference", "run on the reference modules (no gate; labelled as reference)")(
        "allow-root", "when tito runs as root: run the student modules anyway (only code you trust)");
    po::options_description hidden;
    hidden.add_options()("action", po::value<std::string>())("number", po::value<std::string>())(
        "part", po::value<std::string>());
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("action", 1).add("number", 1).add("part", 1);
    po::variables_map vm = parse_args(args, all, pos, "milestone");
    if (vm.count("help")) {
        print_help("tito milestone list | run 04 [PART] [--reference] [-- ARGS...]",
                   "list: the milestone, whether it is unlocked and why not, its programs.\n"
                   "run:  check the gate (module 09 graded integrated, every test passed, on the\n"
                   "      student libraries built now), then run bin/milestone_04_<PART> with ARGS\n"
                   "      (PART: 1 or tinydigits (default), 2 or cifar10). Locked: says what is\n"
                   "      missing and exits 5. --reference runs it on the reference modules.\n"
                   "      The program's own exit code is passed on (see milestone_04_part1 --help).",
                   opts);
        return kOk;
    }
    std::string action = vm.count("action") ? vm["action"].as<std::string>() : "list";
    if (action == "list") return milestone_list();
    if (action != "run") throw UsageError{"unknown milestone action '" + action + "' (list or run)", "milestone"};
    if (!vm.count("number")) throw UsageError{"which milestone? tito milestone run 04", "milestone"};
    std::string number = vm["number"].as<std::string>();
    if (number != "04" && number != "4")
        throw UsageError{"there is no milestone " + number + " (only 04)", "milestone"};
    if (globals().impl)
        throw UsageError{"milestone run takes --reference, not --impl (student code needs the gate)", "milestone"};
    const bool reference = vm.count("reference") > 0;
    const Paths& p = paths();

    std::vector<std::string> parts = milestone_parts();
    if (parts.empty()) {
        std::cerr << "tito: milestone 04 is not built yet: no " << p.bin_dir << "/milestone_04_* program.\n"
                  << "  build it with ./tito (its sources are milestones/04_1998_cnn).\n";
        return kLoadError;
    }
    std::string part = parts.front();
    if (vm.count("part")) {
        std::string error;
        part = resolve_part(vm["part"].as<std::string>(), parts, error);
        if (part.empty()) {
            std::string list;
            for (const auto& x : parts) list += " " + x;
            throw UsageError{error + " (built:" + list + ")", "milestone"};
        }
    }
    // A part that does not exist is a usage error before it is a locked milestone.
    if (!reference) {
        progress::GateStatus g = progress::gate_status(9, progress::load(), p.lib_dir);
        if (!g.unlocked) {
            print_locked(g);
            return kLocked;
        }
    }
    if (!reference && !student_code_may_run("milestone 04", vm.count("allow-root") > 0)) return kUsage;
    std::string program = (fs::path(p.bin_dir) / ("milestone_04_" + part)).string();
    std::vector<std::string> argv = {program};
    if (reference) argv.push_back("--reference");
    argv.insert(argv.end(), passthrough.begin(), passthrough.end());
    setenv("TITO_IMPL", reference ? "reference" : "student", 1);
    if (reference)
        std::cout << "Milestone 04 (" << part << ") on the REFERENCE modules: a demo of what your code "
                     "will do, not your code.\n";
    else
        std::cout << "Milestone 04 (" << part << ") on YOUR modules 01-09.\n";
    return exec_program(argv);
}

}  // namespace tito
