// pool.cpp - module 09: max pooling and average pooling, forward and backward.
//
// The FAST variant of module 09 (lib/tt_09_spatial_fast.so, --impl 09=fast):
// the same functions as ../reference/, tuned for speed. reference/ is the
// readable solution (and the source of the student stubs); this copy is
// checked against it on random shapes by tests/spatial_fast/.
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
// Every (n, c) plane is independent, so the work is spread over planes with
// host->parallel_for.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "spatial_internal.hpp"

using sp::OwnedTensor;

// The output size of a pooling window op, after checking the arguments
// (PoolGeom is in spatial_internal.hpp: the fused op in batchnorm.cpp pools too).
PoolGeom pool_geometry(const char* function, const tt_tensor* x, int32_t kernel,
                       int32_t stride) {
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
}

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

#if defined(__SSE2__)
// yes's lanes where mask is set, else no's (SSE2 has no blend instruction).
static inline __m128 select(__m128 mask, __m128 yes, __m128 no) {
    return _mm_or_ps(_mm_and_ps(mask, yes), _mm_andnot_ps(mask, no));
}

// The four windows (a b / c d) in vectors, one window per lane: keep the
// first maximum of each row (b wins only if b > a), then of the two rows (the
// bottom wins only if greater); `pos` holds each window's top-left position,
// and the index follows the same choices. NaNs are flagged in *nan_seen.
static inline void max4(__m128 a, __m128 b, __m128 c, __m128 d, __m128 pos, float W, __m128* best,
                        __m128* at, __m128* nan_seen) {
    const __m128 one = _mm_set1_ps(1.0f);
    *nan_seen = _mm_or_ps(*nan_seen, _mm_or_ps(_mm_cmpunord_ps(a, b), _mm_cmpunord_ps(c, d)));
    const __m128 tb = _mm_cmpgt_ps(b, a), td = _mm_cmpgt_ps(d, c);
    const __m128 m1 = select(tb, b, a), m2 = select(td, d, c);
    const __m128 t = _mm_cmpgt_ps(m2, m1);
    *best = select(t, m2, m1);
    const __m128 i1 = _mm_and_ps(tb, one);                                  // 0 or 1
    const __m128 i2 = _mm_add_ps(_mm_set1_ps(W), _mm_and_ps(td, one));     // W or W+1
    *at = _mm_add_ps(pos, select(t, i2, i1));
}

// Planes two windows wide (4x4 -> 2x2 in the TinyDigits CNN): two rows of
// windows make one vector of four, which is also four consecutive outputs.
static bool maxpool2x2_narrow_sse(const float* in, const PoolGeom& g, float* out, float* idx) {
    __m128 nan_seen = _mm_setzero_ps();
    const float W = static_cast<float>(g.W);
    for (int64_t oh = 0; oh < g.OH; oh += 2) {
        const float* r = in + 2 * oh * g.W;  // input rows 2*oh .. 2*oh+3
        const __m128 x0 = _mm_loadu_ps(r), y0 = _mm_loadu_ps(r + g.W);
        const __m128 x1 = _mm_loadu_ps(r + 2 * g.W), y1 = _mm_loadu_ps(r + 3 * g.W);
        const __m128 a = _mm_shuffle_ps(x0, x1, _MM_SHUFFLE(2, 0, 2, 0));
        const __m128 b = _mm_shuffle_ps(x0, x1, _MM_SHUFFLE(3, 1, 3, 1));
        const __m128 c = _mm_shuffle_ps(y0, y1, _MM_SHUFFLE(2, 0, 2, 0));
        const __m128 d = _mm_shuffle_ps(y0, y1, _MM_SHUFFLE(3, 1, 3, 1));
        const float top = static_cast<float>(2 * oh * g.W), next = static_cast<float>(2 * (oh + 1) * g.W);
        const __m128 pos = _mm_set_ps(next + 2.0f, next, top + 2.0f, top);
        __m128 best, at;
        max4(a, b, c, d, pos, W, &best, &at, &nan_seen);
        _mm_storeu_ps(out + oh * 2, best);
        if (idx != nullptr) _mm_storeu_ps(idx + oh * 2, at);
    }
    return _mm_movemask_ps(nan_seen) == 0;
}

