// training.hpp - the milestone's training run, built from the loaded modules:
// batches and augmentation from 08, Adam from 06, the step order, the LR
// schedule, accuracy and checkpoints from 07, the graph from 05, the layers
// from 03 and 09. Whatever variant is loaded is what trains.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tinytorch/nn.hpp"
#include "tinytorch/tensor.hpp"

namespace milestone {

struct Split {
    tt::Tensor x;  // [N, C, H, W]
    tt::Tensor y;  // [N] class indices as floats
    int64_t size() const { return x.size(0); }
};

struct TrainConfig {
    std::string label = "model";
    int epochs = 10;
    int64_t batch_size = 64;
    float lr = 1e-3f;            // peak learning rate
    float min_lr_ratio = 0.01f;  // cosine ends at lr * this
    float warmup_fraction = 0.0f;
    float weight_decay = 0.0f;   // AdamW when > 0
    float max_grad_norm = 0.0f;  // 0: no clipping
    int32_t crop_padding = 0;    // random shift augmentation (module 08 random_crop)
    bool hflip = false;          // random horizontal flip (module 08)
    uint64_t seed = 1;
    bool quiet = false;
    std::string checkpoint_path;  // saved at the end of every epoch and on Ctrl-C
    bool resume = false;          // continue from checkpoint_path (validated; a missing file trains from scratch)
};

struct EpochLog {
    double train_loss = 0, train_acc = 0, test_acc = 0, seconds = 0, images_per_second = 0;
    double elapsed = 0;  // wall seconds since fit() started, test run included
};

struct EvalResult {
    double accuracy = 0, loss = 0;
    std::vector<int> predictions;
};

struct FitResult {
    std::vector<EpochLog> epochs;
    bool interrupted = false;
    double train_seconds = 0;
    // The test run after the last epoch trained (empty when none ran): the
    // model has not changed since, so a caller that evaluates it again on the
    // same images can take this instead.
    std::optional<EvalResult> last_test;
};

// Thrown when the loss becomes NaN/Inf, grows far above where it started, or
// the model stays at chance: carries the diagnosis and a hint (exit 7).
struct NumericFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A mistake on the command line found only once the data or a checkpoint is
// known (e.g. --resume without a checkpoint): exit 2 with the message.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Evaluate without grad in eval mode, batch by batch.
EvalResult evaluate(tt::nn::Module& model, const Split& data, int64_t batch_size = 256);

// Train with Adam and a cosine schedule; evaluates `test` after each epoch.
FitResult fit(tt::nn::Module& model, const Split& train, const Split& test, const TrainConfig& config);

// Load a model's state (parameters + running statistics) from a checkpoint
// for --eval-only: checked (module 07's CRC and shapes, then every value
// finite) before the model is touched. No file: UsageError.
void load_model(tt::nn::Module& model, const std::string& path);

// Ctrl-C: the first press asks the run to stop after the current batch
// (checkpoint and partial results are written); a second one kills.
void install_interrupt_handler();
bool interrupted();

// Shapes the model produces layer by layer for one input of `input_shape`,
// with parameters and multiply-adds per image; returns the total MACs.
int64_t print_architecture(tt::nn::Sequential& model, const tt::Shape& input_shape);
// Multiply-adds for one image: a convolution does out_channels * out_h *
// out_w * in_channels * k * k, a linear layer in * out; pooling, batch norm
// and ReLU are not multiply-adds (and are small next to them).
int64_t multiply_adds(tt::nn::Sequential& model, const tt::Shape& input_shape);

}  // namespace milestone
