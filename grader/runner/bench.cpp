// bench.cpp - `tito bench NN`: how fast your module NN runs next to the
// reference's, op by op. Feedback only: speed is never graded.
//
// tito-cli loads no module code itself: it runs bin/tt_bench (bench/) twice
// per round, once with your module NN among the reference modules
// (--impl reference,NN=student) and once with the reference alone, the order
// swapped every round so that both meet the same machine, and prints the
// median of every figure over the rounds with the ratio yours / reference.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "child.hpp"
#include "cli.hpp"
#include "isolation.hpp"

namespace fs = std::filesystem;

namespace tito {

namespace {

// What tt_bench measures for each module: the ops that module owns, then the
// training steps built on it.
std::string sections_for(int module) {
    if (module == 1) return "matmul,mlp";       // module 01's matmul, the MLP step on it
    if (module == 9) return "ops,digits,cifar";  // conv/pool/batch norm alone, then the CNN steps
    return "mlp,digits,cifar";                   // the milestone steps (02-08 are inside every one)
}

struct Figure {
    std::string unit;
    std::vector<double> values;
};
using Figures = std::map<std::string, Figure>;  // by metric name

// "RESULT <name> <value> <unit>" lines of one tt_bench run.
void parse_results(const std::string& out, std::vector<std::string>& order, Figures& into) {
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string tag, name, unit;
        double value = 0;
        if (!(ls >> tag >> name >> value >> unit) || tag != "RESULT" || name == "threads") continue;
        if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
        into[name].unit = unit;
        into[name].values.push_back(value);
    }
}

double median_of(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string one;
    return in >> one ? one : "?";
}

std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : v >= 1 ? "%.2f" : "%.3f", v);
    return buf;
}

}  // namespace

