/* Contributors: read docs/DEVELOPING.md and docs/solution-markers.md first. */
/*
 * tt_04_losses.h - module 04 Losses: the function table.
 * Every loss returns a NEW scalar tensor (ndim 0) with the MEAN over all
 * elements / samples; the caller frees it with tensor->free. Needs 01 and 02.
 */
#ifndef TT_04_LOSSES_H
#define TT_04_LOSSES_H

#include "tt_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TT_LOSSES_MODULE_NUMBER 4u
#define TT_LOSSES_DEPS (TT_DEP(1) | TT_DEP(2))

/* Probabilities are clamped to [eps, 1-eps] in binary cross-entropy. */
#define TT_BCE_EPS 1e-7f

typedef struct tt_losses_api {
    /* mean((pred - target)^2); shapes must be equal. */
    tt_status (*mse)(const tt_tensor* pred, const tt_tensor* target, tt_tensor** out);

    /* x - logsumexp(x) along axis, computed stably (finite for |x| ~ 1e4).
     * out: new tensor shaped like x. */
    tt_status (*log_softmax)(const tt_tensor* x, int32_t axis, tt_tensor** out);

    /* logits [N, C], targets [N] holding class indices 0..C-1 as floats.
     * out: -mean_n log_softmax(logits)[n, target[n]]. A target outside
     * [0, C) or not an integer is TT_INVALID_ARGUMENT. */
    tt_status (*cross_entropy)(const tt_tensor* logits, const tt_tensor* targets,
                               tt_tensor** out);

    /* probs and targets of equal shape, targets in [0, 1]:
     * -mean(t log p + (1 - t) log(1 - p)) with p clamped to
     * [TT_BCE_EPS, 1 - TT_BCE_EPS]. The clamp is part of the loss: beyond
     * it the loss is flat, so its gradient there is 0 (module 05). */
    tt_status (*binary_cross_entropy)(const tt_tensor* probs, const tt_tensor* targets,
                                      tt_tensor** out);
} tt_losses_api;

const tt_module_descriptor* tt_entry_04_losses(void);

#ifdef __cplusplus
}
#endif
#endif /* TT_04_LOSSES_H */
