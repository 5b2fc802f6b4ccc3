// release.cpp - `tito release --out DIR [--gradescope]`.
//
// The student edition: the repository without the reference sources, the
// hidden tests, build directories and .git; the reference modules as prebuilt
// libraries in prebuilt/ with prebuilt/release.cmake, which the root
// CMakeLists.txt includes (TT_BUILD_REFERENCE=OFF, TT_PREBUILT_REFERENCE_DIR);
// the generated stubs in modules/NN_name/student/ and a pristine copy of them
// in .tito/stubs/NN_name/ (for ./tito module reset).
//
// --gradescope: an autograder bundle: setup.sh, run_autograder and the
// release tree in tinytorch/ (with the hidden tests), zipped as
// autograder.zip.
#include <algorithm>
#include <iostream>
#include <set>
#include <sstream>

#include <sys/utsname.h>
#include <unistd.h>

#include "child.hpp"
#include "cli.hpp"
#include "instructor.hpp"

namespace fs = std::filesystem;

namespace tito {

namespace {

const char* const kPackages =
    "cmake ninja-build g++ libboost-dev libboost-program-options-dev catch2 zlib1g-dev libopenblas-dev "
    "libopenblas0-serial";  // the same list as PACKAGES in ./tito

std::string first_line_of(const std::string& s) { return s.substr(0, s.find('\n')); }

struct CopyStats {
    size_t files = 0, bytes = 0;
    size_t missing = 0;  // tracked, but deleted in the working tree
};

// An executable on PATH ("" when there is none).
std::string find_program(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::stringstream ss(path ? path : "/usr/local/bin:/usr/bin:/bin");
    std::string dir;
    while (std::getline(ss, dir, ':')) {
        if (dir.empty()) continue;
        fs::path cand = fs::path(dir) / name;
        if (access(cand.c_str(), X_OK) == 0 && fs::is_regular_file(cand)) return cand.string();
    }
    return "";
}

// What a release leaves out, by path (relative to the repository, '/').
// `student`: the student edition (not the Gradescope bundle's tree).
bool excluded(const std::string& rel, bool keep_hidden_tests, bool student) {
    std::string top = rel.substr(0, rel.find('/'));
    if (top == ".git" || top == ".tito" || top == "out" || top == "build" || top.rfind("build-", 0) == 0)
        return true;
    if (rel.rfind("datasets/cifar10/", 0) == 0) return true;  // downloaded data, not ours to ship
    if (rel.rfind("grader/hidden/", 0) == 0) return !keep_hidden_tests;
    // Instructor material that names the hidden cases: not in the student edition.
    if (student && rel == "docs/instructors.md") return true;
    std::vector<std::string> parts;
    std::stringstream ss(rel);
    for (std::string part; std::getline(ss, part, '/');) parts.push_back(part);
    // modules/NN_name/reference/, modules/NN_name/fast/ (a second solution)
    if (parts.size() > 3 && parts[0] == "modules" && (parts[2] == "reference" || parts[2] == "fast")) return true;
    for (const std::string& part : parts)
        if (part == "__pycache__" || part == ".cache") return true;
    const std::string& name = parts.empty() ? rel : parts.back();
    for (const char* ext : {".swp", ".pyc"})
        if (name.size() > 4 && name.compare(name.size() - 4, 4, ext) == 0) return true;
    if (name.find(".tmp-tito") != std::string::npos || name.find(".tito-") != std::string::npos) return true;
    return false;
}

// NUL-separated output of `git ls-files` in the repository.
std::vector<std::string> git_ls_files(const std::string& git, const fs::path& root,
                                      const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {git, "-c", "safe.directory=*", "-C", root.string(), "ls-files", "-z"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ChildLimits lim;
    lim.timeout_s = 120;
    lim.capture_bytes = 64 << 20;
    ChildResult r = run_child(argv, {}, lim);
    if (!r.started || r.timed_out || r.signal || r.exit_code != 0)
        throw std::runtime_error("git ls-files failed in " + root.string() + ": " +
                                 (r.started ? first_line_of(r.err) : r.start_error));
    std::vector<std::string> out;
    std::string cur;
    for (char c : r.out) {
        if (c == '\0') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    return out;
}

// What goes into a release: the files git tracks (as they are in the working
// tree) plus the untracked files the instructor names, minus the exclusions.
// Untracked files that are not ignored stop the release unless named or
// explicitly left out: a gradebook, results or submissions left in the
// checkout must never ship by accident.
struct Selection {
    std::vector<std::string> files;      // relative paths to copy
    std::vector<std::string> untracked;  // neither ignored nor named: refused
    size_t missing = 0;
};

Selection select_files(const fs::path& root, const std::string& git, bool keep_hidden, bool student,
                       const std::vector<std::string>& include) {
    Selection sel;
    std::set<std::string> chosen;
    for (const std::string& rel : git_ls_files(git, root, {"--cached"})) {
        if (excluded(rel, keep_hidden, student)) continue;
        std::error_code ec;
        if (!fs::exists(fs::symlink_status(root / rel, ec))) {
            sel.missing++;
            continue;
        }
        chosen.insert(rel);
    }
    for (const std::string& rel : git_ls_files(git, root, {"--others", "--exclude-standard"})) {
        if (excluded(rel, keep_hidden, student)) continue;
        bool named = false;
        for (const std::string& inc : include)
            named = named || rel == inc || rel.rfind(inc + "/", 0) == 0;
        if (named) chosen.insert(rel);
        else sel.untracked.push_back(rel);
    }
    sel.files.assign(chosen.begin(), chosen.end());
    return sel;
}

CopyStats copy_selection(const fs::path& root, const fs::path& dest, const std::vector<std::string>& rels) {
    CopyStats st;
    fs::create_directories(dest);
    for (const std::string& rel : rels) {
        const fs::path from = root / rel;
        const fs::path target = dest / rel;
        fs::create_directories(target.parent_path());
        fs::file_status ls = fs::symlink_status(from);
        if (fs::is_symlink(ls)) {
            fs::copy_symlink(from, target);
        } else if (fs::is_regular_file(ls)) {
            fs::copy_file(from, target, fs::copy_options::overwrite_existing);
            fs::permissions(target, fs::status(from).permissions());
            st.files++;
            st.bytes += static_cast<size_t>(fs::file_size(from));
        }
    }
    return st;
}

// The student edition's README: the student's workflow first; the speed
// figures become a pointer to docs/benchmarks.md and the instructors' section
// (and every line about hidden tests) is left out.
std::string student_readme(const std::string& readme) {
    std::vector<std::pair<std::string, std::string>> sections;  // title ("" = intro), text
    std::istringstream in(readme);
    std::string line;
    sections.emplace_back("", "");
    while (std::getline(in, line)) {
        if (line.rfind("## ", 0) == 0) sections.emplace_back(line.substr(3), "");
        if (line.find("hidden") != std::string::npos) continue;
        sections.back().second += line + "\n";
    }
    auto lower = [](std::string t) {
        for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return t;
    };
    std::string intro, student, rest;
    for (const auto& [title, text] : sections) {
        std::string t = lower(title);
        if (title.empty()) intro = text;
        else if (t.find("instructor") != std::string::npos) continue;
        else if (t == "speed")
            rest += "## Speed\n\nBenchmarks of the reference against PyTorch, with the commands that "
                    "measured them: `docs/benchmarks.md`.\n\n";
        else if (t.find("student") != std::string::npos) student += text;
        else rest += text;
    }
    // The edition note goes under the title.
    size_t eol = intro.find('\n');
    std::string note =
        "\n*Student edition: the reference modules ship as prebuilt libraries (`prebuilt/`), without "
        "their sources. `./tito module reset NN` gives you a module's stub back (your files are backed "
        "up first).*\n";
    if (intro.rfind("# ", 0) == 0 && eol != std::string::npos) intro.insert(eol + 1, note);
    else intro = note + intro;
    return intro + student + rest;
}

// Debug and local symbols out of a prebuilt library (the dynamic symbol table,
// which loading needs, stays). False when `strip` is not available.
bool strip_library(const fs::path& lib) {
    std::string strip = find_program("strip");
    if (strip.empty()) return false;
    ChildLimits lim;
    lim.timeout_s = 120;
    ChildResult r = run_child({strip, "--strip-unneeded", lib.string()}, {}, lim);
    return r.started && !r.timed_out && !r.signal && r.exit_code == 0;
}

std::string release_cmake() {
    return "# Written by ./tito release: this tree is a student release. The reference\n"
           "# modules ship as the prebuilt libraries next to this file, not as sources.\n"
           "# The root CMakeLists.txt includes this file before its options, so these\n"
           "# are the defaults (a -D on the command line still wins).\n"
           "set(TT_RELEASE ON)\n"
           "set(TT_BUILD_REFERENCE OFF CACHE BOOL \"Build the reference modules from source (off in a student "
           "release)\")\n"
           "set(TT_PREBUILT_REFERENCE_DIR \"${CMAKE_CURRENT_LIST_DIR}\" CACHE PATH \"Directory with prebuilt "
           "reference module libraries\")\n";
}

std::string machine_description() {
    struct utsname u {};
    std::string s;
    if (uname(&u) == 0) s = std::string(u.sysname) + " " + u.machine;
    std::error_code ec;
    if (fs::exists("/etc/os-release", ec)) {
        std::istringstream in(files::read("/etc/os-release"));
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("PRETTY_NAME=", 0) == 0) {
                std::string v = line.substr(12);
                v.erase(std::remove(v.begin(), v.end(), '"'), v.end());
                s += ", " + v;
            }
    }
    return s;
}

std::string prebuilt_readme(const std::vector<std::pair<std::string, std::string>>& libs) {
    std::ostringstream os;
    os << "# Prebuilt reference modules\n\n"
          "This is a student release of TinyTorch C++. The reference implementation of\n"
          "each module ships here as a compiled library only; the build copies them into\n"
          "`<build>/lib/` (see `release.cmake`, included by the top-level CMakeLists.txt).\n"
          "`./tito test NN` runs your module NN on these reference modules below it.\n\n"
          "Built on: "
       << machine_description() << ", " << tt::progress::now_iso8601() << ".\n\n"
       << "| library | FNV-1a 64 |\n|---|---|\n";
    for (const auto& [name, hash] : libs) os << "| " << name << " | " << hash << " |\n";
    return os.str();
}

std::string hex64(uint64_t v) {
    std::ostringstream os;
    os << std::hex;
    os.width(16);
    os.fill('0');
    os << v;
    return os.str();
}

// "01-09" style module lists: "01-03,05", "all".
std::vector<int> parse_module_list(const std::string& spec, const std::string& command) {
    std::set<int> chosen;
    std::string s = spec == "all" ? "01-09" : spec;
    std::stringstream ss(s);
    std::string part;
    while (std::getline(ss, part, ',')) {
        if (part.empty()) throw UsageError{"empty item in the module list '" + spec + "'", command};
        size_t dash = part.find('-');
        int a = parse_module_arg(part.substr(0, dash), command);
        int b = dash == std::string::npos ? a : parse_module_arg(part.substr(dash + 1), command);
        if (b < a) throw UsageError{"the range '" + part + "' runs backwards", command};
        for (int m = a; m <= b; ++m) chosen.insert(m);
    }
    if (chosen.empty()) throw UsageError{"no modules in '" + spec + "'", command};
    return {chosen.begin(), chosen.end()};
}

std::string setup_sh() {
    return std::string(
               "#!/usr/bin/env bash\n"
               "# Gradescope autograder setup (written by ./tito release --gradescope).\n"
               "# Runs once, as root, when Gradescope builds the autograder image: installs\n"
               "# the packages, then builds what grading needs (tito-cli, the graders with\n"
               "# the hidden tests, the prebuilt reference libraries) into tinytorch/build.\n"
               "# Base image: Debian 12, or Ubuntu 22.04 (its CMake is too old: a newer one\n"
               "# comes from PyPI). Ubuntu 24.04 ships Catch2 v3, which the graders do not use.\n"
               "set -euo pipefail\n"
               "here=\"$(cd \"$(dirname \"${BASH_SOURCE[0]}\")\" && pwd)\"\n"
               "src=\"$here/tinytorch\"\n"
               "export DEBIAN_FRONTEND=noninteractive\n"
               "apt-get update\n"
               "apt-get install -y --no-install-recommends ") +
           kPackages +
           " ca-certificates\n"
           "\n"
           "# CMake 3.25 or newer.\n"
           "cmake_version=\"$(cmake --version | head -n1 | awk '{print $3}')\"\n"
           "if [ \"$(printf '%s\\n3.25\\n' \"$cmake_version\" | sort -V | head -n1)\" != \"3.25\" ]; then\n"
           "  echo \"setup.sh: CMake $cmake_version is older than 3.25; installing CMake from PyPI\"\n"
           "  apt-get install -y --no-install-recommends python3-pip\n"
           "  python3 -m pip install 'cmake>=3.25' || python3 -m pip install --break-system-packages 'cmake>=3.25'\n"
           "  hash -r\n"
           "fi\n"
           "\n"
           "cmake -S \"$src\" -B \"$src/build\" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTT_BUILD_TESTS=OFF\n"
           "cmake --build \"$src/build\" --target tt_grading\n"
           "\n"
           "# Student code runs as unprivileged users: leave them nothing to read. The\n"
           "# hidden tests' sources go (they are compiled into the graders), and the\n"
           "# whole tree becomes root-only but for the worker that loads student modules.\n"
           "rm -rf \"$src/grader/hidden\"\n"
           "find \"$src/build\" -path '*/hidden/*' -delete 2>/dev/null || true\n"
           "chmod -R go-rwx \"$src\"\n"
           "chmod go+x \"$src\" \"$src/build\" \"$src/build/bin\"\n"
           "chmod go+rx \"$src/build/bin/tt_worker\" \"$src/build/bin/tt_load_check\"\n"
           "echo \"setup.sh: ready ($src/build/bin/tito-cli; hidden test sources removed, tree root-only)\"\n";
}

std::string run_autograder(const std::string& modules, double timeout, bool integrated) {
    std::ostringstream os;
    os << "#!/usr/bin/env bash\n"
          "# Gradescope runs this for every submission (written by ./tito release --gradescope).\n"
          "# The student's files are in /autograder/submission, in the repository layout\n"
          "# (modules/NN_name/student/*.cpp; a whole checkout works) or as NN_name/ folders.\n"
          "# Every module is built from them and graded isolated; the result goes to\n"
          "# /autograder/results/results.json. AUTOGRADER_ROOT (default /autograder)\n"
          "# lets it run elsewhere for a trial.\n"
          "set -uo pipefail\n"
          "MODULES=\""
       << modules
       << "\"      # the modules this assignment grades\n"
          "INTEGRATED="
       << (integrated ? "--integrated" : "")
       << "      # --integrated: also the last module on the student's own modules (not in the total)\n"
          "TIMEOUT="
       << timeout
       << "         # seconds per test case\n"
          "root=\"${AUTOGRADER_ROOT:-/autograder}\"\n"
          "src=\"$root/source/tinytorch\"\n"
          "results=\"$root/results\"\n"
          "work=\"$(mktemp -d)\"\n"
          "trap 'rm -rf \"$work\"' EXIT\n"
          "mkdir -p \"$results\"\n"
          "# results.json is rewritten as cases finish: a Gradescope timeout keeps what was graded.\n"
          "\"$src/build/bin/tito-cli\" grade-batch \"$root/submission\" --single --modules \"$MODULES\" $INTEGRATED \\\n"
          "  --timeout \"$TIMEOUT\" --out \"$work/gradebook.csv\" --results-dir \"$work/results\" \\\n"
          "  --live-results \"$results/results.json\"\n"
          "rc=$?\n"
          "if [ -f \"$work/results/submission/results.json\" ]; then\n"
          "  cp \"$work/results/submission/results.json\" \"$results/results.json\"\n"
          "elif [ ! -s \"$results/results.json\" ]; then\n"
          "  printf '{\"score\": 0, \"output\": \"The autograder could not grade this submission (tito-cli "
          "exit %s). Please tell your instructor.\", \"tests\": []}\\n' \"$rc\" > \"$results/results.json\"\n"
          "fi\n"
          "cat \"$work/gradebook.csv\" 2>/dev/null || true\n"
          "exit 0\n";
    return os.str();
}

void write_executable(const fs::path& p, const std::string& text) {
    files::write_atomic(p, text);
    fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
}

}  // namespace

// Shared with batch.cpp.
std::vector<int> parse_module_list_arg(const std::string& spec, const std::string& command) {
    return parse_module_list(spec, command);
}

int cmd_release(const std::vector<std::string>& args) {
    po::options_description opts("Options");
    opts.add_options()
        ("help,h", "show this help")
        ("out,o", po::value<std::string>(), "the directory to write (must not exist, or be empty)")
        ("gradescope", "write a Gradescope autograder bundle instead of a student release")
        ("modules", po::value<std::string>()->default_value("01-09"),
         "--gradescope: the modules the autograder grades, e.g. 01-03")
        ("timeout", po::value<double>()->default_value(10), "--gradescope: seconds per test case")
        ("integrated", "--gradescope: also grade the last module on the student's own modules (the run that "
                       "unlocks the milestone; its own results.json entry, not in the total; needs --modules 01-NN)")
        ("force", "replace DIR when it holds an earlier release or bundle")
        ("include", po::value<std::vector<std::string>>()->composing(),
         "ship this untracked file or folder (relative to the repository) too; repeatable")
        ("skip-untracked", "leave out the untracked files instead of refusing");
    po::variables_map vm = parse_args(args, opts, {}, "release");
    if (vm.count("help")) {
        print_help("tito release --out DIR [--gradescope [--modules 01-09] [--integrated]] [--force]",
                   "Student release: the files git tracks, without modules/*/reference/,\n"
                   "grader/hidden/ and docs/instructors.md, with the reference modules as\n"
                   "prebuilt libraries (DIR/prebuilt/, used by CMake through prebuilt/release.cmake)\n"
                   "and a pristine copy of the stubs in .tito/stubs/ (for ./tito module reset).\n"
                   "--gradescope: an autograder bundle: DIR/setup.sh, DIR/run_autograder, the\n"
                   "release with the hidden tests in DIR/tinytorch/, all zipped in DIR/autograder.zip.\n"
                   "Untracked files (not ignored by .gitignore) stop the release: commit them,\n"
                   "ignore them, name them with --include, or leave them out with --skip-untracked.\n"
                   "Needs the instructor's repository (reference sources) and the built\n"
                   "reference libraries (./tito builds them). See docs/instructors.md.",
                   opts);
        return kOk;
    }
    if (!vm.count("out")) throw UsageError{"say where: tito release --out DIR", "release"};
    const bool gradescope = vm.count("gradescope") > 0;
    const std::vector<int> graded = parse_module_list(vm["modules"].as<std::string>(), "release");
    const double timeout = vm["timeout"].as<double>();
    if (!(timeout > 0)) throw UsageError{"--timeout must be positive", "release"};
    const bool integrated = vm.count("integrated") > 0;
    if (integrated && !gradescope) throw UsageError{"--integrated goes with --gradescope", "release"};
    if (integrated)
        for (size_t i = 0; i < graded.size(); ++i)
            if (graded[i] != static_cast<int>(i) + 1)
                throw UsageError{"--integrated grades the student's own 01..NN: use --modules 01-NN", "release"};

    const Paths& p = paths();
    if (p.source_dir.empty()) {
        std::cerr << "tito: cannot find the repository (a directory with the project's CMakeLists.txt)\n";
        return kLoadError;
    }
    const fs::path root = fs::canonical(p.source_dir);
    if (files::is_release(root) || !fs::is_directory(root / "modules" / "01_tensor" / "reference")) {
        std::cerr << "tito: release needs the reference sources (modules/NN_name/reference/): run it in the "
                     "instructor's repository, not in a student release.\n";
        return kLoadError;
    }

    // The modules present, each with reference sources and a built reference library.
    std::vector<int> modules;
    bool missing = false;
    for (int m = 1; m <= tt::kModuleCount; ++m) {
        const tt::ModuleInfo& info = tt::module_info(m);
        fs::path dir = root / "modules" / info.dir;
        if (!fs::is_directory(dir)) continue;
        modules.push_back(m);
        fs::path ref = dir / "reference";
        fs::path lib = fs::path(p.lib_dir) / ("tt_" + std::string(info.dir) + "_reference.so");
        if (!fs::is_directory(ref)) {
            std::cerr << "tito: modules/" << info.dir << "/reference/ is missing\n";
            missing = true;
            continue;
        }
        if (!fs::exists(lib)) {
            std::cerr << "tito: the reference library " << lib.string() << " is not built yet\n";
            missing = true;
            continue;
        }
        // A library older than its sources would ship yesterday's reference.
        auto lib_time = fs::last_write_time(lib);
        for (const auto& e : fs::recursive_directory_iterator(ref))
            if (e.is_regular_file() && e.last_write_time() > lib_time) {
                std::cerr << "tito: " << lib.string() << " is older than "
                          << fs::relative(e.path(), root).generic_string() << "\n";
                missing = true;
                break;
            }
    }
    if (missing) {
        std::cerr << "  build first: ./tito (or cmake --build " << p.build_dir << " --target tt_grading)\n";
        return kLoadError;
    }
    // Every stub must generate (a malformed marker is an error, not a broken release).
    std::map<int, files::Tree> stubs;
    for (int m : modules) {
        try {
            stubs[m] = *files::pristine_stubs(root, m, nullptr);
        } catch (const std::exception& e) {
            std::cerr << "tito: " << e.what() << "\n";
            return kTestsFailed;
        }
    }

    // What ships: the tracked files, plus the untracked ones named with --include.
    const std::string git = find_program("git");
    if (git.empty() || !fs::exists(root / ".git")) {
        std::cerr << "tito: release ships the files git tracks, and "
                  << (git.empty() ? "git is not installed (apt-get install git)"
                                  : root.string() + " is not a git checkout (git init && git add -A && git commit)")
                  << "\n";
        return kLoadError;
    }
    std::vector<std::string> include;
    if (vm.count("include"))
        for (std::string inc : vm["include"].as<std::vector<std::string>>()) {
            fs::path abs = fs::absolute(inc).lexically_normal();
            std::string rel = abs.lexically_relative(root).generic_string();
            if (rel.empty() || rel == "." || rel.rfind("..", 0) == 0 || !fs::exists(abs))
                throw UsageError{"--include " + inc + ": not a file or folder inside " + root.string(), "release"};
            while (!rel.empty() && rel.back() == '/') rel.pop_back();
            include.push_back(rel);
        }
    Selection sel;
    try {
        sel = select_files(root, git, gradescope, !gradescope, include);
    } catch (const std::exception& e) {
        std::cerr << "tito: " << e.what() << "\n";
        return kLoadError;
    }
    if (!sel.untracked.empty() && !vm.count("skip-untracked")) {
        std::cerr << "tito: " << sel.untracked.size() << " untracked file" << (sel.untracked.size() == 1 ? "" : "s")
                  << " in " << root.string() << " would not be released, and nothing says whether "
                  << (sel.untracked.size() == 1 ? "it" : "they") << " should:\n";
        for (size_t i = 0; i < sel.untracked.size() && i < 10; ++i) std::cerr << "  " << sel.untracked[i] << "\n";
        if (sel.untracked.size() > 10) std::cerr << "  ... and " << sel.untracked.size() - 10 << " more\n";
        std::cerr << "  Gradebooks, results and submissions belong outside the repository. Commit what should\n"
                     "  ship, add the rest to .gitignore, or: --include PATH (ship it), --skip-untracked (leave\n"
                     "  all of them out).\n";
        return kUsage;
    }

    fs::path out = fs::absolute(vm["out"].as<std::string>()).lexically_normal();
    if (out.filename().empty()) out = out.parent_path();
    {
        // DIR may not contain the repository (it would copy into itself).
        fs::path r = root.lexically_relative(out);
        if (out == root || (!r.empty() && r.native().rfind("..", 0) != 0))
            throw UsageError{"--out " + out.string() + " contains the repository; choose another directory",
                             "release"};
    }
    if (fs::exists(out) && !(fs::is_directory(out) && fs::is_empty(out))) {
        bool ours = files::is_release(out) || fs::exists(out / "run_autograder");
        if (!vm.count("force") || !ours) {
            std::cerr << "tito: " << out.string() << " exists and is not empty"
                      << (ours ? "; --force replaces it" : " (and holds no earlier release: choose another)")
                      << "\n";
            return kUsage;
        }
        fs::remove_all(out);
    }

    const fs::path tree = gradescope ? out / "tinytorch" : out;
    CopyStats st = copy_selection(root, tree, sel.files);

    // The stubs, as generated now, in student/ and as the pristine copy.
    size_t differs = 0;
    for (int m : modules) {
        const tt::ModuleInfo& info = tt::module_info(m);
        fs::path student = tree / "modules" / info.dir / "student";
        if (files::read_tree(student) != stubs[m]) differs++;
        files::write_tree(student, stubs[m]);
        files::write_tree(tree / ".tito" / "stubs" / info.dir, stubs[m]);
    }
    if (differs)
        std::cerr << "tito: note: the committed stubs of " << differs << " module" << (differs == 1 ? "" : "s")
                  << " differ from the generator; the release has the generated ones (./tito stubs check)\n";

    // The prebuilt reference libraries, stripped of local symbols and debug
    // information (the internal function names of the solution).
    std::vector<std::pair<std::string, std::string>> libs;
    fs::create_directories(tree / "prebuilt");
    size_t unstripped = 0;
    for (int m : modules) {
        std::string name = "tt_" + std::string(tt::module_info(m).dir) + "_reference.so";
        fs::copy_file(fs::path(p.lib_dir) / name, tree / "prebuilt" / name, fs::copy_options::overwrite_existing);
        if (!strip_library(tree / "prebuilt" / name)) unstripped++;
        auto h = tt::progress::fnv1a64_file((tree / "prebuilt" / name).string());
        libs.emplace_back(name, h ? hex64(*h) : "?");
    }
    if (unstripped)
        std::cerr << "tito: warning: " << unstripped << " prebuilt librar" << (unstripped == 1 ? "y" : "ies")
                  << " could not be stripped (is binutils' strip installed?): their internal symbol names ship\n";
    files::write_atomic(tree / "prebuilt" / "release.cmake", release_cmake());
    // The README: the student's workflow first, no instructor material.
    if (fs::exists(tree / "README.md"))
        files::write_atomic(tree / "README.md", student_readme(files::read(tree / "README.md")));
    files::write_atomic(tree / "prebuilt" / "README.md", prebuilt_readme(libs));

    if (!gradescope) {
        std::cout << "Student release written to " << out.string() << ":\n"
                  << "  " << st.files << " files copied (the files git tracks"
                  << (include.empty() ? "" : " and the --include ones")
                  << ", without the reference sources, the hidden tests and the instructor docs)\n"
                  << "  " << libs.size() << " prebuilt reference libraries in prebuilt/\n"
                  << "  pristine stubs in .tito/stubs/ (./tito module reset NN)\n"
                  << "Students: ./tito setup && ./tito test 01\n";
        return kOk;
    }

    std::string module_spec;
    for (int m : graded) module_spec += (module_spec.empty() ? "" : ",") + two_digits(m);
    write_executable(out / "setup.sh", setup_sh());
    write_executable(out / "run_autograder", run_autograder(module_spec, timeout, integrated));
    // autograder.zip: what Gradescope takes (setup.sh and run_autograder at the top).
    std::string cmake = "cmake";
#ifdef TT_CMAKE_COMMAND
    cmake = TT_CMAKE_COMMAND;
#endif
    ChildLimits lim;
    lim.timeout_s = 300;
    ChildResult zip = run_child({cmake, "-E", "chdir", out.string(), cmake, "-E", "tar", "cf", "autograder.zip",
                                 "--format=zip", "setup.sh", "run_autograder", "tinytorch"},
                                {}, lim);
    if (!zip.started || zip.exit_code != 0) {
        std::cerr << "tito: could not write " << (out / "autograder.zip").string() << ": "
                  << (zip.started ? zip.err : zip.start_error) << "\n";
        return kLoadError;
    }
    std::cout << "Gradescope autograder written to " << out.string() << ":\n"
              << "  autograder.zip   upload this (setup.sh, run_autograder, tinytorch/)\n"
              << "  tinytorch/       the student release plus grader/hidden/ (" << st.files
              << " files: the files git tracks" << (include.empty() ? "" : " and the --include ones") << ")\n"
              << "  grades modules " << module_spec << ", isolated, " << timeout << " s per test case\n";
    if (integrated)
        std::cout << "  and module " << two_digits(graded.back()) << " on the student's own "
                  << (graded.back() == 1 ? std::string("module 01") : "modules 01-" + two_digits(graded.back()))
                  << " (integrated; its own results.json entry, not in the total)\n";
    std::cout
              << "Try it locally: see docs/instructors.md (AUTOGRADER_ROOT).\n";
    return kOk;
}

}  // namespace tito
