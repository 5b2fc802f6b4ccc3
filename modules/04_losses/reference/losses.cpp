// losses.cpp - module 04: loss functions.
//
//     mse(pred, target)             = mean((pred - target)^2)
//     log_softmax(x)                = x - logsumexp(x)          along one axis
//     cross_entropy(logits, target) = -mean_n log_softmax(logits)[n, target[n]]
//     binary_cross_entropy(p, t)    = -mean(t log p + (1 - t) log(1 - p))
//
// Every loss returns a NEW scalar tensor (ndim 0, numel 1) holding the mean;
// log_softmax returns a tensor shaped like x. Sums are accumulated in double:
// a float sum of many small terms loses digits. Tensors come from module 01
// (host->tensor->create); the caller frees them. Backward rules are module 05's.
#include <cmath>
#include <cstdint>
#include <string>

#include "tinytorch/abi/tt_04_losses.h"
#include "tinytorch/module/module_support.hpp"

// ------------------------------------------------------------------ helpers

static std::string shape_str(const tt_tensor* t) {
    std::string s = "[";
    for (int32_t d = 0; d < t->ndim; ++d) s += (d ? ", " : "") + std::to_string(t->shape[d]);
    return s + "]";
}

static bool same_shape(const tt_tensor* a, const tt_tensor* b) {
    if (a->ndim != b->ndim) return false;
    for (int32_t d = 0; d < a->ndim; ++d)
        if (a->shape[d] != b->shape[d]) return false;
    return true;
}

// Create *out as a scalar tensor (ndim 0) holding `value`.
static tt_status new_scalar(float value, tt_tensor** out) {
    const int64_t no_shape[1] = {1};  // ignored for ndim 0
    TT_CHECK(ttm::host()->tensor->create(no_shape, 0, out));
    (*out)->data[0] = value;
    return TT_OK;
}

// Turn a possibly negative axis into 0..ndim-1; false when it is out of range.
static bool normalize_axis(int32_t axis, int32_t ndim, int32_t* result) {
    if (axis < 0) axis += ndim;
    if (axis < 0 || axis >= ndim) return false;
    *result = axis;
    return true;
}

// ------------------------------------------------------------------ MSE

// Mean squared error over every element; pred and target must have the same
// shape (no broadcasting: a [N] prediction against a [N, 1] target is a bug
// that broadcasting would hide by averaging an N x N table).
static tt_status mse(const tt_tensor* pred, const tt_tensor* target, tt_tensor** out) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: check pred and target have the same shape, then return a scalar
    //   tensor with mean((pred - target)^2).
    // HINT: accumulate the sum in double; new_scalar(value, out) makes the
    //   ndim-0 result. A shape mismatch is TT_SHAPE_MISMATCH.
    if (out != nullptr) *out = nullptr;
    if (pred == nullptr || target == nullptr || out == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "pred, target and out must not be NULL");
    if (!same_shape(pred, target))
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "pred " + shape_str(pred) + " and target " + shape_str(target) +
                             " must have the same shape (mse does not broadcast)");
    double sum = 0.0;
    for (int64_t i = 0; i < pred->numel; ++i) {
        double d = static_cast<double>(pred->data[i]) - target->data[i];
        sum += d * d;
    }
    // mean of nothing is NaN (0/0), as for module 01's mean
    return new_scalar(static_cast<float>(sum / static_cast<double>(pred->numel)), out);
    // END SOLUTION
    TT_GUARD_END
}

// ------------------------------------------------------------------ log-softmax

// log_softmax(x)_j = x_j - log(sum_k exp(x_k)). Computed directly, exp(x_k)
// overflows for x_k > 88 and log(softmax) gives log(0) = -inf for very negative
// entries. With m = max_k x_k:
//     log(sum_k exp(x_k)) = m + log(sum_k exp(x_k - m))
// every exponent is <= 0 and the sum is >= 1 (its largest term is exp(0)), so
// out_j = (x_j - m) - log(sum_k exp(x_k - m)) is finite for any finite x.
// Same [outer, n, inner] view as softmax in module 02.
static tt_status log_softmax(const tt_tensor* x, int32_t axis, tt_tensor** out) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: check the axis, create *out shaped like x, then for every row along
    //   the axis: m = max, lse = log(sum exp(x_j - m)), out_j = (x_j - m) - lse.
    // HINT: view x as [outer, n, inner]: element (o, j, i) is at
    //   (o * n + j) * inner + i. Never call log(softmax(x)).
    if (out != nullptr) *out = nullptr;
    if (x == nullptr || out == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "x and out must not be NULL");
    int32_t ax = 0;
    if (!normalize_axis(axis, x->ndim, &ax))
        return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                         "axis " + std::to_string(axis) + " is out of range for a tensor with " +
                             std::to_string(x->ndim) + " dims (use -ndim .. ndim-1)");
    TT_CHECK(ttm::host()->tensor->create(x->shape, x->ndim, out));

    int64_t n = x->shape[ax], outer = 1, inner = 1;
    for (int32_t d = 0; d < ax; ++d) outer *= x->shape[d];
    for (int32_t d = ax + 1; d < x->ndim; ++d) inner *= x->shape[d];
    if (n == 0) return TT_OK;

    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
            const float* row = x->data + o * n * inner + i;
            float* dst = (*out)->data + o * n * inner + i;
            float m = row[0];
            for (int64_t j = 1; j < n; ++j) m = std::fmax(m, row[j * inner]);
            double sum = 0.0;
            for (int64_t j = 0; j < n; ++j) sum += std::exp(static_cast<double>(row[j * inner]) - m);
            double lse = std::log(sum);  // log(sum exp(x - m)), in [0, log n]
            for (int64_t j = 0; j < n; ++j)
                dst[j * inner] = static_cast<float>((static_cast<double>(row[j * inner]) - m) - lse);
        }
    }
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ------------------------------------------------------------------ cross-entropy

