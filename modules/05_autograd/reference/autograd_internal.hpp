// autograd_internal.hpp - plumbing shared by the files of module 05.
//
// Nothing to implement here: these helpers wrap module 01 (reached through
// ttm::host()->tensor) so the backward rules read like math. They throw
// ttm::StatusError on failure; TT_GUARD_END turns that back into a status, and
// the OwnedTensor handles free every temporary on the way out.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "tinytorch/abi/tt_05_autograd.h"
#include "tinytorch/module/module_support.hpp"

namespace ag {

using ttm::OwnedTensor;

// Module 01's table (the one loaded: reference or the student's own).
inline const tt_tensor_api& T() { return *ttm::host()->tensor; }

// Throw when a call failed; the callee has already said why.
inline void ok(tt_status s) {
    if (s != TT_OK) throw ttm::StatusError{s};
}

// Report an error and throw: `throw_error(TT_SHAPE_MISMATCH, __func__, "...")`.
[[noreturn]] inline void throw_error(tt_status s, const char* function, const std::string& msg) {
    throw ttm::StatusError{ttm::fail(s, function, msg)};
}

// "[2, 3]"
inline std::string shape_str(const tt_tensor* t) {
    std::string s = "[";
    for (int32_t d = 0; d < t->ndim; ++d) s += (d ? ", " : "") + std::to_string(t->shape[d]);
    return s + "]";
}

inline bool same_shape(const tt_tensor* a, const tt_tensor* b) {
    if (a->ndim != b->ndim) return false;
    for (int32_t d = 0; d < a->ndim; ++d)
        if (a->shape[d] != b->shape[d]) return false;
    return true;
}

// Throw TT_INVALID_ARGUMENT when a required input pointer is NULL.
inline void require(const void* p, const char* function, const char* name) {
    if (p == nullptr) throw_error(TT_INVALID_ARGUMENT, function, std::string(name) + " is NULL");
}

// Throw TT_SHAPE_MISMATCH unless `grad` has exactly the shape of `like`.
inline void require_same_shape(const tt_tensor* grad, const tt_tensor* like, const char* function,
                               const char* what) {
    if (!same_shape(grad, like))
        throw_error(TT_SHAPE_MISMATCH, function,
                    std::string(what) + ": grad has shape " + shape_str(grad) +
                        " but the forward tensor has shape " + shape_str(like));
}

// Throw TT_SHAPE_MISMATCH unless `grad` holds one element (a loss gradient).
inline void require_scalar(const tt_tensor* grad, const char* function) {
    if (grad->numel != 1)
        throw_error(TT_SHAPE_MISMATCH, function,
                    "grad must be the scalar d(loss)/d(out) (one element), got shape " +
                        shape_str(grad));
}

// Throw TT_SHAPE_MISMATCH unless `grad` has the broadcast shape of a and b
// (the shape the forward a (op) b produced).
inline void require_broadcast_grad(const tt_tensor* a, const tt_tensor* b, const tt_tensor* grad,
                                   const char* function) {
    int32_t nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    bool fits = grad->ndim == nd;
    for (int32_t d = 0; fits && d < nd; ++d) {
        int32_t da = d - (nd - a->ndim), db = d - (nd - b->ndim);
        int64_t sa = da >= 0 ? a->shape[da] : 1, sb = db >= 0 ? b->shape[db] : 1;
        if (sa != sb && sa != 1 && sb != 1) fits = false;
        else fits = grad->shape[d] == (sa == 1 ? sb : sa);
    }
    if (!fits)
        throw_error(TT_SHAPE_MISMATCH, function,
                    "grad has shape " + shape_str(grad) + ", expected the broadcast shape of a " +
                        shape_str(a) + " and b " + shape_str(b));
}

// Set every requested output to NULL (so it stays NULL on error).
inline void clear_outputs(std::initializer_list<tt_tensor**> outs) {
    for (tt_tensor** o : outs)
        if (o != nullptr) *o = nullptr;
}

// New zero-filled tensors.
inline OwnedTensor zeros(const int64_t* shape, int32_t ndim) {
    tt_tensor* t = nullptr;
    ok(T().create(shape, ndim, &t));
    return OwnedTensor(t);
}
inline OwnedTensor zeros_like(const tt_tensor* like) { return zeros(like->shape, like->ndim); }

// A new tensor shaped like `like` whose values are NOT set: only for a result
// the rule then writes in full (saves zero-filling megabytes in a CNN).
inline OwnedTensor empty_like(const tt_tensor* like) {
    tt_tensor* t = nullptr;
    ok(T().empty(like->shape, like->ndim, &t));
    return OwnedTensor(t);
}

// Wrap the result of a module-01 call: `OwnedTensor c = call(T().mul, a, b);`
template <class Fn, class... Args>
OwnedTensor call(Fn fn, Args... args) {
    tt_tensor* t = nullptr;
    ok(fn(args..., &t));
    return OwnedTensor(t);
}

// Hand a result to an out pointer the caller asked for (skip NULL).
inline void give(tt_tensor** out, OwnedTensor t) {
    if (out != nullptr) *out = t.release();
}

// The axis as a non-negative index; throws TT_INVALID_ARGUMENT when out of range.
inline int32_t normalize_axis(int32_t axis, int32_t ndim, const char* function) {
    int32_t a = axis < 0 ? axis + ndim : axis;
    if (a < 0 || a >= ndim)
        throw_error(TT_INVALID_ARGUMENT, function,
                    "axis " + std::to_string(axis) + " is out of range for a tensor with " +
                        std::to_string(ndim) + " dims");
    return a;
}

// Split a shape around `axis`: outer = prod(shape[:axis]), n = shape[axis],
// inner = prod(shape[axis+1:]); element (o, k, i) lives at (o * n + k) * inner + i.
struct AxisSplit {
    int64_t outer = 1, n = 1, inner = 1;
};
inline AxisSplit split_at(const tt_tensor* t, int32_t axis) {
    AxisSplit s;
    for (int32_t d = 0; d < axis; ++d) s.outer *= t->shape[d];
    s.n = t->shape[axis];
    for (int32_t d = axis + 1; d < t->ndim; ++d) s.inner *= t->shape[d];
    return s;
}

// ---- shared by the rules of rules_tensor.cpp and rules_nn.cpp ----------------
tt_status unbroadcast(const tt_tensor* grad, const tt_tensor* like, tt_tensor** out);

// ---- the table's functions ------------------------------------------------
// module 01 ops (rules_tensor.cpp)
tt_status add_backward(const tt_tensor* a, const tt_tensor* b, const tt_tensor* grad,
                       tt_tensor** out_grad_a, tt_tensor** out_grad_b);
tt_status sub_backward(const tt_tensor* a, const tt_tensor* b, const tt_tensor* grad,
                       tt_tensor** out_grad_a, tt_tensor** out_grad_b);
tt_status mul_backward(const tt_tensor* a, const tt_tensor* b, const tt_tensor* grad,
                       tt_tensor** out_grad_a, tt_tensor** out_grad_b);
tt_status div_backward(const tt_tensor* a, const tt_tensor* b, const tt_tensor* grad,
                       tt_tensor** out_grad_a, tt_tensor** out_grad_b);
tt_status add_scalar_backward(const tt_tensor* grad, tt_tensor** out_grad_a);
tt_status mul_scalar_backward(float s, const tt_tensor* grad, tt_tensor** out_grad_a);
tt_status div_scalar_backward(float s, const tt_tensor* grad, tt_tensor** out_grad_a);
tt_status matmul_backward(const tt_tensor* a, const tt_tensor* b, const tt_tensor* grad,
                          tt_tensor** out_grad_a, tt_tensor** out_grad_b);
tt_status reshape_backward(const tt_tensor* a, const tt_tensor* grad, tt_tensor** out_grad_a);
tt_status transpose_backward(int32_t dim0, int32_t dim1, const tt_tensor* grad,
                             tt_tensor** out_grad_a);
tt_status sum_backward(const tt_tensor* a, int32_t axis, int32_t keepdims, const tt_tensor* grad,
                       tt_tensor** out_grad_a);
tt_status mean_backward(const tt_tensor* a, int32_t axis, int32_t keepdims, const tt_tensor* grad,
                        tt_tensor** out_grad_a);
tt_status max_backward(const tt_tensor* a, int32_t axis, int32_t keepdims, const tt_tensor* grad,
                       tt_tensor** out_grad_a);
// modules 02-04 ops (rules_nn.cpp)
tt_status relu_backward(const tt_tensor* x, const tt_tensor* grad, tt_tensor** out_grad_x);
tt_status sigmoid_backward(const tt_tensor* y, const tt_tensor* grad, tt_tensor** out_grad_x);
tt_status tanh_backward(const tt_tensor* y, const tt_tensor* grad, tt_tensor** out_grad_x);
tt_status gelu_backward(const tt_tensor* x, const tt_tensor* grad, tt_tensor** out_grad_x);
tt_status softmax_backward(const tt_tensor* y, int32_t axis, const tt_tensor* grad,
                           tt_tensor** out_grad_x);
tt_status linear_backward(const tt_tensor* x, const tt_tensor* weight, const tt_tensor* grad,
                          tt_tensor** out_grad_x, tt_tensor** out_grad_weight,
                          tt_tensor** out_grad_bias);
tt_status dropout_backward(const tt_tensor* mask, const tt_tensor* grad, tt_tensor** out_grad_x);
tt_status mse_backward(const tt_tensor* pred, const tt_tensor* target, const tt_tensor* grad,
                       tt_tensor** out_grad_pred, tt_tensor** out_grad_target);
tt_status log_softmax_backward(const tt_tensor* y, int32_t axis, const tt_tensor* grad,
                               tt_tensor** out_grad_x);
tt_status cross_entropy_backward(const tt_tensor* logits, const tt_tensor* targets,
                                 const tt_tensor* grad, tt_tensor** out_grad_logits);
tt_status binary_cross_entropy_backward(const tt_tensor* probs, const tt_tensor* targets,
                                        const tt_tensor* grad, tt_tensor** out_grad_probs);
// the engine and grad mode (engine.cpp)
tt_status backward(tt_tensor* root, const tt_tensor* grad_seed);
tt_status set_grad_enabled(int32_t enabled, int32_t* out_previous);
tt_status is_grad_enabled(int32_t* out_enabled);

}  // namespace ag
