// conv2d.cpp - module 09: 2-D convolution, forward and backward, by im2col + GEMM.
//
// Shapes (NCHW, contiguous float32):
//   x      [N, C, H, W]        a batch of N images with C channels
//   weight [O, C, KH, KW]      O filters, each C x KH x KW
//   bias   [O] or NULL
//   out    [N, O, OH, OW]      OH = (H + 2*pad - KH) / stride + 1 (same for OW)
//
// The math (cross-correlation, as every framework computes "convolution"):
//   out[n,o,oh,ow] = bias[o] + sum_{c,kh,kw} weight[o,c,kh,kw] * x[n,c,ih,iw]
//   with ih = oh*stride - pad + kh, iw = ow*stride - pad + kw, and x = 0 outside
//   the image (zero padding).
//
// The trick that makes it fast: im2col. Write every input patch that one
// output position of image n sees as a column of a matrix
//   cols [K, P]       K = C*KH*KW (one row per (c, kh, kw)), P = OH*OW
//                     (column oh*OW + ow holds the patch of output (oh, ow))
// and the convolution of the image becomes ONE matrix product (GEMM):
//   out[n] [O, P] = weight [O, K] x cols [K, P]    (then + bias[o] on row o)
// which the BLAS runs near the machine's peak. out[n], [O, OH, OW] in NCHW,
// is exactly that [O, P] matrix, so the GEMM writes it in place.
//
// Backward, image by image, with dY = grad[n] read as a [O, P] matrix:
//   d weight [O, K]   = sum over n of dY [O, P] x cols^T [P, K]
//   d cols   [K, P]   = weight^T [K, O] x dY [O, P]
//   d x[n]            = col2im(d cols): every column entry is added back to the
//                       input pixel it was copied from (pixels shared by
//                       overlapping patches receive the sum);
//   d bias[o]         = sum over n, oh, ow of dY[n, o, oh, ow].
//
// Images are independent, so sp::parallel_for spreads them over the core's
// threads, each image with its own column buffer. The columns are rebuilt in
// backward rather than kept from forward: the ABI passes only x, weight and
// grad to the backward rule.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "spatial_internal.hpp"

using sp::OwnedTensor;

// ------------------------------------------------------------------ geometry

// Everything about one convolution's shapes, checked once.
struct ConvGeom {
    int64_t N, C, H, W;   // input
    int64_t O, KH, KW;    // filters
    int64_t OH, OW;       // output plane
    int64_t stride, pad;
    int64_t P() const { return OH * OW; }       // output positions per image
    int64_t K() const { return C * KH * KW; }   // length of one patch
};

// Check x [N,C,H,W] and weight [O,C,KH,KW] against each other and compute the
// output size. Throws (after reporting) on any problem.
static ConvGeom conv_geometry(const char* function, const tt_tensor* x, const tt_tensor* weight,
                              int32_t stride, int32_t padding) {
    // BEGIN SOLUTION
    // TODO: check x and weight (not NULL, 4-D, same channel count), stride >= 1,
    //   padding >= 0, a kernel that fits the padded input; then fill ConvGeom.
    // HINT: OH = (H + 2*padding - KH) / stride + 1, the same for OW.
    // STUB: throw ttm::StatusError{TT_NOT_IMPLEMENTED_YET("OH = (H + 2*padding - KH) / stride + 1, the same for OW.")};
    sp::require(x, function, "x");
    sp::require(weight, function, "weight");
    sp::require_ndim(x, 4, function, "x", "[N, C, H, W]");
    sp::require_ndim(weight, 4, function, "weight", "[out_channels, in_channels, KH, KW]");
    if (stride < 1)
        sp::throw_error(TT_INVALID_ARGUMENT, function,
                        "stride must be >= 1, got " + std::to_string(stride));
    if (padding < 0)
        sp::throw_error(TT_INVALID_ARGUMENT, function,
                        "padding must be >= 0, got " + std::to_string(padding));
    ConvGeom g{};
    g.N = x->shape[0], g.C = x->shape[1], g.H = x->shape[2], g.W = x->shape[3];
    g.O = weight->shape[0], g.KH = weight->shape[2], g.KW = weight->shape[3];
    g.stride = stride, g.pad = padding;
    if (weight->shape[1] != g.C)
        sp::throw_error(TT_SHAPE_MISMATCH, function,
                        "x has " + std::to_string(g.C) + " channels (shape " + sp::shape_str(x) +
                            ") but weight expects " + std::to_string(weight->shape[1]) +
                            " (shape " + sp::shape_str(weight) + ")");
    if (g.KH < 1 || g.KW < 1 || g.O < 1)
        sp::throw_error(TT_SHAPE_MISMATCH, function,
                        "weight " + sp::shape_str(weight) + " has an empty dimension");
    if (g.H + 2 * g.pad < g.KH || g.W + 2 * g.pad < g.KW)
        sp::throw_error(TT_SHAPE_MISMATCH, function,
                        "kernel " + std::to_string(g.KH) + "x" + std::to_string(g.KW) +
                            " is larger than the input " + std::to_string(g.H) + "x" +
                            std::to_string(g.W) + " with padding " + std::to_string(g.pad));
    g.OH = (g.H + 2 * g.pad - g.KH) / g.stride + 1;
    g.OW = (g.W + 2 * g.pad - g.KW) / g.stride + 1;
    return g;
    // END SOLUTION
}

