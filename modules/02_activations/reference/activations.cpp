// activations.cpp - module 02: the activation functions (forward only).
//
// Every function reads a tensor x and writes a NEW tensor of the same shape:
//
//     relu(x)     = max(0, x)        (NaN stays NaN)
//     sigmoid(x)  = 1 / (1 + exp(-x))
//     tanh(x)     = (exp(x) - exp(-x)) / (exp(x) + exp(-x))
//     gelu(x)     = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
//     softmax(x)  = exp(x - max) / sum(exp(x - max))   along one axis
//
// Tensors are contiguous, row-major float32 (see tt_common.h). The output is
// allocated through module 01 (host->tensor->empty, via new_like below): its
// values are NOT set (whatever the memory held), so every function writes
// every element. The caller frees it with host->tensor->free. The backward
// rules of these functions are module 05's job.
#include <cmath>
#include <cstdint>
#include <string>

#include "tinytorch/abi/tt_02_activations.h"
#include "tinytorch/module/module_support.hpp"

// ------------------------------------------------------------------ helpers

// Check the arguments every activation shares, then create *out with x's shape
// (values not set: every activation writes all of them). On failure *out
// stays NULL and the error is reported.
static tt_status new_like(const char* function, const tt_tensor* x, tt_tensor** out) {
    if (out == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, function, "out is NULL: pass the address of a tt_tensor*");
    *out = nullptr;
    if (x == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, function, "x is NULL");
    return ttm::host()->tensor->empty(x->shape, x->ndim, out);
}

// Turn a possibly negative axis into 0..ndim-1; false when it is out of range.
static bool normalize_axis(int32_t axis, int32_t ndim, int32_t* result) {
    if (axis < 0) axis += ndim;
    if (axis < 0 || axis >= ndim) return false;
    *result = axis;
    return true;
}

// ------------------------------------------------------------------ ReLU

// max(0, x), element by element. A NaN passes through as NaN, as in PyTorch:
// a NaN activation must stay visible (the training loop's NaN check looks for
// it) instead of turning into a harmless-looking 0. So the test is "x <= 0
// gives 0", which is false for NaN, and not "x > 0 keeps x", also false for NaN.
static tt_status relu(const tt_tensor* x, tt_tensor** out) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: create *out shaped like x (new_like does it), then write
    //   out[i] = 0 if x[i] <= 0, else x[i], for every i < x->numel
    //   (a NaN is not <= 0: it is copied, NaN in, NaN out).
    // HINT: TT_CHECK(new_like(__func__, x, out)); then one loop over x->numel.
    TT_CHECK(new_like(__func__, x, out));
    const float* in = x->data;
    float* y = (*out)->data;
    // Split over the core's threads when x is big (a CNN activation is
    // megabytes); a small x runs here in one piece. The select vectorises.
    ttm::parallel_range(x->numel, int64_t(1) << 16, [in, y](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) y[i] = in[i] <= 0.0f ? 0.0f : in[i];
    });
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ------------------------------------------------------------------ Sigmoid

// 1 / (1 + exp(-x)). The textbook formula is fine for x >= 0, where exp(-x) is
// at most 1. For x < 0 use the equivalent exp(x) / (1 + exp(x)), where exp(x)
// is at most 1: neither branch ever evaluates exp of a large positive number,
// so nothing overflows for any finite x (or for +-inf).
static tt_status sigmoid(const tt_tensor* x, tt_tensor** out) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: create *out shaped like x, then out[i] = sigmoid(x[i]).
    // HINT: branch on the sign: x >= 0 -> 1 / (1 + exp(-x)); x < 0 -> e / (1 + e)
    //   with e = exp(x). Then no exp() ever sees a large positive argument.
    TT_CHECK(new_like(__func__, x, out));
    const float* in = x->data;
    float* y = (*out)->data;
    for (int64_t i = 0; i < x->numel; ++i) {
        float v = in[i];
        if (v >= 0.0f) {
            y[i] = 1.0f / (1.0f + std::exp(-v));
        } else {
            float e = std::exp(v);  // in (0, 1): no overflow
            y[i] = e / (1.0f + e);
        }
    }
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ------------------------------------------------------------------ Tanh

