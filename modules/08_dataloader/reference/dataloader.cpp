// dataloader.cpp - module 08 DataLoader: seeded shuffling, batching and the
// image transforms of data augmentation (random flip, random crop, normalize).
//
// The contract is core/include/tinytorch/abi/tt_08_dataloader.h. Images are
// NCHW: [batch, channels, height, width], row-major.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tinytorch/abi/tt_08_dataloader.h"
#include "tinytorch/module/module_support.hpp"

// A loader borrows x and y and keeps the order of the current epoch.
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

namespace {

const tt_host* host() { return ttm::host(); }

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

std::string shape_str(const tt_tensor* t) {
    std::string s = "[";
    for (int32_t i = 0; i < t->ndim; ++i) s += (i ? ", " : "") + std::to_string(t->shape[i]);
    return s + "]";
}

// Floats per sample: the product of every size after the first.
int64_t sample_size(const tt_tensor* t) {
    int64_t s = 1;
    for (int32_t d = 1; d < t->ndim; ++d) s *= t->shape[d];
    return s;
}

// A new tensor shaped like t but with `rows` on the first axis.
tt_status create_rows(const tt_tensor* t, int64_t rows, tt_tensor** out) {
    int64_t shape[TT_MAX_DIMS];
    std::memcpy(shape, t->shape, sizeof shape);
    shape[0] = rows;
    return host()->tensor->create(shape, t->ndim, out);
}

// NCHW input check shared by the transforms.
tt_status check_images(const tt_tensor* x, const char* fn) {
    if (x == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, fn, "x is NULL");
    if (x->ndim != 4)
        return ttm::fail(TT_SHAPE_MISMATCH, fn,
                         "expected NCHW images [batch, channels, height, width], got " + shape_str(x));
    return TT_OK;
}

tt_status shuffle_indices(int64_t n, uint64_t seed, int64_t* out_indices) {
    TT_GUARD_BEGIN
    if (n < 0) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "n must be >= 0, got " + std::to_string(n));
    if (n > 0 && out_indices == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "out_indices is NULL");
    // BEGIN SOLUTION
    // TODO: seed a tt_rng with host()->rng_seed(&rng, seed), write 0..n-1 into
    //   out_indices, then Fisher-Yates from the back:
    //   for i = n-1 down to 1: j = host()->rng_next(&rng) % (i + 1); swap out[i], out[j].
    // HINT: exactly this order of draws makes your permutation match the
    //   reference one for the same seed (the tests check it).
    tt_rng rng;
    host()->rng_seed(&rng, seed);
    for (int64_t i = 0; i < n; ++i) out_indices[i] = i;
    for (int64_t i = n - 1; i > 0; --i) {
        const int64_t j = static_cast<int64_t>(host()->rng_next(&rng) % static_cast<uint64_t>(i + 1));
        const int64_t tmp = out_indices[i];
        out_indices[i] = out_indices[j];
        out_indices[j] = tmp;
    }
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status loader_start_epoch(tt_dataloader* loader, int64_t epoch);

tt_status loader_create(const tt_tensor* x, const tt_tensor* y, int64_t batch_size, int32_t shuffle,
                        int32_t drop_last, uint64_t seed, tt_dataloader** out) {
    TT_GUARD_BEGIN
    if (out == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "out is NULL");
    *out = nullptr;
    if (x == nullptr || y == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "x or y is NULL");
    if (x->ndim < 1 || y->ndim < 1)
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "x and y need a sample axis first, got " + shape_str(x) + " and " + shape_str(y));
    if (x->shape[0] != y->shape[0])
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "x has " + std::to_string(x->shape[0]) + " samples but y has " +
                             std::to_string(y->shape[0]) + " (shapes " + shape_str(x) + " and " + shape_str(y) + ")");
    if (batch_size < 1)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "batch_size must be >= 1, got " + std::to_string(batch_size));
    auto* loader = new tt_dataloader;
    loader->x = x;
    loader->y = y;
    loader->n = x->shape[0];
    loader->batch_size = batch_size;
    loader->shuffle = shuffle != 0;
    loader->drop_last = drop_last != 0;
    loader->seed = seed;
    tt_status st = loader_start_epoch(loader, 0);  // ready for epoch 0 without a call
    if (st != TT_OK) {
        delete loader;
        return st;
    }
    *out = loader;
    return TT_OK;
    TT_GUARD_END
}

