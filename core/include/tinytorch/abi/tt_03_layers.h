/* Contributors: read docs/DEVELOPING.md and docs/solution-markers.md first. */
/*
 * tt_03_layers.h - module 03 Layers: the function table.
 * Ownership: inputs borrowed; every `tt_tensor** out*` receives a NEW tensor
 * the caller frees with tensor->free. Needs modules 01 and 02.
 */
#ifndef TT_03_LAYERS_H
#define TT_03_LAYERS_H

#include "tt_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TT_LAYERS_MODULE_NUMBER 3u
#define TT_LAYERS_DEPS (TT_DEP(1) | TT_DEP(2))

/* Weight initialisation schemes for linear_init (values of `scheme`). */
#define TT_INIT_KAIMING_UNIFORM ((int32_t)0) /* U(-b, b), b = 1/sqrt(in) (PyTorch's default) */
#define TT_INIT_XAVIER_UNIFORM  ((int32_t)1) /* U(-b, b), b = sqrt(6/(in+out)) */
#define TT_INIT_ZEROS           ((int32_t)2)

typedef struct tt_layers_api {
    /* Weight layout: W is [in_features, out_features] so forward is x . W + b.
     * out_weight: new [in, out]; out_bias: new [out] (bias uses U(-1/sqrt(in),
     * 1/sqrt(in)) for both uniform schemes, zeros for TT_INIT_ZEROS). Draws from
     * host->global_rng, so a seed reproduces the same weights. */
    tt_status (*linear_init)(int64_t in_features, int64_t out_features, int32_t scheme,
                             tt_tensor** out_weight, tt_tensor** out_bias);

    /* x [..., in] . W [in, out] + b [out] -> out [..., out]. b may be NULL. */
    tt_status (*linear_forward)(const tt_tensor* x, const tt_tensor* weight,
                                const tt_tensor* bias, tt_tensor** out);

    /* Inverted dropout. training != 0: each element is kept with probability
     * 1-p and scaled by 1/(1-p); out_mask holds that factor per element (0 or
     * 1/(1-p)) so out = x * mask. training == 0 or p == 0: out is a copy of x,
     * mask all ones. p == 1: everything is dropped (mask all zeros). p outside
     * [0, 1] is TT_INVALID_ARGUMENT. Draws from host->global_rng. */
    tt_status (*dropout_forward)(const tt_tensor* x, float p, int32_t training,
                                 tt_tensor** out, tt_tensor** out_mask);
} tt_layers_api;

const tt_module_descriptor* tt_entry_03_layers(void);

#ifdef __cplusplus
}
#endif
#endif /* TT_03_LAYERS_H */
