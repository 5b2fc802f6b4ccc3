// batchnorm.cpp - module 09: 2-D batch normalisation, forward and backward.
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
// Channels are independent, so sp::parallel_for spreads the channels over
// the core's threads. Channel c of image n is the plane x + (n*C + c)*H*W.
//
// The fused ops (batch norm + ReLU, and + max-pool) compute exactly what the
// separate ops compute one after the other, so a first version calls them in
// turn. Fusing the loops (one pass over the data instead of three) is what
// makes them faster.
// BEGIN SOLUTION: remove
// This reference stays with the calls; the fast variant
// (../fast/batchnorm.cpp) fuses the loops.
// END SOLUTION
#include <cmath>
#include <cstdint>
#include <string>

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

// BEGIN SOLUTION: remove
// Throw unless t has x's shape (grad, or the forward's output).
static void require_like_x(const char* function, const tt_tensor* t, const char* name, const tt_tensor* x) {
    sp::require(t, function, name);
    if (!ttm::same_shape(t, x))
        sp::throw_error(TT_SHAPE_MISMATCH, function,
                        std::string(name) + " must have x's shape " + sp::shape_str(x) + ", got " +
                            sp::shape_str(t));
}

// Check the forward's arguments (x 4-D, every [C] vector, eps, and more than
// one value per channel when training).
static void check_forward(const char* function, const tt_tensor* x, const tt_tensor* gamma, const tt_tensor* beta,
                          const tt_tensor* running_mean, const tt_tensor* running_var, int32_t training, float eps) {
    sp::require(x, function, "x");
    sp::require_ndim(x, 4, function, "x", "[N, C, H, W]");
    const int64_t C = x->shape[1], M = x->shape[0] * x->shape[2] * x->shape[3];
    require_vector(function, gamma, "gamma", C);
    require_vector(function, beta, "beta", C);
    require_vector(function, running_mean, "running_mean", C);
    require_vector(function, running_var, "running_var", C);
    if (!(eps >= 0.0f))
        sp::throw_error(TT_INVALID_ARGUMENT, function, "eps must be >= 0, got " + std::to_string(eps));
    if (training && M < 2)
        sp::throw_error(TT_INVALID_ARGUMENT, function,
                        "training needs more than one value per channel (N*H*W = " + std::to_string(M) +
                            ", x is " + sp::shape_str(x) + "): use a bigger batch or eval mode");
}

// Check the backward's arguments: x 4-D, the [C] vectors, grad shaped like x.
static void check_backward(const char* function, const tt_tensor* x, const tt_tensor* gamma,
                           const tt_tensor* saved_mean, const tt_tensor* saved_invstd, const tt_tensor* grad) {
    sp::require(x, function, "x");
    sp::require_ndim(x, 4, function, "x", "[N, C, H, W]");
    require_vector(function, gamma, "gamma", x->shape[1]);
    require_vector(function, saved_mean, "saved_mean", x->shape[1]);
    require_vector(function, saved_invstd, "saved_invstd", x->shape[1]);
    require_like_x(function, grad, "grad", x);
}

// Channel c's mean and biased variance over its M = N*HW values: two passes
// (the mean first, then the squared distances to it), sums in double.
static void channel_stats(const float* x, int64_t N, int64_t C, int64_t HW, int64_t c, double* mean, double* var) {
    const double M = static_cast<double>(N * HW);
    double sum = 0.0;
    for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < HW; ++i) sum += x[(n * C + c) * HW + i];
    *mean = sum / M;
    double squares = 0.0;
    for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < HW; ++i) {
            const double d = x[(n * C + c) * HW + i] - *mean;
            squares += d * d;
        }
    *var = squares / M;
}

