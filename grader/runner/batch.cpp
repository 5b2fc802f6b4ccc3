// batch.cpp - `tito grade-batch SUBMISSIONS_DIR`: grade a whole class.
//
// Each submission is a directory with a student's files (layout in
// docs/instructors.md). Per submission, in a work directory of its own:
//   1. stage: copy the student files of each graded module into
//      src/modules/NN_name/student/ (a module the submission lacks gets the
//      pristine stub, graded zero);
//   2. build: configure grader/batch/ (the same CMake function as the
//      repository's modules) and build each student library on its own, so a
//      module that does not compile costs that module only;
//   3. grade: lib/ holds the student libraries and copies of the reference
//      ones; `tito-cli grade NN` (this program, as a child) grades each module
//      isolated, one process per test case, with --json;
//   4. report: DIR/<id>/results.json (Gradescope format, every module) and one
//      row of the gradebook CSV.
// A submission that does not compile, crashes or hangs is a row with the
// reason; the batch goes on.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "child.hpp"
#include "cli.hpp"
#include "instructor.hpp"

namespace fs = std::filesystem;
using tt::progress::Json;

namespace tito {

std::vector<int> parse_module_list_arg(const std::string& spec, const std::string& command);  // release.cpp

namespace {

struct Settings {
    fs::path root;         // the repository (grader/batch/, the stubs)
    fs::path bin_dir;      // tito-cli and the graders
    fs::path lib_dir;      // the reference libraries
    fs::path self;         // this program
    fs::path results_dir;  // <results>/<id>/
    fs::path work_dir;     // <work>/<id>/{src,build,lib}
    std::vector<int> modules;
    std::map<int, double> max_points;
    std::map<int, files::Tree> stubs;
    double timeout = 10;
    double build_timeout = 300;
    int parallel = 1;  // ninja jobs and test cases at a time, per submission
};

struct ModuleResult {
    int number = 0;
    bool has_files = false;
    bool built = false;
    bool graded = false;
    double score = 0, max = 0;
    std::string problem;  // does not compile / could not be graded: why
    std::string note;     // crashes, timeouts, load errors; missing files
    Json tests = Json::array();
};

struct SubmissionResult {
    std::string id;
    std::vector<ModuleResult> modules;
    double score = 0, max = 0;
    std::string status;  // ok | compile_error | error | no_files
    std::vector<std::string> reasons;
    double seconds = 0;
};

std::string dir_name(int m) { return tt::module_info(m).dir; }
std::string label(int m) { return two_digits(m) + " " + tt::module_info(m).name; }

std::string fmt(double v) {
    std::ostringstream os;
    os << std::setprecision(6) << v;
    return os.str();
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string shorten(std::string s, size_t n = 240) {
    if (s.size() > n) s = s.substr(0, n - 3) + "...";
    return s;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    if (from.empty()) return s;
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
    return s;
}

// A build log as a student should read it: paths relative to the submission
// ("modules/01_tensor/student/shape.cpp:48:1: error: ..."), no progress lines.
std::string readable_build_output(const std::string& text, const fs::path& src) {
    std::string s = replace_all(text, ".dir" + src.string() + "/", ".dir/");
    s = replace_all(s, src.string() + "/", "");
    std::istringstream in(s);
    std::string line, out;
    static const std::regex progress(R"(^\[[0-9]+/[0-9]+\] .*)");
    while (std::getline(in, line))
        if (!std::regex_match(line, progress)) out += line + "\n";
    return out;
}

std::string cmake_command() {
#ifdef TT_CMAKE_COMMAND
    return TT_CMAKE_COMMAND;
#else
    return "cmake";
#endif
}

// ------------------------------------------------------------ points per module

std::vector<std::string> nonempty_lines(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty() && line.find_first_not_of(" \r") != std::string::npos) out.push_back(line);
    return out;
}

// The most points a module's grader gives: its cases' [points:N] tags (1 for
// a case without one). Only the grader runs: it lists, it loads no module.
double max_points(const fs::path& grader) {
    ChildLimits lim;
    lim.timeout_s = 60;
    lim.capture_bytes = 8 << 20;
    const std::map<std::string, std::string> env = {{"TITO_IMPL", "reference"}};
    auto list = [&](std::vector<std::string> argv) {
        ChildResult r = run_child(argv, env, lim);
        if (!r.started || r.timed_out || r.signal)
            throw std::runtime_error("cannot list the test cases of " + grader.string());
        return r.out;
    };
    size_t all = nonempty_lines(list({grader.string(), "--list-test-names-only"})).size();
    std::string tags = list({grader.string(), "--list-tags"});
    static const std::regex tag_re(R"(\[points:\s*([0-9]+(?:\.[0-9]+)?)\s*\])", std::regex::icase);
    std::set<std::string> seen;
    double total = 0;
    size_t tagged = 0;
    for (auto it = std::sregex_iterator(tags.begin(), tags.end(), tag_re); it != std::sregex_iterator(); ++it) {
        if (!seen.insert(it->str()).second) continue;
        size_t n = nonempty_lines(list({grader.string(), it->str(), "--list-test-names-only"})).size();
        tagged += n;
        total += n * std::stod((*it)[1]);
    }
    return total + static_cast<double>(all > tagged ? all - tagged : 0);
}

// ------------------------------------------------------------ staging

bool is_source_name(const fs::path& p) {
    static const std::set<std::string> ext = {".cpp", ".cc", ".c", ".h", ".hpp", ".inc", ".ipp"};
    return ext.count(p.extension().string()) > 0;
}

// Source files directly in `dir` (not following symlinks).
std::vector<fs::path> sources_in(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    if (!fs::is_directory(fs::symlink_status(dir, ec))) return out;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (fs::is_regular_file(e.symlink_status()) && is_source_name(e.path())) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

bool looks_like_root(const fs::path& dir) {
    std::error_code ec;
    if (fs::is_directory(dir / "modules", ec)) return true;
    for (int m = 1; m <= tt::kModuleCount; ++m)
        if (fs::is_directory(dir / dir_name(m), ec)) return true;
    return false;
}

// A submission may be wrapped in one folder (an unzipped archive): go down
// while there is exactly one visible folder and nothing that looks like ours.
fs::path submission_root(fs::path dir) {
    for (int depth = 0; depth < 3 && !looks_like_root(dir); ++depth) {
        std::vector<fs::path> subdirs;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir, ec)) {
            std::string name = e.path().filename().string();
            if (name.empty() || name[0] == '.' || name == "__MACOSX") continue;
            if (fs::is_directory(e.symlink_status())) subdirs.push_back(e.path());
        }
        if (subdirs.size() != 1) break;
        dir = subdirs[0];
    }
    return dir;
}

// Where a submission keeps module m's files: the repository layout first.
std::optional<fs::path> module_sources(const fs::path& root, int m) {
    const std::string d = dir_name(m);
    for (const fs::path& cand : {root / "modules" / d / "student", root / d / "student", root / "modules" / d,
                                 root / d})
        if (!sources_in(cand).empty()) return cand;
    return std::nullopt;
}

// ------------------------------------------------------------ one submission

struct Logged {
    ChildResult r;
    bool ok() const { return r.started && !r.timed_out && !r.signal && r.exit_code == 0; }
};

Logged run_logged(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                  double timeout, std::string& log) {
    ChildLimits lim;
    lim.timeout_s = timeout;
    lim.capture_bytes = 1 << 20;
    Logged l{run_child(argv, env, lim)};
    log += "$";
    for (const std::string& a : argv) log += " " + a;
    log += "\n" + l.r.out + l.r.err;
    if (!l.r.started) log += l.r.start_error + "\n";
    if (l.r.timed_out) log += "[timed out after " + fmt(timeout) + " s]\n";
    if (l.r.signal) log += "[killed by " + signal_description(l.r.signal) + "]\n";
    log += "[exit " + std::to_string(l.r.exit_code) + "]\n\n";
    return l;
}

// The line of a compiler log that says what is wrong.
std::string compile_problem(const Logged& l, const fs::path& src, double timeout) {
    if (!l.r.started) return l.r.start_error;
    if (l.r.timed_out) return "the build took longer than " + fmt(timeout) + " s";
    std::vector<std::string> lines = nonempty_lines(readable_build_output(l.r.out + "\n" + l.r.err, src));
    for (const char* key : {": error:", "undefined reference", "CMake Error", "error"})
        for (size_t i = 0; i < lines.size(); ++i) {
            const std::string& line = lines[i];
            if (line.find(key) == std::string::npos || line.rfind("FAILED:", 0) == 0 ||
                line.rfind("ninja: build stopped", 0) == 0)
                continue;
            // "CMake Error at .../CheckExports.cmake:27 (message):" says what on the next line.
            if (std::string(key) == "CMake Error" && i + 1 < lines.size())
                return shorten(lines[i + 1].substr(lines[i + 1].find_first_not_of(' ')));
            return shorten(line);
        }
    return "the build failed (exit code " + std::to_string(l.r.exit_code) + ")";
}

void grade_module(const Settings& s, const fs::path& work, const fs::path& out, ModuleResult& mr) {
    const std::string nn = two_digits(mr.number);
    fs::path json_path = out / ("grade-" + nn + ".json");
    std::error_code ec;
    fs::remove(json_path, ec);
    std::string log;
    // Every case has its own time limit; this bounds the whole module.
    double limit = std::max(600.0, s.timeout * 400);
    Logged l = run_logged({s.self.string(), "grade", nn, "--no-record", "--json", json_path.string(),
                           "--timeout", fmt(s.timeout), "--jobs", std::to_string(s.parallel)},
                          {{"TITO_LIB_DIR", (work / "lib").string()},
                           {"TITO_IMPL", ""},
                           {"TITO_PROGRESS", (work / "progress.json").string()},
                           {"NO_COLOR", "1"}},
                          limit, log);
    files::write_atomic(out / ("grade-" + nn + ".txt"), log);
    Json doc;
    try {
        doc = Json::parse(files::read(json_path));
    } catch (const std::exception&) {
        std::string why = l.r.timed_out ? "timed out" : l.r.signal ? signal_description(l.r.signal)
                                                                     : "exit code " + std::to_string(l.r.exit_code);
        std::vector<std::string> lines = nonempty_lines(l.r.err);
        mr.problem = "could not be graded (" + why + ")" + (lines.empty() ? "" : ": " + shorten(lines.back()));
        return;
    }
    mr.graded = true;
    mr.score = doc.number_or("score", 0);
    mr.max = doc.number_or("max_score", s.max_points.at(mr.number));
    std::map<std::string, int> bad;
    if (const Json* tests = doc.find("tests"); tests && tests->is_array()) {
        for (const Json& t : tests->items()) {
            Json copy = t;
            std::string name = t.string_or("name", "?");
            copy.set("name", label(mr.number) + ": " + name);
            // Hidden cases: Gradescope shows them once the grades are published.
            if (name.rfind("hidden:", 0) == 0) copy.set("visibility", "after_published");
            std::string output = t.string_or("output", "");
            for (const char* outcome : {"crashed", "timed out", "load error"})
                if (output.rfind(outcome, 0) == 0) bad[outcome]++;
            mr.tests.push_back(copy);
        }
    }
    for (const auto& [outcome, n] : bad)
        mr.note += (mr.note.empty() ? "" : ", ") + std::to_string(n) + " " + outcome;
}

SubmissionResult grade_submission(const Settings& s, const fs::path& dir, const std::string& id) {
    auto t0 = std::chrono::steady_clock::now();
    SubmissionResult res;
    res.id = id;
    const fs::path out = s.results_dir / id;
    const fs::path work = s.work_dir / id;
    fs::create_directories(out);
    // What an earlier run left here would be mistaken for this run's.
    for (const auto& e : fs::directory_iterator(out)) {
        static const std::regex ours(R"((results\.json|build\.log|grade-[0-9][0-9]\.(txt|json)))");
        if (e.is_regular_file() && std::regex_match(e.path().filename().string(), ours)) fs::remove(e.path());
    }
    fs::remove_all(work);
    const fs::path src = work / "src", build = work / "build", lib = work / "lib";
    fs::create_directories(lib);

    // 1. Stage.
    const fs::path root = submission_root(dir);
    int with_files = 0;
    for (int m : s.modules) {
        ModuleResult mr;
        mr.number = m;
        mr.max = s.max_points.at(m);
        fs::path dest = src / "modules" / dir_name(m) / "student";
        fs::create_directories(dest);
        if (auto from = module_sources(root, m)) {
            mr.has_files = true;
            with_files++;
            for (const fs::path& f : sources_in(*from)) {
                if (fs::file_size(f) > (4u << 20)) {
                    mr.note = "skipped " + f.filename().string() + " (over 4 MiB)";
                    continue;
                }
                fs::copy_file(f, dest / f.filename(), fs::copy_options::overwrite_existing);
            }
        } else {
            files::write_tree(dest, s.stubs.at(m));
            mr.note = "no files in the submission: graded the stub";
        }
        res.modules.push_back(std::move(mr));
    }

    auto finish = [&](const std::string& status) {
        res.status = status;
        std::string absent;
        for (const ModuleResult& mr : res.modules) {
            res.score += mr.score;
            res.max += mr.max;
            if (!mr.problem.empty()) res.reasons.push_back(dir_name(mr.number) + " " + mr.problem);
            else if (!mr.has_files) absent += (absent.empty() ? "" : ", ") + two_digits(mr.number);
            else if (!mr.note.empty()) res.reasons.push_back(dir_name(mr.number) + ": " + mr.note);
        }
        if (!absent.empty() && status != "no_files")
            res.reasons.push_back("no files for module" + std::string(absent.size() > 2 ? "s " : " ") + absent +
                                  " (graded the stub)");
        res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return res;
    };

    if (with_files == 0) {
        for (ModuleResult& mr : res.modules) mr.note.clear();
        res.reasons.push_back("no student files found (expected modules/NN_name/student/*.cpp)");
        SubmissionResult r = finish("no_files");
        return r;
    }

    // 2. Build.
    std::string log;
    std::string module_list;
    for (int m : s.modules) module_list += (module_list.empty() ? "" : ";") + dir_name(m);
    std::vector<std::string> configure = {cmake_command(), "-S", (s.root / "grader" / "batch").string(),
                                          "-B", build.string(),
                                          "-DTT_SUBMISSION_DIR=" + src.string(),
                                          "-DTT_SUBMISSION_LIB_DIR=" + lib.string(),
                                          "-DTT_SUBMISSION_MODULES=" + module_list};
#ifdef TT_CMAKE_GENERATOR
    configure.push_back(std::string("-G") + TT_CMAKE_GENERATOR);
#endif
#ifdef TT_CMAKE_MAKE_PROGRAM
    if (*TT_CMAKE_MAKE_PROGRAM) configure.push_back(std::string("-DCMAKE_MAKE_PROGRAM=") + TT_CMAKE_MAKE_PROGRAM);
#endif
#ifdef TT_CXX_COMPILER
    if (*TT_CXX_COMPILER) configure.push_back(std::string("-DCMAKE_CXX_COMPILER=") + TT_CXX_COMPILER);
#endif
#ifdef TT_C_COMPILER
    if (*TT_C_COMPILER) configure.push_back(std::string("-DCMAKE_C_COMPILER=") + TT_C_COMPILER);
#endif
#ifdef TT_BUILD_TYPE
    if (*TT_BUILD_TYPE) configure.push_back(std::string("-DCMAKE_BUILD_TYPE=") + TT_BUILD_TYPE);
#endif
    Logged conf = run_logged(configure, {}, 300, log);
    if (!conf.ok()) {
        files::write_atomic(out / "build.log", log);
        for (ModuleResult& mr : res.modules) mr.problem = "not built: configuring the build failed (see build.log)";
        return finish("error");
    }
    bool compile_error = false;
    for (ModuleResult& mr : res.modules) {
        const tt::ModuleInfo& info = tt::module_info(mr.number);
        std::string target = "tt_" + std::string(info.dir) + "_student";
        Logged b = run_logged({cmake_command(), "--build", build.string(), "--target", target, "--parallel",
                               std::to_string(s.parallel)},
                              {}, s.build_timeout, log);
        mr.built = b.ok() && fs::exists(lib / (target + ".so"));
        if (!mr.built) {
            mr.problem = "does not compile: " + compile_problem(b, src, s.build_timeout);
            compile_error = true;
            mr.tests.push_back([&] {
                Json t = Json::object();
                t.set("name", label(mr.number) + ": the module builds");
                t.set("score", 0.0);
                t.set("max_score", mr.max);
                t.set("status", "failed");
                t.set("output", "Module " + label(mr.number) +
                                    " does not compile, so none of its tests could run.\n\n" +
                                    readable_build_output(b.r.out + b.r.err, src));
                return t;
            }());
        }
    }
    files::write_atomic(out / "build.log", replace_all(replace_all(log, ".dir" + src.string() + "/", ".dir/"),
                                                       src.string() + "/", ""));

    // 3. Grade: the reference libraries next to the student ones.
    for (int m = 1; m <= tt::kModuleCount; ++m) {
        std::string name = "tt_" + dir_name(m) + "_reference.so";
        if (fs::exists(s.lib_dir / name)) fs::copy_file(s.lib_dir / name, lib / name);
    }
    bool grading_error = false;
    for (ModuleResult& mr : res.modules) {
        if (!mr.built) continue;
        grade_module(s, work, out, mr);
        if (!mr.graded) {
            grading_error = true;
            Json t = Json::object();
            t.set("name", label(mr.number) + ": grading");
            t.set("score", 0.0);
            t.set("max_score", mr.max);
            t.set("status", "failed");
            t.set("output", "Module " + label(mr.number) + " " + mr.problem);
            mr.tests.push_back(t);
        }
    }
    return finish(compile_error ? "compile_error" : grading_error ? "error" : "ok");
}

// ------------------------------------------------------------ reports

std::string gradescope_json(const Settings& s, const SubmissionResult& r) {
    Json doc = Json::object();
    doc.set("score", r.score);
    doc.set("max_score", r.max);
    std::ostringstream os;
    os << "TinyTorch C++: each module graded isolated (your module on the reference modules below it).\n";
    for (const ModuleResult& mr : r.modules) {
        os << "  " << label(mr.number) << ": " << fmt(mr.score) << "/" << fmt(mr.max);
        if (!mr.problem.empty()) os << "  " << mr.problem;
        else if (!mr.note.empty()) os << "  (" << mr.note << ")";
        os << "\n";
    }
    if (r.status == "no_files")
        os << "No student files were found. Submit your modules/NN_name/student/ folders "
              "(the repository layout).\n";
    os << "Total: " << fmt(r.score) << "/" << fmt(r.max) << "\n";
    doc.set("output", os.str());
    Json tests = Json::array();
    for (const ModuleResult& mr : r.modules)
        for (const Json& t : mr.tests.items()) tests.push_back(t);
    if (r.status == "no_files")
        for (const ModuleResult& mr : r.modules) {
            Json t = Json::object();
            t.set("name", label(mr.number) + ": files submitted");
            t.set("score", 0.0);
            t.set("max_score", mr.max);
            t.set("status", "failed");
            t.set("output", "No files of module " + label(mr.number) + " were found in the submission.");
            tests.push_back(t);
        }
    doc.set("tests", tests);
    (void)s;
    return doc.dump(2) + "\n";
}

std::string csv_field(const std::string& v) {
    if (v.find_first_of(",\"\n\r") == std::string::npos) return v;
    std::string out = "\"";
    for (char c : v) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string gradebook_csv(const Settings& s, const std::vector<SubmissionResult>& rows) {
    std::ostringstream os;
    os << "id";
    for (int m : s.modules) os << "," << dir_name(m) << "," << dir_name(m) << "_max";
    os << ",total,max_total,status,reason\n";
    for (const SubmissionResult& r : rows) {
        os << csv_field(r.id);
        for (const ModuleResult& mr : r.modules) os << "," << fmt(mr.score) << "," << fmt(mr.max);
        std::string reason;
        for (const std::string& x : r.reasons) reason += (reason.empty() ? "" : "; ") + x;
        os << "," << fmt(r.score) << "," << fmt(r.max) << "," << r.status << "," << csv_field(reason) << "\n";
    }
    return os.str();
}

}  // namespace

int cmd_grade_batch(const std::vector<std::string>& args) {
    po::options_description opts("Options");
    opts.add_options()
        ("help,h", "show this help")
        ("jobs,j", po::value<int>()->default_value(1), "submissions graded at the same time")
        ("out,o", po::value<std::string>()->default_value("gradebook.csv"), "the gradebook CSV to write")
        ("results-dir", po::value<std::string>(),
         "per-submission results (results.json, logs); default: <out without .csv>-results/")
        ("modules", po::value<std::string>()->default_value("01-09"), "the modules to grade, e.g. 01-03,05")
        ("single", "SUBMISSIONS_DIR is one submission (the Gradescope autograder uses this)")
        ("timeout", po::value<double>()->default_value(10), "wall-clock seconds per test case")
        ("build-timeout", po::value<double>()->default_value(300), "seconds to build one module's library")
        ("work", po::value<std::string>(), "build here and keep it (default: a temporary directory, removed)");
    po::options_description hidden;
    hidden.add_options()("submissions", po::value<std::string>());
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("submissions", 1);
    po::variables_map vm = parse_args(args, all, pos, "grade-batch");
    if (vm.count("help")) {
        print_help("tito grade-batch SUBMISSIONS_DIR [-j N] [--out gradebook.csv] [--modules 01-09]",
                   "Grade every submission in SUBMISSIONS_DIR (one folder per student, holding\n"
                   "modules/NN_name/student/*.cpp; see docs/instructors.md). Each submission's\n"
                   "student libraries are built on their own, each module is graded isolated\n"
                   "(one process per test case, with the hidden tests), and the results go to\n"
                   "one CSV row per submission (per-module score and max, total, status, reason)\n"
                   "and <results-dir>/<id>/results.json (Gradescope format) with the build and\n"
                   "grading logs. A submission that does not compile or crashes is a row with\n"
                   "the reason. Exit 0 when the gradebook was written, whatever the grades.",
                   opts);
        return kOk;
    }
    if (!vm.count("submissions"))
        throw UsageError{"which submissions? e.g. tito grade-batch submissions/ -j 2", "grade-batch"};
    Settings s;
    s.modules = parse_module_list_arg(vm["modules"].as<std::string>(), "grade-batch");
    s.timeout = vm["timeout"].as<double>();
    s.build_timeout = vm["build-timeout"].as<double>();
    if (!(s.timeout > 0) || !(s.build_timeout > 0))
        throw UsageError{"--timeout and --build-timeout must be positive", "grade-batch"};
    int jobs = vm["jobs"].as<int>();
    if (jobs < 1) throw UsageError{"--jobs must be at least 1", "grade-batch"};
    fs::path subs = fs::absolute(vm["submissions"].as<std::string>()).lexically_normal();
    if (subs.filename().empty()) subs = subs.parent_path();
    if (!fs::is_directory(subs)) throw UsageError{subs.string() + " is not a directory", "grade-batch"};
    fs::path csv = fs::absolute(vm["out"].as<std::string>()).lexically_normal();
    s.results_dir = vm.count("results-dir")
                        ? fs::absolute(vm["results-dir"].as<std::string>()).lexically_normal()
                        : csv.parent_path() / (csv.stem().string() + "-results");

    const Paths& p = paths();
    s.bin_dir = p.bin_dir;
    s.lib_dir = p.lib_dir;
    s.self = fs::path(p.bin_dir) / "tito-cli";
    if (p.source_dir.empty() || !fs::exists(fs::path(p.source_dir) / "grader" / "batch" / "CMakeLists.txt")) {
        std::cerr << "tito: grade-batch needs the repository (grader/batch/CMakeLists.txt); not found\n";
        return kLoadError;
    }
    s.root = p.source_dir;

    // What grading needs: the graders, the reference libraries, the stubs.
    bool missing = false;
    for (int m : s.modules) {
        fs::path grader = s.bin_dir / ("tt_grade_" + two_digits(m));
        if (!fs::exists(grader)) {
            std::cerr << "tito: the grader " << grader.string() << " is not built yet\n";
            missing = true;
        }
        for (int d = 1; d <= tt::kModuleCount; ++d) {
            if (d != m && !(tt::module_info(m).deps_mask & (1u << d))) continue;
            fs::path lib = s.lib_dir / ("tt_" + dir_name(d) + "_reference.so");
            if (!fs::exists(lib)) {
                std::cerr << "tito: the reference library " << lib.string() << " is not built yet\n";
                missing = true;
            }
        }
        std::optional<files::Tree> stub;
        try {
            stub = files::pristine_stubs(s.root, m, nullptr);
        } catch (const std::exception& e) {
            std::cerr << "tito: " << e.what() << "\n";
        }
        if (!stub) {
            std::cerr << "tito: no stub of module " << two_digits(m) << " (modules/" << dir_name(m)
                      << "/reference/ or .tito/stubs/" << dir_name(m) << "/)\n";
            missing = true;
        } else {
            s.stubs[m] = *stub;
        }
    }
    if (missing) {
        std::cerr << "  build first: ./tito (or cmake --build " << p.build_dir << " --target tt_grading)\n";
        return kLoadError;
    }
    for (int m : s.modules) {
        try {
            s.max_points[m] = max_points(s.bin_dir / ("tt_grade_" + two_digits(m)));
        } catch (const std::exception& e) {
            std::cerr << "tito: " << e.what() << "\n";
            return kLoadError;
        }
    }

    // The submissions.
    std::vector<std::pair<std::string, fs::path>> todo;
    if (vm.count("single")) {
        todo.emplace_back(subs.filename().string(), subs);
    } else {
        for (const auto& e : fs::directory_iterator(subs)) {
            std::string name = e.path().filename().string();
            if (name.empty() || name[0] == '.' || name == "__MACOSX" || !e.is_directory()) continue;
            todo.emplace_back(name, e.path());
        }
        std::sort(todo.begin(), todo.end());
    }
    if (todo.empty()) {
        std::cerr << "tito: no submissions in " << subs.string() << " (expected one folder per student)\n";
        return kUsage;
    }

    // Work directory.
    bool keep_work = vm.count("work") > 0;
    if (keep_work) {
        s.work_dir = fs::absolute(vm["work"].as<std::string>()).lexically_normal();
        fs::create_directories(s.work_dir);
    } else {
        std::string tmpl = (fs::temp_directory_path() / "tito-batch-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory");
        s.work_dir = tmpl;
        // Test cases may run as an unprivileged user: they must reach lib/.
        fs::permissions(s.work_dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                        fs::perms::others_read | fs::perms::others_exec);
    }
    struct Cleanup {
        fs::path dir;
        bool keep;
        ~Cleanup() {
            std::error_code ec;
            if (!keep) fs::remove_all(dir, ec);
        }
    } cleanup{s.work_dir, keep_work};
    fs::create_directories(s.results_dir);

    jobs = std::min<int>(jobs, static_cast<int>(todo.size()));
    long cpus = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
    s.parallel = static_cast<int>(std::max(1L, cpus / jobs));

    std::string module_spec;
    for (int m : s.modules) module_spec += (module_spec.empty() ? "" : ",") + two_digits(m);
    double max_total = 0;
    for (int m : s.modules) max_total += s.max_points[m];
    std::cout << "Grading " << todo.size() << " submission" << (todo.size() == 1 ? "" : "s") << " from "
              << subs.string() << "\n  modules " << module_spec << " (isolated, " << fmt(max_total)
              << " points), " << jobs << " at a time, " << fmt(s.timeout) << " s per test case\n"
              << std::flush;

    std::vector<std::optional<SubmissionResult>> results(todo.size());
    std::mutex mu;
    std::atomic<size_t> next{0};
    size_t done = 0;
    auto write_gradebook = [&] {
        std::vector<SubmissionResult> rows;
        for (const auto& r : results)
            if (r) rows.push_back(*r);
        files::write_atomic(csv, gradebook_csv(s, rows));
    };
    auto worker = [&] {
        for (;;) {
            size_t i = next++;
            if (i >= todo.size()) return;
            const auto& [id, dir] = todo[i];
            SubmissionResult r;
            try {
                r = grade_submission(s, dir, id);
            } catch (const std::exception& e) {
                r = SubmissionResult{};
                r.id = id;
                r.status = "error";
                r.reasons.push_back(std::string("grading stopped: ") + e.what());
                for (int m : s.modules) {
                    ModuleResult mr;
                    mr.number = m;
                    mr.max = s.max_points.at(m);
                    r.max += mr.max;
                    r.modules.push_back(mr);
                }
            }
            try {
                files::write_atomic(s.results_dir / id / "results.json", gradescope_json(s, r));
            } catch (const std::exception& e) {
                r.reasons.push_back(std::string("cannot write results.json: ") + e.what());
            }
            std::lock_guard<std::mutex> lock(mu);
            results[i] = r;
            ++done;
            std::cout << "  [" << done << "/" << todo.size() << "] " << r.id << ": " << fmt(r.score) << "/"
                      << fmt(r.max) << "  " << r.status;
            if (!r.reasons.empty()) std::cout << "  (" << shorten(first_line(r.reasons.front()), 100) << ")";
            std::cout << "  " << std::fixed << std::setprecision(0) << r.seconds << " s\n"
                      << std::defaultfloat << std::flush;
            write_gradebook();
        }
    };
    std::vector<std::thread> threads;
    for (int j = 0; j < jobs; ++j) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    write_gradebook();

    std::cout << "Gradebook: " << csv.string() << " (" << todo.size() << " row" << (todo.size() == 1 ? "" : "s")
              << ")\nPer submission: " << s.results_dir.string() << "/<id>/results.json, build.log, grade-NN.txt\n";
    return kOk;
}

}  // namespace tito
