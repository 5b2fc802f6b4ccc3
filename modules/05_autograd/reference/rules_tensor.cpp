// rules_tensor.cpp - backward rules for the operations of module 01.
//
// Every rule gets the forward inputs (borrowed) and grad = d(loss)/d(out), and
// writes d(loss)/d(input) into each out pointer that is not NULL: a NEW tensor
// shaped exactly like that input. The chain rule, one op at a time:
//   out = a + b   ->  d/da = grad,          d/db = grad
//   out = a * b   ->  d/da = grad * b,      d/db = grad * a
// and when a or b was broadcast, the gradient is summed back to its shape
// (unbroadcast): a value that was reused in many output positions collects
// the gradient of every one of them.
#include <cmath>
#include <string>

#include "autograd_internal.hpp"

namespace ag {

// Sum `grad` (the broadcast shape) back to the shape of `like`: over the
// leading axes broadcasting added, and over every axis where `like` has size 1
// but grad does not. out: new tensor shaped like `like`.
tt_status unbroadcast(const tt_tensor* grad, const tt_tensor* like, tt_tensor** out) {
    TT_GUARD_BEGIN
    clear_outputs({out});
    require(grad, __func__, "grad");
    require(like, __func__, "like");
    require(out, __func__, "out");
    // BEGIN SOLUTION
    // TODO: create a zero tensor shaped like `like`, then add every element of
    //   grad into the position it came from in `like`.
    // HINT: align the shapes on the right; an axis of `like` that is missing or
    //   has size 1 (while grad's is bigger) gets stride 0, so all positions
    //   along it add into the same element.
    const int32_t nd = grad->ndim;
    const int32_t offset = nd - like->ndim;
    bool fits = offset >= 0;
    for (int32_t d = 0; fits && d < like->ndim; ++d)
        fits = like->shape[d] == grad->shape[d + offset] || like->shape[d] == 1;
    if (!fits)
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "cannot sum a gradient of shape " + shape_str(grad) +
                             " back to shape " + shape_str(like) +
                             ": the shapes do not broadcast to each other");
    OwnedTensor result = zeros_like(like);
    if (same_shape(grad, like)) {
        for (int64_t i = 0; i < grad->numel; ++i) result->data[i] = grad->data[i];
        *out = result.release();
        return TT_OK;
    }
    // Stride in `result` for each axis of grad (0 where `like` broadcasts).
    int64_t stride[TT_MAX_DIMS] = {0};
    int64_t s = 1;
    for (int32_t d = nd - 1; d >= offset; --d) {
        int64_t size = like->shape[d - offset];
        stride[d] = (size == 1 && grad->shape[d] != 1) ? 0 : s;
        s *= size;
    }
    int64_t index[TT_MAX_DIMS] = {0};
    int64_t pos = 0;  // position in result of grad element i
    for (int64_t i = 0; i < grad->numel; ++i) {
        result->data[pos] += grad->data[i];
        // Advance the multi-index like an odometer, updating pos as we go.
        for (int32_t d = nd - 1; d >= 0; --d) {
            if (++index[d] < grad->shape[d]) {
                pos += stride[d];
                break;
            }
            pos -= stride[d] * (grad->shape[d] - 1);
            index[d] = 0;
        }
    }
    *out = result.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ---- element-wise with broadcasting -----------------------------------------

tt_status add_backward(const tt_tensor* a, const tt_tensor* b, const tt_tensor* grad,
                       tt_tensor** out_grad_a, tt_tensor** out_grad_b) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_a, out_grad_b});
    require(a, __func__, "a");
    require(b, __func__, "b");
    require(grad, __func__, "grad");
    require_broadcast_grad(a, b, grad, __func__);
    // BEGIN SOLUTION
    // TODO: d(a+b)/da = 1 and d(a+b)/db = 1: each input gets grad, summed back
    //   to its own shape. Skip an output pointer that is NULL.
    // HINT: unbroadcast(grad, a, &t) does the summing.
    OwnedTensor ga, gb;
    if (out_grad_a != nullptr) ga = call(unbroadcast, grad, a);
    if (out_grad_b != nullptr) gb = call(unbroadcast, grad, b);
    give(out_grad_a, std::move(ga));
    give(out_grad_b, std::move(gb));
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status sub_backward(const tt_tensor* a, const tt_tensor* b, const tt_tensor* grad,
                       tt_tensor** out_grad_a, tt_tensor** out_grad_b) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_a, out_grad_b});
    require(a, __func__, "a");
    require(b, __func__, "b");
    require(grad, __func__, "grad");
    require_broadcast_grad(a, b, grad, __func__);
    // BEGIN SOLUTION
    // TODO: d(a-b)/da = 1, d(a-b)/db = -1 (each summed back to its input's shape).
    // HINT: unbroadcast first, then negate b's part with T().mul_scalar(t, -1).
    OwnedTensor ga, gb;
    if (out_grad_a != nullptr) ga = call(unbroadcast, grad, a);
    if (out_grad_b != nullptr) {
        OwnedTensor t = call(unbroadcast, grad, b);
        gb = call(T().mul_scalar, t.get(), -1.0f);
    }
    give(out_grad_a, std::move(ga));
    give(out_grad_b, std::move(gb));
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status mul_backward(const tt_tensor* a, const tt_tensor* b, const tt_tensor* grad,
                       tt_tensor** out_grad_a, tt_tensor** out_grad_b) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_a, out_grad_b});
    require(a, __func__, "a");
    require(b, __func__, "b");
    require(grad, __func__, "grad");
    require_broadcast_grad(a, b, grad, __func__);
    // BEGIN SOLUTION
    // TODO: d(a*b)/da = b and d(a*b)/db = a: grad_a = unbroadcast(grad * b, a),
    //   grad_b = unbroadcast(grad * a, b).
    // HINT: T().mul broadcasts grad with b for you; the product has grad's
    //   shape, which unbroadcast then reduces to a's shape.
    OwnedTensor ga, gb;
    if (out_grad_a != nullptr) {
        OwnedTensor t = call(T().mul, grad, b);
        ga = call(unbroadcast, t.get(), a);
    }
    if (out_grad_b != nullptr) {
        OwnedTensor t = call(T().mul, grad, a);
        gb = call(unbroadcast, t.get(), b);
    }
    give(out_grad_a, std::move(ga));
    give(out_grad_b, std::move(gb));
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status div_backward(const tt_tensor* a, const tt_tensor* b, const tt_tensor* grad,
                       tt_tensor** out_grad_a, tt_tensor** out_grad_b) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_a, out_grad_b});
    require(a, __func__, "a");
    require(b, __func__, "b");
    require(grad, __func__, "grad");
    require_broadcast_grad(a, b, grad, __func__);
    // BEGIN SOLUTION
    // TODO: d(a/b)/da = 1/b and d(a/b)/db = -a/b^2:
    //   grad_a = unbroadcast(grad / b, a), grad_b = unbroadcast(-grad * a / b^2, b).
    // HINT: build grad_b from T().mul, T().div and T().mul_scalar(.., -1).
    OwnedTensor ga, gb;
    if (out_grad_a != nullptr) {
        OwnedTensor t = call(T().div, grad, b);
        ga = call(unbroadcast, t.get(), a);
    }
    if (out_grad_b != nullptr) {
        OwnedTensor ga_times_a = call(T().mul, grad, a);
        OwnedTensor b2 = call(T().mul, b, b);
        OwnedTensor q = call(T().div, ga_times_a.get(), b2.get());
        OwnedTensor neg = call(T().mul_scalar, q.get(), -1.0f);
        gb = call(unbroadcast, neg.get(), b);
    }
    give(out_grad_a, std::move(ga));
    give(out_grad_b, std::move(gb));
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ---- scalar forms -------------------------------------------------------------

