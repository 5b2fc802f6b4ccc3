/* Contributors: read docs/DEVELOPING.md and docs/solution-markers.md first. */
/*
 * tt_01_tensor.h - module 01 Tensor: the function table.
 *
 * Ownership convention for the whole module (and every module after it):
 *   - inputs are borrowed (`const tt_tensor*`): never freed, never modified;
 *   - `tt_tensor** out` receives a NEW tensor that the caller owns and frees
 *     with tensor->free; on any error *out is left NULL;
 *   - shapes are int64_t arrays of length ndim (0 <= ndim <= TT_MAX_DIMS).
 * Axes may be negative (-1 is the last axis) wherever an axis is taken.
 *
 * Broadcasting follows NumPy: align shapes on the right; two sizes are
 * compatible when equal or when one of them is 1; the result takes the larger.
 */
#ifndef TT_01_TENSOR_H
#define TT_01_TENSOR_H

#include "tt_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TT_TENSOR_MODULE_NUMBER 1u
#define TT_TENSOR_DEPS 0u

typedef struct tt_tensor_api {
    /* ---- creation and release ------------------------------------------ */

    /* out: new tensor of the given shape, filled with zeros. Every size must be
     * >= 0 (a size of 0 gives numel == 0). Struct and data from host->alloc. */
    tt_status (*create)(const int64_t* shape, int32_t ndim, tt_tensor** out);

    /* out: new tensor of the given shape holding a copy of data[0..numel). */
    tt_status (*from_data)(const float* data, const int64_t* shape, int32_t ndim,
                           tt_tensor** out);

    /* Frees t, its data and its grad (recursively). t == NULL is a no-op.
     * Never touches t->grad_fn (the core owns graph nodes). */
    tt_status (*free)(tt_tensor* t);

    /* out: new tensor, a deep copy of t's shape and data (no grad, no grad_fn,
     * requires_grad 0). */
    tt_status (*copy)(const tt_tensor* t, tt_tensor** out);

    /* ---- shape ----------------------------------------------------------- */

    /* out: same data, new shape. At most one size may be -1 (inferred); the
     * element count must match t->numel. */
    tt_status (*reshape)(const tt_tensor* t, const int64_t* shape, int32_t ndim,
                         tt_tensor** out);

    /* out: t with axes dim0 and dim1 swapped (data rearranged, contiguous). */
    tt_status (*transpose)(const tt_tensor* t, int32_t dim0, int32_t dim1,
                           tt_tensor** out);

    /* ---- element-wise, with broadcasting ----------------------------------- */

    tt_status (*add)(const tt_tensor* a, const tt_tensor* b, tt_tensor** out);
    tt_status (*sub)(const tt_tensor* a, const tt_tensor* b, tt_tensor** out);
    tt_status (*mul)(const tt_tensor* a, const tt_tensor* b, tt_tensor** out);
    /* Division by zero follows IEEE 754 (inf or nan), as in NumPy. */
    tt_status (*div)(const tt_tensor* a, const tt_tensor* b, tt_tensor** out);

    /* ---- scalar forms: out = a (op) s -------------------------------------- */

    tt_status (*add_scalar)(const tt_tensor* a, float s, tt_tensor** out);
    tt_status (*sub_scalar)(const tt_tensor* a, float s, tt_tensor** out);
    tt_status (*mul_scalar)(const tt_tensor* a, float s, tt_tensor** out);
    tt_status (*div_scalar)(const tt_tensor* a, float s, tt_tensor** out);

    /* ---- matrix product ---------------------------------------------------- */

    /* a [..., M, K] @ b [..., K, N] -> out [..., M, N]. Both need ndim >= 2;
     * the leading (batch) dims broadcast. A K mismatch is TT_SHAPE_MISMATCH
     * with a message naming both sizes. */
    tt_status (*matmul)(const tt_tensor* a, const tt_tensor* b, tt_tensor** out);

    /* ---- reductions ---------------------------------------------------------
     * axis == TT_AXIS_ALL reduces everything (out is a scalar, ndim 0, unless
     * keepdims, then every size is 1). Otherwise the axis is removed, or kept
     * with size 1 when keepdims != 0. Reducing an axis of size 0 with max or
     * argmax is TT_INVALID_ARGUMENT; sum of nothing is 0, mean of nothing NaN. */
    tt_status (*sum)(const tt_tensor* t, int32_t axis, int32_t keepdims, tt_tensor** out);
    tt_status (*mean)(const tt_tensor* t, int32_t axis, int32_t keepdims, tt_tensor** out);
    tt_status (*max)(const tt_tensor* t, int32_t axis, int32_t keepdims, tt_tensor** out);
    /* Index of the first maximum along the axis (as float; flat index for
     * TT_AXIS_ALL). */
    tt_status (*argmax)(const tt_tensor* t, int32_t axis, int32_t keepdims, tt_tensor** out);

    /* ---- appended in ABI 1.1 ------------------------------------------------ */

    /* out: like create, but the values are NOT set (whatever the memory held).
     * For ops that write every element of their output: zero-filling first
     * doubles the memory traffic of a cheap op on a big tensor. */
    tt_status (*empty)(const int64_t* shape, int32_t ndim, tt_tensor** out);
} tt_tensor_api;

const tt_module_descriptor* tt_entry_01_tensor(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TT_01_TENSOR_H */
