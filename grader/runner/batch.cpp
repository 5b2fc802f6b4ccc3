// batch.cpp - `tito grade-batch SUBMISSIONS_DIR`: grade a whole class.
//
// Each submission is a directory (or a .zip / .tar.gz) with a student's files
// (layout in docs/instructors.md). Per submission, in a work directory named
// by its index (never by the student's name, which may hold anything):
//   1. stage: copy the student files of each graded module into
//      src/modules/NN_name/student/ (a module the submission lacks gets the
//      pristine stub, graded zero; a flat upload's files are mapped by their
//      unique names; files that look like module files but are not used are
//      named in the reason);
//   2. build: configure grader/batch/ (from a copy of the public headers and
//      CMake files: the build never needs the repository) and build each
//      student library on its own, so a module that does not compile costs
//      that module only. As root, the build runs as an unprivileged user of
//      its own, in folders only that user can read: a submission cannot
//      #include or .incbin a root-only file, nor read another submission;
//      and the checkout and build tree are hidden from it (a mount namespace),
//      so it cannot #include the reference sources by their absolute path;
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

#include <csignal>
#include <cstring>
#include <functional>
#include <fstream>

#include <sys/stat.h>

#include "child.hpp"
#include "cli.hpp"
#include "gradebook.hpp"
#include "instructor.hpp"
#include "isolation.hpp"
#include "tinytorch/progress.hpp"

namespace fs = std::filesystem;
using tt::progress::Json;

