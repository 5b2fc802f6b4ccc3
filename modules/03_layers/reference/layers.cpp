// layers.cpp - module 03: the Linear layer (initialisation and forward) and
// inverted Dropout.
//
//     linear:   out[..., o] = sum_k x[..., k] * W[k, o] + b[o]
//               x [..., in], W [in, out], b [out] (or none) -> out [..., out]
//     dropout:  out = x * mask, mask[i] = 1/(1-p) with probability 1-p, else 0
//
// Tensors are contiguous, row-major float32. New tensors come from module 01
// (host->tensor->create, zero-filled); the caller frees them. Randomness comes
// from host->global_rng, so a run with the same seed gives the same weights and
// the same dropout masks. Backward rules are module 05's job.
#include <cmath>
#include <cstdint>
#include <string>

#include "tinytorch/abi/tt_03_layers.h"
#include "tinytorch/module/module_support.hpp"

// ------------------------------------------------------------------ helpers

static std::string shape_str(const tt_tensor* t) {
    std::string s = "[";
    for (int32_t d = 0; d < t->ndim; ++d) s += (d ? ", " : "") + std::to_string(t->shape[d]);
    return s + "]";
}

// A uniform sample in [-bound, bound) from the global RNG.
static float uniform_symmetric(float bound) {
    const tt_host* h = ttm::host();
    return bound * (2.0f * h->rng_uniform(h->global_rng) - 1.0f);
}

// ------------------------------------------------------------------ Linear

// Create W [in, out] and b [out] and fill them per `scheme`:
//   TT_INIT_KAIMING_UNIFORM  W ~ U(-1/sqrt(in), 1/sqrt(in))   (PyTorch's nn.Linear default)
//   TT_INIT_XAVIER_UNIFORM   W ~ U(-sqrt(6/(in+out)), sqrt(6/(in+out)))
//                            (Glorot & Bengio 2010: keeps the variance of the
//                            activations and of the gradients about equal)
//   TT_INIT_ZEROS            W = 0, b = 0
// For both uniform schemes b ~ U(-1/sqrt(in), 1/sqrt(in)). Draw all of W first
// (row-major order), then b, from host->global_rng: the same seed then always
// gives the same layer.
static tt_status linear_init(int64_t in_features, int64_t out_features, int32_t scheme,
                             tt_tensor** out_weight, tt_tensor** out_bias) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: check the arguments (pointers, sizes >= 1, a known scheme), create
    //   W [in, out] and b [out], then fill W and b from the global RNG.
    // HINT: u = host->rng_uniform(host->global_rng) is in [0, 1), so
    //   bound * (2u - 1) is in [-bound, bound). Kaiming: bound = 1/sqrt(in);
    //   Xavier: sqrt(6/(in+out)); bias: 1/sqrt(in). Zeros: create leaves zeros.
    if (out_weight != nullptr) *out_weight = nullptr;
    if (out_bias != nullptr) *out_bias = nullptr;
    if (out_weight == nullptr || out_bias == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "out_weight and out_bias must not be NULL");
    if (in_features < 1 || out_features < 1)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                         "in_features and out_features must be >= 1 (got " +
                             std::to_string(in_features) + " and " + std::to_string(out_features) + ")");
    if (scheme != TT_INIT_KAIMING_UNIFORM && scheme != TT_INIT_XAVIER_UNIFORM && scheme != TT_INIT_ZEROS)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                         "unknown init scheme " + std::to_string(scheme) +
                             " (use TT_INIT_KAIMING_UNIFORM, TT_INIT_XAVIER_UNIFORM or TT_INIT_ZEROS)");

    const tt_tensor_api* T = ttm::host()->tensor;
    const int64_t wshape[2] = {in_features, out_features};
    const int64_t bshape[1] = {out_features};
    ttm::OwnedTensor w, b;  // freed if anything below fails
    {
        tt_tensor* raw = nullptr;
        TT_CHECK(T->create(wshape, 2, &raw));
        w.reset(raw);
        raw = nullptr;
        TT_CHECK(T->create(bshape, 1, &raw));
        b.reset(raw);
    }
    if (scheme != TT_INIT_ZEROS) {
        double fan_in = static_cast<double>(in_features);
        double fan_out = static_cast<double>(out_features);
        float w_bound = scheme == TT_INIT_KAIMING_UNIFORM
                            ? static_cast<float>(1.0 / std::sqrt(fan_in))
                            : static_cast<float>(std::sqrt(6.0 / (fan_in + fan_out)));
        float b_bound = static_cast<float>(1.0 / std::sqrt(fan_in));
        for (int64_t i = 0; i < w->numel; ++i) w->data[i] = uniform_symmetric(w_bound);
        for (int64_t i = 0; i < b->numel; ++i) b->data[i] = uniform_symmetric(b_bound);
    }
    *out_weight = w.release();
    *out_bias = b.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// x [..., in] . W [in, out] + b [out] -> out [..., out].