// tanh(x): the C library's std::tanh is already stable (it saturates at +-1).
static tt_status tanh(const tt_tensor* x, tt_tensor** out) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: create *out shaped like x, then out[i] = tanh(x[i]).
    // HINT: use std::tanh (exp(x) - exp(-x) overflows for |x| > 88 in float).
    TT_CHECK(new_like(__func__, x, out));
    const float* in = x->data;
    float* y = (*out)->data;
    for (int64_t i = 0; i < x->numel; ++i) y[i] = std::tanh(in[i]);
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ------------------------------------------------------------------ GELU

// GELU(x) = x * Phi(x), Phi the standard normal CDF, in the tanh approximation
// (Hendrycks & Gimpel 2016; GPT-2 and PyTorch's approximate="tanh"):
//
//     gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
//
// The cube is taken in double so that |x| up to float's max does not overflow.
static tt_status gelu(const tt_tensor* x, tt_tensor** out) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: create *out shaped like x, then
    //   out[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) with x = x[i].
    // HINT: sqrt(2/pi) = 0.7978845608...; compute in double, store as float.
    TT_CHECK(new_like(__func__, x, out));
    const double k_sqrt_2_over_pi = 0.7978845608028654;  // sqrt(2 / pi)
    const float* in = x->data;
    float* y = (*out)->data;
    for (int64_t i = 0; i < x->numel; ++i) {
        double v = in[i];
        double inner = k_sqrt_2_over_pi * (v + 0.044715 * v * v * v);
        y[i] = static_cast<float>(0.5 * v * (1.0 + std::tanh(inner)));
    }
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ------------------------------------------------------------------ Softmax

// softmax along `axis`. View x as [outer, n, inner], where n = shape[axis],
// outer = product of the sizes before the axis, inner = product after it.
// Element (o, j, i) lives at data[(o * n + j) * inner + i], so one softmax
// "row" is the n elements (o, 0..n-1, i), `inner` floats apart.
//
// exp(x) overflows float for x > 88, so subtract the row's maximum first:
// softmax(x) = softmax(x - c) for any constant c, and with c = max every
// exponent is <= 0 (at most 1) and the largest term is exactly 1, so the sum
// is >= 1 and never 0.
static tt_status softmax(const tt_tensor* x, int32_t axis, tt_tensor** out) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: check the axis, create *out shaped like x, then for every row along
    //   the axis: m = max, e_j = exp(x_j - m), out_j = e_j / sum(e).
    // HINT: view x as [outer, n, inner]: element (o, j, i) is at
    //   (o * n + j) * inner + i. Subtract the row max before exp.
    if (out != nullptr) *out = nullptr;
    if (x == nullptr || out == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "x and out must not be NULL");
    int32_t ax = 0;
    if (!normalize_axis(axis, x->ndim, &ax))
        return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                         "axis " + std::to_string(axis) + " is out of range for a tensor with " +
                             std::to_string(x->ndim) + " dims (use -ndim .. ndim-1)");
    TT_CHECK(new_like(__func__, x, out));

    int64_t n = x->shape[ax], outer = 1, inner = 1;
    for (int32_t d = 0; d < ax; ++d) outer *= x->shape[d];
    for (int32_t d = ax + 1; d < x->ndim; ++d) inner *= x->shape[d];
    if (n == 0) return TT_OK;  // nothing to normalise

    const float* in = x->data;
    float* y = (*out)->data;
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
            const float* row = in + o * n * inner + i;
            float* dst = y + o * n * inner + i;
            float m = row[0];
            for (int64_t j = 1; j < n; ++j) m = std::fmax(m, row[j * inner]);
            double sum = 0.0;
            for (int64_t j = 0; j < n; ++j) {
                float e = std::exp(row[j * inner] - m);  // exponent <= 0
                dst[j * inner] = e;
                sum += e;
            }
            float inv = static_cast<float>(1.0 / sum);
            for (int64_t j = 0; j < n; ++j) dst[j * inner] *= inv;
        }
    }
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ------------------------------------------------------------------ the table

static const tt_activations_api k_api = {
    relu,
    sigmoid,
    tanh,
    gelu,
    softmax,
};

TT_DEFINE_MODULE(tt_entry_02_activations, "activations", TT_ACTIVATIONS_DEPS, tt_activations_api, k_api)
