// pool.cpp - module 09: max pooling and average pooling, forward and backward.
//
// Shapes (NCHW, contiguous float32, no padding):
//   x   [N, C, H, W]
//   out [N, C, OH, OW]   OH = (H - kernel) / stride + 1, OW likewise
// Each output is one window of kernel x kernel input pixels of the same plane:
//   window(oh, ow) = rows oh*stride .. oh*stride+kernel-1,
//                    cols ow*stride .. ow*stride+kernel-1
// Rows or columns at the bottom/right that no window reaches are ignored
// (13 -> 6 with kernel 2, stride 2), and their gradient is 0.
//
// Max pooling:
//   out[n,c,oh,ow] = max over the window;
//   indices[n,c,oh,ow] = h*W + w of that maximum in the (n, c) input plane,
//   stored as a float; ties go to the FIRST maximum in row-major window order.
//   Backward: the gradient of each output goes entirely to its recorded input
//   pixel (summed where overlapping windows picked the same pixel).
// Average pooling:
//   out = (1 / kernel^2) * sum over the window;
//   backward: each input pixel of the window receives grad / kernel^2.
//
// Every (n, c) plane is independent, so sp::parallel_for spreads the planes
// over the core's threads.
#include <cstdint>
#include <string>

#include "spatial_internal.hpp"

using sp::OwnedTensor;

// The output size of a pooling window op, after checking the arguments
// (PoolGeom is in spatial_internal.hpp: the fused op in batchnorm.cpp pools too).
PoolGeom pool_geometry(const char* function, const tt_tensor* x, int32_t kernel,
                       int32_t stride) {
    // BEGIN SOLUTION
    // TODO: check x (not NULL, 4-D), kernel >= 1, stride >= 1, and a kernel
    //   that fits the input; then fill PoolGeom.
    // HINT: OH = (H - kernel) / stride + 1; a kernel larger than H or W is
    //   TT_SHAPE_MISMATCH, a kernel or stride < 1 TT_INVALID_ARGUMENT.
    // STUB: throw ttm::StatusError{TT_NOT_IMPLEMENTED_YET("OH = (H - kernel) / stride + 1")};
    sp::require(x, function, "x");
    sp::require_ndim(x, 4, function, "x", "[N, C, H, W]");
    if (kernel < 1)
        sp::throw_error(TT_INVALID_ARGUMENT, function,
                        "kernel must be >= 1, got " + std::to_string(kernel));
    if (stride < 1)
        sp::throw_error(TT_INVALID_ARGUMENT, function,
                        "stride must be >= 1, got " + std::to_string(stride));
    PoolGeom g{x->shape[0], x->shape[1], x->shape[2], x->shape[3], 0, 0, kernel, stride};
    if (g.k > g.H || g.k > g.W)
        sp::throw_error(TT_SHAPE_MISMATCH, function,
                        "kernel " + std::to_string(kernel) + " is larger than the input plane " +
                            std::to_string(g.H) + "x" + std::to_string(g.W));
    g.OH = (g.H - g.k) / g.s + 1;
    g.OW = (g.W - g.k) / g.s + 1;
    return g;
    // END SOLUTION
}

// BEGIN SOLUTION: remove
// Throw unless grad has the pooled shape [N, C, OH, OW].
static void check_pool_grad(const char* function, const PoolGeom& g, const tt_tensor* grad,
                            const char* name) {
    sp::require(grad, function, name);
    if (grad->ndim != 4 || grad->shape[0] != g.N || grad->shape[1] != g.C ||
        grad->shape[2] != g.OH || grad->shape[3] != g.OW)
        sp::throw_error(TT_SHAPE_MISMATCH, function,
                        std::string(name) + " must have the pooled shape [" + std::to_string(g.N) +
                            ", " + std::to_string(g.C) + ", " + std::to_string(g.OH) + ", " +
                            std::to_string(g.OW) + "], got " + sp::shape_str(grad));
}

// "v beats best": strictly greater (so the first of equal maxima stays), or
// a NaN where best is a number (NaN propagates, as in PyTorch, and the first
// NaN stays).
static inline bool beats(float v, float best) { return (v > best) || (v != v && best == best); }

// Max pooling of one plane in[H*W] into out[OH*OW]; idx (may be NULL) gets
// each maximum's position h*W + w in the plane.
static void maxpool_plane(const float* in, const PoolGeom& g, float* out, float* idx) {
    for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
            const int64_t h0 = oh * g.s, w0 = ow * g.s;
            int64_t at = h0 * g.W + w0;  // the window's first pixel
            float best = in[at];
            for (int64_t i = 0; i < g.k; ++i)
                for (int64_t j = 0; j < g.k; ++j) {
                    const int64_t here = (h0 + i) * g.W + w0 + j;
                    if (beats(in[here], best)) best = in[here], at = here;
                }
            out[oh * g.OW + ow] = best;
            if (idx != nullptr) idx[oh * g.OW + ow] = static_cast<float>(at);
        }
}
// END SOLUTION

// ------------------------------------------------------------------ max pool

