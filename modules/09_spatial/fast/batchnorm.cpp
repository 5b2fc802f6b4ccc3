// batchnorm.cpp - module 09: 2-D batch normalisation, forward and backward.
//
// The FAST variant of module 09 (lib/tt_09_spatial_fast.so, --impl 09=fast):
// the same functions as ../reference/, tuned for speed. reference/ is the
// readable solution (and the source of the student stubs); this copy is
// checked against it on random shapes by tests/spatial_fast/.
//
// Shapes: x [N, C, H, W]; gamma, beta, running_mean, running_var,
// saved_mean, saved_invstd all [C]. Each channel c is normalised over the
// M = N*H*W values it has in the batch:
//
//   training:  mean_c = (1/M) sum x            (over n, h, w)
//              var_c  = (1/M) sum (x - mean)^2  (biased: divide by M)
//              running_mean = (1 - momentum) running_mean + momentum * mean_c
//              running_var  = (1 - momentum) running_var
//                             + momentum * var_c * M / (M - 1)   (unbiased)
//   eval:      mean_c = running_mean, var_c = running_var
//
//   invstd = 1 / sqrt(var_c + eps),  xhat = (x - mean_c) * invstd
//   y      = gamma_c * xhat + beta_c
//
// Backward, with dy = d(loss)/d(y) and sums over the M values of channel c:
//   d beta_c  = sum dy
//   d gamma_c = sum dy * xhat
//   training (mean and invstd depend on x):
//     d x = gamma_c * invstd / M * (M * dy - d beta_c - xhat * d gamma_c)
//   eval (mean and invstd are constants):
//     d x = gamma_c * invstd * dy
//
// Channels are independent, so the work is spread over channels. One
// channel's values are N planes of H*W floats, strided by C*H*W; a batch of 64
// 30x30 planes is 230 KB, so the second pass over a channel reads from cache.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "spatial_internal.hpp"

using sp::OwnedTensor;

// Check one [C] vector argument.
static void require_vector(const char* function, const tt_tensor* t, const char* name, int64_t C) {
    sp::require(t, function, name);
    if (t->ndim != 1 || t->shape[0] != C)
        sp::throw_error(TT_SHAPE_MISMATCH, function,
                        std::string(name) + " must be [" + std::to_string(C) +
                            "] (one value per channel of x), got " + sp::shape_str(t));
}

// Sums over n floats of (v - shift) and (v - shift)^2. Shifting by a value
// near the mean keeps the one-pass variance sum((v-shift)^2)/M - mean(v-shift)^2
// accurate. Both sums are kept in vector partial sums (see sp::sum).

static void shifted_sums(const float* v, int64_t n, float shift, double* s1, double* s2) {
    sp::f4 a0 = {}, a1 = {}, b0 = {}, b1 = {};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const sp::f4 d0 = sp::load4(v + i) - shift, d1 = sp::load4(v + i + 4) - shift;
        a0 += d0, a1 += d1;
        b0 += d0 * d0, b1 += d1 * d1;
    }
    float a = sp::lanes_sum(a0 + a1), b = sp::lanes_sum(b0 + b1);
    for (; i < n; ++i) {
        const float d = v[i] - shift;
        a += d, b += d * d;
    }
    *s1 += a, *s2 += b;
}

// Sums over n values of dy and of dy * (x - mean), the same way. With a
// ReLU after the batch norm (relu_out not NULL), dy counts only where
// relu_out > 0: the ReLU's backward, applied on the fly.
static void grad_sums(const float* dy, const float* x, const float* relu_out, int64_t n, float mean,
                      double* sdy, double* sdyx) {
    sp::f4 a0 = {}, a1 = {}, b0 = {}, b1 = {};
    int64_t i = 0;
    const sp::f4 zero = {};
    for (; i + 8 <= n; i += 8) {
        sp::f4 g0 = sp::load4(dy + i), g1 = sp::load4(dy + i + 4);
        if (relu_out != nullptr) {  // g where out > 0, else 0: a vector select, no branch
            g0 = sp::load4(relu_out + i) > zero ? g0 : zero;
            g1 = sp::load4(relu_out + i + 4) > zero ? g1 : zero;
        }
        a0 += g0, a1 += g1;
        b0 += g0 * (sp::load4(x + i) - mean), b1 += g1 * (sp::load4(x + i + 4) - mean);
    }
    float a = sp::lanes_sum(a0 + a1), b = sp::lanes_sum(b0 + b1);
    for (; i < n; ++i) {
        const float g = relu_out == nullptr || relu_out[i] > 0.0f ? dy[i] : 0.0f;
        a += g, b += g * (x[i] - mean);
    }
    *sdy += a, *sdyx += b;
}