tt_status add_scalar_backward(const tt_tensor* grad, tt_tensor** out_grad_a) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_a});
    require(grad, __func__, "grad");
    if (out_grad_a == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: out = a + s (or a - s): d/da = 1, so the gradient passes unchanged.
    // HINT: it must still be a NEW tensor: T().copy.
    ok(T().copy(grad, out_grad_a));
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status mul_scalar_backward(float s, const tt_tensor* grad, tt_tensor** out_grad_a) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_a});
    require(grad, __func__, "grad");
    if (out_grad_a == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: out = a * s: d/da = s.
    // HINT: one call to module 01 (T() is its table) that makes the NEW tensor.
    //   ./tito hint 05 mul_scalar_backward names it.
    // CODE HINT: T().mul_scalar(grad, s, out_grad_a)
    ok(T().mul_scalar(grad, s, out_grad_a));
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status div_scalar_backward(float s, const tt_tensor* grad, tt_tensor** out_grad_a) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_a});
    require(grad, __func__, "grad");
    if (out_grad_a == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: out = a / s: d/da = 1/s.
    // HINT: one call to module 01, as for mul_scalar (s == 0 gives inf, as the
    //   forward did). ./tito hint 05 div_scalar_backward names it.
    // CODE HINT: T().div_scalar(grad, s, out_grad_a)
    ok(T().div_scalar(grad, s, out_grad_a));
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ---- matrix product -------------------------------------------------------------

tt_status matmul_backward(const tt_tensor* a, const tt_tensor* b, const tt_tensor* grad,
                          tt_tensor** out_grad_a, tt_tensor** out_grad_b) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_a, out_grad_b});
    require(a, __func__, "a");
    require(b, __func__, "b");
    require(grad, __func__, "grad");
    if (a->ndim < 2 || b->ndim < 2 || grad->ndim < 2)
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "matmul needs a, b and grad with at least 2 dims, got a " + shape_str(a) +
                             ", b " + shape_str(b) + ", grad " + shape_str(grad));
    if (grad->shape[grad->ndim - 2] != a->shape[a->ndim - 2] ||
        grad->shape[grad->ndim - 1] != b->shape[b->ndim - 1])
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "grad has shape " + shape_str(grad) + " but a " + shape_str(a) + " @ b " +
                             shape_str(b) + " ends in [M, N] = [" +
                             std::to_string(a->shape[a->ndim - 2]) + ", " +
                             std::to_string(b->shape[b->ndim - 1]) + "]");
    // BEGIN SOLUTION
    // TODO: grad_a = grad @ b^T and grad_b = a^T @ grad (transpose the last
    //   two axes), each summed back over the batch axes its input did not have.
    // HINT: module 01's transpose and matmul, then unbroadcast; batched matmul
    //   broadcasts the batch dims. ./tito hint 05 matmul_backward shows the calls.
    // CODE HINT: T().transpose(b, -2, -1, &bt), T().matmul(grad, bt, &p), then
    //   unbroadcast(p, a, out_grad_a); grad_b likewise from a^T @ grad.
    OwnedTensor ga, gb;
    if (out_grad_a != nullptr) {
        OwnedTensor bt = call(T().transpose, b, -2, -1);
        OwnedTensor p = call(T().matmul, grad, bt.get());
        ga = call(unbroadcast, p.get(), a);
    }
    if (out_grad_b != nullptr) {
        OwnedTensor at = call(T().transpose, a, -2, -1);
        OwnedTensor p = call(T().matmul, at.get(), grad);
        gb = call(unbroadcast, p.get(), b);
    }
    give(out_grad_a, std::move(ga));
    give(out_grad_b, std::move(gb));
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ---- shape ----------------------------------------------------------------------

