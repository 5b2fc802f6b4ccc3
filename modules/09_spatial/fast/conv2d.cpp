// conv2d.cpp - module 09: 2-D convolution, forward and backward, by im2col + GEMM.
//
// The FAST variant of module 09 (lib/tt_09_spatial_fast.so, --impl 09=fast):
// the same functions as ../reference/, tuned for speed. reference/ is the
// readable solution (and the source of the student stubs); this copy is
// checked against it on random shapes by tests/spatial_fast/.
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
// output position sees as a column of a matrix
//   cols [K, N*P]     K = C*KH*KW (one row per (c, kh, kw)), P = OH*OW,
//                     column n*P + oh*OW + ow holds the patch of (n, oh, ow)
// and the convolution of the batch becomes ONE matrix product (GEMM):
//   prod [O, N*P] = weight [O, K] x cols [K, N*P]
// which the BLAS runs near the machine's peak. prod is then scattered into
// out [N, O, P] (adding the bias on the way).
//
// Backward, with dY = d(loss)/d(out) rearranged the same way as prod, [O, N*P]:
//   d weight [O, K]   = dY [O, N*P] x cols^T [N*P, K]
//   d cols   [K, N*P] = weight^T [K, O] x dY [O, N*P]
//   d x               = col2im(d cols): every column entry is added back to the
//                       input pixel it was copied from (pixels shared by
//                       overlapping patches receive the sum);
//   d bias[o]         = sum over n, oh, ow of dY[n, o, oh, ow].
//
// How the work is organised (convolutions are most of a CNN's training time):
//   - an image whose GEMM is big enough alone (O*P*K >= 2^17 multiply-adds,
//     both CIFAR convolutions) is its own GEMM:
//     prod [O, P] is then exactly out[n] (NCHW), so the GEMM writes the
//     output in place and backward reads grad[n] in place as dY;
//   - smaller planes (TinyDigits) are processed in chunks of images, so the
//     column matrix of a chunk stays in cache between im2col writing it and
//     the GEMM reading it, and the GEMM is big enough to be efficient;
//   - "lanes": the images are dealt to one lane per thread, and each lane
//     runs its chunks from start to end alone: im2col, GEMM and scatter of
//     its own images with its own buffers. One parallel_for per layer
//     instead of several per chunk, and every buffer stays in one core's
//     cache. This relies on the core's host->sgemm running on the calling
//     thread alone when it is called from inside a parallel_for body;
//   - a batch too small to share is one lane on the calling thread: there
//     each step is spread over the threads instead (im2col, col2im and the
//     scatter into out with host->parallel_for, each task owning whole
//     planes, so no two threads ever write the same float; the GEMM split
//     over the pool by the core).
// The columns are rebuilt in backward rather than kept from forward: the ABI
// passes only x, weight and grad to the backward rule.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

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
}

// How a batch is split: `lanes` parallel lanes, lane l taking images
// [l*N/lanes, (l+1)*N/lanes), each `chunk` images at a time. A chunk of small
// planes holds about 16K floats (64 KiB) of columns, about what the core's
// L1 data cache holds: im2col's stores and the GEMM's reads then stay there
// (TinyDigits' conv2: 7 images per chunk; a 1 MiB chunk made its training
// step about 15% slower). An image of 2^17 multiply-adds or more is a big
// enough GEMM alone, so its chunk is one image: then the GEMM's [O, P]
// result IS that image's output out[n] (and grad[n] is already dY), and the
// copies between the GEMM's layout and NCHW disappear (in_place()).
struct Plan {
    int64_t lanes, chunk;
    bool in_place() const { return chunk == 1; }
    int64_t first(int64_t lane, int64_t N) const { return lane * N / lanes; }
};

static Plan plan_for(const ConvGeom& g) {
    const int64_t budget = int64_t(1) << 14;  // floats of columns per chunk
    const int64_t N = std::max<int64_t>(1, g.N);
    const int64_t per_image = std::max<int64_t>(1, g.K() * g.P());
    // (TinyDigits' first convolution, 16 x 64 x 9 per image, is far below:
    // one GEMM call per image cost more in call overhead than in arithmetic.)
    const bool alone = g.O * g.P() * g.K() >= (int64_t(1) << 17);
    int64_t chunk = alone ? 1 : std::min(N, std::max<int64_t>(1, budget / per_image));
    // One lane per thread, as long as each gets 16K floats of columns or more
    // (less is not worth starting a thread for).
    const int64_t threads = std::max<int32_t>(1, ttm::host()->num_threads());
    const int64_t min_lane_work = int64_t(1) << 14;
    const int64_t lanes = std::clamp<int64_t>(N * per_image / min_lane_work, 1, std::min(threads, N));
    if (lanes > 1) chunk = std::min(chunk, (N + lanes - 1) / lanes);
    return {lanes, chunk};
}


