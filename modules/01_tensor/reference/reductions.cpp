// reductions.cpp - module 01: sum, mean, max, argmax over all elements or
// along one axis.
//
// Reducing axis `ax` of a tensor: view it as three nested loops
//
//     outer = product of the sizes before ax
//     n     = shape[ax]                (the axis being reduced)
//     inner = product of the sizes after ax
//
// Element (o, j, i) lives at data[(o * n + j) * inner + i]. The result has
// outer * inner elements; result (o, i) combines the n elements (o, 0..n-1, i).
// Reducing everything (axis == TT_AXIS_ALL) is the same with outer = inner = 1
// and n = numel.
//
// Shapes: t [2, 3, 4] summed over axis 1 gives [2, 4]; with keepdims [2, 1, 4]
// (handy because it still broadcasts against t). Over TT_AXIS_ALL it gives a
// scalar (ndim 0), or [1, 1, 1] with keepdims.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tensor_internal.hpp"

namespace t01 {
namespace {

// The three-loop view of one reduction and the shape of its result.
struct ReduceGeom {
    int64_t outer, n, inner;
    int32_t out_ndim;
    int64_t out_shape[TT_MAX_DIMS];
};

// Fill *g for reducing t over `axis` (or TT_AXIS_ALL), keeping the reduced
// axis as size 1 when keepdims != 0.
tt_status reduce_geometry(const char* function, const tt_tensor* t, int32_t axis, int32_t keepdims,
                          ReduceGeom* g) {
    // BEGIN SOLUTION
    // TODO: for TT_AXIS_ALL: outer = inner = 1, n = numel, and the output shape is
    //   [] (ndim 0) or all ones. Otherwise resolve the axis, compute outer, n,
    //   inner, and drop the axis from the shape (or set it to 1 for keepdims).
    // HINT: resolve_axis(function, axis, t->ndim, &ax) handles negative axes and
    //   reports an axis out of range.
    TT_CHECK(require(t, function, "t"));
    if (axis == TT_AXIS_ALL) {
        g->outer = 1;
        g->n = t->numel;
        g->inner = 1;
        g->out_ndim = keepdims ? t->ndim : 0;
        for (int32_t d = 0; d < g->out_ndim; ++d) g->out_shape[d] = 1;
        return TT_OK;
    }
    int32_t ax = 0;
    TT_CHECK(resolve_axis(function, axis, t->ndim, &ax));
    g->outer = 1;
    g->n = t->shape[ax];
    g->inner = 1;
    g->out_ndim = 0;
    for (int32_t d = 0; d < t->ndim; ++d) {
        if (d < ax) g->outer *= t->shape[d];
        if (d > ax) g->inner *= t->shape[d];
        if (d != ax) g->out_shape[g->out_ndim++] = t->shape[d];
        else if (keepdims) g->out_shape[g->out_ndim++] = 1;
    }
    return TT_OK;
    // END SOLUTION
}

// BEGIN SOLUTION: remove
// sum (or mean when `average`) along the geometry, accumulating in double so
// long sums keep their precision.
tt_status sum_or_mean(const char* function, const tt_tensor* t, int32_t axis, int32_t keepdims,
                      bool average, tt_tensor** out) {
    ReduceGeom g;
    TT_CHECK(reduce_geometry(function, t, axis, keepdims, &g));
    tt_tensor* result = nullptr;
    TT_CHECK(create(g.out_shape, g.out_ndim, &result));
    Owned owned(result);  // freed if the std::vector below throws
    // The mean of nothing is NaN, as the header says (and as 0 / 0 would be).
    const double scale = !average ? 1.0 : g.n > 0 ? 1.0 / static_cast<double>(g.n) : NAN;
    const float* x = t->data;
    float* y = result->data;
    if (g.inner == 1) {  // contiguous rows (the last axis, or everything)
        for (int64_t o = 0; o < g.outer; ++o) {
            const float* row = x + o * g.n;
            double acc = 0.0;
            for (int64_t j = 0; j < g.n; ++j) acc += row[j];
            y[o] = static_cast<float>(acc * scale);
        }
    } else {  // rows of `inner` values, added element-wise
        std::vector<double> acc(static_cast<size_t>(g.inner));
        for (int64_t o = 0; o < g.outer; ++o) {
            std::fill(acc.begin(), acc.end(), 0.0);
            for (int64_t j = 0; j < g.n; ++j) {
                const float* row = x + (o * g.n + j) * g.inner;
                for (int64_t i = 0; i < g.inner; ++i) acc[static_cast<size_t>(i)] += row[i];
            }
            float* dst = y + o * g.inner;
            for (int64_t i = 0; i < g.inner; ++i) dst[i] = static_cast<float>(acc[static_cast<size_t>(i)] * scale);
        }
    }
    *out = owned.release();
    return TT_OK;
}

// Is v a new maximum over best? NaN wins (and then stays), as in NumPy: a
// NaN anywhere makes max NaN and argmax the index of the first NaN.
inline bool beats(float v, float best) { return v > best || (std::isnan(v) && !std::isnan(best)); }

// max (or argmax when `index`) along the geometry.
tt_status max_or_argmax(const char* function, const tt_tensor* t, int32_t axis, int32_t keepdims,
                        bool index, tt_tensor** out) {
    ReduceGeom g;
    TT_CHECK(reduce_geometry(function, t, axis, keepdims, &g));
    if (g.n == 0)
        return ttm::fail(TT_INVALID_ARGUMENT, function,
                         std::string(index ? "argmax" : "max") + " over an axis of size 0 has no value (tensor " +
                             shape_str(t) + ")");
    tt_tensor* result = nullptr;
    TT_CHECK(create(g.out_shape, g.out_ndim, &result));
    Owned owned(result);
    const float* x = t->data;
    float* y = result->data;
    if (g.inner == 1) {
        for (int64_t o = 0; o < g.outer; ++o) {
            const float* row = x + o * g.n;
            int64_t arg = 0;
            for (int64_t j = 1; j < g.n; ++j)
                if (beats(row[j], row[arg])) arg = j;  // strict: the first maximum stays
            y[o] = index ? static_cast<float>(arg) : row[arg];
        }
    } else {
        std::vector<float> best(static_cast<size_t>(g.inner));
        std::vector<int64_t> arg(static_cast<size_t>(g.inner));
        for (int64_t o = 0; o < g.outer; ++o) {
            const float* first = x + o * g.n * g.inner;
            for (int64_t i = 0; i < g.inner; ++i) {
                best[static_cast<size_t>(i)] = first[i];
                arg[static_cast<size_t>(i)] = 0;
            }
            for (int64_t j = 1; j < g.n; ++j) {
                const float* row = first + j * g.inner;
                for (int64_t i = 0; i < g.inner; ++i) {
                    if (beats(row[i], best[static_cast<size_t>(i)])) {
                        best[static_cast<size_t>(i)] = row[i];
                        arg[static_cast<size_t>(i)] = j;
                    }
                }
            }
            float* dst = y + o * g.inner;
            for (int64_t i = 0; i < g.inner; ++i)
                dst[i] = index ? static_cast<float>(arg[static_cast<size_t>(i)]) : best[static_cast<size_t>(i)];
        }
    }
    *out = owned.release();
    return TT_OK;
}
// END SOLUTION

}  // namespace

// Sum along the axis (0 for an axis of size 0).
tt_status sum(const tt_tensor* t, int32_t axis, int32_t keepdims, tt_tensor** out) {
    TT_GUARD_BEGIN
    TT_CHECK(begin_out(__func__, out));
    // BEGIN SOLUTION
    // TODO: reduce_geometry, create the output (zeros), then add element
    //   (o, j, i) into output (o, i) for every o, j, i.
    // HINT: accumulate in double for precision, store as float.
    return sum_or_mean(__func__, t, axis, keepdims, false, out);
    // END SOLUTION
    TT_GUARD_END
}

// Mean along the axis: the sum divided by n (NaN for an axis of size 0).
tt_status mean(const tt_tensor* t, int32_t axis, int32_t keepdims, tt_tensor** out) {
    TT_GUARD_BEGIN
    TT_CHECK(begin_out(__func__, out));
    // BEGIN SOLUTION
    // TODO: the sum along the axis divided by n, the number of elements reduced.
    // HINT: call sum(...) and divide its values by n (n = numel for TT_AXIS_ALL,
    //   shape[axis] otherwise); 0 / 0 gives the NaN the header asks for.
    return sum_or_mean(__func__, t, axis, keepdims, true, out);
    // END SOLUTION
    TT_GUARD_END
}

// Maximum along the axis (TT_INVALID_ARGUMENT for an axis of size 0).
tt_status max(const tt_tensor* t, int32_t axis, int32_t keepdims, tt_tensor** out) {
    TT_GUARD_BEGIN
    TT_CHECK(begin_out(__func__, out));
    // BEGIN SOLUTION
    // TODO: reduce_geometry; fail when n == 0; then for every (o, i) keep the
    //   largest of the n elements (o, 0..n-1, i).
    // HINT: start from element j = 0, not from 0.0f or -FLT_MAX: all values may be negative (or -inf).
    return max_or_argmax(__func__, t, axis, keepdims, false, out);
    // END SOLUTION
    TT_GUARD_END
}

// Index (as float) of the FIRST maximum along the axis; the flat index for
// TT_AXIS_ALL.
tt_status argmax(const tt_tensor* t, int32_t axis, int32_t keepdims, tt_tensor** out) {
    TT_GUARD_BEGIN
    TT_CHECK(begin_out(__func__, out));
    // BEGIN SOLUTION
    // TODO: like max, but store the index j of the maximum instead of its value.
    // HINT: replace only on a strictly greater value (>) so ties keep the first index.
    return max_or_argmax(__func__, t, axis, keepdims, true, out);
    // END SOLUTION
    TT_GUARD_END
}

}  // namespace t01