// d x in training for n values of one channel:
//   d = k*g - a - (x - mean)*b,  g = dy, or (out > 0 ? dy : 0) after a ReLU.
// Written with vectors of four: with the ReLU's condition in it, the
// compiler leaves a plain loop scalar.
static void dx_training(float* d, const float* dy, const float* x, const float* relu_out, int64_t n,
                        float k, float a, float mean, float b) {
    const sp::f4 zero = {};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        sp::f4 g = sp::load4(dy + i);
        if (relu_out != nullptr) g = sp::load4(relu_out + i) > zero ? g : zero;
        sp::store4(d + i, k * g - a - (sp::load4(x + i) - mean) * b);
    }
    for (; i < n; ++i) {
        const float g = relu_out == nullptr || relu_out[i] > 0.0f ? dy[i] : 0.0f;
        d[i] = k * g - a - (x[i] - mean) * b;
    }
}

// Batch norm forward, followed by a ReLU when `relu`, and by a max-pool when
// `pool` (then *out is the pooled output, *out_indices its indices, and the
// normalised planes exist only one at a time in a scratch buffer): the whole
// of batchnorm2d_forward, batchnorm2d_relu_forward and
// batchnorm2d_relu_maxpool2d_forward. Throws on bad arguments.
struct PoolArgs {
    int32_t kernel, stride;
    tt_tensor** out_indices;
};
static void batchnorm_forward(const char* function, const tt_tensor* x, const tt_tensor* gamma,
                              const tt_tensor* beta, tt_tensor* running_mean, tt_tensor* running_var,
                              int32_t training, float momentum, float eps, bool relu, const PoolArgs* pool,
                              tt_tensor** out, tt_tensor** out_saved_mean, tt_tensor** out_saved_invstd) {
    sp::require(out, function, "out");
    *out = nullptr;
    if (pool != nullptr) {
        sp::require(pool->out_indices, function, "out_indices");
        *pool->out_indices = nullptr;
    }
    if (out_saved_mean != nullptr) *out_saved_mean = nullptr;
    if (out_saved_invstd != nullptr) *out_saved_invstd = nullptr;
    sp::require(x, function, "x");
    sp::require_ndim(x, 4, function, "x", "[N, C, H, W]");
    const int64_t N = x->shape[0], C = x->shape[1], HW = x->shape[2] * x->shape[3];
    const int64_t M = N * HW;
    require_vector(function, gamma, "gamma", C);
    require_vector(function, beta, "beta", C);
    require_vector(function, running_mean, "running_mean", C);
    require_vector(function, running_var, "running_var", C);
    if (!(eps >= 0.0f))
        sp::throw_error(TT_INVALID_ARGUMENT, function, "eps must be >= 0, got " + std::to_string(eps));
    if (training && M < 2)
        sp::throw_error(TT_INVALID_ARGUMENT, function,
                        "training needs more than one value per channel (N*H*W = " +
                            std::to_string(M) + ", x is " + sp::shape_str(x) +
                            "): use a bigger batch or eval mode");

    PoolGeom pg{};
    if (pool != nullptr) pg = pool_geometry(function, x, pool->kernel, pool->stride);
    const int64_t OHW = pg.OH * pg.OW;
    OwnedTensor y = pool != nullptr ? sp::new_empty({N, C, pg.OH, pg.OW}) : sp::new_empty({N, C, x->shape[2], x->shape[3]});
    OwnedTensor ind;
    if (pool != nullptr) ind = sp::new_empty({N, C, pg.OH, pg.OW});
    OwnedTensor mean_t = sp::new_empty({C});
    OwnedTensor invstd_t = sp::new_empty({C});
    const float* xd = x->data;
    float* yd = y->data;
    float* mean = mean_t->data;
    float* invstd = invstd_t->data;
    float* rm = running_mean->data;
    float* rv = running_var->data;
    const float* gd = gamma->data;
    const float* bd = beta->data;

    sp::parallel_work(C, N * HW, [&](int64_t begin, int64_t end) {
        sp::Scratch plane(pool != nullptr ? HW : 1);  // one normalised plane, before pooling
        for (int64_t c = begin; c < end; ++c) {
            float mu, var;
            if (training) {
                // one pass: sums of (x - shift) and (x - shift)^2, shift = a value of the channel
                const float shift = xd[c * HW];
                double s1 = 0.0, s2 = 0.0;
                for (int64_t n = 0; n < N; ++n) shifted_sums(xd + (n * C + c) * HW, HW, shift, &s1, &s2);
                const double dm = s1 / static_cast<double>(M);
                double v = s2 / static_cast<double>(M) - dm * dm;  // biased variance
                if (v < 0.0) v = 0.0;
                mu = static_cast<float>(shift + dm);
                var = static_cast<float>(v);
                rm[c] = (1.0f - momentum) * rm[c] + momentum * mu;
                rv[c] = (1.0f - momentum) * rv[c] +
                        momentum * static_cast<float>(v * static_cast<double>(M) / static_cast<double>(M - 1));
            } else {
                mu = rm[c];
                var = rv[c];
            }
            const float is = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var) + eps));
            mean[c] = mu;
            invstd[c] = is;
            // y = gamma*(x - mu)*is + beta = x*scale + offset
            const float scale = gd[c] * is;
            const float offset = bd[c] - mu * scale;
            for (int64_t n = 0; n < N; ++n) {
                const float* src = xd + (n * C + c) * HW;
                float* dst = pool != nullptr ? plane.get() : yd + (n * C + c) * HW;
                if (relu)  // the ReLU as y is written (module 02's rule: y > 0 ? y : 0)
                    for (int64_t i = 0; i < HW; ++i) {
                        const float v = src[i] * scale + offset;
                        dst[i] = v > 0.0f ? v : 0.0f;
                    }
                else
                    for (int64_t i = 0; i < HW; ++i) dst[i] = src[i] * scale + offset;
                if (pool != nullptr)  // pool the plane while it is in cache
                    maxpool_plane(dst, pg, yd + (n * C + c) * OHW, ind->data + (n * C + c) * OHW);
            }
        }
    });
    *out = y.release();
    if (pool != nullptr) *pool->out_indices = ind.release();
    if (out_saved_mean != nullptr) *out_saved_mean = mean_t.release();
    if (out_saved_invstd != nullptr) *out_saved_invstd = invstd_t.release();
}

