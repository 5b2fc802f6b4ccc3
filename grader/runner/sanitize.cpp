// sanitize.cpp - the sanitizer build for --sanitize and its reports.
#include "sanitize.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <mutex>

#include <unistd.h>

#include "child.hpp"
#include "cli.hpp"

namespace fs = std::filesystem;

namespace tito {

namespace {

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The value of VAR in a CMakeCache.txt ("" when absent).
std::string cache_value(const std::string& cache, const std::string& var) {
    std::regex re("^" + var + ":[A-Z]+=(.*)$", std::regex::multiline);
    std::smatch m;
    if (std::regex_search(cache, m, re)) return m[1].str();
    return "";
}

bool cmake_true(const std::string& v) {
    std::string s;
    for (char c : v) s += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s == "ON" || s == "1" || s == "TRUE" || s == "YES" || s == "Y";
}

// Lines of a build log worth showing: errors and what follows them, without
// ninja's progress lines.
std::string build_errors(const std::string& log) {
    std::stringstream ss(log);
    std::string line, out;
    size_t shown = 0;
    while (std::getline(ss, line) && shown < 60) {
        if (!line.empty() && line[0] == '[' && line.find(']') != std::string::npos &&
            line.find("error") == std::string::npos)
            continue;
        out += line + "\n";
        ++shown;
    }
    return out;
}

ChildResult run_tool(const std::vector<std::string>& argv, double timeout_s) {
    ChildLimits lim;
    lim.timeout_s = timeout_s;
    lim.file_bytes = 1ll << 40;
    lim.capture_bytes = 4 << 20;
    return run_child(argv, {}, lim);
}

std::string find_program(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::stringstream ss(path ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(ss, dir, ':')) {
        fs::path p = fs::path(dir.empty() ? "." : dir) / name;
        if (access(p.c_str(), X_OK) == 0) return p.string();
    }
    return "";
}

// How many steps a first build of `targets` runs: the commands ninja lists
// for them (ninja -t commands). 0 when the directory was built before (an
// incremental build is short, and ninja's dry run cannot tell its size
// before CMake re-checks the sources) or ninja is not there.
int count_first_build_steps(const std::string& build_dir, const std::vector<std::string>& targets) {
    std::error_code ec;
    if (fs::file_size(fs::path(build_dir) / ".ninja_log", ec) > 0 && !ec) return 0;
    std::string ninja = find_program("ninja");
    if (ninja.empty() || !fs::exists(fs::path(build_dir) / "build.ninja")) return 0;
    std::vector<std::string> argv = {ninja, "-C", build_dir, "-t", "commands"};
    argv.insert(argv.end(), targets.begin(), targets.end());
    ChildResult r = run_tool(argv, 120);
    if (!r.started || r.exit_code != 0) return 0;
    return static_cast<int>(std::count(r.out.begin(), r.out.end(), '\n'));
}

// While a build of `total` steps runs, count the steps ninja has finished
// (one line each in <build>/.ninja_log) and show them with the time so far
// and, from the rate so far, the time left: one updating line on a terminal,
// a line per 10 % otherwise. Quiet for fewer than 30 steps.
class BuildProgress {
public:
    BuildProgress(std::ostream& os, const std::string& build_dir, int total)
        : os_(os), log_(fs::path(build_dir) / ".ninja_log"), total_(total) {
        if (total_ < 30) return;
        baseline_ = lines();
        start_ = std::chrono::steady_clock::now();
        tty_ = isatty(STDOUT_FILENO) == 1;
        thread_ = std::thread([this] { run(); });
    }
    ~BuildProgress() { stop(); }
    void stop() {
        if (!thread_.joinable()) return;
        {
            std::lock_guard<std::mutex> lock(mu_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
        if (tty_ && shown_) os_ << "\r\033[K";
        os_ << "  built in " << human(seconds()) << "\n";
        os_.flush();
    }

private:
    long lines() const {
        std::ifstream in(log_);
        long n = 0;
        std::string line;
        while (std::getline(in, line)) ++n;
        return n;
    }
    long seconds() const {
        return static_cast<long>(
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start_).count());
    }
    static std::string human(long s) {
        return s < 60 ? std::to_string(s) + " s" : std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
    }
    void run() {
        int last_pct = 0;
        std::unique_lock<std::mutex> lock(mu_);
        while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; })) {
            long n = std::min<long>(std::max<long>(lines() - baseline_, 0), total_);
            long t = seconds();
            int pct = static_cast<int>(100 * n / total_);
            std::string line = "  building " + std::to_string(n) + "/" + std::to_string(total_) + " (" +
                               std::to_string(pct) + "%), " + human(t) + " so far";
            if (n >= 5 && t >= 10 && n < total_) line += ", about " + human(t * (total_ - n) / n) + " left";
            if (tty_) {
                os_ << "\r\033[K" << line;
                os_.flush();
                shown_ = true;
            } else if (pct - last_pct >= 10) {
                os_ << line << "\n";
                os_.flush();
                last_pct = pct;
            }
        }
    }