int cmd_bench(const std::vector<std::string>& args) {
    po::options_description opts("Options");
    opts.add_options()("help,h", "show this help")(
        "rounds", po::value<int>()->default_value(3), "alternating rounds (the median is shown)")(
        "repeats", po::value<int>()->default_value(3), "timed repeats per figure inside one run")(
        "threads", po::value<int>()->default_value(0), "threads of the core's pool (0: every core)")(
        "against", po::value<std::string>()->default_value("reference"),
        "reference (the plain solution) or fast (module 09's tuned variant)")(
        "allow-root", "when tito runs as root: run your module anyway (only code you trust)")(
        "module", po::value<std::string>(), "the module, 01..09 (or just NN)");
    po::positional_options_description pos;
    pos.add("module", 1);
    po::variables_map vm = parse_args(args, opts, pos, "bench");
    if (vm.count("help")) {
        print_help("tito bench NN [--rounds K] [--repeats R] [--threads N] [--against reference|fast]",
                   "Time your module NN next to the reference: its own ops (01: matmul on the\n"
                   "linear layers' shapes; 09: convolution, pooling, batch norm and the fused\n"
                   "blocks of the CIFAR net) and the training steps of the milestone nets, with\n"
                   "your NN among the reference modules. Prints the median of K alternating\n"
                   "rounds and yours / reference (2.0x: yours takes twice as long). Speed is\n"
                   "feedback, never graded; on a busy machine rerun with more --rounds.",
                   opts);
        return kOk;
    }
    if (!vm.count("module")) throw UsageError{"which module? e.g. tito bench 09", "bench"};
    const int module = parse_module_arg(vm["module"].as<std::string>(), "bench");
    const int rounds = vm["rounds"].as<int>(), repeats = vm["repeats"].as<int>(), threads = vm["threads"].as<int>();
    const std::string against = vm["against"].as<std::string>();
    if (rounds < 1 || rounds > 50) throw UsageError{"--rounds must be 1..50", "bench"};
    if (repeats < 1 || repeats > 50) throw UsageError{"--repeats must be 1..50", "bench"};
    if (threads < 0) throw UsageError{"--threads must be >= 0", "bench"};
    if (against != "reference" && against != "fast")
        throw UsageError{"--against takes reference or fast, not '" + against + "'", "bench"};
    if (globals().impl) throw UsageError{"bench compares your module with the reference: no --impl", "bench"};

    const Paths& p = paths();
    const std::string tt_bench = (fs::path(p.bin_dir) / "tt_bench").string();
    if (!fs::exists(tt_bench)) {
        std::cerr << "tito: " << tt_bench << " is not built (its source is bench/tt_bench.cpp); build with ./tito.\n";
        return kLoadError;
    }
    const std::string nn = two_digits(module);
    if (!fs::exists(tt::module_library_path(module, tt::Variant::student))) {
        std::cerr << "tito: your module " << nn << " is not built (" << tt::module_library_path(module, tt::Variant::student)
                  << "); build with ./tito and pass ./tito test " << nn << " first.\n";
        return kLoadError;
    }
    // tt_bench loads the student module in its own process, not in a worker.
    if (!student_code_may_run("tito bench", vm.count("allow-root") > 0)) return kUsage;
    const std::string yours_spec = "reference," + nn + "=student";
    const std::string ref_spec = against == "fast" ? "fast" : "reference";
    const int pool = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    auto argv_for = [&](const std::string& spec) {
        return std::vector<std::string>{tt_bench,    "--impl",    spec, "--only", sections_for(module), "--repeats",
                                        std::to_string(repeats), "--threads", std::to_string(pool)};
    };

    std::cout << "Module " << nn << ": yours (" << yours_spec << ") against " << ref_spec << ", " << rounds
              << " alternating round" << (rounds == 1 ? "" : "s") << ", " << pool << " thread"
              << (pool == 1 ? "" : "s") << "; load average " << load_average() << " at the start.\n"
              << "Speed is feedback, never graded.\n";
    std::cout.flush();
    std::vector<std::string> order;
    Figures yours, ref;
    ChildLimits limits;
    limits.timeout_s = 600;
    limits.capture_bytes = 1 << 20;
    for (int r = 0; r < rounds; ++r) {
        for (int side = 0; side < 2; ++side) {
            const bool mine = (side == 0) == (r % 2 == 0);  // yours first in odd rounds
            ChildResult c = run_child(argv_for(mine ? yours_spec : ref_spec), {{"TITO_LIB_DIR", p.lib_dir}}, limits);
            if (!c.started || c.timed_out || c.signal != 0 || c.exit_code != 0) {
                std::cerr << "tito: tt_bench with " << (mine ? "your module " + nn : ref_spec) << " failed: "
                          << (!c.started ? c.start_error
                              : c.timed_out ? "no result within 600 s"
                              : c.signal ? signal_description(c.signal)
                                         : "exit " + std::to_string(c.exit_code))
                          << "\n" << tail_lines(c.err, 8) << "\n";
                if (mine) std::cerr << "  run ./tito test " << nn << " first: the bench needs a working module.\n";
                return kTestsFailed;
            }
            parse_results(c.out, order, mine ? yours : ref);
        }
        std::cout << "  round " << r + 1 << "/" << rounds << " done (load average " << load_average() << ")\n";
        std::cout.flush();
    }

    std::printf("\n%-26s %19s %19s %10s\n", "median", "yours", ref_spec.c_str(), "yours/ref");
    for (const auto& name : order) {
        if (!yours.count(name) || !ref.count(name)) continue;
        const Figure &a = yours[name], &b = ref[name];
        const double ya = median_of(a.values), rb = median_of(b.values);
        const bool rate = a.unit.find("/s") != std::string::npos;  // images/s, GFLOP/s: higher is faster
        const double ratio = rate ? (ya > 0 ? rb / ya : 0) : (rb > 0 ? ya / rb : 0);
        std::printf("%-26s %10s %-8s %10s %-8s %9.2fx\n", name.c_str(), fmt(ya).c_str(), a.unit.c_str(),
                    fmt(rb).c_str(), b.unit.c_str(), ratio);
    }
    std::printf("\nyours/ref: how many times the reference's time yours takes (below 1: yours is faster).\n"
                "Load average %s at the end; the raw runs: %s --impl %s --only %s\n",
                load_average().c_str(), tt_bench.c_str(), yours_spec.c_str(), sections_for(module).c_str());
    return kOk;
}

}  // namespace tito