// Batch norm backward; with relu_out (the fused forward's output) the ReLU's
// backward is applied to grad on the fly. Throws on bad arguments.
static void batchnorm_backward(const char* function, const tt_tensor* x, const tt_tensor* gamma,
                               const tt_tensor* saved_mean, const tt_tensor* saved_invstd,
                               const tt_tensor* relu_out, int32_t training, const tt_tensor* grad,
                               tt_tensor** out_grad_x, tt_tensor** out_grad_gamma,
                               tt_tensor** out_grad_beta) {
    if (out_grad_x != nullptr) *out_grad_x = nullptr;
    if (out_grad_gamma != nullptr) *out_grad_gamma = nullptr;
    if (out_grad_beta != nullptr) *out_grad_beta = nullptr;
    sp::require(x, function, "x");
    sp::require_ndim(x, 4, function, "x", "[N, C, H, W]");
    const int64_t N = x->shape[0], C = x->shape[1], HW = x->shape[2] * x->shape[3];
    const int64_t M = N * HW;
    require_vector(function, gamma, "gamma", C);
    require_vector(function, saved_mean, "saved_mean", C);
    require_vector(function, saved_invstd, "saved_invstd", C);
    sp::require(grad, function, "grad");
    if (grad->ndim != 4 || grad->shape[0] != N || grad->shape[1] != C ||
        grad->shape[2] != x->shape[2] || grad->shape[3] != x->shape[3])
        sp::throw_error(TT_SHAPE_MISMATCH, function,
                        "grad must have x's shape " + sp::shape_str(x) + ", got " + sp::shape_str(grad));

    if (relu_out != nullptr &&
        (relu_out->ndim != 4 || relu_out->shape[0] != N || relu_out->shape[1] != C ||
         relu_out->shape[2] != x->shape[2] || relu_out->shape[3] != x->shape[3]))
        sp::throw_error(TT_SHAPE_MISMATCH, function,
                        "out must be the forward's output, shaped like x " + sp::shape_str(x) + ", got " +
                            sp::shape_str(relu_out));

    OwnedTensor dx, dgamma, dbeta;
    if (out_grad_x != nullptr) dx = sp::new_empty({N, C, x->shape[2], x->shape[3]});
    if (out_grad_gamma != nullptr) dgamma = sp::new_empty({C});
    if (out_grad_beta != nullptr) dbeta = sp::new_empty({C});
    const float* xd = x->data;
    const float* dy = grad->data;
    const float* ro = relu_out != nullptr ? relu_out->data : nullptr;
    const float* gd = gamma->data;
    const float* mean = saved_mean->data;
    const float* invstd = saved_invstd->data;
    float* dxd = dx ? dx->data : nullptr;
    float* dgd = dgamma ? dgamma->data : nullptr;
    float* dbd = dbeta ? dbeta->data : nullptr;
    const bool need_sums = dgd != nullptr || dbd != nullptr || (dxd != nullptr && training);

    sp::parallel_work(C, N * HW, [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c) {
            const float mu = mean[c], is = invstd[c];
            double sdy = 0.0, sdyx = 0.0;  // sum dy, sum dy*(x - mean)
            if (need_sums)
                for (int64_t n = 0; n < N; ++n) {
                    const int64_t at = (n * C + c) * HW;
                    grad_sums(dy + at, xd + at, ro != nullptr ? ro + at : nullptr, HW, mu, &sdy, &sdyx);
                }
            const double db = sdy, dg = sdyx * is;  // dg = sum dy * xhat
            if (dbd != nullptr) dbd[c] = static_cast<float>(db);
            if (dgd != nullptr) dgd[c] = static_cast<float>(dg);
            if (dxd == nullptr) continue;
            const float k = gd[c] * is;
            if (training) {
                // dx = k * (dy - db/M - xhat*dg/M) = k*dy - k*(db/M) - (x - mu)*(k*is*dg/M)
                const float a = static_cast<float>(k * db / static_cast<double>(M));
                const float b = static_cast<float>(k * is * dg / static_cast<double>(M));
                for (int64_t n = 0; n < N; ++n) {
                    const int64_t at = (n * C + c) * HW;
                    dx_training(dxd + at, dy + at, xd + at, ro != nullptr ? ro + at : nullptr, HW, k, a, mu, b);
                }
            } else {
                for (int64_t n = 0; n < N; ++n) {
                    const int64_t at = (n * C + c) * HW;
                    const float* g = dy + at;
                    const float* o = ro != nullptr ? ro + at : nullptr;
                    float* d = dxd + at;
                    for (int64_t i = 0; i < HW; ++i) d[i] = o == nullptr || o[i] > 0.0f ? k * g[i] : 0.0f;
                }
            }
        }
    });
    if (out_grad_x != nullptr) *out_grad_x = dx.release();
    if (out_grad_gamma != nullptr) *out_grad_gamma = dgamma.release();
    if (out_grad_beta != nullptr) *out_grad_beta = dbeta.release();
}