// The row segments im2col and col2im move are short (13 to 30 floats in the
// CIFAR net): these move four floats per instruction instead of leaving a
// loop of unknown length to the compiler.
// d = s, n floats (the last vector may overlap the one before: the values
// are the same, so writing them twice is harmless).
static inline void copy_floats(float* __restrict d, const float* __restrict s, int64_t n) {
    if (n < 4) {
        for (int64_t i = 0; i < n; ++i) d[i] = s[i];
        return;
    }
    for (int64_t i = 0; i + 4 < n; i += 4) sp::store4(d + i, sp::load4(s + i));
    sp::store4(d + n - 4, sp::load4(s + n - 4));  // n == 4 (TinyDigits): only this
}

// d += s, n floats (no overlap here: each element must be added once).
static inline void add_floats(float* __restrict d, const float* __restrict s, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) sp::store4(d + i, sp::load4(d + i) + sp::load4(s + i));
    for (; i < n; ++i) d[i] += s[i];
}


// The (image, channel) tasks [begin, end) of im2col and col2im below. kOW > 0
// is the output row length known when compiling (and stride 1): TinyDigits'
// rows are 4 and 8 floats, and with their length a constant each row is one
// or two vector moves with no loop around them; that made TinyDigits'
// second convolution 1.24x faster forward and 1.11x backward (bench/ab.sh).
// kOW == 0 reads every size from g.
template <int kOW>
static void im2col_tasks(const float* x, const ConvGeom& g, int64_t n0, int64_t count, float* cols,
                         int64_t begin, int64_t end) {
    // Every size as a local constant: read through `g`, the compiler would
    // have to reload it after every store into cols, which it cannot prove
    // is elsewhere; and the rows moved here are only 4 to 30 floats long.
    const int64_t C = g.C, H = g.H, W = g.W, KH = g.KH, KW = g.KW, OH = g.OH;
    const int64_t OW = kOW > 0 ? kOW : g.OW;
    const int64_t stride = kOW > 0 ? 1 : g.stride, pad = g.pad, P = OH * OW, ld = count * P;
    const int64_t Hp = H + 2 * pad, Wp = W + 2 * pad;  // the padded plane
    // With padding, copy the plane into the middle of a zeroed Hp x Wp
    // buffer first: then every patch pixel is in range and the copy loops
    // below need no bounds checks.
    sp::Scratch padded(pad > 0 ? Hp * Wp : 1);
    if (pad > 0) std::memset(padded.get(), 0, sizeof(float) * Hp * Wp);
    for (int64_t task = begin; task < end; ++task) {
        const int64_t i = task / C, c = task % C;
        const float* plane = x + ((n0 + i) * C + c) * H * W;
        const float* src = plane;
        if (pad > 0) {
            for (int64_t h = 0; h < H; ++h) copy_floats(padded.get() + (h + pad) * Wp + pad, plane + h * W, W);
            src = padded.get();
        }
        for (int64_t kh = 0; kh < KH; ++kh)
            for (int64_t kw = 0; kw < KW; ++kw) {
                float* row = cols + ((c * KH + kh) * KW + kw) * ld + i * P;
                for (int64_t oh = 0; oh < OH; ++oh) {
                    const float* __restrict s = src + (oh * stride + kh) * Wp + kw;
                    float* __restrict d = row + oh * OW;
                    if (stride == 1)
                        copy_floats(d, s, OW);
                    else
                        for (int64_t ow = 0; ow < OW; ++ow) d[ow] = s[ow * stride];
                }
            }
    }
}

