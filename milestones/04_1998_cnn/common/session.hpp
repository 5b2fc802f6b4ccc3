// session.hpp - what both milestone programs do before training: the gate,
// the choice of libraries, seeds and threads, and the banner that says which
// code is running.
#pragma once

#include <cstdint>
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

// Tensors [N, C, H, W] and [N] from a dataset.
Split to_split(const tt::data::ImageDataset& d);

// Ensure a directory exists (throws with a readable message).
void make_dir(const std::string& dir);

}  // namespace milestone