// The 2x2 / stride 2 window, four windows at a time with SSE2 (every x86-64
// CPU has it). A scalar loop here is slow: on random data its comparisons are
// unpredictable branches. Four windows (a b / c d) side by side: deinterleave
// the even and odd columns of two rows, then max4. Returns false, leaving the
// plane half done, when it meets a NaN: the caller then redoes the plane with
// the general loop, which propagates NaN the way PyTorch does.
static bool maxpool2x2_sse(const float* in, const PoolGeom& g, float* out, float* idx) {
    if (g.OW == 2 && g.OH % 2 == 0) return maxpool2x2_narrow_sse(in, g, out, idx);
    if (g.OW < 4) return false;  // too narrow for a vector step: the general loop does it
    const float W = static_cast<float>(g.W);
    const __m128 step = _mm_set_ps(6.0f, 4.0f, 2.0f, 0.0f);  // 2*ow of the four windows
    __m128 nan_seen = _mm_setzero_ps();
    for (int64_t oh = 0; oh < g.OH; ++oh) {
        const float* r0 = in + (2 * oh) * g.W;
        const float* r1 = r0 + g.W;
        float* o = out + oh * g.OW;
        float* ix = idx != nullptr ? idx + oh * g.OW : nullptr;
        // Four windows per step. The last step is moved back to end exactly at
        // OW (it recomputes a few windows, harmlessly), so no scalar tail.
        for (int64_t step_at = 0; step_at < g.OW; step_at += 4) {
            const int64_t ow = std::min(step_at, g.OW - 4);
            const __m128 x0 = _mm_loadu_ps(r0 + 2 * ow), x1 = _mm_loadu_ps(r0 + 2 * ow + 4);
            const __m128 y0 = _mm_loadu_ps(r1 + 2 * ow), y1 = _mm_loadu_ps(r1 + 2 * ow + 4);
            const __m128 a = _mm_shuffle_ps(x0, x1, _MM_SHUFFLE(2, 0, 2, 0));  // even columns
            const __m128 b = _mm_shuffle_ps(x0, x1, _MM_SHUFFLE(3, 1, 3, 1));  // odd columns
            const __m128 c = _mm_shuffle_ps(y0, y1, _MM_SHUFFLE(2, 0, 2, 0));
            const __m128 d = _mm_shuffle_ps(y0, y1, _MM_SHUFFLE(3, 1, 3, 1));
            const __m128 pos = _mm_add_ps(_mm_set1_ps(static_cast<float>(2 * oh * g.W + 2 * ow)), step);
            __m128 best, at;
            max4(a, b, c, d, pos, W, &best, &at, &nan_seen);
            _mm_storeu_ps(o + ow, best);
            if (ix != nullptr) _mm_storeu_ps(ix + ow, at);
        }
    }
    return _mm_movemask_ps(nan_seen) == 0;
}

// The backward of the 2x2 / stride 2 window, four windows at a time, in ONE
// pass that writes every pixel of the plane (no zero-fill first): pixel
// (a b / c d) of a window gets the window's gradient if the index names it,
// else 0. Returns false when an index does not name a pixel of its own
// window (the caller then runs the general loop, which reports bad indices).
static bool maxpool2x2_backward_sse(const float* gp, const float* ip, const PoolGeom& g, float* dplane) {
    if (g.OW < 4) return false;
    const __m128 step = _mm_set_ps(6.0f, 4.0f, 2.0f, 0.0f), one = _mm_set1_ps(1.0f);
    const __m128 wf = _mm_set1_ps(static_cast<float>(g.W));
    __m128 all_found = _mm_castsi128_ps(_mm_set1_epi32(-1));
    for (int64_t oh = 0; oh < g.OH; ++oh) {
        float* r0 = dplane + 2 * oh * g.W;
        float* r1 = r0 + g.W;
        for (int64_t step_at = 0; step_at < g.OW; step_at += 4) {
            const int64_t ow = std::min(step_at, g.OW - 4);  // the last step overlaps: same values
            const __m128 gv = _mm_loadu_ps(gp + oh * g.OW + ow);
            const __m128 iv = _mm_loadu_ps(ip + oh * g.OW + ow);
            const __m128 a = _mm_add_ps(_mm_set1_ps(static_cast<float>(2 * oh * g.W + 2 * ow)), step);
            const __m128 ma = _mm_cmpeq_ps(iv, a), mb = _mm_cmpeq_ps(iv, _mm_add_ps(a, one));
            const __m128 c = _mm_add_ps(a, wf);
            const __m128 mc = _mm_cmpeq_ps(iv, c), md = _mm_cmpeq_ps(iv, _mm_add_ps(c, one));
            all_found = _mm_and_ps(all_found, _mm_or_ps(_mm_or_ps(ma, mb), _mm_or_ps(mc, md)));
            const __m128 ga = _mm_and_ps(ma, gv), gb = _mm_and_ps(mb, gv);
            const __m128 gc = _mm_and_ps(mc, gv), gd = _mm_and_ps(md, gv);
            _mm_storeu_ps(r0 + 2 * ow, _mm_unpacklo_ps(ga, gb));  // a b of windows 0, 1
            _mm_storeu_ps(r0 + 2 * ow + 4, _mm_unpackhi_ps(ga, gb));
            _mm_storeu_ps(r1 + 2 * ow, _mm_unpacklo_ps(gc, gd));
            _mm_storeu_ps(r1 + 2 * ow + 4, _mm_unpackhi_ps(gc, gd));
        }
        for (int64_t w = 2 * g.OW; w < g.W; ++w) r0[w] = r1[w] = 0.0f;  // a column no window reaches
    }
    for (int64_t h = 2 * g.OH; h < g.H; ++h)  // a row no window reaches
        for (int64_t w = 0; w < g.W; ++w) dplane[h * g.W + w] = 0.0f;
    return _mm_movemask_ps(all_found) == 0xF;
}
#endif