template <int kOW>
static void col2im_tasks(const float* dcols, const ConvGeom& g, int64_t n0, int64_t count, float* dx,
                         int64_t begin, int64_t end) {
    const int64_t C = g.C, H = g.H, W = g.W, KH = g.KH, KW = g.KW, OH = g.OH;
    const int64_t OW = kOW > 0 ? kOW : g.OW;  // as in im2col
    const int64_t stride = kOW > 0 ? 1 : g.stride, pad = g.pad, P = OH * OW, ld = count * P;
    const int64_t Hp = H + 2 * pad, Wp = W + 2 * pad;
    // With padding, add into a zeroed padded plane (no bounds checks), then
    // copy its middle to dx (the border is the padding: its gradient goes nowhere).
    sp::Scratch padded(pad > 0 ? Hp * Wp : 1);
    for (int64_t task = begin; task < end; ++task) {
        const int64_t i = task / C, c = task % C;
        float* plane = dx + ((n0 + i) * C + c) * H * W;
        float* dst = pad > 0 ? padded.get() : plane;
        std::memset(dst, 0, sizeof(float) * Hp * Wp);
        for (int64_t kh = 0; kh < KH; ++kh)
            for (int64_t kw = 0; kw < KW; ++kw) {
                const float* row = dcols + ((c * KH + kh) * KW + kw) * ld + i * P;
                for (int64_t oh = 0; oh < OH; ++oh) {
                    float* __restrict d = dst + (oh * stride + kh) * Wp + kw;
                    const float* __restrict s = row + oh * OW;
                    if (stride == 1)
                        add_floats(d, s, OW);
                    else
                        for (int64_t ow = 0; ow < OW; ++ow) d[ow * stride] += s[ow];
                }
            }
        if (pad > 0)
            for (int64_t h = 0; h < H; ++h) copy_floats(plane + h * W, dst + (h + pad) * Wp + pad, W);
    }
}

// Runs tasks<4>, tasks<8> or tasks<0> (see above) for g's row length.
template <class Tasks>
static void by_row_length(const ConvGeom& g, Tasks&& tasks) {
    if (g.stride == 1 && g.OW == 4)
        tasks(std::integral_constant<int, 4>{});
    else if (g.stride == 1 && g.OW == 8)
        tasks(std::integral_constant<int, 8>{});
    else
        tasks(std::integral_constant<int, 0>{});
}


// im2col for images n0 .. n0+count-1 of x:
//   cols[k, i*P + oh*OW + ow] = x[n0+i, c, oh*stride - pad + kh, ow*stride - pad + kw]
// with k = (c*KH + kh)*KW + kw and zero where the index falls in the padding.
// cols is [K, count*P] (row stride count*P).
static void im2col(const float* x, const ConvGeom& g, int64_t n0, int64_t count, float* cols) {
    // One task per (image, channel): it writes KH*KW row segments of P floats.
    sp::parallel_work(count * g.C, g.KH * g.KW * g.P(), [&](int64_t begin, int64_t end) {
        by_row_length(g, [&](auto kOW) { im2col_tasks<decltype(kOW)::value>(x, g, n0, count, cols, begin, end); });
    });
}

// col2im, the adjoint of im2col: add every entry of dcols [K, count*P] back
// into the input pixel it was copied from. Writes all of images n0 .. n0+count-1
// of dx (what they held before is overwritten, so dx may come from empty).
static void col2im(const float* dcols, const ConvGeom& g, int64_t n0, int64_t count, float* dx) {
    // One task per (image, channel): it owns that plane of dx, so no two
    // threads ever add into the same pixel.
    sp::parallel_work(count * g.C, g.KH * g.KW * g.P(), [&](int64_t begin, int64_t end) {
        by_row_length(g, [&](auto kOW) { col2im_tasks<decltype(kOW)::value>(dcols, g, n0, count, dx, begin, end); });
    });
}

// ------------------------------------------------------------------ init

// weight [O, C, KH, KW] and bias [O], every value U(-k, k), k = 1/sqrt(C*KH*KW)
// (PyTorch's default), drawn from host->global_rng: the weights first, then the
// bias, each in row-major order.
tt_status conv2d_init(int64_t out_channels, int64_t in_channels, int64_t kh, int64_t kw,
                      tt_tensor** out_weight, tt_tensor** out_bias) {
    TT_GUARD_BEGIN
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
    TT_GUARD_END
}

// ------------------------------------------------------------------ forward