tt_status reshape_backward(const tt_tensor* a, const tt_tensor* grad, tt_tensor** out_grad_a) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_a});
    require(a, __func__, "a");
    require(grad, __func__, "grad");
    if (grad->numel != a->numel)
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "grad " + shape_str(grad) + " and a " + shape_str(a) +
                             " hold different numbers of elements");
    if (out_grad_a == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: reshape only moves no values: give grad back the shape of a.
    // HINT: one call to module 01. ./tito hint 05 reshape_backward names it.
    // CODE HINT: T().reshape(grad, a->shape, a->ndim, out_grad_a)
    ok(T().reshape(grad, a->shape, a->ndim, out_grad_a));
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status transpose_backward(int32_t dim0, int32_t dim1, const tt_tensor* grad,
                             tt_tensor** out_grad_a) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_a});
    require(grad, __func__, "grad");
    if (out_grad_a == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: swapping two axes is its own inverse: swap them back in grad.
    // HINT: one call to module 01. ./tito hint 05 transpose_backward names it.
    // CODE HINT: T().transpose(grad, dim0, dim1, out_grad_a)
    ok(T().transpose(grad, dim0, dim1, out_grad_a));
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

// ---- reductions -------------------------------------------------------------------

// Check that grad has the shape the reduction of `a` produced.
static void require_reduced_grad(const tt_tensor* a, int32_t axis, int32_t keepdims,
                                 const tt_tensor* grad, const char* function) {
    if (axis == TT_AXIS_ALL) {
        if (grad->numel != 1)
            throw_error(TT_SHAPE_MISMATCH, function,
                        "a reduction over all axes has one value, but grad has shape " +
                            shape_str(grad));
        return;
    }
    int32_t ax = normalize_axis(axis, a->ndim, function);
    bool fits = grad->ndim == (keepdims ? a->ndim : a->ndim - 1);
    for (int32_t d = 0, g = 0; fits && d < a->ndim; ++d) {
        if (d == ax && !keepdims) continue;
        fits = grad->shape[g++] == (d == ax ? 1 : a->shape[d]);
    }
    if (!fits)
        throw_error(TT_SHAPE_MISMATCH, function,
                    "grad has shape " + shape_str(grad) + ", which is not what reducing " +
                        shape_str(a) + " over axis " + std::to_string(axis) +
                        (keepdims ? " (keepdims)" : "") + " gives");
}

// out (shaped like a) = grad copied along the reduced axis, times `scale`.
static tt_status expand_reduced(const tt_tensor* a, int32_t axis, const tt_tensor* grad,
                                float scale, tt_tensor** out) {
    TT_GUARD_BEGIN
    // BEGIN SOLUTION
    // TODO: every element of a contributed to one output value: it receives
    //   that value's gradient (times scale). With TT_AXIS_ALL that is grad's one
    //   value everywhere.
    // HINT: with split_at(a, ax) = {outer, n, inner}, element (o, k, i) of a
    //   takes grad element o * inner + i (keepdims or not, the order is the same).
    OwnedTensor result = zeros_like(a);
    if (axis == TT_AXIS_ALL) {
        float g = grad->data[0] * scale;
        for (int64_t i = 0; i < a->numel; ++i) result->data[i] = g;
    } else {
        AxisSplit s = split_at(a, normalize_axis(axis, a->ndim, __func__));
        for (int64_t o = 0; o < s.outer; ++o)
            for (int64_t k = 0; k < s.n; ++k)
                for (int64_t i = 0; i < s.inner; ++i)
                    result->data[(o * s.n + k) * s.inner + i] = grad->data[o * s.inner + i] * scale;
    }
    *out = result.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status sum_backward(const tt_tensor* a, int32_t axis, int32_t keepdims, const tt_tensor* grad,
                       tt_tensor** out_grad_a) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_a});
    require(a, __func__, "a");
    require(grad, __func__, "grad");
    require_reduced_grad(a, axis, keepdims, grad, __func__);
    if (out_grad_a == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: d(sum)/d(a_i) = 1: copy grad back along the reduced axis.
    // HINT: expand_reduced (above) with the right scale.
    //   ./tito hint 05 sum_backward shows the call.
    // CODE HINT: expand_reduced(a, axis, grad, 1.0f, out_grad_a)
    return expand_reduced(a, axis, grad, 1.0f, out_grad_a);
    // END SOLUTION
    TT_GUARD_END
}