// im2col for ONE image x [C, H, W] (x points at its first value):
//   cols[k, oh*OW + ow] = x[c, oh*stride - pad + kh, ow*stride - pad + kw]
// with k = (c*KH + kh)*KW + kw, and 0 where that pixel falls in the padding.
// cols is [K, P].
static void im2col(const float* x, const ConvGeom& g, float* cols) {
    // BEGIN SOLUTION
    // TODO: loop over channels c, kernel offsets kh, kw and output positions
    //   oh, ow; copy the input pixel (or 0 in the padding) into cols.
    // HINT: row k = (c*KH + kh)*KW + kw starts at cols + k*P; the pixel is
    //   inside when 0 <= ih < H and 0 <= iw < W.
    // STUB: throw ttm::StatusError{TT_NOT_IMPLEMENTED_YET("row k = (c*KH + kh)*KW + kw of cols starts at cols + k*P")};
    const int64_t H = g.H, W = g.W, OH = g.OH, OW = g.OW, P = g.P();
    for (int64_t c = 0; c < g.C; ++c)
        for (int64_t kh = 0; kh < g.KH; ++kh)
            for (int64_t kw = 0; kw < g.KW; ++kw) {
                float* row = cols + ((c * g.KH + kh) * g.KW + kw) * P;
                for (int64_t oh = 0; oh < OH; ++oh) {
                    const int64_t ih = oh * g.stride - g.pad + kh;
                    for (int64_t ow = 0; ow < OW; ++ow) {
                        const int64_t iw = ow * g.stride - g.pad + kw;
                        const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
                        row[oh * OW + ow] = inside ? x[(c * H + ih) * W + iw] : 0.0f;
                    }
                }
            }
    // END SOLUTION
}

// col2im, the adjoint of im2col, for ONE image: dx [C, H, W] = 0, then every
// entry of dcols [K, P] is added into the input pixel it was copied from.
// (Entries that came from the padding go nowhere.)
static void col2im(const float* dcols, const ConvGeom& g, float* dx) {
    // BEGIN SOLUTION
    // TODO: zero the image dx, then run the same loops as im2col with the
    //   copy reversed into an addition: dx[c, ih, iw] += dcols[k, oh*OW + ow]
    //   for the pixels inside the image.
    // HINT: several (kh, kw, oh, ow) reach the same pixel: use +=, never =.
    // STUB: throw ttm::StatusError{TT_NOT_IMPLEMENTED_YET("several (kh, kw, oh, ow) reach the same pixel: use +=, never =.")};
    const int64_t H = g.H, W = g.W, OH = g.OH, OW = g.OW, P = g.P();
    std::fill(dx, dx + g.C * H * W, 0.0f);
    for (int64_t c = 0; c < g.C; ++c)
        for (int64_t kh = 0; kh < g.KH; ++kh)
            for (int64_t kw = 0; kw < g.KW; ++kw) {
                const float* row = dcols + ((c * g.KH + kh) * g.KW + kw) * P;
                for (int64_t oh = 0; oh < OH; ++oh) {
                    const int64_t ih = oh * g.stride - g.pad + kh;
                    if (ih < 0 || ih >= H) continue;
                    for (int64_t ow = 0; ow < OW; ++ow) {
                        const int64_t iw = ow * g.stride - g.pad + kw;
                        if (iw >= 0 && iw < W) dx[(c * H + ih) * W + iw] += row[oh * OW + ow];
                    }
                }
            }
    // END SOLUTION
}