// Four windows of the fused backward at once: g where the window's output is
// > 0 and its index is valid (else 0), the pixel each index names (0 for an
// invalid index, whose g is 0 anyway), and how many indices were invalid.
// Selects instead of branches: whether the ReLU cut a window is a coin toss
// on real data, and four lanes of partial sums keep the additions from
// waiting on each other.
typedef int32_t i4 __attribute__((vector_size(16)));
struct WindowLanes {
    sp::f4 g;
    i4 at;
    int64_t invalid;
};
static inline WindowLanes window_lanes(const float* g, const float* ix, const float* o, int64_t HW) {
    const sp::f4 zero = {}, fv = sp::load4(ix);
    const i4 valid = (fv >= 0.0f) & (fv < static_cast<float>(HW));  // -1 or 0 per lane; 0 for NaN
    const i4 keep = valid & (sp::load4(o) > zero);
    WindowLanes l;
    l.g = keep ? sp::load4(g) : zero;
    l.at = __builtin_convertvector(valid ? fv : zero, i4);  // in range before converting
    l.invalid = 4 + (valid[0] + valid[1] + valid[2] + valid[3]);  // each valid lane is -1
    return l;
}

// The backward of out = maxpool(relu(batchnorm(x))). The gradient that
// reaches the batch norm, dz, is sparse: window w sends grad[w] to the pixel
// indices[w] names, if out[w] > 0 (else the ReLU cut it). So the sums over a
// channel are sums over its windows,
//   sum dz = sum_w g_w,   sum dz*(x - mean) = sum_w g_w * (x[idx_w] - mean)
// (w over the windows with out > 0), and d x = k*dz - a - (x - mean)*b is
// the dense part -a - (x - mean)*b plus k*g_w at each idx_w: dz itself is
// never written.
static void batchnorm_relu_maxpool_backward(const char* function, const tt_tensor* x, const tt_tensor* gamma,
                                            const tt_tensor* saved_mean, const tt_tensor* saved_invstd,
                                            const tt_tensor* indices, const tt_tensor* out, int32_t training,
                                            int32_t kernel, int32_t stride, const tt_tensor* grad,
                                            tt_tensor** out_grad_x, tt_tensor** out_grad_gamma,
                                            tt_tensor** out_grad_beta) {
    if (out_grad_x != nullptr) *out_grad_x = nullptr;
    if (out_grad_gamma != nullptr) *out_grad_gamma = nullptr;
    if (out_grad_beta != nullptr) *out_grad_beta = nullptr;
    const PoolGeom pg = pool_geometry(function, x, kernel, stride);
    const int64_t N = pg.N, C = pg.C, HW = pg.H * pg.W, OHW = pg.OH * pg.OW, M = N * HW;
    require_vector(function, gamma, "gamma", C);
    require_vector(function, saved_mean, "saved_mean", C);
    require_vector(function, saved_invstd, "saved_invstd", C);
    for (auto [t, name] : {std::pair{indices, "indices"}, {out, "out"}, {grad, "grad"}}) {
        sp::require(t, function, name);
        if (t->ndim != 4 || t->shape[0] != N || t->shape[1] != C || t->shape[2] != pg.OH || t->shape[3] != pg.OW)
            sp::throw_error(TT_SHAPE_MISMATCH, function,
                            std::string(name) + " must have the pooled shape [" + std::to_string(N) + ", " +
                                std::to_string(C) + ", " + std::to_string(pg.OH) + ", " + std::to_string(pg.OW) +
                                "], got " + sp::shape_str(t));
    }
    OwnedTensor dx, dgamma, dbeta;
    if (out_grad_x != nullptr) dx = sp::new_empty({N, C, pg.H, pg.W});
    if (out_grad_gamma != nullptr) dgamma = sp::new_empty({C});
    if (out_grad_beta != nullptr) dbeta = sp::new_empty({C});
    const float *xd = x->data, *gd = grad->data, *id = indices->data, *od = out->data;
    const float *gamma_d = gamma->data, *mean = saved_mean->data, *invstd = saved_invstd->data;
    float* dxd = dx ? dx->data : nullptr;
    int64_t bad = 0;
    sp::parallel_work(C, N * HW, [&](int64_t begin, int64_t end) {
        int64_t local_bad = 0;
        for (int64_t c = begin; c < end; ++c) {
            const float mu = mean[c], is = invstd[c];
            double sdy = 0.0, sdyx = 0.0;
            for (int64_t n = 0; n < N; ++n) {
                const int64_t plane = n * C + c;
                const float *g = gd + plane * OHW, *ix = id + plane * OHW, *o = od + plane * OHW;
                const float* xp = xd + plane * HW;
                sp::f4 a4 = {}, b4 = {};
                int64_t w = 0;
                for (; w + 4 <= OHW; w += 4) {  // four windows at a time, no branches
                    const WindowLanes l = window_lanes(g + w, ix + w, o + w, HW);
                    local_bad += l.invalid;
                    const sp::f4 xv = {xp[l.at[0]], xp[l.at[1]], xp[l.at[2]], xp[l.at[3]]};
                    a4 += l.g, b4 += l.g * (xv - mu);
                }
                float a = sp::lanes_sum(a4), b = sp::lanes_sum(b4);
                for (; w < OHW; ++w) {
                    if (!(o[w] > 0.0f)) continue;  // the ReLU cut this window (or a NaN)
                    const float f = ix[w];
                    if (!(f >= 0.0f && f < static_cast<float>(HW))) {  // false for NaN too
                        ++local_bad;
                        continue;
                    }
                    a += g[w];
                    b += g[w] * (xp[static_cast<int64_t>(f)] - mu);
                }
                sdy += a, sdyx += b;
            }
            const double db = sdy, dg = sdyx * is;
            if (dgamma) dgamma->data[c] = static_cast<float>(dg);
            if (dbeta) dbeta->data[c] = static_cast<float>(db);
            if (dxd == nullptr) continue;
            const float k = gamma_d[c] * is;
            // dense part: training a = k*db/M, b = k*is*dg/M; eval (constant statistics) 0
            const float a = training ? static_cast<float>(k * db / static_cast<double>(M)) : 0.0f;
            const float b = training ? static_cast<float>(k * is * dg / static_cast<double>(M)) : 0.0f;
            for (int64_t n = 0; n < N; ++n) {
                const int64_t plane = n * C + c;
                const float* xp = xd + plane * HW;
                float* d = dxd + plane * HW;
                if (training) {
                    int64_t i = 0;
                    for (; i + 4 <= HW; i += 4) sp::store4(d + i, -a - (sp::load4(xp + i) - mu) * b);
                    for (; i < HW; ++i) d[i] = -a - (xp[i] - mu) * b;
                } else {
                    std::memset(d, 0, sizeof(float) * HW);
                }
                const float *g = gd + plane * OHW, *ix = id + plane * OHW, *o = od + plane * OHW;
                int64_t w = 0;  // the sparse part, k*g at each window's pixel
                for (; w + 4 <= OHW; w += 4) {
                    const WindowLanes l = window_lanes(g + w, ix + w, o + w, HW);
                    const sp::f4 kg = k * l.g;  // 0 in the lanes the ReLU cut: adding it changes nothing
                    d[l.at[0]] += kg[0], d[l.at[1]] += kg[1], d[l.at[2]] += kg[2], d[l.at[3]] += kg[3];
                }
                for (; w < OHW; ++w) {
                    const float f = ix[w];
                    if (o[w] > 0.0f && f >= 0.0f && f < static_cast<float>(HW)) d[static_cast<int64_t>(f)] += k * g[w];
                }
            }
        }
        if (local_bad != 0) __atomic_fetch_add(&bad, local_bad, __ATOMIC_RELAXED);
    });
    if (bad != 0)
        sp::throw_error(TT_INVALID_ARGUMENT, function,
                        std::to_string(bad) + " indices lie outside the input plane of " + std::to_string(HW) +
                            " pixels: pass the indices the forward returned");
    if (out_grad_x != nullptr) *out_grad_x = dx.release();
    if (out_grad_gamma != nullptr) *out_grad_gamma = dgamma.release();
    if (out_grad_beta != nullptr) *out_grad_beta = dbeta.release();
}

