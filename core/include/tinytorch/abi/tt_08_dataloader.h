/* Contributors: read docs/DEVELOPING.md and docs/solution-markers.md first. */
/*
 * tt_08_dataloader.h - module 08 DataLoader: batching, seeded shuffling and
 * image transforms. Needs module 01.
 * Images are NCHW: [batch, channels, height, width].
 */
#ifndef TT_08_DATALOADER_H
#define TT_08_DATALOADER_H

#include "tt_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TT_DATALOADER_MODULE_NUMBER 8u
#define TT_DATALOADER_DEPS (TT_DEP(1))

typedef struct tt_dataloader tt_dataloader;

typedef struct tt_dataloader_api {
    /* Fisher-Yates permutation of 0..n-1 into out_indices[0..n), from a
     * generator seeded with `seed` (host->rng_seed): same seed, same order. */
    tt_status (*shuffle_indices)(int64_t n, uint64_t seed, int64_t* out_indices);

    /* out: new loader over samples x [N, ...] and y [N, ...] (borrowed: they
     * must outlive the loader; equal N required). Release with loader_free. */
    tt_status (*loader_create)(const tt_tensor* x, const tt_tensor* y, int64_t batch_size,
                               int32_t shuffle, int32_t drop_last, uint64_t seed,
                               tt_dataloader** out);
    /* batches per epoch: ceil(N / batch) or floor when drop_last */
    tt_status (*loader_num_batches)(const tt_dataloader* loader, int64_t* out_count);
    /* Rewind; with shuffle the order is shuffle_indices(N, seed + epoch). */
    tt_status (*loader_start_epoch)(tt_dataloader* loader, int64_t epoch);
    /* out_x, out_y: new tensors [B, ...] (caller frees) for the next batch,
     * *has_batch = 1; at the end of the epoch *has_batch = 0 and both NULL. */
    tt_status (*loader_next)(tt_dataloader* loader, tt_tensor** out_x, tt_tensor** out_y,
                             int32_t* has_batch);
    tt_status (*loader_free)(tt_dataloader* loader);

    /* ---- transforms on NCHW batches; rng NULL means host->global_rng ---- */

    /* Each image, independently with probability p, mirrored left-right:
     * for image n = 0, 1, ... draw u = host->rng_uniform(rng), ONE draw per
     * image whatever p is (0 and 1 too); mirror the image when u < p. */
    tt_status (*random_hflip)(const tt_tensor* x, float p, tt_rng* rng, tt_tensor** out);
    /* Each image zero-padded by `padding` on all four sides, then an HxW window
     * at a uniformly random offset (0..2*padding each way) cut out. Draws, for
     * image n = 0, 1, ...: oy = host->rng_next(rng) % (2*padding + 1), then
     * ox the same way (exactly two per image); out[n, c, i, j] =
     * x[n, c, i + oy - padding, j + ox - padding], 0 outside the image. */
    tt_status (*random_crop)(const tt_tensor* x, int32_t padding, tt_rng* rng, tt_tensor** out);
    /* (x[:, c] - mean[c]) / std[c]; mean/std have `channels` == C entries. */
    tt_status (*normalize)(const tt_tensor* x, const float* mean, const float* std,
                           int32_t channels, tt_tensor** out);
} tt_dataloader_api;

const tt_module_descriptor* tt_entry_08_dataloader(void);

#ifdef __cplusplus
}
#endif
#endif /* TT_08_DATALOADER_H */