// END SOLUTION
tt_status batchnorm2d_forward(const tt_tensor* x, const tt_tensor* gamma, const tt_tensor* beta,
                              tt_tensor* running_mean, tt_tensor* running_var, int32_t training,
                              float momentum, float eps, tt_tensor** out,
                              tt_tensor** out_saved_mean, tt_tensor** out_saved_invstd) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: check shapes; per channel find mean and invstd (batch statistics
    //   when training, running statistics in eval), update the running
    //   statistics when training, write y = gamma*(x-mean)*invstd + beta, and
    //   hand back the mean and invstd used (when asked for).
    // HINT: channel c of image n is the plane x + (n*C + c)*H*W of H*W floats;
    //   accumulate the sums in double; the running variance takes var*M/(M-1).
    sp::require(out, __func__, "out");
    *out = nullptr;
    if (out_saved_mean != nullptr) *out_saved_mean = nullptr;
    if (out_saved_invstd != nullptr) *out_saved_invstd = nullptr;
    check_forward(__func__, x, gamma, beta, running_mean, running_var, training, eps);
    const int64_t N = x->shape[0], C = x->shape[1], HW = x->shape[2] * x->shape[3], M = N * HW;
    OwnedTensor y = sp::new_empty({N, C, x->shape[2], x->shape[3]});  // every value is written
    OwnedTensor mean = sp::new_empty({C}), invstd = sp::new_empty({C});
    float *rm = running_mean->data, *rv = running_var->data;
    sp::parallel_for(C, N * HW, [&](int64_t c) {
        double mu = rm[c], var = rv[c];  // eval: the running statistics
        if (training) {
            channel_stats(x->data, N, C, HW, c, &mu, &var);
            rm[c] = (1.0f - momentum) * rm[c] + momentum * static_cast<float>(mu);
            rv[c] = (1.0f - momentum) * rv[c] + momentum * static_cast<float>(var * M / (M - 1));  // unbiased
        }
        const float m = static_cast<float>(mu), is = static_cast<float>(1.0 / std::sqrt(var + eps));
        const float gc = gamma->data[c], bc = beta->data[c];
        mean->data[c] = m;
        invstd->data[c] = is;
        for (int64_t n = 0; n < N; ++n) {  // y = gamma * (x - mean) * invstd + beta
            const float* xp = x->data + (n * C + c) * HW;
            float* yp = y->data + (n * C + c) * HW;
            for (int64_t i = 0; i < HW; ++i) yp[i] = gc * (xp[i] - m) * is + bc;
        }
    });
    *out = y.release();
    if (out_saved_mean != nullptr) *out_saved_mean = mean.release();
    if (out_saved_invstd != nullptr) *out_saved_invstd = invstd.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status batchnorm2d_backward(const tt_tensor* x, const tt_tensor* gamma,
                               const tt_tensor* saved_mean, const tt_tensor* saved_invstd,
                               int32_t training, const tt_tensor* grad, tt_tensor** out_grad_x,
                               tt_tensor** out_grad_gamma, tt_tensor** out_grad_beta) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: check shapes; per channel compute d beta = sum dy and
    //   d gamma = sum dy*xhat, then d x (the training formula, or the eval one).
    // HINT: with xhat = (x - mean)*invstd, training:
    //   dx = gamma*invstd/M * (M*dy - dbeta - xhat*dgamma).
    if (out_grad_x != nullptr) *out_grad_x = nullptr;
    if (out_grad_gamma != nullptr) *out_grad_gamma = nullptr;
    if (out_grad_beta != nullptr) *out_grad_beta = nullptr;
    check_backward(__func__, x, gamma, saved_mean, saved_invstd, grad);
    const int64_t N = x->shape[0], C = x->shape[1], HW = x->shape[2] * x->shape[3], M = N * HW;
    OwnedTensor dx, dgamma, dbeta;
    if (out_grad_x != nullptr) dx = sp::new_empty({N, C, x->shape[2], x->shape[3]});
    if (out_grad_gamma != nullptr) dgamma = sp::new_empty({C});
    if (out_grad_beta != nullptr) dbeta = sp::new_empty({C});
    const float* dy = grad->data;
    sp::parallel_for(C, N * HW, [&](int64_t c) {
        const float mu = saved_mean->data[c], is = saved_invstd->data[c];
        double db = 0.0, dg = 0.0;  // sum dy, sum dy * xhat
        for (int64_t n = 0; n < N; ++n) {
            const float *xp = x->data + (n * C + c) * HW, *dyp = dy + (n * C + c) * HW;
            for (int64_t i = 0; i < HW; ++i) {
                db += dyp[i];
                dg += dyp[i] * (xp[i] - mu) * is;
            }
        }
        if (dbeta) dbeta->data[c] = static_cast<float>(db);
        if (dgamma) dgamma->data[c] = static_cast<float>(dg);
        if (!dx) return;
        // dx = k/M * (M*dy - db - xhat*dg) = k*dy - a - xhat*b   (training: through mean and var)
        // dx = k*dy                                             (eval: constant statistics)
        const float k = gamma->data[c] * is;
        const float a = training ? static_cast<float>(k * db / M) : 0.0f;
        const float b = training ? static_cast<float>(k * dg / M) : 0.0f;
        for (int64_t n = 0; n < N; ++n) {
            const float *xp = x->data + (n * C + c) * HW, *dyp = dy + (n * C + c) * HW;
            float* dxp = dx->data + (n * C + c) * HW;
            for (int64_t i = 0; i < HW; ++i) dxp[i] = k * dyp[i] - a - (xp[i] - mu) * is * b;
        }
    });
    if (out_grad_x != nullptr) *out_grad_x = dx.release();
    if (out_grad_gamma != nullptr) *out_grad_gamma = dgamma.release();
    if (out_grad_beta != nullptr) *out_grad_beta = dbeta.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ------------------------------------------------------------------ fused with ReLU

tt_status batchnorm2d_relu_forward(const tt_tensor* x, const tt_tensor* gamma, const tt_tensor* beta,
                                   tt_tensor* running_mean, tt_tensor* running_var, int32_t training,
                                   float momentum, float eps, tt_tensor** out,
                                   tt_tensor** out_saved_mean, tt_tensor** out_saved_invstd) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: relu(batchnorm2d_forward(x)): the same outputs, with max(0, v)
    //   applied to every value of out.
    // HINT: call batchnorm2d_forward, then replace every v of *out by
    //   (v > 0 ? v : 0). (Faster, later: apply it as y is written, one pass.)
    sp::ok(batchnorm2d_forward(x, gamma, beta, running_mean, running_var, training, momentum, eps, out,
                               out_saved_mean, out_saved_invstd));
    // the ReLU in place, plane by plane: out = max(0, out)
    tt_tensor* y = *out;
    const int64_t HW = y->shape[2] * y->shape[3];
    sp::parallel_for(y->shape[0] * y->shape[1], HW, [&](int64_t plane) {
        float* v = y->data + plane * HW;
        for (int64_t i = 0; i < HW; ++i) v[i] = v[i] > 0.0f ? v[i] : 0.0f;
    });
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status batchnorm2d_relu_backward(const tt_tensor* x, const tt_tensor* gamma,
                                    const tt_tensor* saved_mean, const tt_tensor* saved_invstd,
                                    const tt_tensor* out, int32_t training, const tt_tensor* grad,
                                    tt_tensor** out_grad_x, tt_tensor** out_grad_gamma,
                                    tt_tensor** out_grad_beta) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: the ReLU's backward, then the batch norm's: dz = (out > 0 ? grad : 0),
    //   then batchnorm2d_backward with dz in place of grad.
    // HINT: check out and grad have x's shape; build dz with sp::new_empty.
    if (out_grad_x != nullptr) *out_grad_x = nullptr;
    if (out_grad_gamma != nullptr) *out_grad_gamma = nullptr;
    if (out_grad_beta != nullptr) *out_grad_beta = nullptr;
    sp::require(x, __func__, "x");
    require_like_x(__func__, out, "out", x);
    require_like_x(__func__, grad, "grad", x);
    OwnedTensor dz = sp::new_empty({x->shape[0], x->shape[1], x->shape[2], x->shape[3]});
    for (int64_t i = 0; i < dz->numel; ++i) dz->data[i] = out->data[i] > 0.0f ? grad->data[i] : 0.0f;
    return batchnorm2d_backward(x, gamma, saved_mean, saved_invstd, training, dz.get(), out_grad_x,
                                out_grad_gamma, out_grad_beta);
    // END SOLUTION
    TT_GUARD_END
}