tt_status batchnorm2d_forward(const tt_tensor* x, const tt_tensor* gamma, const tt_tensor* beta,
                              tt_tensor* running_mean, tt_tensor* running_var, int32_t training,
                              float momentum, float eps, tt_tensor** out,
                              tt_tensor** out_saved_mean, tt_tensor** out_saved_invstd) {
    TT_GUARD_BEGIN
    batchnorm_forward(__func__, x, gamma, beta, running_mean, running_var, training, momentum, eps,
                      false, nullptr, out, out_saved_mean, out_saved_invstd);
    return TT_OK;
    TT_GUARD_END
}

tt_status batchnorm2d_backward(const tt_tensor* x, const tt_tensor* gamma,
                               const tt_tensor* saved_mean, const tt_tensor* saved_invstd,
                               int32_t training, const tt_tensor* grad, tt_tensor** out_grad_x,
                               tt_tensor** out_grad_gamma, tt_tensor** out_grad_beta) {
    TT_GUARD_BEGIN
    batchnorm_backward(__func__, x, gamma, saved_mean, saved_invstd, nullptr, training, grad, out_grad_x,
                       out_grad_gamma, out_grad_beta);
    return TT_OK;
    TT_GUARD_END
}

// ------------------------------------------------------------------ fused with ReLU

