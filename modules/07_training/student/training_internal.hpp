// training_internal.hpp - what the files of module 07 share.
//
// Nothing to implement here. The TODOs are in step.cpp (train_step,
// train_epoch, evaluate), accuracy.cpp, clip.cpp, schedule.cpp and
// checkpoint.cpp; support.cpp (messages, bytes and files) is given.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinytorch/abi/tt_05_autograd.h"
#include "tinytorch/abi/tt_07_training.h"
#include "tinytorch/module/module_support.hpp"

namespace train {

// ---- messages (support.cpp) ----
// "0.001", "nan": a number for a message.
std::string num(double v);
// "[2, 3]"
std::string shape_str(int32_t ndim, const int64_t* shape);

// ---- gradient clipping (clip.cpp) ----
// Global L2 norm over the grads of params (NULL grads skipped), in double.
tt_status grad_norm(tt_tensor* const* params, int32_t n_params, double* out);
// If norm > max_norm, scale every grad by max_norm / (norm + 1e-6).
tt_status clip_to(tt_tensor* const* params, int32_t n_params, double norm, float max_norm);

// ---- schedules (schedule.cpp) ----
// TT_INVALID_ARGUMENT with a message for a schedule that makes no sense.
tt_status check_schedule(const tt_lr_schedule* s);

// ---- checkpoint bytes and files (support.cpp) ----
// Little-endian encoding, whatever the byte order of the machine.
struct ByteWriter {
    std::vector<uint8_t> bytes;
    void raw(const void* p, size_t n);
    void u32(uint32_t v);
    void i64(int64_t v);
    void f32s(const float* data, int64_t n);
};

// Reads from [data, data + size); every read returns false (and reads
// nothing) when the bytes are not there.
struct ByteReader {
    const uint8_t* data;
    size_t size;
    size_t pos = 0;
    size_t left() const { return size - pos; }
    bool u32(uint32_t* v);
    bool i64(int64_t* v);
    bool skip(size_t n, const uint8_t** at);  // *at = start of the n bytes skipped
};

// Copy n little-endian floats from checkpoint bytes into dst.
void read_f32s(const uint8_t* src, int64_t n, float* dst);

// "TTCKPT\0\0"
extern const char k_checkpoint_magic[8];

// One tensor as found in a checkpoint file (data points into the file bytes).
struct CheckpointEntry {
    std::string name;
    int32_t ndim = 0;
    int64_t shape[TT_MAX_DIMS] = {};
    int64_t numel = 1;
    const uint8_t* data = nullptr;
};

// Write bytes to path atomically: a temporary file in the same directory,
// flushed to disk, renamed over the target. On failure (TT_IO_ERROR) the
// target is untouched and the temporary file is gone.
tt_status write_file_atomic(const char* fn, const std::string& path, const std::vector<uint8_t>& bytes);
// The whole file; TT_IO_ERROR naming the path and the reason when unreadable.
tt_status read_file(const char* fn, const std::string& path, std::vector<uint8_t>* out);

// ---- the table ----
tt_status train_step(const tt_train_callbacks* cb, const tt_tensor* x, const tt_tensor* y, float max_grad_norm,
                     tt_step_result* out);
tt_status train_epoch(const tt_train_callbacks* cb, const tt_lr_schedule* schedule, float max_grad_norm,
                      int64_t* global_step, tt_epoch_result* out);
tt_status evaluate(const tt_train_callbacks* cb, tt_epoch_result* out);
tt_status accuracy(const tt_tensor* logits, const tt_tensor* targets, int64_t* out_correct);
tt_status clip_grad_norm(tt_tensor* const* params, int32_t n_params, float max_norm, float* out_total_norm);
tt_status schedule_lr(const tt_lr_schedule* schedule, int64_t step, float* out_lr);
tt_status checkpoint_save(const char* path, int32_t count, const char* const* names, const tt_tensor* const* tensors);
tt_status checkpoint_load(const char* path, int32_t count, const char* const* names, tt_tensor* const* tensors);

}  // namespace train
