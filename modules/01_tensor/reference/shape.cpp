// shape.cpp - module 01: reshape and transpose.
//
// Row-major layout: element (i0, i1, ..., i{n-1}) of a tensor with sizes
// (s0, s1, ..., s{n-1}) lives at
//
//     offset = i0*stride0 + i1*stride1 + ... ,   stride{n-1} = 1,
//                                                 stride{d}   = stride{d+1} * s{d+1}
//
// reshape keeps the data in the same order and only changes the sizes, so it
// is a copy of the values under a new shape. transpose changes which axis is
// which, so the values move: walk the OUTPUT in order and read the input
// through its strides with the two axes swapped.
#include <cstring>
#include <utility>

#include "tensor_internal.hpp"

namespace t01 {

// out: t's values under a new shape. At most one size may be -1: it is
// inferred so that the element counts match.
tt_status reshape(const tt_tensor* t, const int64_t* shape, int32_t ndim, tt_tensor** out) {
    TT_GUARD_BEGIN
    TT_CHECK(begin_out(__func__, out));
    // BEGIN SOLUTION
    // TODO: resolve a single -1 (numel / product of the other sizes), check that
    //   the element counts match, create the new tensor and copy t's data.
    // HINT: report a mismatch with both element counts, e.g.
    //   "cannot reshape [2, 3] (6 elements) into [4, 2] (8 elements)".
    TT_CHECK(require(t, __func__, "t"));
    if (ndim < 0 || ndim > TT_MAX_DIMS)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                         "ndim must be 0 .. " + std::to_string(TT_MAX_DIMS) + ", got " + std::to_string(ndim));
    if (ndim > 0 && shape == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "shape is NULL but ndim is " + std::to_string(ndim));
    int64_t resolved[TT_MAX_DIMS] = {0};
    int32_t inferred = -1;  // the axis given as -1, if any
    int64_t known = 1;      // product of the other sizes
    bool overflow = false;
    for (int32_t d = 0; d < ndim; ++d) {
        resolved[d] = shape[d];
        if (shape[d] == -1) {
            if (inferred >= 0)
                return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                                 "only one size may be -1, but " + shape_str(shape, ndim) + " has several");
            inferred = d;
        } else if (shape[d] < 0) {
            return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                             "size " + std::to_string(shape[d]) + " in " + shape_str(shape, ndim) +
                                 " is invalid: sizes must be >= 0, or -1 to infer one");
        } else if (shape[d] > 0 && known > INT64_MAX / shape[d]) {
            overflow = true;
        } else {
            known *= shape[d];
        }
    }
    const std::string from = shape_str(t) + " (" + std::to_string(t->numel) + " elements)";
    if (inferred >= 0) {
        if (overflow || known == 0 || t->numel % known != 0)
            return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                             "cannot reshape " + from + " into " + shape_str(shape, ndim) + ": the other sizes " +
                                 "multiply to " + (overflow ? std::string("too many") : std::to_string(known)) +
                                 " elements, which does not divide " + std::to_string(t->numel));
        resolved[inferred] = t->numel / known;
    } else if (overflow || known != t->numel) {
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "cannot reshape " + from + " into " + shape_str(shape, ndim) + " (" +
                             (overflow ? std::string("too many") : std::to_string(known)) +
                             " elements): the element counts must be equal");
    }
    return from_data(t->data, resolved, ndim, out);
    // END SOLUTION
    TT_GUARD_END
}

// out: t with axes dim0 and dim1 swapped, data rearranged (contiguous).
tt_status transpose(const tt_tensor* t, int32_t dim0, int32_t dim1, tt_tensor** out) {
    TT_GUARD_BEGIN
    TT_CHECK(begin_out(__func__, out));
    // BEGIN SOLUTION
    // TODO: resolve both axes, create the output with the two sizes swapped,
    //   then copy: out[i0, .., i{n-1}] = t[the same index with i{dim0}, i{dim1} swapped].
    // HINT: compute t's strides, swap stride[dim0] and stride[dim1], then walk the
    //   output in order keeping a running input offset (an "odometer" over the index).
    TT_CHECK(require(t, __func__, "t"));
    int32_t d0 = 0, d1 = 0;
    TT_CHECK(resolve_axis(__func__, dim0, t->ndim, &d0));
    TT_CHECK(resolve_axis(__func__, dim1, t->ndim, &d1));

    const int32_t nd = t->ndim;
    int64_t shape[TT_MAX_DIMS], stride[TT_MAX_DIMS];
    int64_t s = 1;
    for (int32_t d = nd - 1; d >= 0; --d) {  // t's own row-major strides
        shape[d] = t->shape[d];
        stride[d] = s;
        s *= t->shape[d];
    }
    std::swap(shape[d0], shape[d1]);
    std::swap(stride[d0], stride[d1]);  // stride[d]: input step when output axis d advances by 1

    tt_tensor* result = nullptr;
    TT_CHECK(empty(shape, nd, &result));  // every element is written below
    if (d0 == d1 || t->numel == 0) {
        std::memcpy(result->data, t->data, static_cast<size_t>(t->numel) * sizeof(float));
        *out = result;
        return TT_OK;
    }
    // Walk the output row by row (rows along the last axis); idx[] counts
    // through the leading axes and `in` follows it through the input.
    const int64_t n = shape[nd - 1], step = stride[nd - 1];
    const int64_t rows = t->numel / n;
    int64_t idx[TT_MAX_DIMS] = {0};
    int64_t in = 0;
    float* dst = result->data;
    const float* src = t->data;
    for (int64_t r = 0; r < rows; ++r, dst += n) {
        for (int64_t j = 0; j < n; ++j) dst[j] = src[in + j * step];
        for (int32_t d = nd - 2; d >= 0; --d) {  // advance the odometer
            in += stride[d];
            if (++idx[d] < shape[d]) break;
            in -= stride[d] * shape[d];
            idx[d] = 0;
        }
    }
    *out = result;
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

}  // namespace t01
