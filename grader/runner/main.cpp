// main.cpp - tito-cli: global options and the subcommands.
//
//   tito [--impl SPEC] COMMAND [ARGS...]
//
// ./tito (the launcher) builds first, then runs this program.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <unistd.h>

#include "cli.hpp"
#include "instructor.hpp"

namespace fs = std::filesystem;

namespace tito {

const char* const kExitCodeTable =
    "Exit codes:\n"
    "  0  success; every test passed\n"
    "  1  some tests failed (or the stubs are out of sync)\n"
    "  2  usage error (bad command line)\n"
    "  3  load error: a module library, grader or program is missing or invalid\n"
    "     (\"not built yet\")\n"
    "  4  build error (the ./tito launcher, or --sanitize, could not build)\n"
    "  5  milestone locked (module 09 has not passed on your own stack)\n"
    "  6  data missing (a milestone data set is not there)\n";


namespace {

const char* const kSpecHelp =
    "Module choice (--impl SPEC, or the TITO_IMPL environment variable):\n"
    "  student | reference              every module\n"
    "  01-05=student,06-09=reference    ranges or single numbers, comma separated\n"
    "  reference,03=student             a default followed by overrides\n"
    "  fast, reference,09=fast          module 09's fast variant (the same functions, tuned)\n";

void print_global_help() {
    std::cout
        << "tito - build, test and grade the TinyTorch C++ modules\n\n"
           "Usage: ./tito [--impl SPEC] COMMAND [ARGS...]\n\n"
           "Commands:\n"
           "  setup                        install the Debian packages and build (launcher)\n"
           "  test NN                      run module NN's grader, explain every failure\n"
           "  grade NN                     grade module NN and record the score\n"
           "  status                       modules, libraries, grades, the milestone gate\n"
           "  stubs generate|check [NN..]  write / verify the student stubs from the reference\n"
           "  milestone list               the milestone and whether it is unlocked\n"
           "  milestone run 04 [PART]      run milestone 04 (needs module 09 passed, integrated)\n"
           "  bench NN                     time your module NN next to the reference (never graded)\n"
           "  module reset NN              put module NN's stub back (your files are backed up)\n"
           "  run playground               run playground/playground.cpp (yours to edit) on your modules\n"
           "  hint NN [FUNCTION]           a code-level hint for one function, when the README is not enough\n"
           "  help [COMMAND]               this help, or a command's (also COMMAND --help)\n"
           "Instructors (docs/instructors.md):\n"
           "  release --out DIR            a student release (reference as prebuilt libraries)\n"
           "  release --gradescope --out DIR  a Gradescope autograder bundle\n"
           "  grade-batch DIR -j N         grade every submission in DIR into a CSV gradebook\n\n"
           "Global options:\n"
           "  --impl SPEC    which variant of each module (default per command)\n"
           "  -h, --help     this help\n"
           "  --version      print the version\n\n"
        << kSpecHelp << "\n"
        << kExitCodeTable
        << "\nEnvironment: TITO_IMPL (module choice), TITO_PROGRESS (progress store path),\n"
           "TITO_LIB_DIR (module libraries), TITO_SOURCE_DIR (repository, for stubs),\n"
           "TITO_BUILD_DIR and TITO_NO_BUILD=1 (launcher),\n"
           "TITO_SANITIZE (no address-space limit for sanitizer builds), TITO_SANITIZE_BUILD_DIR\n"
           "(--sanitize), TITO_CHILD_USER (as root: the user test cases run as, default nobody).\n"
           "Documentation: docs/cli.md\n";
}

// Edit distance (insert, delete, substitute, swap two neighbours), for
// "did you mean" on a mistyped command: `tets` -> `test`.
size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
        for (size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

const std::vector<std::string>& command_names() {
    static const std::vector<std::string> names = {"setup", "test", "grade", "status", "stubs", "milestone",
                                                   "bench", "module", "hint", "run", "help", "release",
                                                   "grade-batch"};
    return names;
}

std::string did_you_mean(const std::string& command) {
    std::string best;
    size_t best_d = 3;  // at most two edits
    for (const std::string& c : command_names()) {
        size_t d = edit_distance(command, c);
        if (d < best_d) best_d = d, best = c;
    }
    return best.empty() ? "" : " (did you mean " + best + "?)";
}

bool has_tinytorch_root(const fs::path& dir) {
    std::ifstream in(dir / "CMakeLists.txt");
    if (!in) return false;
    std::string line;
    for (int i = 0; i < 10 && std::getline(in, line); ++i)
        if (line.find("project(TinyTorchCpp") != std::string::npos) return true;
    return false;
}

int run(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    // Global options come before the command.
    size_t i = 0;
    std::vector<std::string> global_args;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.empty() || a[0] != '-') break;
        global_args.push_back(a);
        if (a == "--impl" && i + 1 < args.size()) global_args.push_back(args[++i]);
    }
    po::options_description global("Global options");
    global.add_options()("help,h", "")("version", "")("impl", po::value<std::string>(), "");
    po::variables_map vm = parse_args(global_args, global, {}, "");
    if (vm.count("impl")) {
        globals().impl = vm["impl"].as<std::string>();
        parse_spec_or_usage(*globals().impl, "");
    }
    if (vm.count("version")) {
        std::cout << "tito (TinyTorch C++) 0.1.0\n";
        return kOk;
    }
    if (i >= args.size()) {
        print_global_help();
        return vm.count("help") ? kOk : kUsage;
    }
    std::string command = args[i];
    std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
    if (vm.count("help")) rest.insert(rest.begin(), "--help");
    if (command == "help") {
        if (rest.empty()) {
            print_global_help();
            return kOk;
        }
        command = rest[0];
        rest = {"--help"};
    }
    if (command == "test") return cmd_test(rest, false);
    if (command == "grade") return cmd_test(rest, true);
    if (command == "status") return cmd_status(rest);
    if (command == "stubs") return cmd_stubs(rest);
    if (command == "milestone" || command == "milestones") return cmd_milestone(rest);
    if (command == "bench") return cmd_bench(rest);
    if (command == "module") return cmd_module(rest);
    if (command == "run") return cmd_run(rest);
    if (command == "hint") return cmd_hint(rest);
    if (command == "release") return cmd_release(rest);
    if (command == "grade-batch") return cmd_grade_batch(rest);
    if (command == "setup")
        throw UsageError{"setup is done by the ./tito launcher (it installs packages and builds)", ""};
    throw UsageError{"unknown command '" + command + "'" + did_you_mean(command), ""};
}

}  // namespace

