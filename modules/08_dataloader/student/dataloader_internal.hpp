// dataloader_internal.hpp - what the files of module 08 share: the loader
// struct, small helpers and the functions of the table.
//
// Nothing to implement here. The TODOs are in loader.cpp (shuffling and
// batching) and transforms.cpp (flip, crop, normalize).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinytorch/abi/tt_08_dataloader.h"
#include "tinytorch/module/module_support.hpp"

// The loader behind the opaque handle: it borrows x and y and keeps the
// order of the current epoch.
struct tt_dataloader {
    const tt_tensor* x = nullptr;  // borrowed, [N, ...]
    const tt_tensor* y = nullptr;  // borrowed, [N, ...]
    int64_t n = 0;                 // samples
    int64_t batch_size = 1;
    bool shuffle = false;
    bool drop_last = false;
    uint64_t seed = 0;
    std::vector<int64_t> order;    // sample indices of this epoch, in batch order
    int64_t pos = 0;               // next position in order
};

namespace data {

// "0.5", "nan": a number for a message.
std::string num(double v);
// "[2, 3, 8, 8]"
std::string shape_str(const tt_tensor* t);

// ---- the table (loader.cpp) ----
tt_status shuffle_indices(int64_t n, uint64_t seed, int64_t* out_indices);
tt_status loader_create(const tt_tensor* x, const tt_tensor* y, int64_t batch_size, int32_t shuffle,
                        int32_t drop_last, uint64_t seed, tt_dataloader** out);
tt_status loader_num_batches(const tt_dataloader* loader, int64_t* out_count);
tt_status loader_start_epoch(tt_dataloader* loader, int64_t epoch);
tt_status loader_next(tt_dataloader* loader, tt_tensor** out_x, tt_tensor** out_y, int32_t* has_batch);
tt_status loader_free(tt_dataloader* loader);

// ---- the table (transforms.cpp) ----
tt_status random_hflip(const tt_tensor* x, float p, tt_rng* rng, tt_tensor** out);
tt_status random_crop(const tt_tensor* x, int32_t padding, tt_rng* rng, tt_tensor** out);
tt_status normalize(const tt_tensor* x, const float* mean, const float* std, int32_t channels, tt_tensor** out);

}  // namespace data
