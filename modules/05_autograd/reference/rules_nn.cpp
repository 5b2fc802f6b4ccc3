// rules_nn.cpp - backward rules for activations (02), layers (03) and losses (04).
//
// Same contract as rules_tensor.cpp: inputs borrowed, grad = d(loss)/d(out),
// every out pointer that is not NULL receives a NEW tensor shaped like its
// input. Activations get the forward input x or the forward output y,
// whichever makes the derivative cheaper (sigmoid' = y (1 - y) needs no exp).
#include <cmath>
#include <string>

#include "autograd_internal.hpp"
#include "tinytorch/abi/tt_04_losses.h"  // TT_BCE_EPS

namespace ag {

// ---- activations (element-wise) ---------------------------------------------

tt_status relu_backward(const tt_tensor* x, const tt_tensor* grad, tt_tensor** out_grad_x) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_x});
    require(x, __func__, "x");
    require(grad, __func__, "grad");
    require_same_shape(grad, x, __func__, "relu");
    if (out_grad_x == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: relu'(x) = 0 where x <= 0 (0 at x == 0 too, as PyTorch does), else
    //   1. A NaN x is not <= 0: its gradient passes, so the NaN stays visible.
    // HINT: a new tensor shaped like x; decide each element from x alone.
    //   ./tito hint 05 relu_backward shows the loop body.
    // CODE HINT: out[i] = x[i] <= 0 ? 0 : grad[i];
    OwnedTensor r = empty_like(x);  // every element is written below
    const float* xs = x->data;
    const float* gs = grad->data;
    float* out = r->data;
    // Split over the core's threads when x is big; a small x runs here.
    ttm::parallel_range(x->numel, int64_t(1) << 16, [xs, gs, out](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            const float g = gs[i];  // loaded unconditionally: the loop vectorises (no branch)
            out[i] = xs[i] <= 0.0f ? 0.0f : g;
        }
    });
    *out_grad_x = r.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status sigmoid_backward(const tt_tensor* y, const tt_tensor* grad, tt_tensor** out_grad_x) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_x});
    require(y, __func__, "y");
    require(grad, __func__, "grad");
    require_same_shape(grad, y, __func__, "sigmoid");
    if (out_grad_x == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: sigmoid'(x) = y (1 - y), with y the forward output.
    // HINT: chain rule, element by element: the upstream grad times the
    //   derivative above. ./tito hint 05 sigmoid_backward shows the loop body.
    // CODE HINT: out[i] = grad[i] * y[i] * (1 - y[i]);
    OwnedTensor r = zeros_like(y);
    for (int64_t i = 0; i < y->numel; ++i)
        r->data[i] = grad->data[i] * y->data[i] * (1.0f - y->data[i]);
    *out_grad_x = r.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status tanh_backward(const tt_tensor* y, const tt_tensor* grad, tt_tensor** out_grad_x) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_x});
    require(y, __func__, "y");
    require(grad, __func__, "grad");
    require_same_shape(grad, y, __func__, "tanh");
    if (out_grad_x == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: tanh'(x) = 1 - y^2, with y the forward output.
    // HINT: chain rule, element by element, as for sigmoid.
    //   ./tito hint 05 tanh_backward shows the loop body.
    // CODE HINT: out[i] = grad[i] * (1 - y[i] * y[i]);
    OwnedTensor r = zeros_like(y);
    for (int64_t i = 0; i < y->numel; ++i)
        r->data[i] = grad->data[i] * (1.0f - y->data[i] * y->data[i]);
    *out_grad_x = r.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status gelu_backward(const tt_tensor* x, const tt_tensor* grad, tt_tensor** out_grad_x) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_x});
    require(x, __func__, "x");
    require(grad, __func__, "grad");
    require_same_shape(grad, x, __func__, "gelu");
    if (out_grad_x == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: gelu(x) = 0.5 x (1 + tanh(u)), u = c (x + 0.044715 x^3), c = sqrt(2/pi).
    //   Product and chain rule: gelu'(x) = 0.5 (1 + tanh(u))
    //                                    + 0.5 x (1 - tanh(u)^2) c (1 + 3 * 0.044715 x^2).
    // HINT: compute t = tanh(u) once per element, in double for accuracy.
    const double c = std::sqrt(2.0 / M_PI);
    OwnedTensor r = zeros_like(x);
    for (int64_t i = 0; i < x->numel; ++i) {
        double v = x->data[i];
        double t = std::tanh(c * (v + 0.044715 * v * v * v));
        double d = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * c * (1.0 + 3.0 * 0.044715 * v * v);
        r->data[i] = static_cast<float>(grad->data[i] * d);
    }
    *out_grad_x = r.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status softmax_backward(const tt_tensor* y, int32_t axis, const tt_tensor* grad,
                           tt_tensor** out_grad_x) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_x});
    require(y, __func__, "y");
    require(grad, __func__, "grad");
    require_same_shape(grad, y, __func__, "softmax");
    int32_t ax = normalize_axis(axis, y->ndim, __func__);
    if (out_grad_x == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: each y_k depends on every x_j along the axis (dy_k/dx_j =
    //   y_k (delta_kj - y_j)), which collapses to: dx = y * (g - sum(g * y)),
    //   the sum taken along the axis, separately for every softmax row.
    // HINT: with split_at(y, ax) = {outer, n, inner}, for each (o, i) first
    //   sum g*y over k, then write y * (g - that sum).
    AxisSplit s = split_at(y, ax);
    OwnedTensor r = zeros_like(y);
    for (int64_t o = 0; o < s.outer; ++o)
        for (int64_t i = 0; i < s.inner; ++i) {
            const int64_t base = o * s.n * s.inner + i;
            double dot = 0.0;
            for (int64_t k = 0; k < s.n; ++k)
                dot += static_cast<double>(grad->data[base + k * s.inner]) * y->data[base + k * s.inner];
            for (int64_t k = 0; k < s.n; ++k) {
                const int64_t p = base + k * s.inner;
                r->data[p] = static_cast<float>(y->data[p] * (grad->data[p] - dot));
            }
        }
    *out_grad_x = r.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ---- layers ----------------------------------------------------------------------

tt_status linear_backward(const tt_tensor* x, const tt_tensor* weight, const tt_tensor* grad,
                          tt_tensor** out_grad_x, tt_tensor** out_grad_weight,
                          tt_tensor** out_grad_bias) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_x, out_grad_weight, out_grad_bias});
    require(x, __func__, "x");
    require(weight, __func__, "weight");
    require(grad, __func__, "grad");
    if (weight->ndim != 2 || x->ndim < 1 || x->shape[x->ndim - 1] != weight->shape[0])
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "expected x [..., in] and weight [in, out], got x " + shape_str(x) +
                             " and weight " + shape_str(weight));
    bool fits = grad->ndim == x->ndim && grad->shape[grad->ndim - 1] == weight->shape[1];
    for (int32_t d = 0; fits && d + 1 < x->ndim; ++d) fits = grad->shape[d] == x->shape[d];
    if (!fits)
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "grad has shape " + shape_str(grad) + ", expected x's batch dims then " +
                             std::to_string(weight->shape[1]) + " (x " + shape_str(x) +
                             ", weight " + shape_str(weight) + ")");
    // BEGIN SOLUTION
    // TODO: out = x . W + b with the batch dims of x flattened into B rows:
    //   x [B, in], W [in, out], grad [B, out]. Then
    //     grad_x = grad . W^T   [B, in]   (reshaped like x)
    //     grad_W = x^T . grad   [in, out] (summed over the batch by the product)
    //     grad_b = sum over the B rows of grad   [out]
    // HINT: ttm::host()->sgemm(trans_a, trans_b, M, N, K, 1, A, lda, B, ldb, 0, C, ldc)
    //   with lda/ldb/ldc the row lengths as STORED, not as used.
    //   ./tito hint 05 linear_backward shows the three calls.
    // CODE HINT: W is stored [in, out], so grad . W^T is trans_b = 1 with ldb = out:
    //   sgemm(0, 1, B, in, out, 1, grad, out, W, out, 0, grad_x, in)
    //   grad_W = x^T . grad:  sgemm(1, 0, in, out, B, 1, x, in, grad, out, 0, grad_W, out)
    //   grad_b: one loop over the B rows of grad, adding each row into grad_b.
    const int64_t in = weight->shape[0], outf = weight->shape[1];
    const int64_t rows = in > 0 ? x->numel / in : 0;
    const tt_host* h = ttm::host();
    OwnedTensor gx, gw, gb;
    if (out_grad_x != nullptr) {
        gx = empty_like(x);  // the GEMM writes every element (nothing to write when empty)
        if (rows > 0 && in > 0)
            h->sgemm(0, 1, rows, in, outf, 1.0f, grad->data, outf, weight->data, outf, 0.0f,
                     gx->data, in);
    }
    if (out_grad_weight != nullptr) {
        gw = empty_like(weight);  // written by the GEMM (zeros when rows == 0: K = 0)
        if (in > 0 && outf > 0)
            h->sgemm(1, 0, in, outf, rows, 1.0f, x->data, in, grad->data, outf, 0.0f, gw->data,
                     outf);
    }
    if (out_grad_bias != nullptr) {
        const int64_t shape[1] = {outf};
        gb = zeros(shape, 1);
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = 0; j < outf; ++j) gb->data[j] += grad->data[r * outf + j];
    }
    give(out_grad_x, std::move(gx));
    give(out_grad_weight, std::move(gw));
    give(out_grad_bias, std::move(gb));
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status dropout_backward(const tt_tensor* mask, const tt_tensor* grad, tt_tensor** out_grad_x) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_x});
    require(mask, __func__, "mask");
    require(grad, __func__, "grad");
    require_same_shape(grad, mask, __func__, "dropout");
    if (out_grad_x == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: out = x * mask, so d/dx = mask: dropped elements get no gradient,
    //   kept ones get it scaled by 1/(1-p) like their values were.
    // HINT: the mask already holds 0 or 1/(1-p) per element.
    //   ./tito hint 05 dropout_backward shows the loop body.
    // CODE HINT: out[i] = grad[i] * mask[i];
    OwnedTensor r = zeros_like(mask);
    for (int64_t i = 0; i < mask->numel; ++i) r->data[i] = grad->data[i] * mask->data[i];
    *out_grad_x = r.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ---- losses (grad is the scalar d(loss)/d(out)) ----------------------------------

tt_status mse_backward(const tt_tensor* pred, const tt_tensor* target, const tt_tensor* grad,
                       tt_tensor** out_grad_pred, tt_tensor** out_grad_target) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_pred, out_grad_target});
    require(pred, __func__, "pred");
    require(target, __func__, "target");
    require(grad, __func__, "grad");
    require_same_shape(target, pred, __func__, "mse (target vs pred)");
    require_scalar(grad, __func__);
    // BEGIN SOLUTION
    // TODO: loss = (1/n) sum (p - t)^2, so dloss/dp = 2 (p - t) / n and
    //   dloss/dt = -2 (p - t) / n; multiply both by grad's one value.
    // HINT: n = pred->numel; compute the factor 2 * g / n once.
    const float factor = 2.0f * grad->data[0] / static_cast<float>(pred->numel);
    OwnedTensor gp, gt;
    if (out_grad_pred != nullptr) {
        gp = zeros_like(pred);
        for (int64_t i = 0; i < pred->numel; ++i)
            gp->data[i] = factor * (pred->data[i] - target->data[i]);
    }
    if (out_grad_target != nullptr) {
        gt = zeros_like(target);
        for (int64_t i = 0; i < pred->numel; ++i)
            gt->data[i] = -factor * (pred->data[i] - target->data[i]);
    }
    give(out_grad_pred, std::move(gp));
    give(out_grad_target, std::move(gt));
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status log_softmax_backward(const tt_tensor* y, int32_t axis, const tt_tensor* grad,
                               tt_tensor** out_grad_x) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_x});
    require(y, __func__, "y");
    require(grad, __func__, "grad");
    require_same_shape(grad, y, __func__, "log_softmax");
    int32_t ax = normalize_axis(axis, y->ndim, __func__);
    if (out_grad_x == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: y = x - logsumexp(x), so dy_k/dx_j = delta_kj - softmax_j, which
    //   gives dx = g - softmax * sum(g) along the axis, with softmax = exp(y).
    // HINT: same loop shape as softmax_backward; exp(y) is the softmax.
    AxisSplit s = split_at(y, ax);
    OwnedTensor r = zeros_like(y);
    for (int64_t o = 0; o < s.outer; ++o)
        for (int64_t i = 0; i < s.inner; ++i) {
            const int64_t base = o * s.n * s.inner + i;
            double total = 0.0;
            for (int64_t k = 0; k < s.n; ++k) total += grad->data[base + k * s.inner];
            for (int64_t k = 0; k < s.n; ++k) {
                const int64_t p = base + k * s.inner;
                r->data[p] = static_cast<float>(grad->data[p] - std::exp(y->data[p]) * total);
            }
        }
    *out_grad_x = r.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status cross_entropy_backward(const tt_tensor* logits, const tt_tensor* targets,
                                 const tt_tensor* grad, tt_tensor** out_grad_logits) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_logits});
    require(logits, __func__, "logits");
    require(targets, __func__, "targets");
    require(grad, __func__, "grad");
    if (logits->ndim != 2 || targets->ndim != 1 || targets->shape[0] != logits->shape[0])
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "expected logits [N, C] and targets [N], got logits " +
                             shape_str(logits) + " and targets " + shape_str(targets));
    require_scalar(grad, __func__);
    const int64_t n = logits->shape[0], c = logits->shape[1];
    for (int64_t r = 0; r < n; ++r) {
        float t = targets->data[r];
        if (!(t >= 0.0f && t < static_cast<float>(c)) || t != std::floor(t))
            return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                             "targets[" + std::to_string(r) + "] = " + std::to_string(t) +
                                 " is not a class index in [0, " + std::to_string(c) + ")");
    }
    if (out_grad_logits == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: loss = -(1/N) sum_n log_softmax(logits)[n, target_n], so
    //   dloss/dlogits = (softmax(logits) - onehot(targets)) / N, times grad.
    // HINT: per row: subtract the row max, exponentiate, normalise (a stable
    //   softmax), then subtract 1 at the target column and scale by g / N.
    OwnedTensor r = zeros_like(logits);
    const float scale = n > 0 ? grad->data[0] / static_cast<float>(n) : 0.0f;
    for (int64_t row = 0; row < n; ++row) {
        const float* z = logits->data + row * c;
        float* out = r->data + row * c;
        float mx = z[0];
        for (int64_t j = 1; j < c; ++j) mx = z[j] > mx ? z[j] : mx;
        double total = 0.0;
        for (int64_t j = 0; j < c; ++j) total += std::exp(static_cast<double>(z[j]) - mx);
        const int64_t target = static_cast<int64_t>(targets->data[row]);
        for (int64_t j = 0; j < c; ++j) {
            double p = std::exp(static_cast<double>(z[j]) - mx) / total;
            out[j] = static_cast<float>((p - (j == target ? 1.0 : 0.0)) * scale);
        }
    }
    *out_grad_logits = r.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status binary_cross_entropy_backward(const tt_tensor* probs, const tt_tensor* targets,
                                        const tt_tensor* grad, tt_tensor** out_grad_probs) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_probs});
    require(probs, __func__, "probs");
    require(targets, __func__, "targets");
    require(grad, __func__, "grad");
    require_same_shape(targets, probs, __func__, "binary_cross_entropy (targets vs probs)");
    require_scalar(grad, __func__);
    if (out_grad_probs == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: loss = -(1/n) sum t log pc + (1 - t) log(1 - pc) with pc = p
    //   clamped to [TT_BCE_EPS, 1 - TT_BCE_EPS], so inside the clamp
    //   dloss/dp = (p - t) / (p (1 - p)) / n, times grad. Outside it (p below
    //   eps or above 1 - eps, e.g. p = 0 or 1) pc does not move when p does:
    //   the gradient of the clamped loss is 0 there, as PyTorch's autograd
    //   gives for bce(clamp(p, eps, 1 - eps)).
    // HINT: decide "inside the clamp" in float, exactly as the forward clamps;
    //   compute the derivative in double. ./tito hint 05 binary_cross_entropy_backward
    //   shows the loop body.
    // CODE HINT: out[i] = (p < TT_BCE_EPS || p > 1.0f - TT_BCE_EPS) ? 0
    //   : (p - t) / (p * (1 - p)) * g / n;   (the division in double)
    const double scale = static_cast<double>(grad->data[0]) / static_cast<double>(probs->numel);
    const float lo = TT_BCE_EPS, hi = 1.0f - TT_BCE_EPS;  // in float, as the forward clamps
    OwnedTensor r = zeros_like(probs);
    for (int64_t i = 0; i < probs->numel; ++i) {
        const float pf = probs->data[i];
        // The clamp's derivative: 1 inside [lo, hi] (ends included, as
        // torch.clamp counts them), 0 beyond, where the loss is flat in p.
        // A NaN p is neither below nor above: its gradient comes out NaN.
        if (pf < lo || pf > hi) continue;  // r is zero-filled
        const double p = pf;
        r->data[i] = static_cast<float>((p - targets->data[i]) / (p * (1.0 - p)) * scale);
    }
    *out_grad_probs = r.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

}  // namespace ag