// ------------------------------------------------------------------ fused with ReLU and max-pool

tt_status batchnorm2d_relu_maxpool2d_forward(const tt_tensor* x, const tt_tensor* gamma, const tt_tensor* beta,
                                             tt_tensor* running_mean, tt_tensor* running_var, int32_t training,
                                             float momentum, float eps, int32_t kernel, int32_t stride,
                                             tt_tensor** out, tt_tensor** out_indices, tt_tensor** out_saved_mean,
                                             tt_tensor** out_saved_invstd) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: maxpool2d_forward(batchnorm2d_relu_forward(x)): out and
    //   out_indices from the pool, the saved statistics from the batch norm.
    // HINT: check the pooling arguments first (pool_geometry), so a bad kernel
    //   fails before the running statistics change; free the middle tensor.
    sp::require(out, __func__, "out");
    sp::require(out_indices, __func__, "out_indices");
    *out = nullptr;
    *out_indices = nullptr;
    if (out_saved_mean != nullptr) *out_saved_mean = nullptr;
    if (out_saved_invstd != nullptr) *out_saved_invstd = nullptr;
    pool_geometry(__func__, x, kernel, stride);  // throws on a bad kernel or stride
    tt_tensor *z = nullptr, *mean = nullptr, *invstd = nullptr;
    sp::ok(batchnorm2d_relu_forward(x, gamma, beta, running_mean, running_var, training, momentum, eps, &z,
                                    &mean, &invstd));
    OwnedTensor z_owned(z), mean_owned(mean), invstd_owned(invstd);  // freed on every way out
    sp::ok(maxpool2d_forward(z, kernel, stride, out, out_indices));
    if (out_saved_mean != nullptr) *out_saved_mean = mean_owned.release();
    if (out_saved_invstd != nullptr) *out_saved_invstd = invstd_owned.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status batchnorm2d_relu_maxpool2d_backward(const tt_tensor* x, const tt_tensor* gamma,
                                              const tt_tensor* saved_mean, const tt_tensor* saved_invstd,
                                              const tt_tensor* indices, const tt_tensor* out, int32_t training,
                                              int32_t kernel, int32_t stride, const tt_tensor* grad,
                                              tt_tensor** out_grad_x, tt_tensor** out_grad_gamma,
                                              tt_tensor** out_grad_beta) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: the three backwards in turn: cut grad where out <= 0 (the ReLU; a
    //   window's out is the ReLU's output at the pixel it picked), send it
    //   back through maxpool2d_backward, then batchnorm2d_backward.
    // HINT: out, indices and grad all have the pooled shape; check them
    //   before the first call.
    if (out_grad_x != nullptr) *out_grad_x = nullptr;
    if (out_grad_gamma != nullptr) *out_grad_gamma = nullptr;
    if (out_grad_beta != nullptr) *out_grad_beta = nullptr;
    const PoolGeom g = pool_geometry(__func__, x, kernel, stride);
    for (const tt_tensor* t : {out, grad, indices}) {
        sp::require(t, __func__, t == out ? "out" : t == grad ? "grad" : "indices");
        if (t->ndim != 4 || t->shape[0] != g.N || t->shape[1] != g.C || t->shape[2] != g.OH || t->shape[3] != g.OW)
            sp::throw_error(TT_SHAPE_MISMATCH, __func__,
                            "out, indices and grad must have the pooled shape [" + std::to_string(g.N) + ", " +
                                std::to_string(g.C) + ", " + std::to_string(g.OH) + ", " + std::to_string(g.OW) +
                                "], got " + sp::shape_str(t));
    }
    OwnedTensor g_cut = sp::new_empty({g.N, g.C, g.OH, g.OW});  // the ReLU's backward, per window
    for (int64_t i = 0; i < g_cut->numel; ++i) g_cut->data[i] = out->data[i] > 0.0f ? grad->data[i] : 0.0f;
    tt_tensor* dz = nullptr;
    sp::ok(maxpool2d_backward(x, indices, g_cut.get(), kernel, stride, &dz));
    OwnedTensor dz_owned(dz);
    return batchnorm2d_backward(x, gamma, saved_mean, saved_invstd, training, dz, out_grad_x, out_grad_gamma,
                                out_grad_beta);
    // END SOLUTION
    TT_GUARD_END
}
