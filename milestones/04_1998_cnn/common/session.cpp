#include "common/session.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include "tinytorch/progress.hpp"
#include "tinytorch/runtime.hpp"

namespace milestone {

int open_session(const SessionOptions& o) {
    tt::ImplChoice choice;
    try {
        // --reference: the fastest libraries built (module 09's fast variant
        // where lib/ has it, the reference elsewhere); the banner says which.
        choice = o.reference ? tt::fastest_available_choice() : tt::parse_impl_spec(o.impl);
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
            std::printf("Running on the REFERENCE modules (demo / instructor mode: %s), %d threads, seed %llu.\n\n",
                        tt::format_impl_choice(choice).c_str(), tt::runtime().threads(),
                        static_cast<unsigned long long>(o.seed));
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
        ("seed", po::value(&c.seed_text)->default_value("42"), "seed for init, shuffling and augmentation (0 .. 2^64-1)")
        ("threads", po::value(&c.session.threads)->default_value(default_threads), "threads (0: all cores)")
        ("out", po::value(&c.out_dir)->default_value(default_out), "directory for curves, filters, metrics, checkpoints")
        ("eval-only", po::bool_switch(&c.eval_only), "evaluate the checkpoints in --out instead of training")
        ("resume", po::bool_switch(&c.train.resume), "continue from the checkpoints in --out")
        ("quiet,q", po::bool_switch(&c.session.quiet), "only the results");
}

namespace {

// A whole decimal number 0 .. 2^64-1, nothing else ("-1", "1e3", "" and
// "12abc" are refused; boost would turn "-1" into 2^64-1).
bool parse_u64(const std::string& text, uint64_t* out) {
    if (text.empty() || text.size() > 20) return false;
    uint64_t v = 0;
    for (char ch : text) {
        if (ch < '0' || ch > '9') return false;
        uint64_t digit = static_cast<uint64_t>(ch - '0');
        if (v > (UINT64_MAX - digit) / 10) return false;
        v = v * 10 + digit;
    }
    *out = v;
    return true;
}

}  // namespace

int parse_command_line(int argc, char** argv, const po::options_description& opts, const std::string& program,
                       CommonOptions& c) {
    po::variables_map vm;
    auto usage = [&](const std::string& msg) {
        std::fprintf(stderr, "error: %s\n(%s --help lists the options)\n", msg.c_str(), program.c_str());
        return kExitUsage;
    };
    std::vector<std::string> stray;
    try {
        // Words that belong to no option ("--epochs 5 10") are collected
        // here and refused below instead of being ignored.
        po::options_description all;
        all.add(opts).add_options()("stray-argument", po::value(&stray));
        po::positional_options_description positional;
        positional.add("stray-argument", -1);
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "error: %s\n\n", e.what());
        std::cerr << opts;
        return kExitUsage;
    }
    if (vm.count("help")) {
        std::cout << "Usage: " << program << " [options]\n\n" << opts
                  << "\nExit codes: 0 done, 2 usage, 3 module load error, 5 locked, 6 data missing or unusable, "
                     "7 loss became NaN/Inf or training diverged, 130 interrupted (checkpoint saved).\n";
        return kExitOk;
    }
    if (!stray.empty()) {
        std::string words;
        for (auto& w : stray) words += (words.empty() ? "'" : " '") + w + "'";
        return usage("unexpected argument " + words + ": every option is written --name VALUE");
    }
    if (!parse_u64(c.seed_text, &c.session.seed))
        return usage("--seed must be a whole number from 0 to 18446744073709551615 (got '" + c.seed_text + "')");
    if (c.train.epochs < 1) return usage("--epochs must be >= 1 (got " + std::to_string(c.train.epochs) + ")");
    if (c.train.batch_size < 1)
        return usage("--batch-size must be >= 1 (got " + std::to_string(c.train.batch_size) + ")");
    if (!(c.train.lr > 0) || !std::isfinite(c.train.lr)) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%g", c.train.lr);
        return usage(std::string("--lr must be a finite number > 0 (got ") + buf + ")");
    }
    if (c.session.threads < 0) return usage("--threads must be >= 0 (0: all cores)");
    if (c.out_dir.empty()) return usage("--out must name a directory");
    const int cores = static_cast<int>(std::thread::hardware_concurrency());
    if (cores > 0 && c.session.threads > cores) {
        std::fprintf(stderr, "warning: --threads %d is more than the %d cores of this machine: using %d\n",
                     c.session.threads, cores, cores);
        c.session.threads = cores;
    }
    return -1;
}

int run_guarded(const std::function<int()>& body) {
    try {
        return body();
    } catch (const UsageError& e) {
        std::fprintf(stderr, "\nerror: %s\n", e.what());
        return kExitUsage;
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

void require_image_shape(const tt::data::ImageDataset& train, const tt::data::ImageDataset& test, int64_t channels,
                         int64_t min_height, int64_t max_height, const std::string& expected,
                         const std::string& advice) {
    auto shape = [](const tt::data::ImageDataset& d) {
        return std::to_string(d.channels) + "x" + std::to_string(d.height) + "x" + std::to_string(d.width);
    };
    for (const auto* d : {&train, &test}) {
        const bool ok = d->channels == channels && d->height == d->width && d->height >= min_height &&
                        d->height <= max_height;
        if (!ok)
            throw tt::data::DatasetError("the " + std::string(d == &train ? "training" : "test") + " images are " +
                                         shape(*d) + " (channels x height x width), but this network expects " +
                                         expected + ".\n  " + advice);
    }
    if (train.num_classes != 10 || test.num_classes != 10)
        throw tt::data::DatasetError("the data set has " + std::to_string(train.num_classes) +
                                     " classes, but this network has 10 outputs.\n  " + advice);
}

int64_t fit_batch_size(int64_t batch_size, int64_t train_size) {
    if (train_size > 0 && batch_size > train_size) {
        std::fprintf(stderr,
                     "warning: --batch-size %lld is larger than the %lld training images: using %lld (one batch "
                     "per epoch)\n",
                     static_cast<long long>(batch_size), static_cast<long long>(train_size),
                     static_cast<long long>(train_size));
        return train_size;
    }
    return batch_size;
}

OutDirLock::OutDirLock(const std::string& out_dir) {
    const std::string path = out_dir + "/.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error("cannot create " + path + ": check that --out is a writable directory");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd_);
        fd_ = -1;
        throw UsageError("another milestone run is using " + out_dir +
                         " (it would overwrite that run's checkpoints): wait for it to finish or pass another --out");
    }
}

OutDirLock::~OutDirLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock (so does the process ending, kill -9 included)
}

}  // namespace milestone
