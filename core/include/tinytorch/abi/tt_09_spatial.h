/* Contributors: read docs/DEVELOPING.md and docs/solution-markers.md first. */
/*
 * tt_09_spatial.h - module 09 Spatial: convolution, pooling, batch norm.
 * Images are NCHW: [batch, channels, height, width], contiguous float32.
 * Output size of a window op: out = (in + 2*padding - kernel) / stride + 1.
 * Ownership: inputs borrowed; each non-NULL `tt_tensor** out*` receives a NEW
 * tensor (caller frees); in backward functions a NULL out pointer means "not
 * needed". Needs module 01. Backward rules are called by the engine of 05.
 */
#ifndef TT_09_SPATIAL_H
#define TT_09_SPATIAL_H

#include "tt_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TT_SPATIAL_MODULE_NUMBER 9u
#define TT_SPATIAL_DEPS (TT_DEP(1))

typedef struct tt_spatial_api {
    /* w: new [out_ch, in_ch, kh, kw], b: new [out_ch], both U(-k, k) with
     * k = 1/sqrt(in_ch*kh*kw) from host->global_rng (PyTorch's default). */
    tt_status (*conv2d_init)(int64_t out_channels, int64_t in_channels, int64_t kh, int64_t kw,
                             tt_tensor** out_weight, tt_tensor** out_bias);
    /* x [N,C,H,W] * w [O,C,KH,KW] (+ b [O], may be NULL) -> out [N,O,OH,OW]
     * (cross-correlation, as every framework computes "convolution"). */
    tt_status (*conv2d_forward)(const tt_tensor* x, const tt_tensor* weight, const tt_tensor* bias,
                                int32_t stride, int32_t padding, tt_tensor** out);
    tt_status (*conv2d_backward)(const tt_tensor* x, const tt_tensor* weight, const tt_tensor* grad,
                                 int32_t stride, int32_t padding, tt_tensor** out_grad_x,
                                 tt_tensor** out_grad_weight, tt_tensor** out_grad_bias);

    /* out [N,C,OH,OW] = max over each window (no padding). out_indices (same
     * shape) holds, as a float, the flat position h*W + w in the input plane of
     * the maximum; ties go to the first in row-major window order. */
    tt_status (*maxpool2d_forward)(const tt_tensor* x, int32_t kernel, int32_t stride,
                                   tt_tensor** out, tt_tensor** out_indices);
    /* grad routed to the recorded positions (summed where windows overlap). */
    tt_status (*maxpool2d_backward)(const tt_tensor* x, const tt_tensor* indices, const tt_tensor* grad,
                                    int32_t kernel, int32_t stride, tt_tensor** out_grad_x);
    tt_status (*avgpool2d_forward)(const tt_tensor* x, int32_t kernel, int32_t stride, tt_tensor** out);
    tt_status (*avgpool2d_backward)(const tt_tensor* x, const tt_tensor* grad, int32_t kernel,
                                    int32_t stride, tt_tensor** out_grad_x);

    /* Training: normalise with the batch mean and biased variance over
     * (N, H, W) per channel, and update running_mean/running_var IN PLACE:
     * r = (1 - momentum) r + momentum * batch_stat (the unbiased variance for
     * running_var, as PyTorch). Eval: normalise with the running statistics.
     * y = gamma * (x - mean) * invstd + beta, invstd = 1/sqrt(var + eps).
     * out_saved_mean / out_saved_invstd: new [C], what was used (for backward). */
    tt_status (*batchnorm2d_forward)(const tt_tensor* x, const tt_tensor* gamma, const tt_tensor* beta,
                                     tt_tensor* running_mean, tt_tensor* running_var,
                                     int32_t training, float momentum, float eps, tt_tensor** out,
                                     tt_tensor** out_saved_mean, tt_tensor** out_saved_invstd);
    /* training != 0: the mean and invstd depend on x (full batch-norm
     * gradient); training == 0: they are constants. */
    tt_status (*batchnorm2d_backward)(const tt_tensor* x, const tt_tensor* gamma,
                                      const tt_tensor* saved_mean, const tt_tensor* saved_invstd,
                                      int32_t training, const tt_tensor* grad, tt_tensor** out_grad_x,
                                      tt_tensor** out_grad_gamma, tt_tensor** out_grad_beta);
    /* [N, d1, d2, ...] -> [N, d1*d2*...] */
    tt_status (*flatten)(const tt_tensor* x, tt_tensor** out);

    /* ---- appended in ABI 1.2: batch norm fused with what follows it -------
     * A CNN block is Conv -> BatchNorm -> ReLU (-> MaxPool). Done apart, each
     * op writes a whole activation (megabytes) that the next one reads back,
     * in forward and again in backward; fused, the ReLU costs nothing extra
     * and the normalised activation before the pool is never stored. The
     * core uses these for a BatchNorm2d followed by a ReLU (and a MaxPool2d)
     * in a Sequential, and falls back to the separate ops when they return
     * TT_NOT_IMPLEMENTED. */

    /* out = max(0, batchnorm2d(x)); the same arguments, checks, running
     * statistics update and saved tensors as batchnorm2d_forward. */
    tt_status (*batchnorm2d_relu_forward)(const tt_tensor* x, const tt_tensor* gamma,
                                          const tt_tensor* beta, tt_tensor* running_mean,
                                          tt_tensor* running_var, int32_t training, float momentum,
                                          float eps, tt_tensor** out, tt_tensor** out_saved_mean,
                                          tt_tensor** out_saved_invstd);
    /* The gradients of out = max(0, batchnorm2d(x)). `out` is what
     * batchnorm2d_relu_forward returned: the gradient reaches the batch norm
     * only where out > 0. Otherwise as batchnorm2d_backward. */
    tt_status (*batchnorm2d_relu_backward)(const tt_tensor* x, const tt_tensor* gamma,
                                           const tt_tensor* saved_mean, const tt_tensor* saved_invstd,
                                           const tt_tensor* out, int32_t training,
                                           const tt_tensor* grad, tt_tensor** out_grad_x,
                                           tt_tensor** out_grad_gamma, tt_tensor** out_grad_beta);

    /* out = maxpool2d(max(0, batchnorm2d(x)), kernel, stride): the whole
     * Conv -> BatchNorm -> ReLU -> MaxPool tail in one op, the normalised
     * activation never written as a tensor. out_indices as maxpool2d_forward
     * (positions in x's planes); the running statistics and the saved tensors
     * as batchnorm2d_forward. */
    tt_status (*batchnorm2d_relu_maxpool2d_forward)(const tt_tensor* x, const tt_tensor* gamma,
                                                    const tt_tensor* beta, tt_tensor* running_mean,
                                                    tt_tensor* running_var, int32_t training,
                                                    float momentum, float eps, int32_t kernel,
                                                    int32_t stride, tt_tensor** out,
                                                    tt_tensor** out_indices, tt_tensor** out_saved_mean,
                                                    tt_tensor** out_saved_invstd);
    /* Its gradients: window w's gradient goes to the pixel indices[w] names
     * when out[w] > 0 (the ReLU let it through), then through the batch norm
     * as in batchnorm2d_backward. `out` and `indices` are what the forward
     * returned. */
    tt_status (*batchnorm2d_relu_maxpool2d_backward)(const tt_tensor* x, const tt_tensor* gamma,
                                                     const tt_tensor* saved_mean,
                                                     const tt_tensor* saved_invstd,
                                                     const tt_tensor* indices, const tt_tensor* out,
                                                     int32_t training, int32_t kernel, int32_t stride,
                                                     const tt_tensor* grad, tt_tensor** out_grad_x,
                                                     tt_tensor** out_grad_gamma,
                                                     tt_tensor** out_grad_beta);
} tt_spatial_api;

const tt_module_descriptor* tt_entry_09_spatial(void);

#ifdef __cplusplus
}
#endif
#endif /* TT_09_SPATIAL_H */
