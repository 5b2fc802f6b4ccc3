// train.hpp - training with module 07: gradient clipping, learning-rate
// schedules, accuracy, checkpoints, and tt::Trainer, which runs module 07's
// training loop over a tt::nn::Module, a tt::Optimizer and a tt::DataLoader.
//
//   tt::Trainer trainer(model, opt);                   // cross-entropy loss
//   trainer.set_schedule(tt::LrSchedule::cosine(0.01f, epochs * loader.num_batches(), 100));
//   trainer.on_batch = [](const tt::BatchInfo& b) { ... progress ... };
//   for (int64_t e = 0; e < epochs; ++e) {
//       tt::EpochResult tr = trainer.train_epoch(loader, e);
//       tt::EpochResult te = trainer.evaluate(test_loader);
//       std::printf("%.4f %.2f%%\n", tr.mean_loss, 100 * te.accuracy());
//   }
//
// Every call goes to the loaded module 07 and throws tt::Error on failure.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tinytorch/abi/tt_07_training.h"
#include "tinytorch/data.hpp"
#include "tinytorch/nn.hpp"
#include "tinytorch/optim.hpp"
#include "tinytorch/tensor.hpp"

namespace tt {

// Scale every gradient so that their global L2 norm is at most max_norm;
// returns the norm before clipping. Parameters without a gradient are skipped.
float clip_grad_norm(const std::vector<Tensor>& params, float max_norm);

// How many rows of logits [N, C] have their argmax equal to targets [N].
int64_t accuracy(const Tensor& logits, const Tensor& targets);

// A learning rate per global step (0-based, one step per batch).
class LrSchedule {
public:
    explicit LrSchedule(const tt_lr_schedule& raw) : raw_(raw) {}
    static LrSchedule constant(float lr);
    // base_lr * gamma^floor(step / step_size)
    static LrSchedule step(float base_lr, float gamma, int64_t step_size);
    // Linear warmup from 0 over warmup_steps, then cosine from base_lr down to
    // min_lr at total_steps (warmup included), min_lr after.
    static LrSchedule cosine(float base_lr, int64_t total_steps, int64_t warmup_steps = 0, float min_lr = 0.0f);
    float lr_at(int64_t step) const;
    const tt_lr_schedule& raw() const { return raw_; }

private:
    tt_lr_schedule raw_{};
};

// ---- checkpoints (format: tt_07_training.h) -------------------------------------
// Save the tensors under their names, atomically.
void save_checkpoint(const std::string& path, const std::vector<nn::NamedTensor>& tensors);
// Load into the given tensors (their data is overwritten in place): every name
// must be in the file with the same shape. On any error (tt::Error:
// IO_ERROR, CORRUPT_DATA, SHAPE_MISMATCH) no tensor is modified.
void load_checkpoint(const std::string& path, const std::vector<nn::NamedTensor>& tensors);
// a followed by b: join(model.state(), opt.state_dict())
std::vector<nn::NamedTensor> join(std::vector<nn::NamedTensor> a, const std::vector<nn::NamedTensor>& b);

// ---- the trainer -------------------------------------------------------------------

struct EpochResult {
    double mean_loss = 0.0;  // sample-weighted mean over the epoch
    int64_t correct = 0;     // argmax(logits) == y (classification batches)
    int64_t count = 0;       // samples seen
    int64_t batches = 0;
    bool stopped = false;    // request_stop() ended the epoch early
    double accuracy() const { return count > 0 ? static_cast<double>(correct) / static_cast<double>(count) : 0.0; }
};

// What on_batch is told after every training batch.
struct BatchInfo {
    int64_t epoch = 0;
    int64_t batch = 0;        // index in the epoch
    int64_t num_batches = 0;  // batches in the epoch
    float loss = 0.0f;        // this batch's mean loss
    float lr = 0.0f;          // the learning rate the step used
    int64_t global_step = 0;  // steps before this one (the schedule's step)
};

class Trainer {
public:
    using LossFn = std::function<Tensor(const Tensor& logits, const Tensor& targets)>;
    using Transform = std::function<Tensor(const Tensor& x)>;

    // model and optimizer must outlive the trainer. The loss defaults to
    // cross-entropy (logits [N, C], targets [N] class indices).
    Trainer(nn::Module& model, Optimizer& optimizer, LossFn loss = cross_entropy);
    ~Trainer();
    Trainer(const Trainer&) = delete;
    Trainer& operator=(const Trainer&) = delete;

    // The learning rate per global step (none: the optimizer's lr stays).
    Trainer& set_schedule(const LrSchedule& schedule);
    Trainer& clear_schedule();
    // Clip the global gradient norm to max_norm before every step (0: off).
    Trainer& set_max_grad_norm(float max_norm);
    // Applied to every training batch x before the forward pass
    // (augmentation: random_hflip, random_crop, normalize). Not in evaluate.
    Trainer& set_transform(Transform transform);

    // Told after every training batch (progress reporting). An exception
    // thrown here stops the epoch and comes out of train_epoch.
    std::function<void(const BatchInfo&)> on_batch;

    // One epoch over loader (loader.begin_epoch(epoch) first) in training
    // mode: for every batch the schedule's lr, zero_grad, forward, loss, NaN
    // check, backward, clipping, optimizer step. A NaN/Inf loss is tt::Error
    // TT_NUMERIC_ERROR (that batch updates nothing).
    EpochResult train_epoch(DataLoader& loader, int64_t epoch);
    // Loss and accuracy over every batch of loader (rewound to epoch 0), in
    // eval mode with grad recording off; no parameter changes. The model's
    // train/eval mode is restored afterwards.
    EpochResult evaluate(DataLoader& loader);

    // Ask the running epoch to end after the current batch (from on_batch or
    // a signal handler such as Ctrl-C's); it returns with stopped = true. The
    // request stays (later train_epoch/evaluate calls stop at once) until
    // reset_stop().
    void request_stop() { stop_.store(true); }
    void reset_stop() { stop_.store(false); }
    bool stop_requested() const { return stop_.load(); }

    // Optimizer steps taken by this trainer (what the schedule sees).
    int64_t global_step() const { return global_step_; }
    void set_global_step(int64_t step) { global_step_ = step; }

    const EpochResult& last_train() const { return last_train_; }
    const EpochResult& last_eval() const { return last_eval_; }

    struct State;  // the callback side (train.cpp)

private:
    nn::Module& model_;
    Optimizer& optimizer_;
    std::unique_ptr<State> state_;
    std::atomic<bool> stop_{false};
    int64_t global_step_ = 0;
    EpochResult last_train_, last_eval_;
};

}  // namespace tt
