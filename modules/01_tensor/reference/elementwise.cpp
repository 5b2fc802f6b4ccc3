// elementwise.cpp - module 01: add, sub, mul, div with NumPy broadcasting, and
// their scalar forms.
//
// Broadcasting (NumPy's rule): line the two shapes up on the RIGHT; a missing
// leading axis counts as size 1. Axis by axis, two sizes are compatible when
// they are equal or when one of them is 1; the result takes the larger one.
//
//     a [3, 1]        a [2, 3, 4]        a [2, 3]
//     b    [1, 4]     b       [4]        b    [4]
//     -> [3, 4]       -> [2, 3, 4]       -> error: axis -1 has 3 vs 4
//
// A size-1 axis is "stretched": every output index along it reads element 0.
// In strides that is simply a stride of 0 on that axis, so one loop over the
// output can read a and b through their own (broadcast) strides:
//
//     out[i0, i1, ...] = a[i0*sa0 + i1*sa1 + ...] (op) b[i0*sb0 + i1*sb1 + ...]
//
// You write the rule once (broadcast_plan + binary_op); add/sub/mul/div only
// pass their operator.
#include "tensor_internal.hpp"

namespace t01 {

// Declared in tensor_internal.hpp: matmul.cpp broadcasts batch axes with it.
tt_status broadcast_plan(const char* function, const int64_t* shape_a, int32_t ndim_a,
                         const int64_t* shape_b, int32_t ndim_b, BroadcastPlan* plan) {
    // BEGIN SOLUTION
    // TODO: walk the axes from the right (i = 0 is the last axis). Size of a at
    //   i is shape_a[ndim_a-1-i] if i < ndim_a, else 1 (same for b). Check they
    //   are compatible, record the output size and both strides (0 for size 1).
    // HINT: keep a running stride per input (1, then times each size of that
    //   input); on a size-1 axis the step is 0 but the running stride still moves on.
    const int32_t nd = ndim_a > ndim_b ? ndim_a : ndim_b;
    plan->ndim = nd;
    int64_t run_a = 1, run_b = 1;  // row-major strides of a and b themselves
    for (int32_t i = 0; i < nd; ++i) {
        const int32_t d = nd - 1 - i;  // output axis
        const int64_t sa = i < ndim_a ? shape_a[ndim_a - 1 - i] : 1;
        const int64_t sb = i < ndim_b ? shape_b[ndim_b - 1 - i] : 1;
        if (sa != sb && sa != 1 && sb != 1)
            return ttm::fail(TT_SHAPE_MISMATCH, function,
                             "shapes " + shape_str(shape_a, ndim_a) + " and " + shape_str(shape_b, ndim_b) +
                                 " cannot be broadcast: at axis " + std::to_string(-(i + 1)) +
                                 " (counted from the right) a has size " + std::to_string(sa) +
                                 " and b has size " + std::to_string(sb) +
                                 "; sizes must be equal or one of them 1");
        plan->shape[d] = sa == 1 ? sb : sa;
        plan->stride_a[d] = sa == 1 ? 0 : run_a;
        plan->stride_b[d] = sb == 1 ? 0 : run_b;
        run_a *= sa;
        run_b *= sb;
    }
    return TT_OK;
    // END SOLUTION
}

namespace {

// BEGIN SOLUTION: remove
// Speed-up for the general path: drop size-1 axes and merge neighbouring axes
// that both inputs step through contiguously (a [B, C, H, W] + b [1, C, 1, 1]
// becomes [B, C, H*W], with a long innermost loop). The output is contiguous,
// so only the input strides decide. Leaves at least one axis.
void coalesce(BroadcastPlan& p) {
    int32_t n = 0;
    for (int32_t d = 0; d < p.ndim; ++d) {
        if (p.shape[d] == 1) continue;
        if (n > 0 && p.stride_a[n - 1] == p.stride_a[d] * p.shape[d] &&
            p.stride_b[n - 1] == p.stride_b[d] * p.shape[d]) {
            p.shape[n - 1] *= p.shape[d];  // merge d into the previous kept axis
            p.stride_a[n - 1] = p.stride_a[d];
            p.stride_b[n - 1] = p.stride_b[d];
            continue;
        }
        p.shape[n] = p.shape[d];
        p.stride_a[n] = p.stride_a[d];
        p.stride_b[n] = p.stride_b[d];
        ++n;
    }
    if (n == 0) {  // every axis had size 1: one element
        p.shape[0] = 1;
        p.stride_a[0] = p.stride_b[0] = 0;
        n = 1;
    }
    p.ndim = n;
}
// END SOLUTION

// out = a (op) b with broadcasting; op is a function object float(float, float).
template <class Op>
tt_status binary_op(const char* function, const tt_tensor* a, const tt_tensor* b, tt_tensor** out, Op op) {
    // BEGIN SOLUTION
    // TODO: plan the broadcast, create the output with the plan's shape, then
    //   for every output element apply op to the a and b elements it maps to.
    // HINT: same shapes need no index math at all: out[i] = op(a[i], b[i]).
    //   Otherwise walk the output in order with an odometer over the index,
    //   moving the a and b offsets by their plan strides.
    TT_CHECK(require(a, function, "a"));
    TT_CHECK(require(b, function, "b"));
    BroadcastPlan plan;
    TT_CHECK(broadcast_plan(function, a->shape, a->ndim, b->shape, b->ndim, &plan));
    tt_tensor* result = nullptr;
    TT_CHECK(empty(plan.shape, plan.ndim, &result));  // every element is written below
    float* o = result->data;
    const float* pa = a->data;
    const float* pb = b->data;
    const int64_t total = result->numel;

    if (same_shape(a, b)) {  // the common case: no index math at all
        for (int64_t i = 0; i < total; ++i) o[i] = op(pa[i], pb[i]);
    } else if (b->numel == 1) {  // tensor (op) one value: out has a's elements in a's order
        const float y = pb[0];
        for (int64_t i = 0; i < total; ++i) o[i] = op(pa[i], y);
    } else if (a->numel == 1) {
        const float x = pa[0];
        for (int64_t i = 0; i < total; ++i) o[i] = op(x, pb[i]);
    } else if (total > 0) {
        // General case: rows along the last (merged) axis, an odometer over
        // the others. No division per element.
        coalesce(plan);
        const int32_t nd = plan.ndim;
        const int64_t n = plan.shape[nd - 1];
        const int64_t sa = plan.stride_a[nd - 1], sb = plan.stride_b[nd - 1];
        const int64_t rows = total / n;
        int64_t idx[TT_MAX_DIMS] = {0};
        int64_t off_a = 0, off_b = 0;
        for (int64_t r = 0; r < rows; ++r, o += n) {
            const float* ra = pa + off_a;
            const float* rb = pb + off_b;
            if (sa == 1 && sb == 1) {
                for (int64_t j = 0; j < n; ++j) o[j] = op(ra[j], rb[j]);
            } else if (sa == 1 && sb == 0) {  // e.g. a row plus a per-row constant
                const float y = rb[0];
                for (int64_t j = 0; j < n; ++j) o[j] = op(ra[j], y);
            } else if (sa == 0 && sb == 1) {
                const float x = ra[0];
                for (int64_t j = 0; j < n; ++j) o[j] = op(x, rb[j]);
            } else {
                for (int64_t j = 0; j < n; ++j) o[j] = op(ra[j * sa], rb[j * sb]);
            }
            for (int32_t d = nd - 2; d >= 0; --d) {  // advance the odometer
                off_a += plan.stride_a[d];
                off_b += plan.stride_b[d];
                if (++idx[d] < plan.shape[d]) break;
                off_a -= plan.stride_a[d] * plan.shape[d];
                off_b -= plan.stride_b[d] * plan.shape[d];
                idx[d] = 0;
            }
        }
    }
    *out = result;
    return TT_OK;
    // END SOLUTION
}

// out = a (op) s for every element; op is a function object float(float, float).
template <class Op>
tt_status scalar_op(const char* function, const tt_tensor* a, float s, tt_tensor** out, Op op) {
    // BEGIN SOLUTION
    // TODO: create the output with a's shape, then out[i] = op(a[i], s).
    // HINT: TT_CHECK(create(a->shape, a->ndim, &result)); then one plain loop.
    TT_CHECK(require(a, function, "a"));
    tt_tensor* result = nullptr;
    TT_CHECK(empty(a->shape, a->ndim, &result));  // every element is written below
    const float* pa = a->data;
    float* o = result->data;
    for (int64_t i = 0; i < a->numel; ++i) o[i] = op(pa[i], s);
    *out = result;
    return TT_OK;
    // END SOLUTION
}

// The four operators, as function objects the loops above inline.
struct Add {
    float operator()(float x, float y) const { return x + y; }
};
struct Sub {
    float operator()(float x, float y) const { return x - y; }
};
struct Mul {
    float operator()(float x, float y) const { return x * y; }
};
struct Div {  // IEEE 754: x / 0 is +-inf, 0 / 0 is NaN (as in NumPy)
    float operator()(float x, float y) const { return x / y; }
};

}  // namespace

// Nothing to implement below: each operation passes its operator to
// binary_op or scalar_op.

tt_status add(const tt_tensor* a, const tt_tensor* b, tt_tensor** out) {
    TT_GUARD_BEGIN
    TT_CHECK(begin_out(__func__, out));
    return binary_op(__func__, a, b, out, Add{});
    TT_GUARD_END
}

tt_status sub(const tt_tensor* a, const tt_tensor* b, tt_tensor** out) {
    TT_GUARD_BEGIN
    TT_CHECK(begin_out(__func__, out));
    return binary_op(__func__, a, b, out, Sub{});
    TT_GUARD_END
}

tt_status mul(const tt_tensor* a, const tt_tensor* b, tt_tensor** out) {
    TT_GUARD_BEGIN
    TT_CHECK(begin_out(__func__, out));
    return binary_op(__func__, a, b, out, Mul{});
    TT_GUARD_END
}

tt_status div(const tt_tensor* a, const tt_tensor* b, tt_tensor** out) {
    TT_GUARD_BEGIN
    TT_CHECK(begin_out(__func__, out));
    return binary_op(__func__, a, b, out, Div{});
    TT_GUARD_END
}

tt_status add_scalar(const tt_tensor* a, float s, tt_tensor** out) {
    TT_GUARD_BEGIN
    TT_CHECK(begin_out(__func__, out));
    return scalar_op(__func__, a, s, out, Add{});
    TT_GUARD_END
}

tt_status sub_scalar(const tt_tensor* a, float s, tt_tensor** out) {
    TT_GUARD_BEGIN
    TT_CHECK(begin_out(__func__, out));
    return scalar_op(__func__, a, s, out, Sub{});
    TT_GUARD_END
}

tt_status mul_scalar(const tt_tensor* a, float s, tt_tensor** out) {
    TT_GUARD_BEGIN
    TT_CHECK(begin_out(__func__, out));
    return scalar_op(__func__, a, s, out, Mul{});
    TT_GUARD_END
}

tt_status div_scalar(const tt_tensor* a, float s, tt_tensor** out) {
    TT_GUARD_BEGIN
    TT_CHECK(begin_out(__func__, out));
    return scalar_op(__func__, a, s, out, Div{});
    TT_GUARD_END
}

}  // namespace t01