tt_status conv2d_forward(const tt_tensor* x, const tt_tensor* weight, const tt_tensor* bias,
                         int32_t stride, int32_t padding, tt_tensor** out) {
    TT_GUARD_BEGIN
    sp::require(out, __func__, "out");
    *out = nullptr;
    const ConvGeom g = conv_geometry(__func__, x, weight, stride, padding);
    if (bias != nullptr && (bias->ndim != 1 || bias->shape[0] != g.O))
        sp::throw_error(TT_SHAPE_MISMATCH, __func__,
                        "bias must be [" + std::to_string(g.O) + "] (one per output channel), got " +
                            sp::shape_str(bias));
    OwnedTensor y = sp::new_empty({g.N, g.O, g.OH, g.OW});  // every output is written below
    const int64_t P = g.P(), K = g.K();
    const Plan plan = plan_for(g);
    const float* bd = bias != nullptr ? bias->data : nullptr;
    float* yd = y->data;
    sp::parallel(plan.lanes, 1, [&](int64_t lane_begin, int64_t lane_end) {
        sp::Scratch cols(K * plan.chunk * P), prod(plan.in_place() ? 1 : g.O * plan.chunk * P);
        for (int64_t lane = lane_begin; lane < lane_end; ++lane) {
            const int64_t stop = plan.first(lane + 1, g.N);
            for (int64_t n0 = plan.first(lane, g.N); n0 < stop; n0 += plan.chunk) {
                const int64_t count = std::min(plan.chunk, stop - n0), ld = count * P;
                im2col(x->data, g, n0, count, cols.get());
                if (plan.in_place()) {
                    // out[n0] [O, P] = bias (on every row) + weight [O, K] x cols [K, P],
                    // the GEMM adding onto the bias rows in place (beta = 1)
                    float* yn = yd + n0 * g.O * P;
                    for (int64_t o = 0; o < g.O; ++o)
                        std::fill(yn + o * P, yn + (o + 1) * P, bd != nullptr ? bd[o] : 0.0f);
                    sp::gemm(false, false, g.O, P, K, 1.0f, weight->data, K, cols.get(), P, 1.0f, yn, P);
                    continue;
                }
                // prod [O, count*P] = weight [O, K] x cols [K, count*P]
                sp::gemm(false, false, g.O, ld, K, 1.0f, weight->data, K, cols.get(), ld, 0.0f,
                         prod.get(), ld);
                // out[n0+i, o, :] = prod[o, i*P : (i+1)*P] + bias[o], one task per (image, channel)
                const float* pr = prod.get();
                sp::parallel_work(count * g.O, P, [&](int64_t begin, int64_t end) {
                    for (int64_t task = begin; task < end; ++task) {
                        const int64_t i = task / g.O, o = task % g.O;
                        const float* src = pr + o * ld + i * P;
                        float* dst = yd + ((n0 + i) * g.O + o) * P;
                        const float b = bd != nullptr ? bd[o] : 0.0f;
                        for (int64_t p = 0; p < P; ++p) dst[p] = src[p] + b;
                    }
                });
            }
        }
    });
    *out = y.release();
    return TT_OK;
    TT_GUARD_END
}

// ------------------------------------------------------------------ backward