tt_status batchnorm2d_relu_forward(const tt_tensor* x, const tt_tensor* gamma, const tt_tensor* beta,
                                   tt_tensor* running_mean, tt_tensor* running_var, int32_t training,
                                   float momentum, float eps, tt_tensor** out,
                                   tt_tensor** out_saved_mean, tt_tensor** out_saved_invstd) {
    TT_GUARD_BEGIN
    batchnorm_forward(__func__, x, gamma, beta, running_mean, running_var, training, momentum, eps,
                      true, nullptr, out, out_saved_mean, out_saved_invstd);
    return TT_OK;
    TT_GUARD_END
}

tt_status batchnorm2d_relu_backward(const tt_tensor* x, const tt_tensor* gamma,
                                    const tt_tensor* saved_mean, const tt_tensor* saved_invstd,
                                    const tt_tensor* out, int32_t training, const tt_tensor* grad,
                                    tt_tensor** out_grad_x, tt_tensor** out_grad_gamma,
                                    tt_tensor** out_grad_beta) {
    TT_GUARD_BEGIN
    sp::require(out, __func__, "out");
    batchnorm_backward(__func__, x, gamma, saved_mean, saved_invstd, out, training, grad, out_grad_x,
                       out_grad_gamma, out_grad_beta);
    return TT_OK;
    TT_GUARD_END
}

