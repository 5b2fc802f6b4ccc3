#include "common/session.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "tinytorch/progress.hpp"
#include "tinytorch/runtime.hpp"

namespace milestone {

int open_session(const SessionOptions& o) {
    tt::ImplChoice choice;
    try {
        choice = tt::parse_impl_spec(o.reference ? "reference" : o.impl);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return kExitUsage;
    }
    bool any_student = false;
    for (auto v : choice) any_student = any_student || v == tt::Variant::student;

    // The gate: student code runs the milestone only after module 09 passed
    // its grader on the student's own stack, with those very libraries.
    if (any_student) {
        tt::progress::GateStatus gate = tt::progress::gate_status(9);
        if (!gate.unlocked) {
            std::printf("Milestone 04 is locked: module 09 must pass its grader on your own modules 01-09 first.\n");
            for (auto& r : gate.reasons) std::printf("  - %s\n", r.c_str());
            std::printf("\nTo unlock: %s\n", gate.fix_command.empty() ? "./tito grade 09 --integrated" : gate.fix_command.c_str());
            std::printf("To watch the milestone on the reference modules instead: ./tito milestone run 04 --reference\n");
            return kExitLocked;
        }
    }
    tt::runtime().configure(choice);
    tt::runtime().seed(o.seed);
    if (o.threads > 0) tt::runtime().set_threads(o.threads);
    if (!o.quiet) {
        std::printf("\n%s\n", o.title.c_str());
        std::printf("%s\n", std::string(o.title.size(), '=').c_str());
        if (o.reference)
            std::printf("Running on the REFERENCE modules (demo / instructor mode), %d threads, seed %llu.\n\n",
                        tt::runtime().threads(), static_cast<unsigned long long>(o.seed));
        else
            std::printf("Running on YOUR modules (--impl %s), %d threads, seed %llu.\n\n",
                        tt::format_impl_choice(choice).c_str(), tt::runtime().threads(),
                        static_cast<unsigned long long>(o.seed));
    }
    return kExitOk;
}

namespace po = boost::program_options;

void add_common_options(po::options_description& opts, CommonOptions& c, int default_epochs, int64_t default_batch,
                        float default_lr, const char* lr_text, int default_threads, const std::string& default_out) {
    opts.add_options()("help,h", "show this help")
        ("reference", po::bool_switch(&c.session.reference), "run on the reference modules (no gate)")
        ("impl", po::value(&c.session.impl), "variants per module, e.g. 01-09=student (the gate applies to student code)")
        ("epochs", po::value(&c.train.epochs)->default_value(default_epochs), "training epochs")
        ("batch-size", po::value(&c.train.batch_size)->default_value(default_batch), "batch size")
        ("lr", po::value(&c.train.lr)->default_value(default_lr, lr_text), "peak learning rate (Adam, cosine schedule)")
        ("seed", po::value(&c.session.seed)->default_value(42), "seed for init, shuffling and augmentation")
        ("threads", po::value(&c.session.threads)->default_value(default_threads), "threads (0: all cores)")
        ("out", po::value(&c.out_dir)->default_value(default_out), "directory for curves, filters, metrics, checkpoints")
        ("eval-only", po::bool_switch(&c.eval_only), "evaluate the checkpoints in --out instead of training")
        ("resume", po::bool_switch(&c.train.resume), "continue from the checkpoints in --out")
        ("quiet,q", po::bool_switch(&c.session.quiet), "only the results");
}

int parse_command_line(int argc, char** argv, const po::options_description& opts, const std::string& program,
                       const CommonOptions& c) {
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, opts), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "error: %s\n\n", e.what());
        std::cerr << opts;
        return kExitUsage;
    }
    if (vm.count("help")) {
        std::cout << "Usage: " << program << " [options]\n\n" << opts
                  << "\nExit codes: 0 done, 2 usage, 3 module load error, 5 locked, 6 data missing, "
                     "7 loss became NaN/Inf, 130 interrupted (checkpoint saved).\n";
        return kExitOk;
    }
    if (c.train.epochs < 1 || c.train.batch_size < 1 || !(c.train.lr > 0) || c.session.threads < 0) {
        std::fprintf(stderr, "error: --epochs and --batch-size must be >= 1, --lr > 0, --threads >= 0\n");
        return kExitUsage;
    }
    return -1;
}

int run_guarded(const std::function<int()>& body) {
    try {
        return body();
    } catch (const NumericFailure& e) {
        std::fprintf(stderr, "\nstopped: %s\n", e.what());
        return kExitNumeric;
    } catch (const tt::data::DatasetError& e) {
        std::fprintf(stderr, "\ndata error: %s\n", e.what());
        return kExitDataMissing;
    } catch (const tt::LoadError& e) {
        std::fprintf(stderr, "\n%s\n", e.what());
        return kExitLoad;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "\nerror: %s\n", e.what());
        return 1;
    }
}

Split to_split(const tt::data::ImageDataset& d) {
    Split s;
    s.x = tt::Tensor::from(d.images, {d.count, d.channels, d.height, d.width});
    s.y = tt::Tensor::from(d.labels, {d.count});
    return s;
}

void make_dir(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create the output directory " + dir + ": " + ec.message());
}

}  // namespace milestone