// Max pooling of one plane (idx may be NULL: no indices wanted).
void maxpool_plane(const float* in, const PoolGeom& g, float* out, float* idx) {
#if defined(__SSE2__)
    if (g.k == 2 && g.s == 2 && maxpool2x2_sse(in, g, out, idx)) return;
#endif
    for (int64_t oh = 0; oh < g.OH; ++oh) {
        for (int64_t ow = 0; ow < g.OW; ++ow) {
            const int64_t h0 = oh * g.s, w0 = ow * g.s;
            float best = in[h0 * g.W + w0];
            int64_t at = h0 * g.W + w0;
            for (int64_t i = 0; i < g.k; ++i) {
                const float* row = in + (h0 + i) * g.W;
                for (int64_t j = 0; j < g.k; ++j)
                    if (beats(row[w0 + j], best)) best = row[w0 + j], at = (h0 + i) * g.W + w0 + j;
            }
            out[oh * g.OW + ow] = best;
            if (idx != nullptr) idx[oh * g.OW + ow] = static_cast<float>(at);
        }
    }
}

// ------------------------------------------------------------------ max pool

tt_status maxpool2d_forward(const tt_tensor* x, int32_t kernel, int32_t stride, tt_tensor** out,
                            tt_tensor** out_indices) {
    TT_GUARD_BEGIN
    sp::require(out, __func__, "out");
    *out = nullptr;
    if (out_indices != nullptr) *out_indices = nullptr;
    const PoolGeom g = pool_geometry(__func__, x, kernel, stride);
    OwnedTensor y = sp::new_empty({g.N, g.C, g.OH, g.OW});  // every window is written
    OwnedTensor ind;
    if (out_indices != nullptr) ind = sp::new_empty({g.N, g.C, g.OH, g.OW});
    const int64_t in_plane = g.H * g.W, out_plane = g.OH * g.OW;
    const float* xd = x->data;
    float* yd = y->data;
    float* id = ind ? ind->data : nullptr;
    sp::parallel_work(g.planes(), in_plane, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p)
            maxpool_plane(xd + p * in_plane, g, yd + p * out_plane, id != nullptr ? id + p * out_plane : nullptr);
    });
    *out = y.release();
    if (out_indices != nullptr) *out_indices = ind.release();
    return TT_OK;
    TT_GUARD_END
}

