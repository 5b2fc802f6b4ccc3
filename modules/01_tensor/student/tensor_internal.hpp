// tensor_internal.hpp - what the files of module 01 share.
//
// Nothing to implement here. The functions of the table are declared once so
// every file can call them (reshape calls create, mean calls sum, ...), and a
// few helpers keep argument checks and error messages short.
//
// Module 01 is the one module that has no tensor module below it: it creates
// and frees tensors with its OWN create and free (t01::create, t01::free), not
// through ttm::host()->tensor, which is NULL here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tinytorch/abi/tt_01_tensor.h"
#include "tinytorch/module/module_support.hpp"

namespace t01 {

// ---- the table (one definition each, in the file named) ------------------
// creation.cpp
tt_status create(const int64_t* shape, int32_t ndim, tt_tensor** out);
tt_status empty(const int64_t* shape, int32_t ndim, tt_tensor** out);
tt_status from_data(const float* data, const int64_t* shape, int32_t ndim, tt_tensor** out);
tt_status free(tt_tensor* t);
tt_status copy(const tt_tensor* t, tt_tensor** out);
// shape.cpp
tt_status reshape(const tt_tensor* t, const int64_t* shape, int32_t ndim, tt_tensor** out);
tt_status transpose(const tt_tensor* t, int32_t dim0, int32_t dim1, tt_tensor** out);
// elementwise.cpp
tt_status add(const tt_tensor* a, const tt_tensor* b, tt_tensor** out);
tt_status sub(const tt_tensor* a, const tt_tensor* b, tt_tensor** out);
tt_status mul(const tt_tensor* a, const tt_tensor* b, tt_tensor** out);
tt_status div(const tt_tensor* a, const tt_tensor* b, tt_tensor** out);
tt_status add_scalar(const tt_tensor* a, float s, tt_tensor** out);
tt_status sub_scalar(const tt_tensor* a, float s, tt_tensor** out);
tt_status mul_scalar(const tt_tensor* a, float s, tt_tensor** out);
tt_status div_scalar(const tt_tensor* a, float s, tt_tensor** out);
// matmul.cpp
tt_status matmul(const tt_tensor* a, const tt_tensor* b, tt_tensor** out);
// reductions.cpp
tt_status sum(const tt_tensor* t, int32_t axis, int32_t keepdims, tt_tensor** out);
tt_status mean(const tt_tensor* t, int32_t axis, int32_t keepdims, tt_tensor** out);
tt_status max(const tt_tensor* t, int32_t axis, int32_t keepdims, tt_tensor** out);
tt_status argmax(const tt_tensor* t, int32_t axis, int32_t keepdims, tt_tensor** out);

// ---- helpers (helpers.cpp) --------------------------------------------------

// "[2, 3]" (a scalar, ndim 0, is "[]").
std::string shape_str(const int64_t* shape, int32_t ndim);
inline std::string shape_str(const tt_tensor* t) { return shape_str(t->shape, t->ndim); }

inline bool same_shape(const tt_tensor* a, const tt_tensor* b) {
    if (a->ndim != b->ndim) return false;
    for (int32_t d = 0; d < a->ndim; ++d)
        if (a->shape[d] != b->shape[d]) return false;
    return true;
}

// Every function that returns a tensor starts with this: out must not be
// NULL, and *out is set to NULL so it stays NULL on any error.
tt_status begin_out(const char* function, tt_tensor** out);

// TT_INVALID_ARGUMENT naming `name` when p is NULL.
tt_status require(const void* p, const char* function, const char* name);

// Turn a possibly negative axis (-1 = last) into 0 .. ndim-1; an axis out of
// range is TT_INVALID_ARGUMENT with a message naming the valid range.
tt_status resolve_axis(const char* function, int32_t axis, int32_t ndim, int32_t* result);

// How the output of a broadcast op reads its two inputs (elementwise.cpp).
struct BroadcastPlan {
    int32_t ndim;                   // the output's ndim
    int64_t shape[TT_MAX_DIMS];     // the output's shape
    int64_t stride_a[TT_MAX_DIMS];  // a's step along each output axis (0 where stretched or missing)
    int64_t stride_b[TT_MAX_DIMS];  // b's step along each output axis
};

// Fill *plan for shapes a and b (elementwise.cpp, yours to write), or fail
// with TT_SHAPE_MISMATCH naming both shapes and the axis that disagrees.
tt_status broadcast_plan(const char* function, const int64_t* shape_a, int32_t ndim_a,
                         const int64_t* shape_b, int32_t ndim_b, BroadcastPlan* plan);

// A tensor this module owns until release(): freed with t01::free if an
// early return or an exception leaves the scope first.
struct Free {
    void operator()(tt_tensor* t) const { t01::free(t); }
};
using Owned = std::unique_ptr<tt_tensor, Free>;

}  // namespace t01
