/* Contributors: read docs/DEVELOPING.md and docs/solution-markers.md first. */
/*
 * tt_05_autograd.h - module 05 Autograd: backward rules and the engine.
 *
 * A backward rule gets the forward inputs (borrowed) and grad = d(loss)/d(out),
 * and writes d(loss)/d(input) into each requested output. An output pointer
 * that is NULL means "not needed" and must be skipped; a non-NULL one receives
 * a NEW tensor shaped exactly like that input (un-broadcast: summed back over
 * the axes broadcasting added or stretched). Caller frees with tensor->free.
 * Scalar losses: `grad` is a scalar tensor (ndim 0).
 *
 * The core records the graph (tt_node) as ops run and points every node at
 * one of these rules; the engine (`backward`) walks the graph. Needs 01-04.
 */
#ifndef TT_05_AUTOGRAD_H
#define TT_05_AUTOGRAD_H

#include "tt_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TT_AUTOGRAD_MODULE_NUMBER 5u
#define TT_AUTOGRAD_DEPS (TT_DEP(1) | TT_DEP(2) | TT_DEP(3) | TT_DEP(4))

typedef struct tt_autograd_api {
    /* ---- module 01 ops ------------------------------------------------------ */
    tt_status (*add_backward)(const tt_tensor* a, const tt_tensor* b, const tt_tensor* grad,
                              tt_tensor** out_grad_a, tt_tensor** out_grad_b);
    tt_status (*sub_backward)(const tt_tensor* a, const tt_tensor* b, const tt_tensor* grad,
                              tt_tensor** out_grad_a, tt_tensor** out_grad_b);
    tt_status (*mul_backward)(const tt_tensor* a, const tt_tensor* b, const tt_tensor* grad,
                              tt_tensor** out_grad_a, tt_tensor** out_grad_b);
    tt_status (*div_backward)(const tt_tensor* a, const tt_tensor* b, const tt_tensor* grad,
                              tt_tensor** out_grad_a, tt_tensor** out_grad_b);
    /* out = a + s and out = a - s: d/da is the identity. */
    tt_status (*add_scalar_backward)(const tt_tensor* grad, tt_tensor** out_grad_a);
    /* out = a * s: grad * s.   out = a / s: grad / s. */
    tt_status (*mul_scalar_backward)(float s, const tt_tensor* grad, tt_tensor** out_grad_a);
    tt_status (*div_scalar_backward)(float s, const tt_tensor* grad, tt_tensor** out_grad_a);
    /* out = a @ b with batch broadcasting: grad_a = grad @ b^T, grad_b = a^T @ grad,
     * each summed over the batch dims its input did not have. */
    tt_status (*matmul_backward)(const tt_tensor* a, const tt_tensor* b, const tt_tensor* grad,
                                 tt_tensor** out_grad_a, tt_tensor** out_grad_b);
    tt_status (*reshape_backward)(const tt_tensor* a, const tt_tensor* grad, tt_tensor** out_grad_a);
    tt_status (*transpose_backward)(int32_t dim0, int32_t dim1, const tt_tensor* grad,
                                    tt_tensor** out_grad_a);
    tt_status (*sum_backward)(const tt_tensor* a, int32_t axis, int32_t keepdims,
                              const tt_tensor* grad, tt_tensor** out_grad_a);
    tt_status (*mean_backward)(const tt_tensor* a, int32_t axis, int32_t keepdims,
                               const tt_tensor* grad, tt_tensor** out_grad_a);
    /* The gradient flows to the first maximum only (the one argmax picks). */
    tt_status (*max_backward)(const tt_tensor* a, int32_t axis, int32_t keepdims,
                              const tt_tensor* grad, tt_tensor** out_grad_a);

    /* ---- module 02 ops: `x` is the input, `y` the forward output ----------- */
    /* grad where x > 0, 0 where x <= 0 (x == 0 included, as in PyTorch); a
     * NaN x lets its grad through, so a NaN is not hidden. */
    tt_status (*relu_backward)(const tt_tensor* x, const tt_tensor* grad, tt_tensor** out_grad_x);
    tt_status (*sigmoid_backward)(const tt_tensor* y, const tt_tensor* grad, tt_tensor** out_grad_x);
    tt_status (*tanh_backward)(const tt_tensor* y, const tt_tensor* grad, tt_tensor** out_grad_x);
    tt_status (*gelu_backward)(const tt_tensor* x, const tt_tensor* grad, tt_tensor** out_grad_x);
    tt_status (*softmax_backward)(const tt_tensor* y, int32_t axis, const tt_tensor* grad,
                                  tt_tensor** out_grad_x);

    /* ---- module 03 ops ------------------------------------------------------ */
    /* out = x . W + b (x [..., in], W [in, out], b [out] or NULL). */
    tt_status (*linear_backward)(const tt_tensor* x, const tt_tensor* weight, const tt_tensor* grad,
                                 tt_tensor** out_grad_x, tt_tensor** out_grad_weight,
                                 tt_tensor** out_grad_bias);
    /* out = x * mask. */
    tt_status (*dropout_backward)(const tt_tensor* mask, const tt_tensor* grad, tt_tensor** out_grad_x);

    /* ---- module 04 ops (grad is the scalar d(loss)/d(out)) ------------------ */
    tt_status (*mse_backward)(const tt_tensor* pred, const tt_tensor* target, const tt_tensor* grad,
                              tt_tensor** out_grad_pred, tt_tensor** out_grad_target);
    tt_status (*log_softmax_backward)(const tt_tensor* y, int32_t axis, const tt_tensor* grad,
                                      tt_tensor** out_grad_x);
    tt_status (*cross_entropy_backward)(const tt_tensor* logits, const tt_tensor* targets,
                                        const tt_tensor* grad, tt_tensor** out_grad_logits);
    /* The gradient of the clamped loss (tt_04_losses.h): grad (p - t) / (p (1 - p)) / n
     * where TT_BCE_EPS <= p <= 1 - TT_BCE_EPS, and 0 where p lies beyond
     * (p = 0 or 1 included): there the clamped p, hence the loss, does not
     * change with p. */
    tt_status (*binary_cross_entropy_backward)(const tt_tensor* probs, const tt_tensor* targets,
                                               const tt_tensor* grad, tt_tensor** out_grad_probs);

    /* ---- the engine ---------------------------------------------------------- */

    /* Back-propagate from `root`. grad_seed: d(loss)/d(root), borrowed; NULL
     * means ones (then root must have numel 1). Visits the graph (root->grad_fn,
     * node->inputs[i]->grad_fn, ...) in reverse topological order WITHOUT
     * recursion, calls node->backward once per node, sums the gradients of a
     * tensor that feeds several nodes, and adds the final gradient of every
     * leaf (grad_fn == NULL) with requires_grad into leaf->grad (creating it
     * when NULL, accumulating across calls otherwise). Intermediate gradients
     * are freed before returning. The core releases the graph afterwards. */
    tt_status (*backward)(tt_tensor* root, const tt_tensor* grad_seed);

    /* Grad mode: while disabled the core records no graph. *out_previous (may
     * be NULL) receives the previous setting so scopes can nest. */
    tt_status (*set_grad_enabled)(int32_t enabled, int32_t* out_previous);
    tt_status (*is_grad_enabled)(int32_t* out_enabled);
} tt_autograd_api;

const tt_module_descriptor* tt_entry_05_autograd(void);

#ifdef __cplusplus
}
#endif
#endif /* TT_05_AUTOGRAD_H */