GlobalOptions& globals() {
    static GlobalOptions g;
    return g;
}

std::optional<std::string> impl_from_env() {
    const char* env = std::getenv("TITO_IMPL");
    if (env && *env) return std::string(env);
    return std::nullopt;
}

const Paths& paths() {
    static const Paths p = [] {
        Paths p;
        std::error_code ec;
        fs::path exe = fs::read_symlink("/proc/self/exe", ec);
        fs::path bin = ec ? fs::current_path() : exe.parent_path();
        p.bin_dir = bin.string();
        p.build_dir = bin.parent_path().string();
        try {
            p.lib_dir = tt::module_library_dir();
        } catch (const std::exception&) {
            p.lib_dir = (bin.parent_path() / "lib").string();
        }
        // The repository: $TITO_SOURCE_DIR, else above the executable
        // (build/bin/..), else the directory this program was configured from.
        if (const char* env = std::getenv("TITO_SOURCE_DIR"); env && *env)
            p.source_dir = fs::absolute(env).lexically_normal().string();
        for (fs::path d = bin; p.source_dir.empty() && !d.empty(); d = d.parent_path()) {
            if (has_tinytorch_root(d)) {
                p.source_dir = d.string();
                break;
            }
            if (d == d.root_path()) break;
        }
#ifdef TT_SOURCE_DIR
        if (p.source_dir.empty() && has_tinytorch_root(TT_SOURCE_DIR)) p.source_dir = TT_SOURCE_DIR;
#endif
        return p;
    }();
    return p;
}


int parse_module_arg(const std::string& s, const std::string& command) {
    int n = 0;
    bool digits = !s.empty() && s.size() <= 2 && s.find_first_not_of("0123456789") == std::string::npos;
    if (digits) n = std::stoi(s);
    if (!digits || n < 1 || n > tt::kModuleCount)
        throw UsageError{"'" + s + "' is not a module number (01..09)", command};
    return n;
}

tt::ImplChoice parse_spec_or_usage(const std::string& spec, const std::string& command) {
    try {
        return tt::parse_impl_spec(spec);
    } catch (const std::invalid_argument& e) {
        throw UsageError{e.what(), command};
    }
}

bool use_colour() {
    static const bool on = isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
    return on;
}

std::string paint(const std::string& text, const char* code) {
    if (!use_colour()) return text;
    return std::string("\033[") + code + "m" + text + "\033[0m";
}

Passthrough split_at_double_dash(const std::vector<std::string>& args) {
    auto dd = std::find(args.begin(), args.end(), "--");
    Passthrough p;
    p.own.assign(args.begin(), dd);
    if (dd != args.end()) p.rest.assign(dd + 1, args.end());
    return p;
}

int exec_program(std::vector<std::string> argv) {
    std::cout.flush();
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv(argv[0].c_str(), cargv.data());
    std::cerr << "tito: cannot run " << argv[0] << ": " << std::strerror(errno) << "\n";
    return kLoadError;
}

po::variables_map parse_args(const std::vector<std::string>& args,
                             const po::options_description& options,
                             const po::positional_options_description& positional,
                             const std::string& command) {
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError{e.what(), command};
    }
    return vm;
}

void print_help(const std::string& usage, const std::string& description,
                const po::options_description& options) {
    std::cout << "Usage: ./tito " << usage.substr(usage.rfind("tito ", 0) == 0 ? 5 : 0) << "\n\n"
              << description << "\n\n"
              << options << "\n";
    if (usage.find("SPEC") != std::string::npos) std::cout << kSpecHelp << "\n";
    std::cout << kExitCodeTable;
}

}  // namespace tito

int main(int argc, char** argv) {
    try {
        return tito::run(argc, argv);
    } catch (const tito::UsageError& e) {
        std::cerr << "tito: " << e.message << "\n";
        if (e.command.empty())
            std::cerr << "  see ./tito --help\n";
        else
            std::cerr << "  see ./tito " << e.command << " --help\n";
        return tito::kUsage;
    } catch (const std::exception& e) {
        std::cerr << "tito: error: " << e.what() << "\n";
        return tito::kLoadError;
    }
}