tt_status mean_backward(const tt_tensor* a, int32_t axis, int32_t keepdims, const tt_tensor* grad,
                        tt_tensor** out_grad_a) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_a});
    require(a, __func__, "a");
    require(grad, __func__, "grad");
    require_reduced_grad(a, axis, keepdims, grad, __func__);
    if (out_grad_a == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: d(mean)/d(a_i) = 1/n, n = the number of elements averaged (the
    //   axis size, or a->numel for TT_AXIS_ALL).
    // HINT: expand_reduced with scale 1/n.
    int64_t n = axis == TT_AXIS_ALL ? a->numel : a->shape[normalize_axis(axis, a->ndim, __func__)];
    return expand_reduced(a, axis, grad, 1.0f / static_cast<float>(n), out_grad_a);
    // END SOLUTION
    TT_GUARD_END
}

tt_status max_backward(const tt_tensor* a, int32_t axis, int32_t keepdims, const tt_tensor* grad,
                       tt_tensor** out_grad_a) {
    TT_GUARD_BEGIN
    clear_outputs({out_grad_a});
    require(a, __func__, "a");
    require(grad, __func__, "grad");
    require_reduced_grad(a, axis, keepdims, grad, __func__);
    if (out_grad_a == nullptr) return TT_OK;
    // BEGIN SOLUTION
    // TODO: only the element that was the maximum influenced the output: it
    //   gets the gradient, every other element 0. On ties, the FIRST maximum
    //   (the one argmax picks) gets it all.
    // HINT: start from zeros_like(a); for each (o, i) of split_at find the
    //   first k with the largest a[(o * n + k) * inner + i].
    OwnedTensor result = zeros_like(a);
    if (axis == TT_AXIS_ALL) {
        int64_t best = 0;
        for (int64_t i = 1; i < a->numel; ++i)
            if (a->data[i] > a->data[best]) best = i;
        if (a->numel > 0) result->data[best] = grad->data[0];
    } else {
        AxisSplit s = split_at(a, normalize_axis(axis, a->ndim, __func__));
        for (int64_t o = 0; o < s.outer; ++o)
            for (int64_t i = 0; i < s.inner; ++i) {
                int64_t best = 0;
                for (int64_t k = 1; k < s.n; ++k)
                    if (a->data[(o * s.n + k) * s.inner + i] > a->data[(o * s.n + best) * s.inner + i])
                        best = k;
                if (s.n > 0) result->data[(o * s.n + best) * s.inner + i] = grad->data[o * s.inner + i];
            }
    }
    *out_grad_a = result.release();
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

}  // namespace ag