namespace tito {

std::vector<int> parse_module_list_arg(const std::string& spec, const std::string& command);  // release.cpp

namespace {

struct Settings {
    fs::path root;         // the repository (the stubs, the reference sources for the hints)
    fs::path toolchain;    // <work>/toolchain: grader/batch/, cmake/, core/include/ copied
    fs::path bin_dir;      // tito-cli and the graders
    fs::path lib_dir;      // the reference libraries
    fs::path self;         // this program
    fs::path results_dir;  // <results>/<id>/
    fs::path work_dir;     // <work>/<id>/{src,build,lib}
    std::vector<int> modules;
    std::map<int, double> max_points;
    std::map<int, files::Tree> stubs;
    std::map<int, files::Tree> references;  // for "identical to the reference"
    double timeout = 10;
    double module_budget = 300;  // seconds for one module's grading run
    int max_timeouts = 3;        // a module's run stops after this many timed-out cases
    bool drop_builds = false;    // root: builds run as an unprivileged user
    std::vector<std::string> hide_from_builds;  // the checkout and build tree (child.hpp hide_dirs)
    bool integrated = false;     // also grade the top module on the student's own stack
    fs::path leaderboard;        // --leaderboard: milestone 04 part 1 on each unlocking stack
    std::string hidden_visibility = "after_published";
    std::string live_results;    // --single: results.json rewritten as cases finish
    fs::path export_dir;         // --export-sources: DIR/NN_name/<id>/...
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
    files::Tree sources;  // what was staged from the submission (file name -> text)
    std::string hash;     // gradebook::normalised_hash(sources), "" without files
    bool is_reference = false;  // the sources are the reference's, comments aside
};

// --leaderboard: milestone 04 part 1 on the submission's own libraries.
// Every figure is read from the metrics.json that run wrote.
struct MilestoneRun {
    std::string status;  // "" not run | ok | locked | failed
    std::string note;    // why not, or what went wrong
    double cnn_clean = 0, cnn_shifted = 0, mlp_clean = 0, mlp_shifted = 0;  // test accuracy (0..1)
    double cnn_seconds = 0, mlp_seconds = 0;  // training seconds, as the run measured them
    double run_seconds = 0;                   // the whole run, wall clock (measured here)
};

struct SubmissionResult {
    std::string id;
    std::vector<ModuleResult> modules;
    double score = 0, max = 0;
    std::string status;  // ok | compile_error | error | no_files
    std::vector<std::string> reasons;
    double seconds = 0;
    std::string similarity;  // filled in for the CSV
    double integrated_score = -1, integrated_max = 0;  // --integrated
    std::string integrated_output;  // the integrated run's cases, for its results.json entry
    MilestoneRun milestone;         // --leaderboard
};

std::string dir_name(int m) { return tt::module_info(m).dir; }
std::string label(int m) { return two_digits(m) + " " + tt::module_info(m).name; }

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
std::string readable_build_output(const std::string& text, const fs::path& src, const fs::path& toolchain) {
    std::string s = replace_all(text, ".dir" + src.string() + "/", ".dir/");
    s = replace_all(s, src.string() + "/", "");
    if (!toolchain.empty()) s = replace_all(s, toolchain.string() + "/", "");
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

bool skipped_name(const std::string& name) { return name.empty() || name[0] == '.' || name == "__MACOSX"; }

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

// Every source file under `root` (no symlinks, no hidden folders), relative,
// at most 6 levels and 5000 entries deep.
std::vector<std::string> all_sources(const fs::path& root) {
    std::vector<std::string> out;
    std::error_code ec;
    size_t seen = 0;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        if (++seen > 5000) break;
        const std::string name = it->path().filename().string();
        fs::file_status st = it->symlink_status();
        if (fs::is_directory(st) && (skipped_name(name) || it.depth() >= 6)) {
            it.disable_recursion_pending();
            continue;
        }
        if (fs::is_regular_file(st) && is_source_name(it->path()))
            out.push_back(fs::relative(it->path(), root).generic_string());
    }
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
// while there is exactly one visible folder, no source file and nothing that
// looks like ours.
fs::path submission_root(fs::path dir) {
    for (int depth = 0; depth < 3 && !looks_like_root(dir) && sources_in(dir).empty(); ++depth) {
        std::vector<fs::path> subdirs;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir, ec)) {
            if (skipped_name(e.path().filename().string())) continue;
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

// The graded module whose stub has a file of this name, when exactly one has.
std::optional<int> module_of_file_name(const Settings& s, const std::string& name) {
    std::optional<int> found;
    for (int m : s.modules)
        if (s.stubs.at(m).count(name)) {
            if (found) return std::nullopt;
            found = m;
        }
    return found;
}

// ------------------------------------------------------------ one submission

struct Logged {
    ChildResult r;
    bool ok() const { return r.started && !r.timed_out && !r.signal && r.exit_code == 0; }
};

Logged run_logged(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                  double timeout, std::string& log, long uid = -1, const std::vector<std::string>& hide = {}) {
    ChildLimits lim;
    lim.timeout_s = timeout;
    lim.capture_bytes = 1 << 20;
    lim.run_as_uid = lim.run_as_gid = uid;
    lim.hide_dirs = hide;
    Logged l{run_child(argv, env, lim)};
    log += "$";
    for (const std::string& a : argv) log += " " + a;
    log += "\n" + l.r.out + l.r.err;
    if (!l.r.started) log += l.r.start_error + "\n";
    if (l.r.timed_out) log += "[timed out after " + format_number(timeout) + " s]\n";
    if (l.r.signal) log += "[killed by " + signal_description(l.r.signal) + "]\n";
    log += "[exit " + std::to_string(l.r.exit_code) + "]\n\n";
    return l;
}

// "modules/01_tensor/student/shape.cpp:48:7: error: ..." -> true (a location in the student's files).
bool in_student_file(const std::string& line) {
    static const std::regex loc(R"(^modules/[0-9][0-9]_[a-z]+/student/[^:]+:[0-9]+:([0-9]+:)?.*)");
    return std::regex_match(line, loc);
}

// The line of a compiler log that says what is wrong, at the student's own
// line: an error inside a header's macro names the student's line in a later
// "in expansion of macro" / "required from here" note, which is used instead.
std::string compile_problem(const Settings& s, const Logged& l, const fs::path& src, double timeout) {
    if (!l.r.started) return l.r.start_error;
    if (l.r.timed_out) return "the build took longer than " + format_number(timeout) + " s";
    std::vector<std::string> lines =
        nonempty_lines(readable_build_output(l.r.out + "\n" + l.r.err, src, s.toolchain));
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        size_t at = line.find(": error:");
        if (at == std::string::npos) at = line.find(": fatal error:");
        if (at == std::string::npos || line.rfind("FAILED:", 0) == 0) continue;
        if (in_student_file(line)) return shorten(line);
        for (size_t j = i + 1; j < lines.size() && j < i + 40; ++j) {
            if (lines[j].find("error:") != std::string::npos) break;
            if (!in_student_file(lines[j])) continue;
            std::string where = lines[j].substr(0, lines[j].find(": "));
            return shorten(where + line.substr(at));
        }
        return shorten(line);
    }
    for (const char* key : {"undefined reference", "CMake Error", "error"})
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

// Cases of a grade report that timed out.
size_t timed_out_cases(const Json& doc) {
    size_t n = 0;
    if (const Json* tests = doc.find("tests"); tests && tests->is_array())
        for (const Json& t : tests->items())
            if (t.string_or("output", "").rfind("timed out", 0) == 0) n++;
    return n;
}

// The module's grade report (as far as it got) into `mr`.
void take_report(const Settings& s, const Json& doc, ModuleResult& mr) {
    mr.graded = true;
    mr.score = doc.number_or("score", 0);
    mr.max = s.max_points.at(mr.number);
    mr.tests = Json::array();
    std::map<std::string, int> bad;
    if (const Json* tests = doc.find("tests"); tests && tests->is_array()) {
        for (const Json& t : tests->items()) {
            Json copy = t;
            copy.set("name", label(mr.number) + ": " + t.string_or("name", "?"));
            // The grader marks its hidden cases (the [hidden] tag, never the
            // name); the instructor chooses when Gradescope shows them.
            if (t.string_or("visibility", "visible") != "visible") copy.set("visibility", s.hidden_visibility);
            std::string output = t.string_or("output", "");
            for (const char* outcome : {"crashed", "timed out", "load error"})
                if (output.rfind(outcome, 0) == 0) bad[outcome]++;
            mr.tests.push_back(copy);
        }
    }
    mr.note.clear();
    for (const auto& [outcome, n] : bad)
        mr.note += (mr.note.empty() ? "" : ", ") + std::to_string(n) + " " + outcome;
}

// The grading child of one module: found by its parent (us) and its report
// path on its command line, so that it can be stopped early.
void kill_grading_child(const std::string& json_path) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        std::string pid = e.path().filename().string();
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat(e.path() / "stat");
        std::string line;
        std::getline(stat, line);
        size_t close = line.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(line.substr(close + 2));
        std::string state;
        long ppid = 0;
        rest >> state >> ppid;
        if (ppid != getpid()) continue;
        std::ifstream cmd(e.path() / "cmdline", std::ios::binary);
        std::string argv((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
        if (argv.find(json_path + '\0') == std::string::npos) continue;
        // The child leads its own process group (run_child calls setsid).
        kill(-static_cast<pid_t>(std::stol(pid)), SIGKILL);
    }
}

using Progress = std::function<void(const ModuleResult&)>;

void grade_module(const Settings& s, const fs::path& work, const fs::path& out, ModuleResult& mr,
                  const Progress& progress) {
    const std::string nn = two_digits(mr.number);
    const fs::path json_path = work / ("grade-" + nn + ".json");
    std::error_code ec;
    fs::remove(json_path, ec);
    std::string log;
    // While the module is graded, its report (rewritten after every case) is
    // watched: the live results.json follows it, and the run is stopped after
    // --max-timeouts timed-out cases (a hung module would cost every case's limit).
    std::atomic<bool> done{false};
    std::atomic<bool> stopped{false};
    std::thread watcher([&] {
        fs::file_time_type seen{};
        while (!done) {
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
            std::error_code e;
            auto t = fs::last_write_time(json_path, e);
            if (e || t == seen) continue;
            seen = t;
            try {
                Json doc = Json::parse(files::read(json_path));
                ModuleResult partial = mr;
                take_report(s, doc, partial);
                if (progress) progress(partial);
                if (s.max_timeouts > 0 && timed_out_cases(doc) >= static_cast<size_t>(s.max_timeouts) && !stopped) {
                    stopped = true;
                    kill_grading_child(json_path.string());
                }
            } catch (const std::exception&) {
            }
        }
    });
    Logged l = run_logged({s.self.string(), "grade", nn, "--no-record", "--json", json_path.string(),
                           "--timeout", format_number(s.timeout), "--jobs", std::to_string(s.parallel)},
                          {{"TITO_LIB_DIR", (work / "lib").string()},
                           {"TITO_IMPL", ""},
                           {"TITO_PROGRESS", (work / "progress.json").string()},
                           {"NO_COLOR", "1"}},
                          s.module_budget, log);
    done = true;
    watcher.join();
    files::write_atomic(out / ("grade-" + nn + ".txt"), log);
    Json doc;
    try {
        std::string text = files::read(json_path);
        files::write_atomic(out / ("grade-" + nn + ".json"), text);
        doc = Json::parse(text);
    } catch (const std::exception&) {
        std::string why = l.r.timed_out ? "timed out" : l.r.signal ? signal_description(l.r.signal)
                                                                     : "exit code " + std::to_string(l.r.exit_code);
        std::vector<std::string> lines = nonempty_lines(l.r.err);
        mr.problem = "could not be graded (" + why + ")" + (lines.empty() ? "" : ": " + shorten(lines.back()));
        return;
    }
    take_report(s, doc, mr);
    size_t finished = mr.tests.size();
    if (stopped)
        mr.note += (mr.note.empty() ? "" : ", ") + std::string("stopped after ") + std::to_string(s.max_timeouts) +
                   " timed-out cases (" + std::to_string(finished) + " cases run; the rest score 0)";
    else if (l.r.timed_out)
        mr.note += (mr.note.empty() ? "" : ", ") + std::string("the module's time budget (") + format_number(s.module_budget) +
                   " s) ran out after " + std::to_string(finished) + " cases (the rest score 0)";
}

// A user for the builds of one tito process: far above any real account and
// below the per-case users of isolation.cpp (from 2,000,000,000), one per
// submission slot, distinct between tito processes.
long build_uid(size_t index) {
    return 1900000000L + static_cast<long>(getpid() % 30000) * 1024 + static_cast<long>(index % 1024);
}

// mkdir with a mode, owned by `uid` (when >= 0); an existing path is an error.
void make_dir(const fs::path& p, mode_t mode, long uid = -1) {
    if (mkdir(p.c_str(), mode) != 0)
        throw std::runtime_error("cannot create " + p.string() + ": " + std::strerror(errno));
    chmod(p.c_str(), mode);
    if (uid >= 0 && chown(p.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(uid)) != 0)
        throw std::runtime_error("cannot give " + p.string() + " to the build user: " + std::strerror(errno));
}

void chown_tree(const fs::path& dir, long uid) {
    if (uid < 0) return;
    std::error_code ec;
    lchown(dir.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(uid));
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        lchown(it->path().c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(uid));
}

// .zip / .tar.gz / .tgz / .tar: unpacked into `dest` by the build user.
bool is_archive(const fs::path& p) {
    std::string n = p.filename().string();
    for (const char* ext : {".zip", ".tar.gz", ".tgz", ".tar"})
        if (n.size() > std::strlen(ext) && n.compare(n.size() - std::strlen(ext), std::strlen(ext), ext) == 0)
            return true;
    return false;
}

std::string archive_id(const fs::path& p) {
    std::string n = p.filename().string();
    for (const char* ext : {".zip", ".tar.gz", ".tgz", ".tar"})
        if (n.size() > std::strlen(ext) && n.compare(n.size() - std::strlen(ext), std::strlen(ext), ext) == 0)
            return n.substr(0, n.size() - std::strlen(ext));
    return n;
}

std::string unpack(const Settings& s, const fs::path& archive, const fs::path& dest, long uid, std::string& log) {
    if (fs::file_size(archive) > (64u << 20)) return "the archive is over 64 MiB";
    fs::path copy = dest / ("upload" + std::string(archive.extension() == ".zip" ? ".zip" : ".tar.gz"));
    fs::copy_file(archive, copy);
    chown_tree(dest, uid);
    Logged l = run_logged({cmake_command(), "-E", "chdir", dest.string(), cmake_command(), "-E", "tar", "xf",
                           copy.filename().string()},
                          {{"HOME", dest.string()}}, 120, log, uid);
    fs::remove(copy);
    (void)s;
    if (!l.ok()) return "the archive could not be unpacked: " + shorten(first_line(l.r.err + l.r.out), 160);
    return "";
}

// Stage the graded modules' files into src/; the module results, with notes.
std::vector<ModuleResult> stage(const Settings& s, const fs::path& root, const fs::path& src, int& with_files,
                                std::vector<std::string>& remarks) {
    std::vector<ModuleResult> modules;
    const std::vector<std::string> found = all_sources(root);
    std::set<std::string> used;
    // A flat upload: files named like exactly one graded module's, found once.
    std::map<std::string, int> name_count;
    for (const std::string& rel : found) name_count[fs::path(rel).filename().string()]++;
    for (int m : s.modules) {
        ModuleResult mr;
        mr.number = m;
        mr.max = s.max_points.at(m);
        fs::path dest = src / "modules" / dir_name(m) / "student";
        fs::create_directories(dest);
        std::vector<fs::path> chosen;
        bool flat = false;
        if (auto from = module_sources(root, m)) {
            chosen = sources_in(*from);
        } else {
            for (const std::string& rel : found) {
                std::string name = fs::path(rel).filename().string();
                if (name_count[name] == 1 && module_of_file_name(s, name) == m) chosen.push_back(root / rel);
            }
            flat = !chosen.empty();
        }
        if (chosen.empty()) {
            files::write_tree(dest, s.stubs.at(m));
            mr.note = "no files in the submission: graded the stub";
            modules.push_back(std::move(mr));
            continue;
        }
        mr.has_files = true;
        with_files++;
        // A flat upload may hold only the files the student changed: the stub has the rest.
        if (flat) files::write_tree(dest, s.stubs.at(m));
        for (const fs::path& f : chosen) {
            used.insert(fs::relative(f, root).generic_string());
            if (fs::file_size(f) > (4u << 20)) {
                mr.note = "skipped " + f.filename().string() + " (over 4 MiB)";
                continue;
            }
            std::string text = files::read(f);
            mr.sources[f.filename().string()] = text;
            files::write_atomic(dest / f.filename(), text);
        }
        if (flat) {
            std::string names;
            for (const fs::path& f : chosen) names += (names.empty() ? "" : ", ") + fs::relative(f, root).generic_string();
            remarks.push_back(two_digits(m) + " from a flat upload: " + names);
        }
        mr.hash = gradebook::normalised_hash(mr.sources);
        // Identical to the reference, comments and layout aside (solution markers included).
        if (auto ref = s.references.find(m); ref != s.references.end()) {
            bool same = true, any = false;
            for (const auto& [name, text] : mr.sources) {
                auto r = ref->second.find(name);
                if (r == ref->second.end()) continue;
                any = true;
                same = same && gradebook::normalise(text) == gradebook::normalise(r->second);
            }
            mr.is_reference = any && same && mr.sources != s.stubs.at(m);
        }
        modules.push_back(std::move(mr));
    }
    // Files that look like a module's but were not used: say where they belong.
    std::vector<std::string> unused;
    for (const std::string& rel : found) {
        if (used.count(rel)) continue;
        std::string name = fs::path(rel).filename().string();
        if (auto m = module_of_file_name(s, name); m && name_count[name] == 1)
            unused.push_back(rel + " (not used: module " + two_digits(*m) + "'s files go in modules/" +
                             dir_name(*m) + "/student/)");
    }
    for (size_t i = 0; i < unused.size() && i < 5; ++i) remarks.push_back(unused[i]);
    if (unused.size() > 5) remarks.push_back(std::to_string(unused.size() - 5) + " more unused files");
    if (with_files == 0 && !found.empty()) {
        std::string names;
        for (size_t i = 0; i < found.size() && i < 5; ++i) names += (i ? ", " : "") + found[i];
        remarks.push_back("found only " + names + (found.size() > 5 ? ", ..." : ""));
    }
    return modules;
}

struct Submission {
    std::string id;  // the folder's (or archive's) name: the gradebook id
    fs::path path;   // a folder or an archive
    size_t index = 0;
};

SubmissionResult finish_result(SubmissionResult res, const std::string& status, const std::vector<std::string>& remarks,
                               std::chrono::steady_clock::time_point t0) {
    res.status = status;
    res.score = res.max = 0;
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
    for (const std::string& r : remarks) res.reasons.push_back(r);
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return res;
}

Json failed_case(const std::string& name, double max, const std::string& output) {
    Json t = Json::object();
    t.set("name", name);
    t.set("score", 0.0);
    t.set("max_score", max);
    t.set("status", "failed");
    t.set("output", output);
    return t;
}

std::vector<std::string> configure_command(const Settings& s, const fs::path& src, const fs::path& build,
                                           const fs::path& built) {
    std::string module_list;
    for (int m : s.modules) module_list += (module_list.empty() ? "" : ";") + dir_name(m);
    std::vector<std::string> configure = {cmake_command(), "-S", (s.toolchain / "grader" / "batch").string(),
                                          "-B", build.string(),
                                          "-DTT_SUBMISSION_DIR=" + src.string(),
                                          "-DTT_SUBMISSION_LIB_DIR=" + built.string(),
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
    return configure;
}

// What a build must not see: the checkout (reference sources, hidden tests)
// and the build tree, minus folders nested in another one or holding the work
// folder. Empty, after one warning, where no mount namespace can be made.
std::vector<std::string> folders_to_hide_from_builds(const Settings& s) {
    std::vector<fs::path> wanted;
    for (const std::string& d : {paths().source_dir, paths().build_dir})
        if (!d.empty() && fs::is_directory(d)) wanted.push_back(fs::weakly_canonical(d));
    auto inside = [](const fs::path& p, const fs::path& dir) {
        auto rel = p.lexically_relative(dir);
        return !rel.empty() && *rel.begin() != "..";
    };
    const fs::path work = fs::weakly_canonical(s.work_dir);
    std::vector<std::string> hide;
    for (const fs::path& d : wanted) {
        if (inside(work, d)) {
            std::cerr << "tito: warning: the work folder " << work.string() << " is inside " << d.string()
                      << ": the builds can read it (use a --work folder outside the checkout)\n";
            continue;
        }
        bool nested = std::any_of(wanted.begin(), wanted.end(),
                                  [&](const fs::path& other) { return other != d && inside(d, other); });
        if (!nested) hide.push_back(d.string());
    }
    if (!hide.empty() && !namespaces_available()) {
        std::cerr << "tito: warning: no mount namespace here: the submissions' builds can read this checkout "
                     "(a submission could #include a reference source by its path); make modules/*/reference "
                     "and grader/hidden unreadable to others (chmod -R o-rwx) before grading\n";
        hide.clear();
    }
    return hide;
}

// Build every staged module as `uid` (-1: tito's user); the libraries go to built/.
bool build_modules(const Settings& s, SubmissionResult& res, const fs::path& src, const fs::path& build,
                   const fs::path& built, long uid, std::string& log) {
    const std::map<std::string, std::string> env = {{"HOME", build.string()}, {"TMPDIR", build.string()}};
    Logged conf = run_logged(configure_command(s, src, build, built), env, 300, log, uid, s.hide_from_builds);
    if (!conf.ok()) {
        for (ModuleResult& mr : res.modules) mr.problem = "not built: configuring the build failed (see build.log)";
        return false;
    }
    bool compile_error = false;
    for (ModuleResult& mr : res.modules) {
        const tt::ModuleInfo& info = tt::module_info(mr.number);
        std::string target = "tt_" + std::string(info.dir) + "_student";
        Logged b = run_logged({cmake_command(), "--build", build.string(), "--target", target, "--parallel",
                               std::to_string(s.parallel)},
                              env, s.build_timeout, log, uid, s.hide_from_builds);
        std::error_code ec;
        mr.built = b.ok() && fs::is_regular_file(fs::symlink_status(built / (target + ".so"), ec));
        if (mr.built) continue;
        mr.problem = "does not compile: " + compile_problem(s, b, src, s.build_timeout);
        compile_error = true;
        mr.tests.push_back(failed_case(label(mr.number) + ": the module builds", mr.max,
                                       "Module " + label(mr.number) +
                                           " does not compile, so none of its tests could run.\n\n" +
                                           readable_build_output(b.r.out + b.r.err, src, s.toolchain)));
    }
    return !compile_error;
}

// --integrated: the milestone-unlocking run, module NN on the student's own
// 01..NN, in a column of its own (not added to the total). With --leaderboard
// the grade is recorded in the submission's own progress store
// (<work>/progress.json, root's), which the milestone's gate then reads.
void grade_integrated(const Settings& s, const fs::path& work, const fs::path& out, SubmissionResult& res) {
    const int top = s.modules.back();
    const std::string nn = two_digits(top);
    res.integrated_max = s.max_points.at(top);
    res.integrated_score = 0;
    for (const ModuleResult& mr : res.modules)
        if (!mr.built) {
            res.integrated_output = "Not run: module " + label(mr.number) + " does not compile.";
            return;
        }
    const fs::path json_path = work / ("grade-" + nn + "-integrated.json");
    std::string log;
    std::vector<std::string> argv = {s.self.string(), "grade", nn, "--integrated", "--json", json_path.string(),
                                     "--timeout", format_number(s.timeout), "--jobs", std::to_string(s.parallel)};
    if (s.leaderboard.empty()) argv.push_back("--no-record");
    run_logged(argv,
               {{"TITO_LIB_DIR", (work / "lib").string()},
                {"TITO_IMPL", ""},
                {"TITO_PROGRESS", (work / "progress.json").string()},
                {"NO_COLOR", "1"}},
               s.module_budget, log);
    files::write_atomic(out / ("grade-" + nn + "-integrated.txt"), log);
    try {
        std::string text = files::read(json_path);
        files::write_atomic(out / ("grade-" + nn + "-integrated.json"), text);
        Json doc = Json::parse(text);
        res.integrated_score = doc.number_or("score", 0);
        // The entry's output: how many cases passed, the visible ones that did not.
        size_t total = 0, passed = 0, hidden_failed = 0, failed_listed = 0;
        std::string failed;
        if (const Json* tests = doc.find("tests"); tests && tests->is_array())
            for (const Json& t : tests->items()) {
                total++;
                if (t.string_or("status", "") == "passed") {
                    passed++;
                } else if (t.string_or("visibility", "visible") != "visible") {
                    hidden_failed++;
                } else if (++failed_listed <= 10) {
                    failed += "  " + t.string_or("name", "?") + ": " +
                              shorten(first_line(t.string_or("output", "")), 160) + "\n";
                }
            }
        std::ostringstream os;
        os << "Module " << label(top) << " graded on your own "
           << (top == 1 ? std::string("module 01") : "modules 01-" + nn)
           << " (the run that unlocks the milestone; not counted in the total): " << passed << " of " << total
           << " cases passed.\n";
        if (!failed.empty()) os << "Failed:\n" << failed;
        if (failed_listed > 10) os << "  ... and " << failed_listed - 10 << " more\n";
        if (hidden_failed) os << hidden_failed << " hidden case" << (hidden_failed == 1 ? "" : "s") << " failed.\n";
        res.integrated_output = os.str();
    } catch (const std::exception&) {
        res.integrated_output = "The integrated run of " + nn + " could not be graded.";
        res.reasons.push_back("the integrated run of " + nn + " could not be graded");
    }
}

// --leaderboard: milestone 04 part 1 (TinyDigits) on the submission's own
// libraries, when its integrated grade of 09 unlocks the milestone (the gate
// the program itself checks, on the store the grading run wrote). Contained
// like the builds: in a folder of its own (the build user's, 0700) holding a
// copy of the program, the libraries, the data and the store; as the build
// user when root; the checkout and build tree hidden; time and memory limited.
void run_milestone(const Settings& s, const fs::path& work, const fs::path& out, long uid, SubmissionResult& res) {
    MilestoneRun& mr = res.milestone;
    const fs::path store = work / "progress.json";
    tt::progress::GateStatus gate = tt::progress::gate_status(9, tt::progress::load(store.string()),
                                                              (work / "lib").string());
    if (!gate.unlocked) {
        mr.status = "locked";
        mr.note = gate.reasons.empty() ? "module 09's integrated grade does not unlock the milestone"
                                       : gate.reasons.front();
        return;
    }
    // <work>/milestone/  0700, the build user's
    //   bin/milestone_04_part1  lib/*.so  data/*.gz  progress.json(.key)  out/
    const fs::path dir = work / "milestone";
    std::error_code ec;
    fs::remove_all(dir, ec);
    make_dir(dir, 0700);
    for (const char* sub : {"bin", "lib", "data", "out"}) make_dir(dir / sub, 0700);
    fs::copy_file(s.bin_dir / "milestone_04_part1", dir / "bin" / "milestone_04_part1");
    chmod((dir / "bin" / "milestone_04_part1").c_str(), 0700);
    for (const auto& e : fs::directory_iterator(work / "lib"))
        if (e.path().extension() == ".so") fs::copy_file(e.path(), dir / "lib" / e.path().filename());
    const fs::path data = s.root / "datasets" / "tinydigits";
    for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "test-images-idx3-ubyte.gz",
                          "test-labels-idx1-ubyte.gz"})
        fs::copy_file(data / f, dir / "data" / f);
    fs::copy_file(store, dir / "progress.json");
    fs::copy_file(store.string() + ".key", dir / "progress.json.key");
    chmod((dir / "progress.json.key").c_str(), 0600);
    chown_tree(dir, uid);

    ChildLimits lim;
    lim.timeout_s = s.module_budget;
    lim.memory_bytes = 4ll << 30;
    lim.file_bytes = 64ll << 20;
    lim.capture_bytes = 1 << 20;
    lim.processes = 64 + s.parallel;
    lim.run_as_uid = lim.run_as_gid = uid;
    lim.hide_dirs = s.hide_from_builds;
    lim.work_dir = dir.string();
    const std::vector<std::string> argv = {(dir / "bin" / "milestone_04_part1").string(),
                                           "--quiet",
                                           "--threads", std::to_string(s.parallel),
                                           "--data", (dir / "data").string(),
                                           "--out", (dir / "out").string()};
    ChildResult r = run_child(argv,
                              {{"TITO_LIB_DIR", (dir / "lib").string()},
                               {"TITO_IMPL", "student"},
                               {"TITO_PROGRESS", (dir / "progress.json").string()},
                               {"HOME", dir.string()},
                               {"TMPDIR", dir.string()},
                               {"NO_COLOR", "1"}},
                              lim);
    mr.run_seconds = r.seconds;
    std::string log = "$";
    for (const std::string& a : argv) log += " " + a;
    log += "\n" + r.out + r.err + (r.started ? "" : r.start_error + "\n");
    files::write_atomic(out / "milestone-04-part1.txt", log);
    const std::vector<std::string> err = nonempty_lines(r.err.empty() ? r.out : r.err);
    const std::string last = err.empty() ? "" : ": " + shorten(err.back(), 160);
    mr.status = "failed";
    if (!r.started) {
        mr.note = "did not start: " + r.start_error;
        return;
    }
    if (r.timed_out) {
        mr.note = "timed out after " + format_number(s.module_budget) + " s";
        return;
    }
    if (r.signal) {
        mr.note = "crashed: " + signal_description(r.signal) + last;
        return;
    }
    if (r.exit_code == 5) {  // the program's own gate said no
        mr.status = "locked";
        mr.note = "the milestone's gate refused the libraries" + last;
        return;
    }
    if (r.exit_code != 0) {
        mr.note = "exit code " + std::to_string(r.exit_code) + last;
        return;
    }
    try {
        std::string text = files::read(dir / "out" / "metrics.json");
        files::write_atomic(out / "milestone-04-part1-metrics.json", text);
        Json doc = Json::parse(text);
        const Json* models = doc.find("models");
        bool cnn = false, mlp = false;
        if (models && models->is_array())
            for (const Json& m : models->items()) {
                const std::string name = m.string_or("name", "");
                if (name == "CNN") {
                    cnn = true;
                    mr.cnn_clean = m.number_or("accuracy_a", 0);
                    mr.cnn_shifted = m.number_or("accuracy_b", 0);
                    mr.cnn_seconds = m.number_or("train_seconds", 0);
                } else if (name == "MLP") {
                    mlp = true;
                    mr.mlp_clean = m.number_or("accuracy_a", 0);
                    mr.mlp_shifted = m.number_or("accuracy_b", 0);
                    mr.mlp_seconds = m.number_or("train_seconds", 0);
                }
            }
        if (!cnn || !mlp) {
            mr.note = "metrics.json names no CNN and MLP results";
            return;
        }
    } catch (const std::exception& e) {
        mr.note = std::string("no readable metrics.json: ") + e.what();
        return;
    }
    mr.status = "ok";
}

using SubmissionProgress = std::function<void(const SubmissionResult&)>;

SubmissionResult grade_submission(const Settings& s, const Submission& sub, const SubmissionProgress& progress) {
    auto t0 = std::chrono::steady_clock::now();
    SubmissionResult res;
    res.id = sub.id;
    const fs::path out = s.results_dir / sub.id;
    // By index: a student's name (commas, quotes, spaces) never reaches a build path.
    const fs::path work = s.work_dir / std::to_string(sub.index);
    const long uid = s.drop_builds ? build_uid(sub.index) : -1;
    fs::create_directories(out);
    // What an earlier run left here would be mistaken for this run's.
    for (const auto& e : fs::directory_iterator(out)) {
        static const std::regex ours(R"((results\.json|build\.log|grade-[0-9][0-9](-integrated)?\.(txt|json)|milestone-04-part1.*))");
        if (std::regex_match(e.path().filename().string(), ours)) fs::remove(e.path());
    }
    fs::remove_all(work);
    // work/         0711 root: nobody lists it
    //   src/ build/ built/ unpack/   0700, the build user's
    //   lib/        0700 root: the libraries grading copies from
    make_dir(work, 0711);
    const fs::path src = work / "src", build = work / "build", built = work / "built", lib = work / "lib";
    make_dir(lib, 0700);
    std::string log;
    std::vector<std::string> remarks;

    // 0. An archive is unpacked first.
    fs::path dir = sub.path;
    if (!fs::is_directory(sub.path)) {
        make_dir(work / "unpack", 0700, uid);
        std::string why = unpack(s, sub.path, work / "unpack", uid, log);
        if (!why.empty()) remarks.push_back(why);
        dir = work / "unpack";
    }

    // 1. Stage (root copies; then the sources belong to the build user).
    int with_files = 0;
    res.modules = stage(s, submission_root(dir), src, with_files, remarks);
    if (with_files == 0) {
        for (ModuleResult& mr : res.modules) mr.note.clear();
        res.reasons.push_back("no student files found (expected modules/NN_name/student/*.cpp)");
        files::write_atomic(out / "build.log", log);
        return finish_result(res, "no_files", remarks, t0);
    }
    chmod(src.c_str(), 0700);
    chown_tree(src, uid);
    make_dir(build, 0700, uid);
    make_dir(built, 0700, uid);

    // 2. Build.
    bool compiled = build_modules(s, res, src, build, built, uid, log);
    files::write_atomic(out / "build.log", readable_build_output(log, src, s.toolchain));
    bool configured = std::none_of(res.modules.begin(), res.modules.end(),
                                   [](const ModuleResult& m) { return m.problem.rfind("not built", 0) == 0; });
    if (!configured) return finish_result(res, "error", remarks, t0);

    // 3. Grade: the student libraries (copied out of the build user's folder
    // as plain files) next to copies of the reference ones.
    for (const ModuleResult& mr : res.modules) {
        if (!mr.built) continue;
        std::string name = "tt_" + dir_name(mr.number) + "_student.so";
        fs::copy_file(built / name, lib / name);
    }
    for (int m = 1; m <= tt::kModuleCount; ++m) {
        std::string name = "tt_" + dir_name(m) + "_reference.so";
        if (fs::exists(s.lib_dir / name)) fs::copy_file(s.lib_dir / name, lib / name);
    }
    bool grading_error = false;
    for (ModuleResult& mr : res.modules) {
        if (!mr.built) continue;
        grade_module(s, work, out, mr, [&](const ModuleResult& partial) {
            SubmissionResult now = res;
            for (ModuleResult& m : now.modules)
                if (m.number == partial.number) m = partial;
            if (progress) progress(now);
        });
        if (!mr.graded) {
            grading_error = true;
            mr.tests.push_back(failed_case(label(mr.number) + ": grading", mr.max,
                                           "Module " + label(mr.number) + " " + mr.problem));
        }
        if (progress) progress(res);
    }
    if (s.integrated) grade_integrated(s, work, out, res);
    if (!s.leaderboard.empty()) {
        try {
            run_milestone(s, work, out, uid, res);
        } catch (const std::exception& e) {
            res.milestone.status = "failed";
            res.milestone.note = std::string("could not be set up: ") + e.what();
        }
    }
    return finish_result(res, !compiled ? "compile_error" : grading_error ? "error" : "ok", remarks, t0);
}

// ------------------------------------------------------------ reports

SubmissionResult with_totals(SubmissionResult r) {
    r.score = r.max = 0;
    for (const ModuleResult& mr : r.modules) {
        r.score += mr.score;
        r.max += mr.max;
    }
    return r;
}

struct ReportOptions {
    std::string visibility;         // results.json "visibility" ("" leaves it out)
    std::string stdout_visibility;  // results.json "stdout_visibility"
};

std::string gradescope_json(const Settings& s, const ReportOptions& ro, const SubmissionResult& r, bool partial) {
    Json doc = Json::object();
    doc.set("score", r.score);
    doc.set("max_score", r.max);
    if (!ro.visibility.empty()) doc.set("visibility", ro.visibility);
    if (!ro.stdout_visibility.empty()) doc.set("stdout_visibility", ro.stdout_visibility);
    doc.set("execution_time", r.seconds);
    std::ostringstream os;
    os << "TinyTorch C++: each module graded isolated (your module on the reference modules below it).\n";
    if (partial) os << "INCOMPLETE: grading is still running or was stopped; what finished is below.\n";
    for (const ModuleResult& mr : r.modules) {
        os << "  " << label(mr.number) << ": " << format_number(mr.score) << "/" << format_number(mr.max);
        if (!mr.problem.empty()) os << "  " << mr.problem;
        else if (!mr.note.empty()) os << "  (" << mr.note << ")";
        os << "\n";
    }
    if (r.integrated_score >= 0)
        os << "  " << two_digits(s.modules.back()) << " on your own "
           << (s.modules.back() == 1 ? std::string("module 01") : "modules 01-" + two_digits(s.modules.back()))
           << " (integrated, not counted in the total): " << format_number(r.integrated_score) << "/" << format_number(r.integrated_max)
           << "\n";
    if (r.status == "no_files")
        os << "No student files were found. Submit your modules/NN_name/student/ folders "
              "(the repository layout).\n";
    os << "Total: " << format_number(r.score) << "/" << format_number(r.max) << "\n";
    doc.set("output", os.str());
    Json tests = Json::array();
    for (const ModuleResult& mr : r.modules)
        for (const Json& t : mr.tests.items()) tests.push_back(t);
    if (r.integrated_score >= 0) {
        // Its own entry: shown next to the modules, not part of the score
        // (the top-level score, the modules' total, is what Gradescope records).
        Json t = Json::object();
        const int top = s.modules.back();
        t.set("name", two_digits(top) + " integrated: on your own " +
                          (top == 1 ? std::string("module 01") : "modules 01-" + two_digits(top)) +
                          " (not counted in the total)");
        t.set("score", r.integrated_score);
        t.set("max_score", r.integrated_max);
        t.set("status", r.integrated_max > 0 && r.integrated_score >= r.integrated_max ? "passed" : "failed");
        t.set("output", r.integrated_output);
        tests.push_back(t);
    }
    if (r.status == "no_files")
        for (const ModuleResult& mr : r.modules)
            tests.push_back(failed_case(label(mr.number) + ": files submitted", mr.max,
                                        "No files of module " + label(mr.number) + " were found in the submission."));
    doc.set("tests", tests);
    return doc.dump(2) + "\n";
}

// Identical sources between submissions (by normalised hash, per module) and
// sources identical to the reference: "01=reference; 02=bob,carol".
void fill_similarity(std::vector<SubmissionResult>& rows) {
    std::map<std::pair<int, std::string>, std::vector<std::string>> by_hash;
    for (const SubmissionResult& r : rows)
        for (const ModuleResult& mr : r.modules)
            if (!mr.hash.empty()) by_hash[{mr.number, mr.hash}].push_back(r.id);
    for (SubmissionResult& r : rows) {
        std::string sim;
        for (const ModuleResult& mr : r.modules) {
            std::vector<std::string> same;
            if (mr.is_reference) same.push_back("reference");
            if (!mr.hash.empty())
                for (const std::string& other : by_hash[{mr.number, mr.hash}])
                    if (other != r.id) same.push_back(other);
            if (same.empty()) continue;
            std::string list;
            for (const std::string& x : same) list += (list.empty() ? "" : ",") + x;
            sim += (sim.empty() ? "" : "; ") + two_digits(mr.number) + "=" + list;
        }
        r.similarity = sim;
    }
}

std::string csv_header(const Settings& s) {
    std::string h = "id";
    for (int m : s.modules) h += "," + dir_name(m) + "," + dir_name(m) + "_max";
    if (s.integrated) h += ",integrated_" + two_digits(s.modules.back()) + ",integrated_" + two_digits(s.modules.back()) + "_max";
    return h + ",total,max_total,status,reason,similarity";
}

std::string csv_row(const Settings& s, const SubmissionResult& r) {
    std::string row = gradebook::cell(r.id);
    for (const ModuleResult& mr : r.modules) row += "," + format_number(mr.score) + "," + format_number(mr.max);
    if (s.integrated)
        row += "," + (r.integrated_score >= 0 ? format_number(r.integrated_score) : std::string("")) + "," + format_number(r.integrated_max);
    std::string reason;
    for (const std::string& x : r.reasons) reason += (reason.empty() ? "" : "; ") + x;
    return row + "," + format_number(r.score) + "," + format_number(r.max) + "," + r.status + "," + gradebook::cell(reason) + "," +
           gradebook::cell(r.similarity);
}

// --leaderboard: one row per submission graded now; those that ran
// milestone 04 part 1 first, by the CNN's clean test accuracy (then its
// shifted accuracy, then the id), the rest after them with why they did not.
// Accuracies are fractions (0..1), seconds as the run measured them.
std::string leaderboard_csv(std::vector<SubmissionResult> rows) {
    auto ran = [](const SubmissionResult& r) { return r.milestone.status == "ok"; };
    std::sort(rows.begin(), rows.end(), [&](const SubmissionResult& a, const SubmissionResult& b) {
        if (ran(a) != ran(b)) return ran(a);
        if (ran(a) && a.milestone.cnn_clean != b.milestone.cnn_clean) return a.milestone.cnn_clean > b.milestone.cnn_clean;
        if (ran(a) && a.milestone.cnn_shifted != b.milestone.cnn_shifted)
            return a.milestone.cnn_shifted > b.milestone.cnn_shifted;
        return a.id < b.id;
    });
    auto fixed = [](double v, int digits) {
        std::ostringstream os;
        os << std::fixed << std::setprecision(digits) << v;
        return os.str();
    };
    std::string text =
        "rank,id,cnn_test_accuracy,cnn_shifted_accuracy,mlp_test_accuracy,mlp_shifted_accuracy,"
        "cnn_train_seconds,mlp_train_seconds,run_seconds,status,note\n";
    int rank = 0;
    for (const SubmissionResult& r : rows) {
        const MilestoneRun& m = r.milestone;
        std::string status = m.status.empty() ? "not_run" : m.status;
        std::string note = m.note;
        if (m.status.empty()) note = r.status == "no_files" ? "no student files" : "not graded integrated";
        if (ran(r))
            text += std::to_string(++rank) + "," + gradebook::cell(r.id) + "," + fixed(m.cnn_clean, 4) + "," +
                    fixed(m.cnn_shifted, 4) + "," + fixed(m.mlp_clean, 4) + "," + fixed(m.mlp_shifted, 4) + "," +
                    fixed(m.cnn_seconds, 2) + "," + fixed(m.mlp_seconds, 2) + "," + fixed(m.run_seconds, 2) + "," +
                    status + ",\n";
        else
            text += "," + gradebook::cell(r.id) + ",,,,,,," +
                    (m.run_seconds > 0 ? fixed(m.run_seconds, 2) : std::string("")) + "," + status + "," +
                    gradebook::cell(note) + "\n";
    }
    return text;
}

// The rows of an existing gradebook by id (raw CSV lines re-encoded), for --update.
std::map<std::string, std::string> earlier_rows(const Settings& s, const fs::path& csv) {
    std::map<std::string, std::string> rows;
    std::error_code ec;
    if (!fs::exists(csv, ec)) return rows;
    auto table = gradebook::parse(files::read(csv));
    if (table.empty()) return rows;
    std::string header;
    for (size_t i = 0; i < table[0].size(); ++i) header += (i ? "," : "") + table[0][i];
    if (header != csv_header(s))
        throw UsageError{csv.string() + " has other columns (" + header.substr(0, 80) +
                             "...): --update merges only a gradebook of the same modules and options",
                         "grade-batch"};
    for (size_t i = 1; i < table.size(); ++i) {
        if (table[i].empty() || table[i][0].empty()) continue;
        std::string line;
        for (size_t j = 0; j < table[i].size(); ++j) line += (j ? "," : "") + gradebook::cell(table[i][j]);
        rows[table[i][0]] = line;
    }
    return rows;
}

// True when `p` is `dir` or inside it.
bool inside(const fs::path& p, const fs::path& dir) {
    fs::path r = fs::weakly_canonical(p).lexically_relative(fs::weakly_canonical(dir));
    return !r.empty() && r.native().rfind("..", 0) != 0;
}

// A copy of what the build needs from the repository (the public headers,
// the CMake files, grader/batch/), readable by the build users: the build
// never reads the checkout, its reference sources or hidden tests.
void stage_toolchain(const Settings& s) {
    make_dir(s.toolchain, 0755);
    auto copy_dir = [&](const std::string& rel) {
        for (const auto& [path, text] : files::read_tree(s.root / rel)) {
            fs::path dest = s.toolchain / rel / path;
            files::write_atomic(dest, text);
        }
    };
    copy_dir("core/include");
    copy_dir("cmake");
    copy_dir("grader/batch");
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(s.toolchain, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        chmod(it->path().c_str(), it->is_directory() ? 0755 : 0644);
}

// --export-sources: DIR/NN_name/<id>/<file>, for MOSS-style similarity checkers.
void export_sources(const Settings& s, const SubmissionResult& r) {
    for (const ModuleResult& mr : r.modules)
        for (const auto& [name, text] : mr.sources) {
            std::string id = r.id;
            for (char& c : id)
                if (c == '/' || c == '\0') c = '_';
            files::write_atomic(s.export_dir / dir_name(mr.number) / id / name, text);
        }
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
        ("update", "merge into an existing gradebook: rows of submissions not graded now are kept")
        ("timeout", po::value<double>()->default_value(10), "wall-clock seconds per test case")
        ("module-budget", po::value<double>()->default_value(300), "wall-clock seconds for one module's cases")
        ("max-timeouts", po::value<int>()->default_value(3),
         "stop a module after this many timed-out cases (0: never); the rest score 0")
        ("build-timeout", po::value<double>()->default_value(300), "seconds to build one module's library")
        ("integrated", "also grade the last module on the student's own modules (its own column; needs "
                       "--modules 01-NN)")
        ("leaderboard", po::value<std::string>(),
         "also run milestone 04 part 1 on each submission whose integrated grade of 09 unlocks it, and write "
         "its accuracies and times to this CSV (implies --integrated; needs --modules 01-09)")
        ("hidden-visibility", po::value<std::string>()->default_value("after_published"),
         "Gradescope visibility of hidden cases: hidden, after_due_date, after_published, visible")
        ("visibility", po::value<std::string>(), "results.json top-level visibility (same values)")
        ("stdout-visibility", po::value<std::string>(), "results.json stdout_visibility (same values)")
        ("live-results", po::value<std::string>(),
         "--single: also write results.json here, rewritten as cases finish (Gradescope: "
         "/autograder/results/results.json)")
        ("export-sources", po::value<std::string>(), "copy each submission's module sources to DIR/NN_name/<id>/ "
                                                     "(for MOSS-style checkers)")
        ("allow-in-repo", "allow the gradebook, results or work folder inside the repository")
        ("work", po::value<std::string>(), "build here and keep it (default: a temporary directory, removed)");
    po::options_description hidden;
    hidden.add_options()("submissions", po::value<std::string>());
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("submissions", 1);
    po::variables_map vm = parse_args(args, all, pos, "grade-batch");
    if (vm.count("help")) {
        print_help("tito grade-batch SUBMISSIONS_DIR [-j N] [--out gradebook.csv] [--modules 01-09] [--update]",
                   "Grade every submission in SUBMISSIONS_DIR (one folder, .zip or .tar.gz per\n"
                   "student, holding modules/NN_name/student/*.cpp; see docs/instructors.md). Each\n"
                   "submission's student libraries are built on their own (as an unprivileged user\n"
                   "when tito is root), each module is graded isolated (one process per test case,\n"
                   "with the hidden tests), and the results go to one CSV row per submission\n"
                   "(per-module score and max, total, status, reason, similarity) and\n"
                   "<results-dir>/<id>/results.json (Gradescope format) with the build and grading\n"
                   "logs. Keep submissions and gradebooks outside the repository. A submission that\n"
                   "does not compile or crashes is a row with the reason. Exit 0 when the gradebook\n"
                   "was written, whatever the grades.",
                   opts);
        return kOk;
    }
    if (!vm.count("submissions"))
        throw UsageError{"which submissions? e.g. tito grade-batch submissions/ -j 2", "grade-batch"};
    Settings s;
    s.modules = parse_module_list_arg(vm["modules"].as<std::string>(), "grade-batch");
    s.timeout = vm["timeout"].as<double>();
    s.build_timeout = vm["build-timeout"].as<double>();
    s.module_budget = vm["module-budget"].as<double>();
    s.max_timeouts = vm["max-timeouts"].as<int>();
    if (!(s.timeout > 0) || !(s.build_timeout > 0) || !(s.module_budget > 0) || s.max_timeouts < 0)
        throw UsageError{"--timeout, --build-timeout and --module-budget must be positive, --max-timeouts "
                         "0 or more",
                         "grade-batch"};
    static const std::set<std::string> kVisibility = {"hidden", "after_due_date", "after_published", "visible"};
    ReportOptions ro;
    s.hidden_visibility = vm["hidden-visibility"].as<std::string>();
    if (vm.count("visibility")) ro.visibility = vm["visibility"].as<std::string>();
    if (vm.count("stdout-visibility")) ro.stdout_visibility = vm["stdout-visibility"].as<std::string>();
    for (const std::string& v : {s.hidden_visibility, ro.visibility, ro.stdout_visibility})
        if (!v.empty() && !kVisibility.count(v))
            throw UsageError{"visibility '" + v + "': use hidden, after_due_date, after_published or visible",
                             "grade-batch"};
    s.integrated = vm.count("integrated") > 0 || vm.count("leaderboard") > 0;
    if (vm.count("leaderboard")) {
        s.leaderboard = fs::absolute(vm["leaderboard"].as<std::string>()).lexically_normal();
        if (s.modules.empty() || s.modules.back() != 9)
            throw UsageError{"--leaderboard runs the milestone that module 09's integrated grade unlocks: use "
                             "--modules 01-09",
                             "grade-batch"};
    }
    if (s.integrated)
        for (size_t i = 0; i < s.modules.size(); ++i)
            if (s.modules[i] != static_cast<int>(i) + 1)
                throw UsageError{"--integrated grades the student's own 01..NN: use --modules 01-NN", "grade-batch"};
    int jobs = vm["jobs"].as<int>();
    if (jobs < 1) throw UsageError{"--jobs must be at least 1", "grade-batch"};
    fs::path subs = fs::absolute(vm["submissions"].as<std::string>()).lexically_normal();
    if (subs.filename().empty()) subs = subs.parent_path();
    if (!fs::exists(subs) || (!fs::is_directory(subs) && !(vm.count("single") && is_archive(subs))))
        throw UsageError{subs.string() + " is not a directory", "grade-batch"};
    fs::path csv = fs::absolute(vm["out"].as<std::string>()).lexically_normal();
    s.results_dir = vm.count("results-dir")
                        ? fs::absolute(vm["results-dir"].as<std::string>()).lexically_normal()
                        : csv.parent_path() / (csv.stem().string() + "-results");
    if (vm.count("live-results")) {
        if (!vm.count("single")) throw UsageError{"--live-results goes with --single", "grade-batch"};
        s.live_results = fs::absolute(vm["live-results"].as<std::string>()).lexically_normal().string();
    }
    if (vm.count("export-sources"))
        s.export_dir = fs::absolute(vm["export-sources"].as<std::string>()).lexically_normal();

    const Paths& p = paths();
    s.bin_dir = p.bin_dir;
    s.lib_dir = p.lib_dir;
    s.self = fs::path(p.bin_dir) / "tito-cli";
    if (p.source_dir.empty() || !fs::exists(fs::path(p.source_dir) / "grader" / "batch" / "CMakeLists.txt")) {
        std::cerr << "tito: grade-batch needs the repository (grader/batch/CMakeLists.txt); not found\n";
        return kLoadError;
    }
    s.root = p.source_dir;
    // Grades and students' solutions stay out of the repository (a release
    // or a commit would otherwise pick them up).
    if (!vm.count("allow-in-repo")) {
        std::vector<std::pair<std::string, fs::path>> outputs = {{"--out", csv}, {"--results-dir", s.results_dir}};
        if (vm.count("work")) outputs.emplace_back("--work", fs::absolute(vm["work"].as<std::string>()));
        if (!s.export_dir.empty()) outputs.emplace_back("--export-sources", s.export_dir);
        if (!s.leaderboard.empty()) outputs.emplace_back("--leaderboard", s.leaderboard);
        for (const auto& [opt, path] : outputs)
            if (inside(path, s.root))
                throw UsageError{opt + " " + path.string() + " is inside the repository " + s.root.string() +
                                     ": keep gradebooks and results outside it (e.g. --out ../gradebook.csv), "
                                     "or --allow-in-repo",
                                 "grade-batch"};
        if (inside(subs, s.root))
            std::cerr << "tito: warning: the submissions are inside the repository (" << subs.string()
                      << "): move them out, or a commit could publish students' solutions\n";
    }

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
        fs::path ref = s.root / "modules" / dir_name(m) / "reference";
        if (fs::is_directory(ref)) s.references[m] = files::read_tree(ref);
    }
    if (!s.leaderboard.empty()) {
        if (!fs::exists(s.bin_dir / "milestone_04_part1")) {
            std::cerr << "tito: --leaderboard: the milestone " << (s.bin_dir / "milestone_04_part1").string()
                      << " is not built yet\n";
            missing = true;
        }
        for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                              "test-images-idx3-ubyte.gz", "test-labels-idx1-ubyte.gz"})
            if (!fs::exists(s.root / "datasets" / "tinydigits" / f)) {
                std::cerr << "tito: --leaderboard: TinyDigits is incomplete: no datasets/tinydigits/" << f
                          << " (git checkout -- datasets/tinydigits)\n";
                missing = true;
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

    // The submissions: folders and archives; anything else is named, not graded.
    std::vector<Submission> todo;
    std::vector<std::string> skipped;
    if (vm.count("single")) {
        todo.push_back({is_archive(subs) ? archive_id(subs) : subs.filename().string(), subs, 0});
    } else {
        std::set<std::string> ids;
        std::vector<fs::directory_entry> entries(fs::directory_iterator(subs), fs::directory_iterator{});
        std::sort(entries.begin(), entries.end());
        for (const auto& e : entries) {
            std::string name = e.path().filename().string();
            if (skipped_name(name)) continue;
            fs::file_status st = e.symlink_status();
            std::string id = fs::is_directory(st) ? name : archive_id(e.path());
            if (!fs::is_directory(st) && !(fs::is_regular_file(st) && is_archive(e.path()))) {
                skipped.push_back(name + (fs::is_symlink(st) ? " (a symbolic link)" : " (not a folder, .zip or .tar.gz)"));
                continue;
            }
            if (!ids.insert(id).second) {
                skipped.push_back(name + " (a second submission with the id " + id + ")");
                continue;
            }
            todo.push_back({id, e.path(), 0});
        }
        std::sort(todo.begin(), todo.end(), [](const Submission& a, const Submission& b) { return a.id < b.id; });
    }
    for (size_t i = 0; i < todo.size(); ++i) todo[i].index = i;
    for (const std::string& x : skipped) std::cerr << "tito: skipped " << x << "\n";
    if (todo.empty()) {
        std::cerr << "tito: no submissions in " << subs.string() << " (expected one folder or archive per student)\n";
        return kUsage;
    }

    // The gradebook: merged with --update; otherwise rows of submissions not
    // graded now would be lost, which is said (and the old file kept aside).
    std::map<std::string, std::string> kept;
    {
        std::map<std::string, std::string> before;
        try {
            before = earlier_rows(s, csv);
        } catch (const UsageError&) {
            if (vm.count("update")) throw;
        }
        std::set<std::string> now;
        for (const Submission& x : todo) now.insert(x.id);
        std::vector<std::string> dropped;
        for (const auto& [id, row] : before)
            if (!now.count(id)) dropped.push_back(id);
        if (vm.count("update")) {
            for (const std::string& id : dropped) kept[id] = before[id];
        } else if (!dropped.empty() || (fs::exists(csv) && before.empty())) {
            files::write_atomic(fs::path(csv.string() + ".previous"), files::read(csv));
            std::cerr << "tito: warning: " << csv.string() << " is replaced";
            if (!dropped.empty())
                std::cerr << " and loses the rows of " << dropped.size() << " submission"
                          << (dropped.size() == 1 ? "" : "s") << " not graded now (" << dropped.front()
                          << (dropped.size() > 1 ? ", ..." : "") << ")";
            std::cerr << "; the old file is " << csv.string() << ".previous. --update merges instead.\n";
        }
    }

    // Work directory.
    bool keep_work = vm.count("work") > 0;
    if (keep_work) {
        s.work_dir = fs::absolute(vm["work"].as<std::string>()).lexically_normal();
        fs::create_directories(s.work_dir);
        for (const auto& e : fs::directory_iterator(s.work_dir))
            if (e.path().filename() == "toolchain" || e.path().filename().string().find_first_not_of("0123456789") ==
                                                          std::string::npos)
                fs::remove_all(e.path());
    } else {
        std::string tmpl = (fs::temp_directory_path() / "tito-batch-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory");
        s.work_dir = tmpl;
    }
    // Traversable (test cases and builds run as other users), not listable.
    chmod(s.work_dir.c_str(), 0711);
    struct Cleanup {
        fs::path dir;
        bool keep;
        ~Cleanup() {
            std::error_code ec;
            if (!keep) fs::remove_all(dir, ec);
        }
    } cleanup{s.work_dir, keep_work};
    s.toolchain = s.work_dir / "toolchain";
    stage_toolchain(s);
    s.drop_builds = geteuid() == 0;
    s.hide_from_builds = folders_to_hide_from_builds(s);
    fs::create_directories(s.results_dir);

    jobs = std::min<int>(jobs, static_cast<int>(todo.size()));
    long cpus = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
    s.parallel = static_cast<int>(std::max(1L, cpus / jobs));

    std::string module_spec;
    for (int m : s.modules) module_spec += (module_spec.empty() ? "" : ",") + two_digits(m);
    double max_total = 0;
    for (int m : s.modules) max_total += s.max_points[m];
    std::cout << "Grading " << todo.size() << " submission" << (todo.size() == 1 ? "" : "s") << " from "
              << subs.string() << "\n  modules " << module_spec << " (isolated, " << format_number(max_total)
              << " points), " << jobs << " at a time, " << format_number(s.timeout) << " s per test case"
              << (s.drop_builds ? ", builds as unprivileged users" : "") << "\n"
              << std::flush;

    std::vector<std::optional<SubmissionResult>> results(todo.size());
    std::mutex mu;
    std::atomic<size_t> next{0};
    size_t done = 0;
    auto write_gradebook = [&] {
        std::vector<SubmissionResult> rows;
        for (const auto& r : results)
            if (r) rows.push_back(*r);
        fill_similarity(rows);
        std::map<std::string, std::string> lines = kept;
        for (const SubmissionResult& r : rows) lines[r.id] = csv_row(s, r);
        std::string text = csv_header(s) + "\n";
        for (const auto& [id, line] : lines) text += line + "\n";
        files::write_atomic(csv, text);
        if (!s.leaderboard.empty()) files::write_atomic(s.leaderboard, leaderboard_csv(rows));
    };
    std::mutex live_mu;
    auto live = [&](const SubmissionResult& r, bool partial) {
        if (s.live_results.empty()) return;
        std::lock_guard<std::mutex> lock(live_mu);
        try {
            files::write_atomic(s.live_results, gradescope_json(s, ro, with_totals(r), partial));
        } catch (const std::exception& e) {
            std::cerr << "tito: cannot write " << s.live_results << ": " << e.what() << "\n";
        }
    };
    auto worker = [&] {
        for (;;) {
            size_t i = next++;
            if (i >= todo.size()) return;
            const Submission& sub = todo[i];
            SubmissionResult r;
            try {
                r = grade_submission(s, sub, [&](const SubmissionResult& now) { live(now, true); });
            } catch (const std::exception& e) {
                r = SubmissionResult{};
                r.id = sub.id;
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
                files::write_atomic(s.results_dir / sub.id / "results.json", gradescope_json(s, ro, r, false));
                if (!s.export_dir.empty()) export_sources(s, r);
            } catch (const std::exception& e) {
                r.reasons.push_back(std::string("cannot write results: ") + e.what());
            }
            live(r, false);
            std::lock_guard<std::mutex> lock(mu);
            results[i] = r;
            ++done;
            std::cout << "  [" << done << "/" << todo.size() << "] " << r.id << ": " << format_number(r.score) << "/"
                      << format_number(r.max) << "  " << r.status;
            if (!r.reasons.empty()) std::cout << "  (" << shorten(first_line(r.reasons.front()), 100) << ")";
            if (r.milestone.status == "ok")
                std::cout << "  milestone 04 part 1: CNN " << format_number(r.milestone.cnn_clean) << ", MLP "
                          << format_number(r.milestone.mlp_clean);
            else if (!r.milestone.status.empty())
                std::cout << "  milestone 04 part 1: " << r.milestone.status;
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
              << (kept.empty() ? "" : " graded now, " + std::to_string(kept.size()) + " kept")
              << ")\nPer submission: " << s.results_dir.string()
              << "/<id>/results.json, build.log, grade-NN.txt\n";
    if (!s.leaderboard.empty())
        std::cout << "Milestone 04 part 1 leaderboard: " << s.leaderboard.string()
                  << " (the run's log: <id>/milestone-04-part1.txt)\n";
    if (!skipped.empty())
        std::cout << "Skipped " << skipped.size() << " entr" << (skipped.size() == 1 ? "y" : "ies")
                  << " of the submissions folder (see above)\n";
    return kOk;
}

}  // namespace tito