// ------------------------------------------------------------------ fused with ReLU and max-pool

tt_status batchnorm2d_relu_maxpool2d_forward(const tt_tensor* x, const tt_tensor* gamma, const tt_tensor* beta,
                                             tt_tensor* running_mean, tt_tensor* running_var, int32_t training,
                                             float momentum, float eps, int32_t kernel, int32_t stride,
                                             tt_tensor** out, tt_tensor** out_indices, tt_tensor** out_saved_mean,
                                             tt_tensor** out_saved_invstd) {
    TT_GUARD_BEGIN
    const PoolArgs pool{kernel, stride, out_indices};
    batchnorm_forward(__func__, x, gamma, beta, running_mean, running_var, training, momentum, eps, true, &pool,
                      out, out_saved_mean, out_saved_invstd);
    return TT_OK;
    TT_GUARD_END
}

tt_status batchnorm2d_relu_maxpool2d_backward(const tt_tensor* x, const tt_tensor* gamma,
                                              const tt_tensor* saved_mean, const tt_tensor* saved_invstd,
                                              const tt_tensor* indices, const tt_tensor* out, int32_t training,
                                              int32_t kernel, int32_t stride, const tt_tensor* grad,
                                              tt_tensor** out_grad_x, tt_tensor** out_grad_gamma,
                                              tt_tensor** out_grad_beta) {
    TT_GUARD_BEGIN
    batchnorm_relu_maxpool_backward(__func__, x, gamma, saved_mean, saved_invstd, indices, out, training, kernel,
                                    stride, grad, out_grad_x, out_grad_gamma, out_grad_beta);
    return TT_OK;
    TT_GUARD_END
}
