// student_tools.cpp - `tito run playground` (the program a student edits to
// try their modules) and `tito hint NN [FUNCTION]` (the code-level hints the
// README leaves out, one function at a time, when asked).
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <unistd.h>

#include "cli.hpp"
#include "isolation.hpp"

namespace fs = std::filesystem;

namespace tito {

int cmd_run(const std::vector<std::string>& all_args) {
    const auto [args, passthrough] = split_at_double_dash(all_args);

    po::options_description opts("Options");
    opts.add_options()("help,h", "show this help")(
        "impl", po::value<std::string>(), "module choice (default: student, every module yours)")(
        "allow-root", "when tito runs as root: run the playground anyway (only code you trust)");
    po::options_description hidden;
    hidden.add_options()("program", po::value<std::string>());
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("program", 1);
    po::variables_map vm = parse_args(args, all, pos, "run");
    if (vm.count("help")) {
        print_help("tito run playground [--impl SPEC] [-- ARGS...]",
                   "Build (the launcher does) and run playground/playground.cpp, the program you edit\n"
                   "to try your modules before the tests do: print tensors (std::cout << t), call\n"
                   "your functions on small inputs. It runs on your modules (--impl student) unless\n"
                   "--impl says otherwise, e.g. --impl reference to compare, or reference,02=student.\n"
                   "A function you have not written yet ends it with the stub's message.\n"
                   "The program's own exit code is passed on.",
                   opts);
        return kOk;
    }
    if (!vm.count("program")) throw UsageError{"what to run? tito run playground", "run"};
    const std::string program_name = vm["program"].as<std::string>();
    if (program_name != "playground")
        throw UsageError{"there is no program '" + program_name + "' to run (there is: playground)", "run"};

    std::string spec = "student";
    if (vm.count("impl")) spec = vm["impl"].as<std::string>();
    else if (globals().impl) spec = *globals().impl;
    parse_spec_or_usage(spec, "run");

    const Paths& p = paths();
    std::string program = (fs::path(p.bin_dir) / program_name).string();
    if (access(program.c_str(), X_OK) != 0) {
        std::cerr << "tito: " << program << " is not built yet: run ./tito run playground (the launcher builds "
                  << "it from playground/playground.cpp)\n";
        return kLoadError;
    }
    // The playground is student code itself, whatever modules it loads.
    if (!student_code_may_run("the playground", vm.count("allow-root") > 0)) return kUsage;
    setenv("TITO_IMPL", spec.c_str(), 1);
    std::vector<std::string> argv = {program};
    argv.insert(argv.end(), passthrough.begin(), passthrough.end());
    return exec_program(argv);
}

namespace {

struct Hint {
    std::string function, file, text;
};

// modules/NN_name/hints.md (written by ./tito stubs generate): "## function
// (file)" headings, each followed by its hint.
std::vector<Hint> read_hints(const fs::path& path) {
    std::vector<Hint> hints;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("## ", 0) == 0) {
            Hint h;
            std::string head = line.substr(3);
            size_t paren = head.find(" (");
            h.function = head.substr(0, paren);
            if (paren != std::string::npos) h.file = head.substr(paren + 2, head.size() - paren - 3);
            hints.push_back(h);
        } else if (!hints.empty() && line.rfind("```", 0) != 0) {
            hints.back().text += line + "\n";
        }
    }
    for (Hint& h : hints) {
        while (!h.text.empty() && (h.text.back() == '\n' || h.text.back() == ' ')) h.text.pop_back();
        while (!h.text.empty() && h.text.front() == '\n') h.text.erase(0, 1);
    }
    return hints;
}

}  // namespace

int cmd_hint(const std::vector<std::string>& args) {
    po::options_description opts("Options");
    opts.add_options()("help,h", "show this help");
    po::options_description hidden;
    hidden.add_options()("module", po::value<std::string>())("function", po::value<std::string>());
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("module", 1).add("function", 1);
    po::variables_map vm = parse_args(args, all, pos, "hint");
    if (vm.count("help")) {
        print_help("tito hint NN [FUNCTION]",
                   "The module's README explains the math of every function; the stub's TODO says\n"
                   "what to write. When you are stuck on turning it into code, this shows the\n"
                   "code-level hint for one function (a line of the loop, the call to make).\n"
                   "Without FUNCTION: the functions that have one.",
                   opts);
        return kOk;
    }
    if (!vm.count("module")) throw UsageError{"which module? tito hint 05 sigmoid_backward", "hint"};
    int module = parse_module_arg(vm["module"].as<std::string>(), "hint");
    const Paths& p = paths();
    if (p.source_dir.empty()) {
        std::cerr << "tito: cannot find the repository (a directory with the project's CMakeLists.txt)\n";
        return kLoadError;
    }
    const tt::ModuleInfo& info = tt::module_info(module);
    fs::path path = fs::path(p.source_dir) / "modules" / info.dir / "hints.md";
    std::vector<Hint> hints = read_hints(path);
    const std::string nn = two_digits(module);
    if (hints.empty()) {
        std::cout << "Module " << nn << " has no code-level hints: its README (modules/" << info.dir
                  << "/README.md) and the TODO and HINT lines of the stub are all there is.\n";
        return kOk;
    }
    auto list = [&](std::ostream& os) {
        for (const Hint& h : hints) os << "  " << h.function << (h.file.empty() ? "" : "  (" + h.file + ")") << "\n";
    };
    if (!vm.count("function")) {
        std::cout << "Code-level hints of module " << nn << " (./tito hint " << nn << " FUNCTION shows one):\n";
        list(std::cout);
        return kOk;
    }
    const std::string want = vm["function"].as<std::string>();
    for (const Hint& h : hints) {
        if (h.function != want) continue;
        std::cout << h.function << (h.file.empty() ? "" : " (modules/" + std::string(info.dir) + "/student/" + h.file + ")")
                  << ":\n";
        std::istringstream text(h.text);
        std::string line;
        while (std::getline(text, line)) std::cout << "  " << line << "\n";
        return kOk;
    }
    std::cerr << "tito: module " << nn << " has no hint for '" << want << "'. These have one:\n";
    list(std::cerr);
    return kUsage;
}

}  // namespace tito