    std::ostream& os_;
    fs::path log_;
    int total_;
    long baseline_ = 0;
    bool tty_ = false, shown_ = false, done_ = false;
    std::chrono::steady_clock::time_point start_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::thread thread_;
};

}  // namespace

std::optional<SanitizeBuild> build_sanitized(int module, const tt::ImplChoice& choice,
                                             uint32_t needed_modules, std::ostream& os,
                                             std::string& error) {
    const Paths& p = paths();
    if (p.source_dir.empty()) {
        error = "--sanitize builds from the sources, and this checkout's sources were not found "
                "(set TITO_SOURCE_DIR)";
        return std::nullopt;
    }
    SanitizeBuild b;
    const char* env = std::getenv("TITO_SANITIZE_BUILD_DIR");
    b.build_dir = env && *env ? fs::absolute(env).lexically_normal().string() : p.build_dir + "-asan";
    b.bin_dir = (fs::path(b.build_dir) / "bin").string();
    b.lib_dir = (fs::path(b.build_dir) / "lib").string();
    std::string cmake = find_program("cmake");
    if (cmake.empty()) {
        error = "cmake is not installed (./tito setup installs it)";
        return std::nullopt;
    }
    fs::path log_path = fs::path(b.build_dir) / "tito-build.log";
    std::string main_cache = read_text(fs::path(p.build_dir) / "CMakeCache.txt");

    fs::path cache = fs::path(b.build_dir) / "CMakeCache.txt";
    if (fs::exists(cache)) {
        std::string text = read_text(cache);
        if (!cmake_true(cache_value(text, "TT_SANITIZE"))) {
            error = b.build_dir + " is a build directory without sanitizers (TT_SANITIZE is off): remove it, "
                                  "or set TITO_SANITIZE_BUILD_DIR to another directory";
            return std::nullopt;
        }
    } else {
        os << "Configuring the sanitizer build (AddressSanitizer + UBSan) in " << b.build_dir << " ...\n";
        os.flush();
        std::vector<std::string> argv = {cmake, "-S", p.source_dir, "-B", b.build_dir,
                                         "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DTT_SANITIZE=ON",
                                         "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"};
        if (!find_program("ninja").empty()) argv.insert(argv.begin() + 5, {"-G", "Ninja"});
        // A student release builds against prebuilt reference libraries.
        for (const char* var : {"TT_BUILD_REFERENCE", "TT_PREBUILT_REFERENCE_DIR"}) {
            std::string v = cache_value(main_cache, var);
            if (!v.empty()) argv.push_back(std::string("-D") + var + "=" + v);
        }
        ChildResult r = run_tool(argv, 1800);
        std::error_code ec;
        fs::create_directories(b.build_dir, ec);
        std::ofstream(log_path, std::ios::binary) << r.out << r.err;
        if (!r.started || r.timed_out || r.signal || r.exit_code != 0) {
            error = "configuring " + b.build_dir + " failed:\n" + build_errors(r.out + r.err) +
                    "(full log: " + log_path.string() + ")";
            return std::nullopt;
        }
    }

    // Only what this grade needs: its grader, the load check, the student
    // libraries of module NN and its prerequisites, and the reference
    // libraries of every module up to NN (a suite reaches earlier modules
    // through the C++ API too: module 09's cases record on module 05's tape
    // and call module 02's ReLU; --integrated compares with the isolated run).
    (void)choice;
    std::vector<std::string> targets = {"tt_grade_" + two_digits(module), "tt_load_check"};
    for (int m = 1; m <= module && m <= tt::kModuleCount; ++m) {
        const tt::ModuleInfo& info = tt::module_info(m);
        if (needed_modules & (1u << m)) targets.push_back("tt_" + std::string(info.dir) + "_student");
        // Prebuilt reference libraries (a student release) have no target.
        if (fs::is_directory(fs::path(p.source_dir) / "modules" / info.dir / "reference"))
            targets.push_back("tt_" + std::string(info.dir) + "_reference");
    }
    std::vector<std::string> argv = {cmake, "--build", b.build_dir, "--target"};
    argv.insert(argv.end(), targets.begin(), targets.end());
    int steps = count_first_build_steps(b.build_dir, targets);
    os << "Building the sanitizer build of module " << two_digits(module) << " in " << b.build_dir;
    if (steps > 0) os << ": " << steps << " step" << (steps == 1 ? "" : "s");
    os << (steps >= 30 ? " (minutes for a first build; the line below estimates the rest)" : "") << " ...\n";
    os.flush();
    BuildProgress progress(os, b.build_dir, steps);
    ChildResult r = run_tool(argv, 3600);
    progress.stop();
    std::ofstream(log_path, std::ios::binary | std::ios::app) << r.out << r.err;
    if (!r.started || r.timed_out || r.signal || r.exit_code != 0) {
        error = "building " + b.build_dir + " failed:\n" + build_errors(r.out + r.err) +
                "(full log: " + log_path.string() + ")";
        return std::nullopt;
    }
    return b;
}

