// loader.cpp - seeded shuffling and batching.
//
// An epoch visits every sample exactly once, in the order of loader->order:
// 0..N-1, or with shuffle a Fisher-Yates permutation seeded by seed + epoch,
// so a run is reproducible and every epoch still sees a different order.
#include <cstdio>
#include <cstring>

#include "dataloader_internal.hpp"

namespace data {

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

namespace {

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
    return ttm::host()->tensor->create(shape, t->ndim, out);
}

}  // namespace

tt_status shuffle_indices(int64_t n, uint64_t seed, int64_t* out_indices) {
    TT_GUARD_BEGIN
    if (n < 0) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "n must be >= 0, got " + std::to_string(n));
    if (n > 0 && out_indices == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "out_indices is NULL");
    // BEGIN SOLUTION
    // TODO: seed a tt_rng with ttm::host()->rng_seed(&rng, seed), write 0..n-1 into
    //   out_indices, then Fisher-Yates from the back:
    //   for i = n-1 down to 1: j = ttm::host()->rng_next(&rng) % (i + 1); swap out[i], out[j].
    // HINT: exactly this order of draws makes your permutation match the
    //   reference one for the same seed (the tests check it).
    tt_rng rng;
    ttm::host()->rng_seed(&rng, seed);
    for (int64_t i = 0; i < n; ++i) out_indices[i] = i;
    for (int64_t i = n - 1; i > 0; --i) {
        const int64_t j = static_cast<int64_t>(ttm::host()->rng_next(&rng) % static_cast<uint64_t>(i + 1));
        const int64_t tmp = out_indices[i];
        out_indices[i] = out_indices[j];
        out_indices[j] = tmp;
    }
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

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

}  // namespace data
