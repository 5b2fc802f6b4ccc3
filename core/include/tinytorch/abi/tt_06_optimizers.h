/* Contributors: read docs/DEVELOPING.md and docs/solution-markers.md first. */
/*
 * tt_06_optimizers.h - module 06 Optimizers: the function table.
 * An optimizer is an opaque handle the module allocates in create and releases
 * in free. It borrows the parameter tensors (they must outlive it) and keeps
 * per-parameter state (momentum buffer, Adam moments) inside. Needs 01 and 05.
 */
#ifndef TT_06_OPTIMIZERS_H
#define TT_06_OPTIMIZERS_H

#include "tt_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TT_OPTIMIZERS_MODULE_NUMBER 6u
#define TT_OPTIMIZERS_DEPS (TT_DEP(1) | TT_DEP(5))

#define TT_OPTIM_SGD   ((int32_t)0)
#define TT_OPTIM_ADAM  ((int32_t)1)
#define TT_OPTIM_ADAMW ((int32_t)2)

/*
 * SGD (PyTorch semantics), g = grad + weight_decay * p:
 *   v = momentum * v + (1 - dampening) * g   (v = g on the first step)
 *   d = nesterov ? g + momentum * v : v      (d = g when momentum == 0)
 *   p -= lr * d
 * Adam: g = grad + weight_decay * p;  AdamW: p -= lr * weight_decay * p first.
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  t = step count (from 1)
 *   p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 */
typedef struct tt_optimizer_config {
    int32_t kind;          /* TT_OPTIM_SGD / TT_OPTIM_ADAM / TT_OPTIM_ADAMW */
    float   lr;
    float   weight_decay;
    float   momentum;      /* SGD */
    float   dampening;     /* SGD */
    int32_t nesterov;      /* SGD; needs momentum > 0 and dampening == 0 */
    float   beta1;         /* Adam / AdamW */
    float   beta2;
    float   eps;
} tt_optimizer_config;

typedef struct tt_optimizer tt_optimizer;

typedef struct tt_optimizers_api {
    /* out: new optimizer over params[0..n_params) (borrowed). Release with
     * optimizer_free. Invalid settings (lr < 0, beta outside [0,1), nesterov
     * without momentum) are TT_INVALID_ARGUMENT. */
    tt_status (*optimizer_create)(const tt_optimizer_config* config, tt_tensor* const* params,
                                  int32_t n_params, tt_optimizer** out);
    /* One update of every parameter whose grad is not NULL. */
    tt_status (*optimizer_step)(tt_optimizer* opt);
    /* Fill the grad of every parameter with zeros (grads that are NULL stay NULL). */
    tt_status (*optimizer_zero_grad)(tt_optimizer* opt);
    tt_status (*optimizer_set_lr)(tt_optimizer* opt, float lr);
    tt_status (*optimizer_get_lr)(const tt_optimizer* opt, float* out_lr);
    /* Borrowed view of state slot `slot` (SGD: 0 = momentum buffer; Adam: 0 = m,
     * 1 = v) of parameter `index`, created (zeros) if it does not exist yet;
     * NULL for a slot the optimizer does not have. Used to checkpoint state. */
    tt_status (*optimizer_state)(tt_optimizer* opt, int32_t index, int32_t slot,
                                 tt_tensor** out_state);
    /* Number of steps taken (Adam's t); settable to resume from a checkpoint. */
    tt_status (*optimizer_get_step)(const tt_optimizer* opt, int64_t* out_step);
    tt_status (*optimizer_set_step)(tt_optimizer* opt, int64_t step);
    /* Frees the optimizer and its state (not the parameters). NULL is a no-op. */
    tt_status (*optimizer_free)(tt_optimizer* opt);
} tt_optimizers_api;

const tt_module_descriptor* tt_entry_06_optimizers(void);

#ifdef __cplusplus
}
#endif
#endif /* TT_06_OPTIMIZERS_H */