// ------------------------------------------------------------------ init

// weight [O, C, KH, KW] and bias [O], every value U(-k, k), k = 1/sqrt(C*KH*KW)
// (PyTorch's default), drawn from host->global_rng: the weights first, then the
// bias, each in row-major order.
tt_status conv2d_init(int64_t out_channels, int64_t in_channels, int64_t kh, int64_t kw,
                      tt_tensor** out_weight, tt_tensor** out_bias) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: check every size is >= 1, create weight and bias, fill both with
    //   -k + 2k*u where u = host->rng_uniform(host->global_rng) in [0, 1).
    // HINT: k = 1 / sqrt(in_channels * kh * kw); sp::new_tensor({...}) creates.
    sp::require(out_weight, __func__, "out_weight");
    sp::require(out_bias, __func__, "out_bias");
    *out_weight = nullptr;
    *out_bias = nullptr;
    if (out_channels < 1 || in_channels < 1 || kh < 1 || kw < 1)
        sp::throw_error(TT_INVALID_ARGUMENT, __func__,
                        "every size must be >= 1, got out_channels=" + std::to_string(out_channels) +
                            " in_channels=" + std::to_string(in_channels) +
                            " kh=" + std::to_string(kh) + " kw=" + std::to_string(kw));
    OwnedTensor w = sp::new_tensor({out_channels, in_channels, kh, kw});
    OwnedTensor b = sp::new_tensor({out_channels});
    const tt_host* h = ttm::host();
    const float k = static_cast<float>(1.0 / std::sqrt(static_cast<double>(in_channels * kh * kw)));
    for (int64_t i = 0; i < w->numel; ++i) w->data[i] = -k + 2.0f * k * h->rng_uniform(h->global_rng);
    for (int64_t i = 0; i < b->numel; ++i) b->data[i] = -k + 2.0f * k * h->rng_uniform(h->global_rng);
    *out_weight = w.release();
    *out_bias = b.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ------------------------------------------------------------------ forward

tt_status conv2d_forward(const tt_tensor* x, const tt_tensor* weight, const tt_tensor* bias,
                         int32_t stride, int32_t padding, tt_tensor** out) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: check the shapes (conv_geometry; bias NULL or [O]) and create out
    //   [N, O, OH, OW]; then for every image n: im2col, one GEMM
    //   out[n] [O, P] = weight [O, K] x cols [K, P], and add the bias.
    // HINT: sp::gemm(false, false, O, P, K, 1.0f, weight->data, K, cols, P,
    //   0.0f, out_n, P) with out_n = out->data + n*O*P; sp::parallel_for runs
    //   the images on every core.
    sp::require(out, __func__, "out");
    *out = nullptr;
    const ConvGeom g = conv_geometry(__func__, x, weight, stride, padding);
    if (bias != nullptr && (bias->ndim != 1 || bias->shape[0] != g.O))
        sp::throw_error(TT_SHAPE_MISMATCH, __func__,
                        "bias must be [" + std::to_string(g.O) + "] (one per output channel), got " +
                            sp::shape_str(bias));
    OwnedTensor y = sp::new_empty({g.N, g.O, g.OH, g.OW});  // the GEMM writes every value
    const int64_t P = g.P(), K = g.K();
    sp::parallel_for(g.N, K * P, [&](int64_t n) {
        sp::Scratch cols(K * P);
        im2col(x->data + n * g.C * g.H * g.W, g, cols.get());
        // out[n] [O, P] = weight [O, K] x cols [K, P]
        float* yn = y->data + n * g.O * P;
        sp::gemm(false, false, g.O, P, K, 1.0f, weight->data, K, cols.get(), P, 0.0f, yn, P);
        if (bias != nullptr)
            for (int64_t o = 0; o < g.O; ++o)
                for (int64_t p = 0; p < P; ++p) yn[o * P + p] += bias->data[o];
    });
    *out = y.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ------------------------------------------------------------------ backward

