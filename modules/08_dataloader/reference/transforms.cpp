// transforms.cpp - data augmentation and normalisation on NCHW image
// batches [batch, channels, height, width].
//
// Augmentation shows the model a slightly different picture each epoch (a
// mirror image, a shifted crop) so that it learns the object, not the exact
// pixels. Every random draw comes from the rng argument (host->global_rng
// when NULL), in a fixed order, so a seeded run is reproducible.
#include <cmath>
#include <cstring>

#include "dataloader_internal.hpp"

namespace data {

namespace {

// NCHW input check shared by the transforms.
tt_status check_images(const tt_tensor* x, const char* fn) {
    if (x == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, fn, "x is NULL");
    if (x->ndim != 4)
        return ttm::fail(TT_SHAPE_MISMATCH, fn,
                         "expected NCHW images [batch, channels, height, width], got " + shape_str(x));
    return TT_OK;
}

}  // namespace

tt_status random_hflip(const tt_tensor* x, float p, tt_rng* rng, tt_tensor** out) {
    TT_GUARD_BEGIN
    if (out == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "out is NULL");
    *out = nullptr;
    TT_CHECK(check_images(x, __func__));
    if (!(p >= 0.0f && p <= 1.0f)) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "p must be in [0, 1], got " + num(p));
    if (rng == nullptr) rng = ttm::host()->global_rng;
    // BEGIN SOLUTION
    // TODO: out = a new tensor shaped like x. For every image n draw ONE
    //   u = ttm::host()->rng_uniform(rng) (always, whatever p is); if u < p copy the
    //   image mirrored left-right (out[n,c,h,w] = x[n,c,h,W-1-w]), else as is.
    // HINT: one draw per image in image order keeps results reproducible.
    ttm::OwnedTensor result;
    tt_tensor* raw = nullptr;
    TT_CHECK(ttm::host()->tensor->create(x->shape, x->ndim, &raw));
    result.reset(raw);
    const int64_t n = x->shape[0], rows = x->shape[1] * x->shape[2], w = x->shape[3];
    for (int64_t i = 0; i < n; ++i) {
        const bool flip = ttm::host()->rng_uniform(rng) < p;
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
    if (rng == nullptr) rng = ttm::host()->global_rng;
    // BEGIN SOLUTION
    // TODO: out = a new tensor shaped like x. For every image draw the offsets
    //   oy = rng_next(rng) % (2*padding + 1), then ox the same way (always both,
    //   in that order). Then out[n,c,i,j] = x[n,c,i+oy-padding,j+ox-padding]
    //   where that lies inside the image, 0 where it falls in the padding.
    // HINT: no need to build the padded image: compute the source index and
    //   check it against [0, H) and [0, W).
    ttm::OwnedTensor result;
    tt_tensor* raw = nullptr;
    TT_CHECK(ttm::host()->tensor->create(x->shape, x->ndim, &raw));
    result.reset(raw);
    const int64_t n = x->shape[0], c = x->shape[1], h = x->shape[2], w = x->shape[3];
    const uint64_t span = 2 * static_cast<uint64_t>(padding) + 1;
    for (int64_t i = 0; i < n; ++i) {
        const int64_t oy = static_cast<int64_t>(ttm::host()->rng_next(rng) % span) - padding;
        const int64_t ox = static_cast<int64_t>(ttm::host()->rng_next(rng) % span) - padding;
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
    TT_CHECK(ttm::host()->tensor->create(x->shape, x->ndim, &raw));
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

}  // namespace data