tt_status conv2d_backward(const tt_tensor* x, const tt_tensor* weight, const tt_tensor* grad,
                          int32_t stride, int32_t padding, tt_tensor** out_grad_x,
                          tt_tensor** out_grad_weight, tt_tensor** out_grad_bias) {
    TT_GUARD_BEGIN
    if (out_grad_x != nullptr) *out_grad_x = nullptr;
    if (out_grad_weight != nullptr) *out_grad_weight = nullptr;
    if (out_grad_bias != nullptr) *out_grad_bias = nullptr;
    const ConvGeom g = conv_geometry(__func__, x, weight, stride, padding);
    sp::require(grad, __func__, "grad");
    if (grad->ndim != 4 || grad->shape[0] != g.N || grad->shape[1] != g.O ||
        grad->shape[2] != g.OH || grad->shape[3] != g.OW)
        sp::throw_error(TT_SHAPE_MISMATCH, __func__,
                        "grad must have the forward output's shape [" + std::to_string(g.N) + ", " +
                            std::to_string(g.O) + ", " + std::to_string(g.OH) + ", " +
                            std::to_string(g.OW) + "], got " + sp::shape_str(grad));
    const int64_t P = g.P(), K = g.K();
    OwnedTensor gx, gw, gb;
    // Not zero-filled: col2im writes every image of gx, the sums below every
    // entry of gw and gb.
    if (out_grad_x != nullptr) gx = sp::new_empty({g.N, g.C, g.H, g.W});
    if (out_grad_weight != nullptr) gw = sp::new_empty({g.O, g.C, g.KH, g.KW});
    if (out_grad_bias != nullptr) gb = sp::new_empty({g.O});
    const float* dy = grad->data;

    // d bias[o] = sum over n, p of grad[n, o, p]. When the lanes below read
    // grad image by image anyway (in_place), each lane sums its own images while
    // they are in cache; otherwise here, one task per channel.
    const Plan plan = plan_for(g);
    const bool bias_in_lanes = gb && (gx || gw) && plan.in_place();
    if (gb && !bias_in_lanes) {
        float* db = gb->data;
        sp::parallel_work(g.O, g.N * P, [&](int64_t begin, int64_t end) {
            for (int64_t o = begin; o < end; ++o) {
                double total = 0.0;
                for (int64_t n = 0; n < g.N; ++n) {
                    const float* plane = dy + (n * g.O + o) * P;
                    total += sp::sum(plane, P);
                }
                db[o] = static_cast<float>(total);
            }
        });
    }
    if (!gx && !gw) {
        if (out_grad_bias != nullptr) *out_grad_bias = gb.release();
        return TT_OK;
    }

    // d weight sums over every image: each lane sums its own images into its
    // own slot of gwt (as d weight^T [K, O], see below), and the slots are
    // added in lane order at the end (the same result whichever thread ran
    // which lane).
    sp::Scratch gwt(gw ? plan.lanes * K * g.O : 1);
    std::vector<double> db_lanes(bias_in_lanes ? plan.lanes * g.O : 0, 0.0);
    sp::parallel(plan.lanes, 1, [&](int64_t lane_begin, int64_t lane_end) {
        sp::Scratch cols(K * plan.chunk * P), dyc(plan.in_place() ? 1 : g.O * plan.chunk * P);
        for (int64_t lane = lane_begin; lane < lane_end; ++lane) {
            float* gw_lane = gwt.get() + lane * K * g.O;
            const int64_t start = plan.first(lane, g.N), stop = plan.first(lane + 1, g.N);
            if (gw && start == stop) std::memset(gw_lane, 0, sizeof(float) * K * g.O);
            for (int64_t n0 = start; n0 < stop; n0 += plan.chunk) {
                const int64_t count = std::min(plan.chunk, stop - n0), ld = count * P;
                // dY [O, count*P]: dY[o, i*P + p] = grad[n0+i, o, p]. One image
                // (in_place) is already laid out that way in grad: no copy.
                const float* dyd = dy + n0 * g.O * P;
                if (bias_in_lanes)
                    for (int64_t o = 0; o < g.O; ++o) db_lanes[lane * g.O + o] += sp::sum(dyd + o * P, P);
                if (!plan.in_place()) {
                    float* gathered = dyc.get();
                    sp::parallel_work(count * g.O, P, [&](int64_t begin, int64_t end) {
                        for (int64_t task = begin; task < end; ++task) {
                            const int64_t i = task / g.O, o = task % g.O;
                            std::memcpy(gathered + o * ld + i * P, dy + ((n0 + i) * g.O + o) * P,
                                        sizeof(float) * P);
                        }
                    });
                    dyd = gathered;
                }
                if (gw) {
                    im2col(x->data, g, n0, count, cols.get());
                    // d weight^T [K, O] (+)= cols [K, count*P] x dY^T [count*P, O]
                    // (the transposed product: the BLAS is faster with the long
                    // K side as rows here; transposed back at the end)
                    sp::gemm(false, true, K, g.O, ld, 1.0f, cols.get(), ld, dyd, ld, n0 == start ? 0.0f : 1.0f,
                             gw_lane, g.O);
                }
                if (gx) {
                    // d cols [K, count*P] = weight^T [K, O] x dY [O, count*P]
                    sp::gemm(true, false, K, ld, g.O, 1.0f, weight->data, K, dyd, ld, 0.0f, cols.get(), ld);
                    col2im(cols.get(), g, n0, count, gx->data);
                }
            }
        }
    });
    if (bias_in_lanes)
        for (int64_t o = 0; o < g.O; ++o) {
            double total = 0.0;
            for (int64_t lane = 0; lane < plan.lanes; ++lane) total += db_lanes[lane * g.O + o];
            gb->data[o] = static_cast<float>(total);
        }
    if (gw)
        for (int64_t o = 0; o < g.O; ++o)
            for (int64_t k = 0; k < K; ++k) {
                float total = 0.0f;
                for (int64_t lane = 0; lane < plan.lanes; ++lane) total += gwt.get()[(lane * K + k) * g.O + o];
                gw->data[o * K + k] = total;
            }
    if (out_grad_x != nullptr) *out_grad_x = gx.release();
    if (out_grad_weight != nullptr) *out_grad_weight = gw.release();
    if (out_grad_bias != nullptr) *out_grad_bias = gb.release();
    return TT_OK;
    TT_GUARD_END
}