// BEGIN SOLUTION: remove
// Throw unless grad has the forward output's shape [N, O, OH, OW].
static void check_grad(const char* function, const ConvGeom& g, const tt_tensor* grad) {
    sp::require(grad, function, "grad");
    if (grad->ndim != 4 || grad->shape[0] != g.N || grad->shape[1] != g.O || grad->shape[2] != g.OH ||
        grad->shape[3] != g.OW)
        sp::throw_error(TT_SHAPE_MISMATCH, function,
                        "grad must have the forward output's shape [" + std::to_string(g.N) + ", " +
                            std::to_string(g.O) + ", " + std::to_string(g.OH) + ", " + std::to_string(g.OW) +
                            "], got " + sp::shape_str(grad));
}

// d bias[o] = sum over n, p of grad[n, o, p] (in double: N*P terms).
static void bias_grad(const ConvGeom& g, const float* grad, float* db) {
    for (int64_t o = 0; o < g.O; ++o) {
        double total = 0.0;
        for (int64_t n = 0; n < g.N; ++n)
            for (int64_t p = 0; p < g.P(); ++p) total += grad[(n * g.O + o) * g.P() + p];
        db[o] = static_cast<float>(total);
    }
}

// END SOLUTION
tt_status conv2d_backward(const tt_tensor* x, const tt_tensor* weight, const tt_tensor* grad,
                          int32_t stride, int32_t padding, tt_tensor** out_grad_x,
                          tt_tensor** out_grad_weight, tt_tensor** out_grad_bias) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: check shapes (grad must be [N, O, OH, OW]); d bias = sums of grad;
    //   then for every image n, with dY = grad[n] as [O, P]: d weight +=
    //   dY x cols^T (im2col again), d cols = weight^T x dY, col2im into d x[n].
    // HINT: a NULL out pointer means that gradient is not needed: skip its work
    //   (the first conv of a network never needs d x). Images in parallel must
    //   not add into the same d weight: give each image its own [O, K] slot.
    if (out_grad_x != nullptr) *out_grad_x = nullptr;
    if (out_grad_weight != nullptr) *out_grad_weight = nullptr;
    if (out_grad_bias != nullptr) *out_grad_bias = nullptr;
    const ConvGeom g = conv_geometry(__func__, x, weight, stride, padding);
    check_grad(__func__, g, grad);
    const int64_t P = g.P(), K = g.K(), O = g.O;
    OwnedTensor gx, gw, gb;  // not zero-filled: every value is written below
    if (out_grad_x != nullptr) gx = sp::new_empty({g.N, g.C, g.H, g.W});
    if (out_grad_weight != nullptr) gw = sp::new_empty({O, g.C, g.KH, g.KW});
    if (out_grad_bias != nullptr) gb = sp::new_empty({O});
    if (gb) bias_grad(g, grad->data, gb->data);
    // Image n's d weight goes to its own slot [O, K] of dw_n (images run in
    // parallel); the slots are summed afterwards, in image order.
    sp::Scratch dw_n(gw ? g.N * O * K : 1);
    if (gx || gw)
        sp::parallel_for(g.N, K * P, [&](int64_t n) {
            const float* dy = grad->data + n * O * P;  // grad[n] as dY [O, P]
            sp::Scratch cols(K * P);
            if (gw) {  // d weight_n [O, K] = dY [O, P] x cols^T [P, K]
                im2col(x->data + n * g.C * g.H * g.W, g, cols.get());
                sp::gemm(false, true, O, K, P, 1.0f, dy, P, cols.get(), P, 0.0f, dw_n.get() + n * O * K, K);
            }
            if (gx) {  // d cols [K, P] = weight^T [K, O] x dY [O, P], then col2im
                sp::gemm(true, false, K, P, O, 1.0f, weight->data, K, dy, P, 0.0f, cols.get(), P);
                col2im(cols.get(), g, gx->data + n * g.C * g.H * g.W);
            }
        });
    if (gw) {
        std::fill(gw->data, gw->data + O * K, 0.0f);
        for (int64_t n = 0; n < g.N; ++n)
            for (int64_t i = 0; i < O * K; ++i) gw->data[i] += dw_n.get()[n * O * K + i];
    }
    if (out_grad_x != nullptr) *out_grad_x = gx.release();
    if (out_grad_weight != nullptr) *out_grad_weight = gw.release();
    if (out_grad_bias != nullptr) *out_grad_bias = gb.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}
