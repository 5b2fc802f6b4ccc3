// session.hpp - what both milestone programs do before training: the gate,
// the choice of libraries, seeds and threads, and the banner that says which
// code is running.
#pragma once

#include <boost/program_options.hpp>

#include <cstdint>
#include <functional>
#include <string>

#include "common/training.hpp"
#include "tinytorch/datasets.hpp"

namespace milestone {

// Exit codes (also in README.md and docs/cli.md).
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitLoad = 3;
constexpr int kExitLocked = 5;
constexpr int kExitDataMissing = 6;
constexpr int kExitNumeric = 7;
constexpr int kExitInterrupted = 130;

struct SessionOptions {
    bool reference = false;  // --reference: run on the reference libraries
    std::string impl;        // --impl SPEC (instructors; bypasses nothing: the gate still applies to student code)
    uint64_t seed = 42;
    int threads = 0;         // 0: the runtime's default
    bool quiet = false;
    std::string title;
};

// Applies the gate (returns kExitLocked after printing why and how to fix it),
// configures the runtime and prints the banner. Returns kExitOk to go on.
int open_session(const SessionOptions& options);

// The options both programs share, bound to `session`, `cfg`, `out_dir` and
// `eval_only`; each program adds its own and sets the defaults it needs.
struct CommonOptions {
    SessionOptions session;
    TrainConfig train;
    std::string out_dir;
    bool eval_only = false;
    std::string seed_text;  // --seed as typed: parsed strictly into session.seed
};
void add_common_options(boost::program_options::options_description& opts, CommonOptions& c,
                        int default_epochs, int64_t default_batch, float default_lr, const char* lr_text,
                        int default_threads, const std::string& default_out);

// Parse the command line. Returns -1 to go on, or the exit code to return:
// kExitOk after printing --help, kExitUsage after a bad option or value (a
// stray positional argument, --seed -1, --lr inf, ...). --threads above the
// machine's cores is a warning and uses the cores.
int parse_command_line(int argc, char** argv, const boost::program_options::options_description& opts,
                       const std::string& program, CommonOptions& c);

// Run the program body; the errors a run can meet become the documented
// exit codes with a readable message (usage 2, NaN loss or divergence 7,
// data 6, library 3).
int run_guarded(const std::function<int()>& body);

// The images must have the shape the network is built for; throws
// tt::data::DatasetError (exit 6) naming what was expected and what was found.
// `expected` says it in words ("TinyDigits' 1x8x8 digits"), `advice` what to do.
void require_image_shape(const tt::data::ImageDataset& train, const tt::data::ImageDataset& test,
                         int64_t channels, int64_t min_height, int64_t max_height, const std::string& expected,
                         const std::string& advice);

// A batch larger than the training set would train no batch at all (the
// loader drops the last partial batch): warn and use the whole set instead.
int64_t fit_batch_size(int64_t batch_size, int64_t train_size);

// Holds `out_dir`/.lock (flock) for the life of the run: a second run on the
// same --out would overwrite this one's checkpoints, so it stops with exit 2.
// With the lock held, any checkpoint temporary file in out_dir is a leftover
// of a killed run, and the next save may delete it.
class OutDirLock {
public:
    explicit OutDirLock(const std::string& out_dir);  // throws UsageError when taken
    ~OutDirLock();
    OutDirLock(const OutDirLock&) = delete;
    OutDirLock& operator=(const OutDirLock&) = delete;

private:
    int fd_ = -1;
};

// Tensors [N, C, H, W] and [N] from a dataset.
Split to_split(const tt::data::ImageDataset& d);

// Ensure a directory exists (throws with a readable message).
void make_dir(const std::string& dir);

}  // namespace milestone
