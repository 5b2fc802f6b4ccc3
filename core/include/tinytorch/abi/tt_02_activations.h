/* Contributors: read docs/DEVELOPING.md and docs/solution-markers.md first. */
/*
 * tt_02_activations.h - module 02 Activations: the function table.
 * Forward only: the backward rules live in module 05.
 * Ownership: inputs borrowed; *out is a NEW tensor shaped like x, freed by the
 * caller with tensor->free. Needs module 01 (host->tensor) to allocate.
 */
#ifndef TT_02_ACTIVATIONS_H
#define TT_02_ACTIVATIONS_H

#include "tt_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TT_ACTIVATIONS_MODULE_NUMBER 2u
#define TT_ACTIVATIONS_DEPS (TT_DEP(1))

typedef struct tt_activations_api {
    /* max(0, x): 0 where x <= 0, else x, so a NaN stays NaN (as in PyTorch). */
    tt_status (*relu)(const tt_tensor* x, tt_tensor** out);
    /* 1 / (1 + exp(-x)), computed without overflow for large |x| */
    tt_status (*sigmoid)(const tt_tensor* x, tt_tensor** out);
    /* tanh(x) */
    tt_status (*tanh)(const tt_tensor* x, tt_tensor** out);
    /* GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
    tt_status (*gelu)(const tt_tensor* x, tt_tensor** out);
    /* exp(x - max) / sum(exp(x - max)) along `axis` (negative allowed). */
    tt_status (*softmax)(const tt_tensor* x, int32_t axis, tt_tensor** out);
} tt_activations_api;

const tt_module_descriptor* tt_entry_02_activations(void);

#ifdef __cplusplus
}
#endif
#endif /* TT_02_ACTIVATIONS_H */
