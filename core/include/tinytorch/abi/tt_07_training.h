/* Contributors: read docs/DEVELOPING.md and docs/solution-markers.md first. */
/*
 * tt_07_training.h - module 07 Training: the loop, evaluation, clipping,
 * learning-rate schedules and checkpoints. Needs 01, 04, 05 and 06.
 *
 * The model, loss and optimizer are given as callbacks (tt_train_callbacks):
 * the module writes the ORDER of a training step, the caller supplies the
 * pieces. Tensors a callback returns stay owned by the callback side and are
 * valid until that same callback is called again; the module never frees them.
 */
#ifndef TT_07_TRAINING_H
#define TT_07_TRAINING_H

#include "tt_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TT_TRAINING_MODULE_NUMBER 7u
#define TT_TRAINING_DEPS (TT_DEP(1) | TT_DEP(4) | TT_DEP(5) | TT_DEP(6))

typedef struct tt_train_callbacks {
    void* ctx;
    /* logits for the batch x; training != 0 selects training behaviour
     * (dropout, batch statistics). */
    tt_status (*forward)(void* ctx, const tt_tensor* x, int32_t training, tt_tensor** out_logits);
    /* scalar loss of logits against targets y */
    tt_status (*loss)(void* ctx, const tt_tensor* logits, const tt_tensor* y, tt_tensor** out_loss);
    /* back-propagate from the loss (fills the parameters' grads) */
    tt_status (*backward)(void* ctx, tt_tensor* loss);
    tt_status (*zero_grad)(void* ctx);
    tt_status (*optimizer_step)(void* ctx);
    tt_status (*set_lr)(void* ctx, float lr);
    /* next batch of the epoch; *has_batch = 0 when the epoch is over */
    tt_status (*next_batch)(void* ctx, tt_tensor** out_x, tt_tensor** out_y, int32_t* has_batch);
    /* optional (may be NULL): told after every training batch; a non-OK return
     * stops the epoch and is passed on (e.g. the user pressed Ctrl-C). */
    tt_status (*on_batch)(void* ctx, int64_t batch_index, float loss, float lr);
    /* the parameters, for gradient clipping */
    tt_tensor* const* params;
    int32_t n_params;
} tt_train_callbacks;

#define TT_SCHEDULE_CONSTANT ((int32_t)0)
#define TT_SCHEDULE_STEP     ((int32_t)1) /* lr = base * gamma^floor(step / step_size) */
#define TT_SCHEDULE_COSINE   ((int32_t)2) /* linear warmup, then cosine from base to min_lr */

typedef struct tt_lr_schedule {
    int32_t kind;
    float   base_lr;
    float   min_lr;        /* cosine: value reached at total_steps */
    float   gamma;         /* step */
    int64_t step_size;     /* step */
    int64_t warmup_steps;  /* cosine: lr rises linearly from 0 over these steps */
    int64_t total_steps;   /* cosine: warmup included */
} tt_lr_schedule;

typedef struct tt_step_result {
    float   loss;        /* the batch's mean loss */
    int64_t correct;     /* argmax(logits) == y */
    int64_t count;       /* samples in the batch */
    float   grad_norm;   /* global L2 norm before clipping */
} tt_step_result;

typedef struct tt_epoch_result {
    double  mean_loss;   /* sample-weighted mean over the epoch */
    int64_t correct;
    int64_t count;
    int64_t batches;
} tt_epoch_result;

/* Checkpoint file: little-endian, "TTCKPT\0\0" magic, u32 version (1), u32
 * count, then per tensor: u32 name length, name bytes, u32 ndim, i64 shape[ndim],
 * f32 data[numel]; finally u32 CRC-32 of every byte before it. Written to a
 * temporary file in the same directory and renamed over the target, so a
 * crash never leaves a half-written checkpoint. */
#define TT_CHECKPOINT_VERSION 1u

typedef struct tt_training_api {
    /* zero_grad -> forward(training) -> loss -> backward -> clip (if
     * max_grad_norm > 0) -> optimizer_step. A NaN/Inf loss is TT_NUMERIC_ERROR
     * (checked before backward, nothing updated). */
    tt_status (*train_step)(const tt_train_callbacks* cb, const tt_tensor* x, const tt_tensor* y,
                            float max_grad_norm, tt_step_result* out);
    /* Every batch of next_batch: set_lr(schedule at *global_step) -> train_step
     * -> on_batch -> ++*global_step. schedule may be NULL (lr untouched). */
    tt_status (*train_epoch)(const tt_train_callbacks* cb, const tt_lr_schedule* schedule,
                             float max_grad_norm, int64_t* global_step, tt_epoch_result* out);
    /* Every batch of next_batch with grad mode off and training = 0: loss and
     * accuracy, no parameter touched. */
    tt_status (*evaluate)(const tt_train_callbacks* cb, tt_epoch_result* out);
    /* logits [N, C], targets [N] class indices: count of argmax == target. */
    tt_status (*accuracy)(const tt_tensor* logits, const tt_tensor* targets, int64_t* out_correct);
    /* Global L2 norm over every grad; if it exceeds max_norm, scale every grad
     * by max_norm / (norm + 1e-6). Params with a NULL grad are skipped. */
    tt_status (*clip_grad_norm)(tt_tensor* const* params, int32_t n_params, float max_norm,
                                float* out_total_norm);
    /* learning rate at `step` (0-based) */
    tt_status (*schedule_lr)(const tt_lr_schedule* schedule, int64_t step, float* out_lr);
    /* Save tensors[i] under names[i] (format above; atomic). */
    tt_status (*checkpoint_save)(const char* path, int32_t count, const char* const* names,
                                 const tt_tensor* const* tensors);
    /* Load into existing tensors: every names[i] must be in the file with the
     * same shape as tensors[i]. Bad magic, version, CRC, truncation, missing
     * name or shape mismatch: TT_CORRUPT_DATA / TT_SHAPE_MISMATCH with a message,
     * and no tensor is modified. */
    tt_status (*checkpoint_load)(const char* path, int32_t count, const char* const* names,
                                 tt_tensor* const* tensors);
} tt_training_api;

const tt_module_descriptor* tt_entry_07_training(void);

#ifdef __cplusplus
}
#endif
#endif /* TT_07_TRAINING_H */
