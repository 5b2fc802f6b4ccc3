// clip.cpp - gradient clipping by global norm.
//
// The global norm treats every gradient of every parameter as one long vector:
//   norm = sqrt(sum over all parameters and elements of g^2)
// When it exceeds max_norm, every gradient is scaled by the same factor
// max_norm / (norm + 1e-6): the direction of the update is kept, its length
// capped. This tames the occasional huge gradient that would throw training off.
#include <cmath>

#include "training_internal.hpp"

namespace train {

tt_status grad_norm(tt_tensor* const* params, int32_t n_params, double* out) {
    // BEGIN SOLUTION
    // TODO: *out = sqrt of the sum of g^2 over every element of every grad;
    //   a parameter whose grad is NULL contributes nothing.
    // HINT: accumulate in double: a float sum loses digits over millions of squares.
    double sum = 0.0;
    for (int32_t i = 0; i < n_params; ++i) {
        const tt_tensor* g = params[i] != nullptr ? params[i]->grad : nullptr;
        if (g == nullptr) continue;
        for (int64_t k = 0; k < g->numel; ++k) sum += static_cast<double>(g->data[k]) * g->data[k];
    }
    *out = std::sqrt(sum);
    return TT_OK;
    // END SOLUTION
}

tt_status clip_to(tt_tensor* const* params, int32_t n_params, double norm, float max_norm) {
    // BEGIN SOLUTION
    // TODO: only when norm > max_norm: multiply every element of every
    //   (non-NULL) grad by max_norm / (norm + 1e-6). Otherwise change nothing.
    // HINT: compute the factor once, outside the loops.
    if (!(norm > max_norm)) return TT_OK;
    const float scale = static_cast<float>(max_norm / (norm + 1e-6));
    for (int32_t i = 0; i < n_params; ++i) {
        tt_tensor* g = params[i] != nullptr ? params[i]->grad : nullptr;
        if (g == nullptr) continue;
        for (int64_t k = 0; k < g->numel; ++k) g->data[k] *= scale;
    }
    return TT_OK;
    // END SOLUTION
}

tt_status clip_grad_norm(tt_tensor* const* params, int32_t n_params, float max_norm, float* out_total_norm) {
    TT_GUARD_BEGIN
    if (n_params < 0 || (n_params > 0 && params == nullptr))
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "params is NULL or n_params < 0");
    if (!(max_norm > 0.0f)) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "max_norm must be > 0, got " + num(max_norm));
    double norm = 0.0;
    TT_CHECK(grad_norm(params, n_params, &norm));
    TT_CHECK(clip_to(params, n_params, norm, max_norm));
    if (out_total_norm != nullptr) *out_total_norm = static_cast<float>(norm);
    return TT_OK;
    TT_GUARD_END
}

}  // namespace train