tt_status loader_num_batches(const tt_dataloader* loader, int64_t* out_count) {
    TT_GUARD_BEGIN
    if (loader == nullptr || out_count == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "loader or out_count is NULL");
    // BEGIN SOLUTION
    // TODO: full batches plus, unless drop_last, one more for a partial rest.
    // HINT: ceil(n / b) is (n + b - 1) / b in integers.
    *out_count = loader->drop_last ? loader->n / loader->batch_size
                                   : (loader->n + loader->batch_size - 1) / loader->batch_size;
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status loader_start_epoch(tt_dataloader* loader, int64_t epoch) {
    TT_GUARD_BEGIN
    if (loader == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "loader is NULL");
    loader->order.resize(static_cast<size_t>(loader->n));
    loader->pos = 0;
    // BEGIN SOLUTION
    // TODO: fill loader->order: with shuffle, shuffle_indices(n, seed + epoch);
    //   without, 0, 1, ..., n-1.
    // HINT: seed + epoch in uint64_t arithmetic (it may wrap; that is fine).
    if (loader->shuffle)
        return shuffle_indices(loader->n, loader->seed + static_cast<uint64_t>(epoch), loader->order.data());
    for (int64_t i = 0; i < loader->n; ++i) loader->order[static_cast<size_t>(i)] = i;
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status loader_next(tt_dataloader* loader, tt_tensor** out_x, tt_tensor** out_y, int32_t* has_batch) {
    TT_GUARD_BEGIN
    if (out_x != nullptr) *out_x = nullptr;
    if (out_y != nullptr) *out_y = nullptr;
    if (has_batch != nullptr) *has_batch = 0;
    if (loader == nullptr || out_x == nullptr || out_y == nullptr || has_batch == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "loader, out_x, out_y or has_batch is NULL");
    // BEGIN SOLUTION
    // TODO: take the next batch_size indices of loader->order (fewer for the
    //   last batch; none left, or a partial rest with drop_last: *has_batch = 0
    //   and return TT_OK). Create x [B, ...] and y [B, ...] (create_rows) and
    //   copy sample order[pos + b] of loader->x / loader->y into row b. Advance pos.
    // HINT: a sample is sample_size(t) contiguous floats starting at
    //   t->data + index * sample_size(t). Free what you created if a later step fails.
    const int64_t left = loader->n - loader->pos;
    if (left <= 0 || (loader->drop_last && left < loader->batch_size)) return TT_OK;
    const int64_t rows = left < loader->batch_size ? left : loader->batch_size;
    ttm::OwnedTensor bx, by;
    tt_tensor* raw = nullptr;
    TT_CHECK(create_rows(loader->x, rows, &raw));
    bx.reset(raw);
    raw = nullptr;
    TT_CHECK(create_rows(loader->y, rows, &raw));
    by.reset(raw);
    const int64_t sx = sample_size(loader->x), sy = sample_size(loader->y);
    for (int64_t b = 0; b < rows; ++b) {
        const int64_t idx = loader->order[static_cast<size_t>(loader->pos + b)];
        if (sx > 0) std::memcpy(bx->data + b * sx, loader->x->data + idx * sx, static_cast<size_t>(sx) * sizeof(float));
        if (sy > 0) std::memcpy(by->data + b * sy, loader->y->data + idx * sy, static_cast<size_t>(sy) * sizeof(float));
    }
    loader->pos += rows;
    *out_x = bx.release();
    *out_y = by.release();
    *has_batch = 1;
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status loader_free(tt_dataloader* loader) {
    TT_GUARD_BEGIN
    delete loader;
    return TT_OK;
    TT_GUARD_END
}

tt_status random_hflip(const tt_tensor* x, float p, tt_rng* rng, tt_tensor** out) {
    TT_GUARD_BEGIN
    if (out == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "out is NULL");
    *out = nullptr;
    TT_CHECK(check_images(x, __func__));
    if (!(p >= 0.0f && p <= 1.0f)) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "p must be in [0, 1], got " + num(p));
    if (rng == nullptr) rng = host()->global_rng;
    // BEGIN SOLUTION
    // TODO: out = a new tensor shaped like x. For every image n draw ONE
    //   u = host()->rng_uniform(rng) (always, whatever p is); if u < p copy the
    //   image mirrored left-right (out[n,c,h,w] = x[n,c,h,W-1-w]), else as is.
    // HINT: one draw per image in image order keeps results reproducible.
    ttm::OwnedTensor result;
    tt_tensor* raw = nullptr;
    TT_CHECK(host()->tensor->create(x->shape, x->ndim, &raw));
    result.reset(raw);
    const int64_t n = x->shape[0], rows = x->shape[1] * x->shape[2], w = x->shape[3];
    for (int64_t i = 0; i < n; ++i) {
        const bool flip = host()->rng_uniform(rng) < p;
        const float* src = x->data + i * rows * w;
        float* dst = raw->data + i * rows * w;
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = 0; j < w; ++j) dst[r * w + j] = src[r * w + (flip ? w - 1 - j : j)];
    }
    *out = result.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status random_crop(const tt_tensor* x, int32_t padding, tt_rng* rng, tt_tensor** out) {
    TT_GUARD_BEGIN
    if (out == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "out is NULL");
    *out = nullptr;
    TT_CHECK(check_images(x, __func__));
    if (padding < 0)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "padding must be >= 0, got " + std::to_string(padding));
    if (rng == nullptr) rng = host()->global_rng;
    // BEGIN SOLUTION
    // TODO: out = a new tensor shaped like x. For every image draw the offsets
    //   oy = rng_next(rng) % (2*padding + 1), then ox the same way (always both,
    //   in that order). Then out[n,c,i,j] = x[n,c,i+oy-padding,j+ox-padding]
    //   where that lies inside the image, 0 where it falls in the padding.
    // HINT: no need to build the padded image: compute the source index and
    //   check it against [0, H) and [0, W).
    ttm::OwnedTensor result;
    tt_tensor* raw = nullptr;
    TT_CHECK(host()->tensor->create(x->shape, x->ndim, &raw));
    result.reset(raw);
    const int64_t n = x->shape[0], c = x->shape[1], h = x->shape[2], w = x->shape[3];
    const uint64_t span = 2 * static_cast<uint64_t>(padding) + 1;
    for (int64_t i = 0; i < n; ++i) {
        const int64_t oy = static_cast<int64_t>(host()->rng_next(rng) % span) - padding;
        const int64_t ox = static_cast<int64_t>(host()->rng_next(rng) % span) - padding;
        for (int64_t ch = 0; ch < c; ++ch) {
            const float* src = x->data + (i * c + ch) * h * w;
            float* dst = raw->data + (i * c + ch) * h * w;
            for (int64_t r = 0; r < h; ++r) {
                const int64_t sr = r + oy;
                for (int64_t col = 0; col < w; ++col) {
                    const int64_t sc = col + ox;
                    dst[r * w + col] = (sr >= 0 && sr < h && sc >= 0 && sc < w) ? src[sr * w + sc] : 0.0f;
                }
            }
        }
    }
    *out = result.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status normalize(const tt_tensor* x, const float* mean, const float* std, int32_t channels, tt_tensor** out) {
    TT_GUARD_BEGIN
    if (out == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "out is NULL");
    *out = nullptr;
    TT_CHECK(check_images(x, __func__));
    if (mean == nullptr || std == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "mean or std is NULL");
    if (channels != x->shape[1])
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "got " + std::to_string(channels) + " mean/std values for " + std::to_string(x->shape[1]) +
                             " channels (x is " + shape_str(x) + ")");
    for (int32_t c = 0; c < channels; ++c)
        if (!(std[c] != 0.0f) || !std::isfinite(std[c]) || !std::isfinite(mean[c]))
            return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                             "channel " + std::to_string(c) + ": std must be finite and non-zero and mean finite, got mean " +
                                 num(mean[c]) + ", std " + num(std[c]));
    // BEGIN SOLUTION
    // TODO: out = a new tensor shaped like x with
    //   out[n, c, h, w] = (x[n, c, h, w] - mean[c]) / std[c].
    // HINT: each (n, c) plane is H*W contiguous floats.
    ttm::OwnedTensor result;
    tt_tensor* raw = nullptr;
    TT_CHECK(host()->tensor->create(x->shape, x->ndim, &raw));
    result.reset(raw);
    const int64_t n = x->shape[0], c = x->shape[1], plane = x->shape[2] * x->shape[3];
    for (int64_t i = 0; i < n; ++i)
        for (int64_t ch = 0; ch < c; ++ch) {
            const float* src = x->data + (i * c + ch) * plane;
            float* dst = raw->data + (i * c + ch) * plane;
            for (int64_t k = 0; k < plane; ++k) dst[k] = (src[k] - mean[ch]) / std[ch];
        }
    *out = result.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

constexpr tt_dataloader_api k_api = {
    shuffle_indices, loader_create, loader_num_batches, loader_start_epoch, loader_next,
    loader_free,     random_hflip,  random_crop,        normalize,
};

}  // namespace

TT_DEFINE_MODULE(tt_entry_08_dataloader, "dataloader", TT_DATALOADER_DEPS, tt_dataloader_api, k_api)
