// grading.cpp - `tito test NN` and `tito grade NN`, in four steps:
//   1. parse_options        the command line → what to run and report
//   2. prepare_run          the programs and libraries it needs, the isolation
//                           of the student modules, a private folder for reports
//   3. run_and_report       every case in its own process; the terminal output
//                           and results.json as cases finish
//   4. record_grade         `grade` only: the progress store, the --integrated
//                           comparison, the final reports
// The pieces live in grading.hpp's files; this one only sequences them.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

#include <sys/stat.h>
#include <unistd.h>

#include "cli.hpp"
#include "grading.hpp"
#include "instructor.hpp"
#include "preflight.hpp"
#include "sandbox.hpp"
#include "sanitize.hpp"

namespace fs = std::filesystem;
namespace progress = tt::progress;

namespace tito {

using namespace grading;

namespace {

// ---------------------------------------------------------------- 1. options

// What the command line asked for (before anything is looked up on disk).
struct TestOptions {
    bool grade = false;
    std::string command;      // "test" or "grade", for messages
    int module = 0;
    std::string spec;         // TITO_IMPL-style module choice
    std::string spec_origin;  // "--impl", "--integrated", "TITO_IMPL" or "default"
    std::vector<std::string> filters;  // -k
    double timeout_s = 10;
    long memory_mib = 0;      // 0: no limit
    long processes = 0;       // 0: auto
    int jobs = 1;
    bool build_sanitize = false;  // --sanitize: build and use <build>-asan
    bool sanitized = false;       // --sanitize or TITO_SANITIZE
    bool verbose = false;
    bool show_hidden = false;
    bool no_record = false;   // --no-record
    // A --sanitize run is a check of another build, not a grade. (Under
    // TITO_SANITIZE alone, tito itself is the sanitizer build's and records
    // in that build's store.)
    bool records() const { return grade && !no_record && !build_sanitize; }
    std::string json_path;    // "" none, "-" stdout
    std::string junit_path;
    std::string grader;       // --grader ("" for bin/tt_grade_NN)
};

void print_usage(bool grade, const po::options_description& opts) {
    if (grade)
        print_help("tito grade NN [--impl SPEC | --integrated] [--json PATH] [--junit PATH]",
                   "Grade module NN: every test case of bin/tt_grade_NN in its own process,\n"
                   "a score table, the result recorded in the progress store (with the hashes\n"
                   "of the student libraries graded), and optional Gradescope/JUnit reports.\n"
                   "Default: isolated (your NN on reference 01..NN-1); --integrated also shows\n"
                   "the isolated score. Exit 0 only when every case passed.",
                   opts);
    else
        print_help("tito test NN [--impl SPEC | --integrated] [-k FILTER] [--sanitize]",
                   "Run the grading suite of module NN, each test case in its own process\n"
                   "(time and memory limits; a crash fails only that case), and show why each\n"
                   "case failed: the assertion, the expected and actual values, the hint of a\n"
                   "function that is not implemented yet. Nothing is recorded.\n"
                   "Default: isolated (your NN on reference 01..NN-1).",
                   opts);
}

// nullopt: --help was printed.
std::optional<TestOptions> parse_options(const std::vector<std::string>& args, bool grade) {
    TestOptions o;
    o.grade = grade;
    o.command = grade ? "grade" : "test";
    const std::string& command = o.command;
    po::options_description opts("Options");
    auto add = opts.add_options();
    add("help,h", "show this help");
    add("impl", po::value<std::string>(), "module choice, e.g. reference,03=student (see tito --help)");
    add("integrated", grade ? "grade on your own stack: student 01..NN, reference above (and show the "
                              "isolated score next to it)"
                            : "grade on your own stack: student 01..NN, reference above");
    if (!grade)
        add("filter,k", po::value<std::vector<std::string>>(),
            "run only the cases whose name contains this text (case-insensitive; repeatable)");
    add("timeout", po::value<double>()->default_value(10), "wall-clock seconds per test case");
    add("memory", po::value<long>()->default_value(-1, "auto"),
        "address-space limit per test case in MiB (auto: 4096, or 256 per CPU core when more; "
        "0: none; always off for sanitizer builds)");
    add("processes", po::value<long>()->default_value(0, "auto"),
        "processes and threads a test case may add to what its user runs already "
        "(RLIMIT_NPROC; auto: 2 per CPU core + 64)");
    add("jobs,j", po::value<int>()->default_value(1), "test cases to run at the same time");
    add("sanitize", "build the grader and the libraries with AddressSanitizer + UBSan in "
                    "<build>-asan and report memory errors and undefined behaviour");
    if (grade) {
        add("json", po::value<std::string>(), "write Gradescope results.json here ('-': stdout); "
                                              "rewritten after every case");
        add("junit", po::value<std::string>(), "write a JUnit XML report here");
        add("no-record", "do not record the grade in the progress store");
    }
    add("verbose,v", "also show the output of the test cases that did not pass");
    add("grader", po::value<std::string>(),
        "run this grading-suite binary instead of bin/tt_grade_NN (instructors: hidden tests)");
    add("show-hidden", "instructors: also show what hidden test cases asserted and printed "
                       "(never shown otherwise)");
    po::options_description positional_only;
    positional_only.add_options()("module", po::value<std::string>());
    po::options_description all;
    all.add(opts).add(positional_only);
    po::positional_options_description pos;
    pos.add("module", 1);
    po::variables_map vm = parse_args(args, all, pos, command);
    if (vm.count("help")) {
        print_usage(grade, opts);
        return std::nullopt;
    }
    if (!vm.count("module")) throw UsageError{"which module? e.g. tito " + command + " 01", command};
    o.module = parse_module_arg(vm["module"].as<std::string>(), command);

    // The spec: --impl here, else global --impl, else --integrated, else TITO_IMPL, else isolated.
    std::optional<std::string> spec;
    if (vm.count("impl")) spec = vm["impl"].as<std::string>(), o.spec_origin = "--impl";
    else if (globals().impl) spec = globals().impl, o.spec_origin = "--impl";
    if (spec && vm.count("integrated"))
        throw UsageError{"--integrated and --impl both choose the modules: give one", command};
    if (!spec && vm.count("integrated")) {
        spec = o.module < tt::kModuleCount ? "student," + two_digits(o.module + 1) + "-09=reference" : "student";
        o.spec_origin = "--integrated";
    }
    if (!spec) {
        if (auto env = impl_from_env()) spec = env, o.spec_origin = "TITO_IMPL";
    }
    if (!spec) spec = "reference," + two_digits(o.module) + "=student", o.spec_origin = "default";
    o.spec = *spec;

    if (vm.count("filter")) o.filters = vm["filter"].as<std::vector<std::string>>();
    o.timeout_s = vm["timeout"].as<double>();
    if (!(o.timeout_s > 0)) throw UsageError{"--timeout must be positive", command};
    o.memory_mib = vm["memory"].as<long>();
    if (o.memory_mib < 0 && vm["memory"].defaulted()) {
        // Thread stacks and BLAS buffers reserve address space per core.
        o.memory_mib = std::max(4096L, 256L * std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
    }
    if (o.memory_mib < 0) throw UsageError{"--memory must be 0 or more", command};
    o.processes = vm["processes"].as<long>();
    if (o.processes < 0) throw UsageError{"--processes must be 0 (auto) or more", command};
    o.jobs = vm["jobs"].as<int>();
    if (o.jobs < 1) throw UsageError{"--jobs must be at least 1", command};
    const char* sanitize_env = std::getenv("TITO_SANITIZE");
    o.build_sanitize = vm.count("sanitize") > 0;
    o.sanitized = o.build_sanitize || (sanitize_env && *sanitize_env && std::string(sanitize_env) != "0");
    o.verbose = vm.count("verbose") > 0;
    o.show_hidden = vm.count("show-hidden") > 0;
    if (grade && vm.count("json")) o.json_path = vm["json"].as<std::string>();
    if (grade && vm.count("junit")) o.junit_path = vm["junit"].as<std::string>();
    if (vm.count("grader")) o.grader = fs::absolute(vm["grader"].as<std::string>()).string();
    o.no_record = vm.count("no-record") > 0;
    return o;
}

// ---------------------------------------------------------------- 2. prepare

// A private folder for the XML reports and the cases' scratch folders,
// removed when the run ends.
struct RunFolder {
    std::string dir;
    RunFolder() {
        std::string tmpl = (fs::temp_directory_path() / "tito-XXXXXX").string();
        if (!mkdtemp(tmpl.data()))
            throw std::runtime_error("cannot create a temporary directory in " + fs::temp_directory_path().string());
        dir = tmpl;
    }
    RunFolder(const RunFolder&) = delete;
    RunFolder& operator=(const RunFolder&) = delete;
    ~RunFolder() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

// Everything a run needs besides its settings; lives as long as the run.
struct Prepared {
    std::string bin_dir;     // where the suite's build lives
    std::string worker_dir;  // where tt_worker is (beside the suite, else tito's own)
    long process_budget = 0;
    IsolationPlan isolation;
    std::unique_ptr<RunFolder> folder;
};

// The grader, the load check and every library the module needs; on a
// problem, the message is printed and the exit code returned.
int find_programs(const TestOptions& o, RunSettings& rs, Prepared& prep, std::ostream& os) {
    const Paths& p = paths();
    const std::string nn = two_digits(o.module);
    const tt::ModuleInfo& info = tt::module_info(o.module);
    const uint32_t needed = needed_modules(o.module);
    prep.bin_dir = p.bin_dir;
    rs.lib_dir = p.lib_dir;
    if (o.build_sanitize) {
        std::string error;
        std::optional<SanitizeBuild> b = build_sanitized(o.module, rs.choice, needed, os, error);
        if (!b) {
            std::cerr << "tito: " << error << "\n";
            return kBuildError;
        }
        prep.bin_dir = b->bin_dir;
        rs.lib_dir = b->lib_dir;
    }
    rs.grader = (fs::path(prep.bin_dir) / ("tt_grade_" + nn)).string();
    if (std::string lc = (fs::path(prep.bin_dir) / "tt_load_check").string(); fs::exists(lc)) rs.load_check = lc;
    if (!o.grader.empty()) {
        rs.grader = o.grader;
        if (!fs::exists(rs.grader)) {
            std::cerr << "tito: the grader " << rs.grader << " does not exist\n";
            return kLoadError;
        }
        // The load check of the grader's own build (a sanitizer build's
        // libraries load only into a sanitizer build's program).
        if (std::string lc = (fs::path(rs.grader).parent_path() / "tt_load_check").string(); fs::exists(lc))
            rs.load_check = lc;
    }
    if (!fs::exists(rs.grader)) {
        std::cerr << "tito: module " << nn << " (" << info.name << ") is not built yet: its grader "
                  << rs.grader << " does not exist.\n";
        bool has_suite = !p.source_dir.empty() &&
                         fs::exists(fs::path(p.source_dir) / "grader" / "suites" / (std::string(info.dir) + ".cpp"));
        if (has_suite)
            std::cerr << "  build it: ./tito (or cmake --build " << p.build_dir << ")\n";
        else
            std::cerr << "  its grading suite grader/suites/" << info.dir << ".cpp is not in this checkout.\n";
        return kLoadError;
    }
    bool missing = false;
    for (int m = 1; m <= tt::kModuleCount; ++m) {
        if (!(needed & (1u << m))) continue;
        std::string lib = library_path(rs.lib_dir, m, rs.choice[m - 1]);
        if (fs::exists(lib)) continue;
        if (!missing) std::cerr << "tito: module " << nn << " needs libraries that are not built yet:\n";
        missing = true;
        std::cerr << "  module " << two_digits(m) << " (" << tt::module_info(m).name << "), "
                  << tt::variant_name(rs.choice[m - 1]) << ": " << lib << " does not exist\n";
    }
    if (missing) {
        std::cerr << "  build with ./tito (or cmake --build " << p.build_dir
                  << "); a module without sources is not in this checkout yet.\n";
        return kLoadError;
    }
    // A grader built with the sanitizers cannot run under an address-space
    // limit (its shadow memory): treat the run as a sanitizer run.
    if (!rs.sanitized && links_sanitizer_runtime(rs.grader)) {
        rs.sanitized = true;
        rs.limits.memory_bytes = 0;
    }
    return kOk;
}

// The settings, the programs, the worker's isolation and the run folder.
int prepare_run(const TestOptions& o, RunSettings& rs, Prepared& prep, std::ostream& os) {
    rs.module = o.module;
    rs.spec = o.spec;
    rs.choice = parse_spec_or_usage(rs.spec, o.command);
    rs.limits.timeout_s = o.timeout_s;
    rs.sanitized = o.sanitized;
    // AddressSanitizer reserves terabytes of address space (its shadow memory).
    rs.limits.memory_bytes = rs.sanitized ? 0 : static_cast<long long>(o.memory_mib) << 20;
    rs.jobs = o.jobs;
    rs.show_hidden = o.show_hidden;
    if (int rc = find_programs(o, rs, prep, os); rc != kOk) return rc;

    // The suites run as tito's user (they load no student code); the student
    // modules run in each suite's worker, prepared here (isolation.hpp).
    prep.process_budget = o.processes > 0 ? o.processes : default_processes_budget();
    rs.limits.processes = geteuid() == 0 ? 0 : prep.process_budget + 64;
    prep.worker_dir = fs::exists(fs::path(rs.grader).parent_path() / "tt_worker")
                          ? fs::path(rs.grader).parent_path().string()
                          : prep.bin_dir;
    const Paths& p = paths();
    plan_isolation(prep.isolation, o.module, rs.choice, rs.lib_dir, prep.worker_dir,
                   {p.source_dir, p.build_dir, rs.lib_dir}, prep.process_budget);
    if (!prep.isolation.warning.empty()) std::cerr << prep.isolation.warning << "\n";
    rs.iso = &prep.isolation;

    prep.folder = std::make_unique<RunFolder>();
    rs.tmp_dir = prep.folder->dir;
    rs.cases_dir = (fs::path(rs.tmp_dir) / "cases").string();
    rs.report_dir = (fs::path(rs.tmp_dir) / "reports").string();
    fs::create_directories(rs.cases_dir);
    fs::create_directories(rs.report_dir);
    chmod(rs.tmp_dir.c_str(), 0711);  // the cases' users reach their own folder only
    chmod(rs.cases_dir.c_str(), 0711);
    chmod(rs.report_dir.c_str(), 0700);
    return kOk;
}

// The suite's cases, narrowed by -k; nullopt (after a message) when none is left.
std::optional<std::vector<TestCaseEntry>> select_cases(const TestOptions& o, const RunSettings& rs) {
    std::vector<TestCaseEntry> cases = list_cases(rs);
    if (!o.filters.empty()) {
        std::vector<TestCaseEntry> kept;
        for (const auto& c : cases)
            if (std::any_of(o.filters.begin(), o.filters.end(),
                            [&](const std::string& f) { return contains_icase(c.name, f); }))
                kept.push_back(c);
        if (kept.empty()) {
            std::cerr << "tito: no test case of module " << two_digits(o.module) << " matches -k";
            for (const auto& f : o.filters) std::cerr << " '" << f << "'";
            std::cerr << " (" << cases.size() << " cases; list them with " << rs.grader
                      << " --list-test-names-only)\n";
            return std::nullopt;
        }
        cases = kept;
    }
    if (cases.empty()) {
        std::cerr << "tito: the grader " << rs.grader << " has no test cases.\n";
        return std::nullopt;
    }
    return cases;
}

// ---------------------------------------------------------------- 3. run and report

// "-" is stdout; anything else is replaced atomically (files::write_atomic).
void write_report(const std::string& path, const std::string& text) {
    if (path == "-") std::cout << text;
    else files::write_atomic(fs::absolute(path), text);
}

void print_header(std::ostream& os, const TestOptions& o, const RunSettings& rs, const Prepared& prep,
                  size_t case_count) {
    os << (o.grade ? "Grading" : "Testing") << " module " << two_digits(o.module) << " ("
       << tt::module_info(o.module).name << "), " << describe_choice(o.module, rs.choice)
       << "\n  TITO_IMPL=" << rs.spec;
    if (o.spec_origin == "TITO_IMPL") os << " (from the TITO_IMPL environment variable)";
    if (rs.sanitized) os << "\n  sanitizer build (AddressSanitizer + UBSan): libraries from " << rs.lib_dir;
    os << "\n  " << case_count << " test case" << (case_count == 1 ? "" : "s")
       << ", each in its own process (timeout " << format_number(rs.limits.timeout_s) << " s";
    os << "; your code runs in a separate worker process"
       << (prep.isolation.namespaces ? " in its own namespaces" : "")
       << (geteuid() == 0 ? ", as an unprivileged user of its own" : "") << ")\n\n";
}

// Every case; `test` prints each as it finishes, results.json is rewritten
// after every case (a run killed half-way leaves what finished). Returns the
// results as the student may see them (hidden cases withheld).
std::vector<CaseResult> run_and_report(const TestOptions& o, const RunSettings& rs,
                                       const std::vector<TestCaseEntry>& cases, Tally& tally, std::ostream& os) {
    double total_points = 0;
    for (const auto& c : cases) total_points += c.points;
    std::vector<CaseResult> shown;
    CaseStream stream(os, o.module, o.verbose, rs.sanitized);
    execute(rs, cases, [&](const CaseResult& raw) {
        tally.add(raw);
        CaseResult r = visible_part(raw, rs.show_hidden);
        shown.push_back(r);
        if (!o.grade) {
            stream.add(r);
            if (o.verbose && r.outcome != Outcome::passed && !r.output.empty()) os << "      output:\n" << r.output;
            os.flush();
        }
        if (!o.json_path.empty() && o.json_path != "-") {
            try {
                write_report(o.json_path, gradescope_json(rs, shown, tally, cases.size(), total_points));
            } catch (const std::exception& e) {
                std::cerr << "tito: " << e.what() << "\n";
            }
        }
    });
    if (o.grade) {
        print_grade_table(os, shown, tally, o.verbose);
        os << "\n" << tally.summary() << ". Score " << format_number(tally.score) << "/" << format_number(tally.max)
           << ".\n";
    } else {
        stream.finish(tally);
    }
    return shown;
}

// ---------------------------------------------------------------- 4. record

// Record a grade in the progress store; prints where (or why not).
void record_grade(const RunSettings& rs, const Tally& tally, const std::vector<progress::LibraryStamp>& stamps,
                  std::ostream& os) {
    progress::GradeRecord rec;
    rec.module = rs.module;
    rec.mode = progress::classify(rs.module, rs.choice);
    rec.score = tally.score;
    rec.max_score = tally.max;
    rec.cases = tally.total;
    rec.passed = tally.passed;
    rec.passed_all = tally.passed == tally.total && tally.total > 0;
    rec.timestamp = progress::now_iso8601(&rec.time);
    rec.impl = tt::format_impl_choice(rs.choice);
    rec.libraries = stamps;
    std::string store_path = progress::default_store_path();
    const std::string nn = two_digits(rs.module);
    try {
        progress::Store store = progress::record_grade(rec, store_path);
        os << "Recorded as the " << progress::mode_name(rec.mode) << " grade of module " << nn << " in "
           << store_path << ".\n";
        if (rs.module == 9) {
            progress::GateStatus g = progress::gate_status(9, store, paths().lib_dir);
            os << "Milestone 04: " << (g.unlocked ? "unlocked: run ./tito milestone run 04" : "locked") << "\n";
            if (!g.unlocked)
                for (const auto& why : g.reasons) os << "  - " << why << "\n";
        }
    } catch (const std::exception& e) {
        std::cerr << "tito: could not record the grade: " << e.what() << "\n";
    }
}

// `grade NN --integrated`: the isolated score next to the integrated one,
// from a fresh record or from an isolated run now. Returns a sentence for
// results.json ("" when there is nothing to compare).
std::string compare_with_isolated(const TestOptions& o, const RunSettings& rs, Prepared& prep,
                                  const std::vector<TestCaseEntry>& cases, const std::vector<CaseResult>& results,
                                  const Tally& tally, std::ostream& os) {
    const int module = o.module;
    const std::string nn = two_digits(module);
    std::optional<progress::GradeRecord> iso_record;
    if (!o.build_sanitize) {
        progress::Store store = progress::load();
        iso_record = store.find(module, progress::Mode::isolated);
        if (iso_record && !progress::check_fresh(*iso_record, rs.lib_dir).fresh) iso_record.reset();
    }
    if (iso_record) {
        print_side_by_side(os, module, results, tally, nullptr, nullptr, &*iso_record);
        return " Isolated (recorded " + iso_record->timestamp + "): " + format_number(iso_record->score) + "/" +
               format_number(iso_record->max_score) + ".";
    }
    RunSettings iso = rs;
    iso.spec = "reference," + nn + "=student";
    iso.choice = parse_spec_or_usage(iso.spec, o.command);
    const uint32_t needed = needed_modules(module);
    std::string absent;
    for (int m = 1; m < module; ++m)
        if ((needed & (1u << m)) && !fs::exists(library_path(iso.lib_dir, m, tt::Variant::reference)))
            absent = library_path(iso.lib_dir, m, tt::Variant::reference);
    if (!absent.empty()) {
        os << "\n(No isolated score to compare: it needs the reference libraries, and " << absent
           << " does not exist.)\n";
        return "";
    }
    os << "\nRunning the isolated grade too (your " << nn << " on reference 01-" << two_digits(module - 1)
       << "), to compare ...\n";
    os.flush();
    // Its own isolation plan: the graded module's forbidden libraries differ.
    IsolationPlan iso_isolation;
    plan_isolation(iso_isolation, module, iso.choice, iso.lib_dir, prep.worker_dir, prep.isolation.hide,
                   prep.process_budget);
    iso.iso = &iso_isolation;
    Tally iso_tally;
    std::vector<CaseResult> iso_results;
    execute(iso, cases, [&](const CaseResult& r) {
        iso_tally.add(r);
        iso_results.push_back(visible_part(r, iso.show_hidden));
    });
    if (o.records()) record_grade(iso, iso_tally, progress::stamp_libraries(module, iso.choice, iso.lib_dir), os);
    print_side_by_side(os, module, results, tally, &iso_results, &iso_tally, nullptr);
    return " Isolated: " + format_number(iso_tally.score) + "/" + format_number(iso_tally.max) + ".";
}

}  // namespace

int cmd_test(const std::vector<std::string>& args, bool grade) {
    std::optional<TestOptions> parsed = parse_options(args, grade);
    if (!parsed) return kOk;
    const TestOptions& o = *parsed;
    // With --json - the report goes to stdout, so the readable text goes to stderr.
    std::ostream& os = o.json_path == "-" ? std::cerr : std::cout;

    RunSettings rs;
    Prepared prep;
    if (int rc = prepare_run(o, rs, prep, os); rc != kOk) return rc;
    // Stamp the student libraries before running: the grade is tied to these bytes.
    std::vector<progress::LibraryStamp> stamps = progress::stamp_libraries(o.module, rs.choice, rs.lib_dir);
    std::optional<std::vector<TestCaseEntry>> cases = select_cases(o, rs);
    if (!cases) return o.filters.empty() ? kTestsFailed : kUsage;
    print_header(os, o, rs, prep, cases->size());

    Tally tally;
    std::vector<CaseResult> results = run_and_report(o, rs, *cases, tally, os);
    int code = kOk;
    if (tally.count[Outcome::load_error] > 0) code = kLoadError;
    else if (tally.passed != tally.total) code = kTestsFailed;
    if (!grade) return code;

    if (o.records()) record_grade(rs, tally, stamps, os);
    else if (o.build_sanitize && !o.no_record)
        os << "Not recorded: a --sanitize run is a check, not a grade (run ./tito grade " << two_digits(o.module)
           << " without --sanitize to record one).\n";
    std::string extra_output;
    if (progress::classify(o.module, rs.choice) == progress::Mode::integrated && o.module > 1)
        extra_output = compare_with_isolated(o, rs, prep, *cases, results, tally, os);

    if (!o.json_path.empty()) {
        std::string doc = gradescope_json(rs, results, tally);
        if (!extra_output.empty()) {
            progress::Json j = progress::Json::parse(doc);
            j.set("output", j.string_or("output", "") + extra_output);
            doc = j.dump(2) + "\n";
        }
        write_report(o.json_path, doc);
    }
    if (!o.junit_path.empty()) write_report(o.junit_path, junit_xml(rs, results, tally));
    return code;
}

}  // namespace tito