tt_status maxpool2d_backward(const tt_tensor* x, const tt_tensor* indices, const tt_tensor* grad,
                             int32_t kernel, int32_t stride, tt_tensor** out_grad_x) {
    TT_GUARD_BEGIN
    sp::require(out_grad_x, __func__, "out_grad_x");
    *out_grad_x = nullptr;
    const PoolGeom g = pool_geometry(__func__, x, kernel, stride);
    check_pool_grad(__func__, g, grad, "grad");
    check_pool_grad(__func__, g, indices, "indices");
    // Each work item owns whole planes of dx: no two threads add to one pixel.
    // The 2x2 / stride 2 case writes each plane in one pass; otherwise a
    // plane is zeroed right before adding into it (while it is in cache),
    // instead of module 01 zero-filling all of dx up front.
    OwnedTensor dx = sp::new_empty({g.N, g.C, g.H, g.W});
    const int64_t in_plane = g.H * g.W, out_plane = g.OH * g.OW;
    const float* gd = grad->data;
    const float* id = indices->data;
    float* dd = dx->data;
    int64_t bad = 0;
    sp::parallel_work(g.planes(), in_plane, [&](int64_t begin, int64_t end) {
        int64_t local_bad = 0;
        for (int64_t p = begin; p < end; ++p) {
            float* dplane = dd + p * in_plane;
            const float* gp = gd + p * out_plane;
            const float* ip = id + p * out_plane;
#if defined(__SSE2__)
            if (g.k == 2 && g.s == 2 && maxpool2x2_backward_sse(gp, ip, g, dplane)) continue;
#endif
            std::memset(dplane, 0, sizeof(float) * in_plane);
            for (int64_t i = 0; i < out_plane; ++i) {
                const float f = ip[i];
                // the comparison is false for NaN too
                if (!(f >= 0.0f && f < static_cast<float>(in_plane))) {
                    ++local_bad;
                    continue;
                }
                dplane[static_cast<int64_t>(f)] += gp[i];
            }
        }
        if (local_bad != 0) __atomic_fetch_add(&bad, local_bad, __ATOMIC_RELAXED);
    });
    if (bad != 0)
        sp::throw_error(TT_INVALID_ARGUMENT, __func__,
                        std::to_string(bad) + " indices lie outside the input plane of " +
                            std::to_string(in_plane) +
                            " pixels: pass the indices maxpool2d_forward returned");
    *out_grad_x = dx.release();
    return TT_OK;
    TT_GUARD_END
}

// ------------------------------------------------------------------ average pool

tt_status avgpool2d_forward(const tt_tensor* x, int32_t kernel, int32_t stride, tt_tensor** out) {
    TT_GUARD_BEGIN
    sp::require(out, __func__, "out");
    *out = nullptr;
    const PoolGeom g = pool_geometry(__func__, x, kernel, stride);
    OwnedTensor y = sp::new_empty({g.N, g.C, g.OH, g.OW});  // every window is written
    const int64_t in_plane = g.H * g.W, out_plane = g.OH * g.OW;
    const float scale = 1.0f / static_cast<float>(g.k * g.k);
    const float* xd = x->data;
    float* yd = y->data;
    sp::parallel_work(g.planes(), in_plane, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
            const float* in = xd + p * in_plane;
            float* o = yd + p * out_plane;
            for (int64_t oh = 0; oh < g.OH; ++oh) {
                for (int64_t ow = 0; ow < g.OW; ++ow) {
                    float s = 0.0f;
                    for (int64_t i = 0; i < g.k; ++i) {
                        const float* row = in + (oh * g.s + i) * g.W + ow * g.s;
                        for (int64_t j = 0; j < g.k; ++j) s += row[j];
                    }
                    o[oh * g.OW + ow] = s * scale;
                }
            }
        }
    });
    *out = y.release();
    return TT_OK;
    TT_GUARD_END
}

tt_status avgpool2d_backward(const tt_tensor* x, const tt_tensor* grad, int32_t kernel,
                             int32_t stride, tt_tensor** out_grad_x) {
    TT_GUARD_BEGIN
    sp::require(out_grad_x, __func__, "out_grad_x");
    *out_grad_x = nullptr;
    const PoolGeom g = pool_geometry(__func__, x, kernel, stride);
    check_pool_grad(__func__, g, grad, "grad");
    OwnedTensor dx = sp::new_empty({g.N, g.C, g.H, g.W});  // each plane is zeroed below
    const int64_t in_plane = g.H * g.W, out_plane = g.OH * g.OW;
    const float scale = 1.0f / static_cast<float>(g.k * g.k);
    const float* gd = grad->data;
    float* dd = dx->data;
    sp::parallel_work(g.planes(), in_plane, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
            float* dplane = dd + p * in_plane;
            std::memset(dplane, 0, sizeof(float) * in_plane);
            const float* gp = gd + p * out_plane;
            for (int64_t oh = 0; oh < g.OH; ++oh) {
                for (int64_t ow = 0; ow < g.OW; ++ow) {
                    const float v = gp[oh * g.OW + ow] * scale;
                    for (int64_t i = 0; i < g.k; ++i) {
                        float* row = dplane + (oh * g.s + i) * g.W + ow * g.s;
                        for (int64_t j = 0; j < g.k; ++j) row[j] += v;
                    }
                }
            }
        }
    });
    *out_grad_x = dx.release();
    return TT_OK;
    TT_GUARD_END
}