// logits [N, C] (unnormalised scores), targets [N] (class indices as floats).
// loss_n = -log softmax(logits_n)[t_n] = logsumexp(logits_n) - logits_n[t_n];
// the result is the mean over the N samples. Computing it from log-sum-exp
// (never from softmax then log) keeps it finite for logits of any size.
static tt_status cross_entropy(const tt_tensor* logits, const tt_tensor* targets, tt_tensor** out) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: check logits is [N, C] and targets is [N]; check every target is an
    //   integer in [0, C) (TT_INVALID_ARGUMENT otherwise); then average
    //   loss_n = logsumexp(logits[n, :]) - logits[n, t_n] over the N rows.
    // HINT: logsumexp(row) = m + log(sum_j exp(row_j - m)) with m = max(row).
    //   A target is a valid index when t == std::floor(t) and 0 <= t < C.
    if (out != nullptr) *out = nullptr;
    if (logits == nullptr || targets == nullptr || out == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "logits, targets and out must not be NULL");
    if (logits->ndim != 2)
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "logits must be 2-D [N, C], got " + shape_str(logits));
    const int64_t n = logits->shape[0], c = logits->shape[1];
    if (targets->ndim != 1 || targets->shape[0] != n)
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "targets must be [" + std::to_string(n) + "] (one class index per row of logits " +
                             shape_str(logits) + "), got " + shape_str(targets));
    for (int64_t r = 0; r < n; ++r) {
        float t = targets->data[r];
        if (!(t >= 0.0f && t < static_cast<float>(c)) || t != std::floor(t))
            return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                             "targets[" + std::to_string(r) + "] = " + std::to_string(t) +
                                 " is not a class index: it must be an integer in [0, " +
                                 std::to_string(c) + ")");
    }

    double total = 0.0;
    for (int64_t r = 0; r < n; ++r) {
        const float* row = logits->data + r * c;
        float m = row[0];
        for (int64_t j = 1; j < c; ++j) m = std::fmax(m, row[j]);
        double sum = 0.0;
        for (int64_t j = 0; j < c; ++j) sum += std::exp(static_cast<double>(row[j]) - m);
        double lse = m + std::log(sum);
        int64_t t = static_cast<int64_t>(targets->data[r]);
        total += lse - row[t];
    }
    // N == 0: the mean of nothing is NaN
    return new_scalar(static_cast<float>(total / static_cast<double>(n)), out);
    // END SOLUTION
    TT_GUARD_END
}

// ------------------------------------------------------------------ binary cross-entropy

// probs p and targets t of equal shape (p a probability, e.g. a sigmoid output):
//     -mean(t log p + (1 - t) log(1 - p))
// log(0) = -inf, so p is clamped to [TT_BCE_EPS, 1 - TT_BCE_EPS] first: a
// confidently wrong prediction costs about -log(1e-7) ~ 16, not infinity.
static tt_status binary_cross_entropy(const tt_tensor* probs, const tt_tensor* targets,
                                      tt_tensor** out) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: check probs and targets have the same shape, clamp each p to
    //   [TT_BCE_EPS, 1 - TT_BCE_EPS], then return the scalar
    //   -mean(t log p + (1 - t) log(1 - p)).
    // HINT: std::fmin(std::fmax(p, TT_BCE_EPS), 1.0f - TT_BCE_EPS); sum in double.
    if (out != nullptr) *out = nullptr;
    if (probs == nullptr || targets == nullptr || out == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "probs, targets and out must not be NULL");
    if (!same_shape(probs, targets))
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "probs " + shape_str(probs) + " and targets " + shape_str(targets) +
                             " must have the same shape");
    double sum = 0.0;
    for (int64_t i = 0; i < probs->numel; ++i) {
        double p = std::fmin(std::fmax(probs->data[i], TT_BCE_EPS), 1.0f - TT_BCE_EPS);
        double t = targets->data[i];
        sum += t * std::log(p) + (1.0 - t) * std::log(1.0 - p);
    }
    return new_scalar(static_cast<float>(-sum / static_cast<double>(probs->numel)), out);
    // END SOLUTION
    TT_GUARD_END
}

// ------------------------------------------------------------------ the table

static const tt_losses_api k_api = {
    mse,
    log_softmax,
    cross_entropy,
    binary_cross_entropy,
};

TT_DEFINE_MODULE(tt_entry_04_losses, "losses", TT_LOSSES_DEPS, tt_losses_api, k_api)