tt_status maxpool2d_forward(const tt_tensor* x, int32_t kernel, int32_t stride, tt_tensor** out,
                            tt_tensor** out_indices) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: check arguments (pool_geometry), create out (and indices when
    //   out_indices is not NULL), then for every plane and window write the
    //   maximum and its flat position h*W + w in the input plane.
    // HINT: start best at the window's first pixel and replace it only when
    //   v > best (strictly): that keeps the first of equal maxima.
    sp::require(out, __func__, "out");
    *out = nullptr;
    if (out_indices != nullptr) *out_indices = nullptr;
    const PoolGeom g = pool_geometry(__func__, x, kernel, stride);
    OwnedTensor y = sp::new_empty({g.N, g.C, g.OH, g.OW});  // every window is written
    OwnedTensor ind;
    if (out_indices != nullptr) ind = sp::new_empty({g.N, g.C, g.OH, g.OW});
    const int64_t in_plane = g.H * g.W, out_plane = g.OH * g.OW;
    sp::parallel_for(g.planes(), in_plane, [&](int64_t p) {
        maxpool_plane(x->data + p * in_plane, g, y->data + p * out_plane,
                      ind ? ind->data + p * out_plane : nullptr);
    });
    *out = y.release();
    if (out_indices != nullptr) *out_indices = ind.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status maxpool2d_backward(const tt_tensor* x, const tt_tensor* indices, const tt_tensor* grad,
                             int32_t kernel, int32_t stride, tt_tensor** out_grad_x) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: create d x shaped like x (zeros), then for every output position
    //   add grad to the input pixel its index names (in the same plane).
    // HINT: dx_plane[(int64_t)indices[i]] += grad[i]; check every index is in
    //   0 .. H*W-1 (a bad one is TT_INVALID_ARGUMENT, never a write out of bounds).
    sp::require(out_grad_x, __func__, "out_grad_x");
    *out_grad_x = nullptr;
    const PoolGeom g = pool_geometry(__func__, x, kernel, stride);
    check_pool_grad(__func__, g, grad, "grad");
    check_pool_grad(__func__, g, indices, "indices");
    const int64_t in_plane = g.H * g.W, out_plane = g.OH * g.OW;
    for (int64_t i = 0; i < indices->numel; ++i) {
        const float f = indices->data[i];
        if (!(f >= 0.0f && f < static_cast<float>(in_plane)))  // false for NaN too
            sp::throw_error(TT_INVALID_ARGUMENT, __func__,
                            "indices[" + std::to_string(i) + "] = " + std::to_string(f) +
                                " lies outside the input plane of " + std::to_string(in_plane) +
                                " pixels: pass the indices maxpool2d_forward returned");
    }
    OwnedTensor dx = sp::new_tensor({g.N, g.C, g.H, g.W});  // zeros
    // Each plane's gradients go to pixels of that plane only: planes in parallel.
    sp::parallel_for(g.planes(), in_plane, [&](int64_t p) {
        float* dplane = dx->data + p * in_plane;
        for (int64_t i = p * out_plane; i < (p + 1) * out_plane; ++i)
            dplane[static_cast<int64_t>(indices->data[i])] += grad->data[i];
    });
    *out_grad_x = dx.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ------------------------------------------------------------------ average pool

tt_status avgpool2d_forward(const tt_tensor* x, int32_t kernel, int32_t stride, tt_tensor** out) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: check arguments, create out, and write the mean of each window.
    // HINT: sum the kernel*kernel pixels, multiply by 1/(kernel*kernel).
    sp::require(out, __func__, "out");
    *out = nullptr;
    const PoolGeom g = pool_geometry(__func__, x, kernel, stride);
    OwnedTensor y = sp::new_empty({g.N, g.C, g.OH, g.OW});  // every window is written
    const int64_t in_plane = g.H * g.W, out_plane = g.OH * g.OW;
    const float scale = 1.0f / static_cast<float>(g.k * g.k);
    sp::parallel_for(g.planes(), in_plane, [&](int64_t p) {
        const float* in = x->data + p * in_plane;
        for (int64_t oh = 0; oh < g.OH; ++oh)
            for (int64_t ow = 0; ow < g.OW; ++ow) {
                float s = 0.0f;
                for (int64_t i = 0; i < g.k; ++i)
                    for (int64_t j = 0; j < g.k; ++j) s += in[(oh * g.s + i) * g.W + ow * g.s + j];
                y->data[p * out_plane + oh * g.OW + ow] = s * scale;
            }
    });
    *out = y.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status avgpool2d_backward(const tt_tensor* x, const tt_tensor* grad, int32_t kernel,
                             int32_t stride, tt_tensor** out_grad_x) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: create d x (zeros) shaped like x, then add grad[oh, ow] / kernel^2
    //   to every pixel of window (oh, ow).
    // HINT: overlapping windows (stride < kernel) add into the same pixel: use +=.
    sp::require(out_grad_x, __func__, "out_grad_x");
    *out_grad_x = nullptr;
    const PoolGeom g = pool_geometry(__func__, x, kernel, stride);
    check_pool_grad(__func__, g, grad, "grad");
    OwnedTensor dx = sp::new_tensor({g.N, g.C, g.H, g.W});  // zeros
    const int64_t in_plane = g.H * g.W, out_plane = g.OH * g.OW;
    const float scale = 1.0f / static_cast<float>(g.k * g.k);
    sp::parallel_for(g.planes(), in_plane, [&](int64_t p) {
        float* dplane = dx->data + p * in_plane;
        for (int64_t oh = 0; oh < g.OH; ++oh)
            for (int64_t ow = 0; ow < g.OW; ++ow) {
                const float v = grad->data[p * out_plane + oh * g.OW + ow] * scale;
                for (int64_t i = 0; i < g.k; ++i)
                    for (int64_t j = 0; j < g.k; ++j) dplane[(oh * g.s + i) * g.W + ow * g.s + j] += v;
            }
    });
    *out_grad_x = dx.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}