std::optional<SanitizerFinding> find_sanitizer_report(const std::string& text) {
    static const std::regex asan(R"(ERROR: (AddressSanitizer|LeakSanitizer|MemorySanitizer|ThreadSanitizer)([^\n]*))");
    static const std::regex ubsan(R"(([^\s:]+:[0-9]+:[0-9]+): runtime error: ([^\n]*))");
    std::smatch m;
    SanitizerFinding f;
    std::string::const_iterator from;
    if (std::regex_search(text, m, asan)) {
        f.reason = m[1].str() + m[2].str();
        from = m[0].second;
    } else if (std::regex_search(text, m, ubsan)) {
        f.reason = "undefined behaviour at " + m[1].str() + ": " + m[2].str();
        from = m[0].second;
    } else {
        return std::nullopt;
    }
    // The first frames of the report and its SUMMARY.
    std::stringstream ss(std::string(from, text.cend()));
    std::string line, summary;
    size_t frames = 0;
    while (std::getline(ss, line)) {
        size_t start = line.find_first_not_of(' ');
        if (start == std::string::npos) continue;
        if (line.compare(start, 1, "#") == 0 && frames < 6) {
            f.details.push_back(line.substr(start));
            ++frames;
        } else if (line.rfind("SUMMARY:", 0) == 0 && summary.empty()) {
            summary = line;
        } else if (f.details.empty() && frames == 0 && line.find("of size") != std::string::npos) {
            f.details.push_back(line.substr(start));  // "READ of size 4 at ... thread T0"
        } else if (line.find("leak of") != std::string::npos && f.details.size() < 8) {
            f.details.push_back(line.substr(start));  // "Direct leak of 24 byte(s) in 1 object(s)"
        }
    }
    if (!summary.empty()) f.details.push_back(summary);
    return f;
}

}  // namespace tito