// Every leading dim of x is a batch dim: flatten them into M rows, so x is an
// [M, in] matrix and the whole layer is ONE matrix product out[M, out] =
// x[M, in] . W[in, out] (host->sgemm), plus b added to every row.
static tt_status linear_forward(const tt_tensor* x, const tt_tensor* weight,
                                const tt_tensor* bias, tt_tensor** out) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: check the shapes (x [..., in], W [in, out], b [out] or NULL), create
    //   out [..., out], copy b into every row, then out += x . W with sgemm.
    // HINT: M = product of x's leading dims. Row-major sgemm with no transposes:
    //   host->sgemm(0, 0, M, out, in, 1.0f, x, in, W, out, 1.0f, C, out)
    //   (beta = 1 keeps the bias rows you wrote into C).
    if (out != nullptr) *out = nullptr;
    if (x == nullptr || weight == nullptr || out == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "x, weight and out must not be NULL");
    if (weight->ndim != 2)
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "weight must be 2-D [in_features, out_features], got " + shape_str(weight));
    const int64_t in = weight->shape[0], n_out = weight->shape[1];
    if (x->ndim < 1 || x->shape[x->ndim - 1] != in)
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "x " + shape_str(x) + " must end in in_features = " + std::to_string(in) +
                             " to multiply weight " + shape_str(weight));
    if (bias != nullptr && (bias->ndim != 1 || bias->shape[0] != n_out))
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "bias must be [" + std::to_string(n_out) + "] to match weight " +
                             shape_str(weight) + ", got " + shape_str(bias));

    // out has x's leading dims and n_out as its last size.
    int64_t oshape[TT_MAX_DIMS];
    int64_t m = 1;
    for (int32_t d = 0; d + 1 < x->ndim; ++d) {
        oshape[d] = x->shape[d];
        m *= x->shape[d];
    }
    oshape[x->ndim - 1] = n_out;
    TT_CHECK(ttm::host()->tensor->create(oshape, x->ndim, out));
    float* c = (*out)->data;

    // Start every row of C at the bias (create left zeros when there is none),
    // then accumulate the product on top with beta = 1.
    if (bias != nullptr)
        for (int64_t r = 0; r < m; ++r)
            for (int64_t o = 0; o < n_out; ++o) c[r * n_out + o] = bias->data[o];
    if (m > 0 && n_out > 0 && in > 0)
        ttm::host()->sgemm(0, 0, m, n_out, in, 1.0f, x->data, in, weight->data, n_out, 1.0f, c, n_out);
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ------------------------------------------------------------------ Dropout

// Inverted dropout (Srivastava et al. 2014, scaled at training time):
// in training each element survives with probability 1-p and is scaled by
// 1/(1-p), so E[out] = x and evaluation needs no rescaling at all.
// mask holds the factor per element (0 or 1/(1-p)) and out = x * mask; module
// 05's backward is then grad * mask.
//   training == 0 or p == 0: out = copy of x, mask = ones (no RNG draw)
//   p == 1:                  out = zeros,     mask = zeros (no RNG draw)
// Any other p in (0, 1) draws one uniform number per element, in order.
static tt_status dropout_forward(const tt_tensor* x, float p, int32_t training,
                                 tt_tensor** out, tt_tensor** out_mask) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: reject p outside [0, 1] (NaN too), create out and mask shaped like x,
    //   then fill them: keep element i when u_i >= p (probability 1-p).
    // HINT: write the condition as !(p >= 0 && p <= 1) so NaN fails it too.
    //   scale = 1 / (1 - p); mask[i] = keep ? scale : 0; out[i] = x[i] * mask[i].
    //   Handle eval / p == 0 / p == 1 before dividing by 1 - p.
    if (out != nullptr) *out = nullptr;
    if (out_mask != nullptr) *out_mask = nullptr;
    if (x == nullptr || out == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "x and out must not be NULL");
    if (!(p >= 0.0f && p <= 1.0f))
        return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                         "dropout probability p = " + std::to_string(p) + " must be in [0, 1]");

    const tt_tensor_api* T = ttm::host()->tensor;
    ttm::OwnedTensor y, mask;
    {
        tt_tensor* raw = nullptr;
        TT_CHECK(T->create(x->shape, x->ndim, &raw));
        y.reset(raw);
        raw = nullptr;
        TT_CHECK(T->create(x->shape, x->ndim, &raw));
        mask.reset(raw);
    }
    const int64_t n = x->numel;
    if (!training || p == 0.0f) {
        for (int64_t i = 0; i < n; ++i) {
            y->data[i] = x->data[i];
            mask->data[i] = 1.0f;
        }
    } else if (p < 1.0f) {
        const tt_host* h = ttm::host();
        const float scale = 1.0f / (1.0f - p);
        for (int64_t i = 0; i < n; ++i) {
            bool keep = h->rng_uniform(h->global_rng) >= p;  // P(keep) = 1 - p
            mask->data[i] = keep ? scale : 0.0f;
            y->data[i] = x->data[i] * mask->data[i];
        }
    }
    // p == 1 in training: create already left out and mask all zeros.

    *out = y.release();
    if (out_mask != nullptr) *out_mask = mask.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ------------------------------------------------------------------ the table

static const tt_layers_api k_api = {
    linear_init,
    linear_forward,
    dropout_forward,
};

TT_DEFINE_MODULE(tt_entry_03_layers, "layers", TT_LAYERS_DEPS, tt_layers_api, k_api)
