/*
 * tt_common.h - the stable C ABI shared by every TinyTorch module.
 *
 * Every module library (01_tensor ... 09_spatial, student or reference) exports
 * exactly ONE symbol, its entry point:
 *
 *     const tt_module_descriptor* tt_entry_NN_name(void);
 *
 * The descriptor names the module, its variant, the ABI version it was built
 * against, the modules it depends on, an init function and its function table.
 * The core loader checks all of that, then calls init() with a host table
 * (tt_host) that carries the host services (errors, memory, RNG, GEMM, threads)
 * and the function tables of the module's prerequisites. A module never links
 * another module: it reaches module 01 only through host->tensor.
 *
 * Rules that keep this ABI stable (see docs/abi.md):
 *  - only C types cross the boundary; no C++ types, no exceptions;
 *  - every function returns a tt_status; the human-readable message goes
 *    through host->set_error;
 *  - function tables are append-only: a new function goes at the end and bumps
 *    TT_ABI_MINOR; removing or reordering anything bumps TT_ABI_MAJOR;
 *  - ownership is written on every function ("out: new tensor, caller frees
 *    with tensor->free").
 *
 * This header compiles as C11 and as C++ (tests/abi/c11_headers.c proves it).
 */
#ifndef TT_COMMON_H
#define TT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- versions */

/* Major: incompatible change (loader refuses a mismatch). Minor: functions
 * appended to a table (a library with a bigger table still loads). */
#define TT_ABI_MAJOR 1u
#define TT_ABI_MINOR 2u  /* 1.1: tensor->empty; 1.2: spatial->batchnorm2d_relu_* */
#define TT_ABI_VERSION ((TT_ABI_MAJOR << 16) | TT_ABI_MINOR)

/* ------------------------------------------------------------ status codes */

/* Fixed width: status codes cross the ABI as int32_t, never as a C enum whose
 * size the compiler picks. */
typedef int32_t tt_status;
#define TT_OK                  ((tt_status)0)
#define TT_NOT_IMPLEMENTED     ((tt_status)1)  /* a student stub */
#define TT_INVALID_ARGUMENT    ((tt_status)2)  /* NULL pointer, bad flag value */
#define TT_SHAPE_MISMATCH      ((tt_status)3)  /* shapes that cannot combine */
#define TT_OUT_OF_MEMORY       ((tt_status)4)
#define TT_IO_ERROR            ((tt_status)5)  /* file missing, unreadable, unwritable */
#define TT_CORRUPT_DATA        ((tt_status)6)  /* bad magic, bad CRC, truncated file */
#define TT_NUMERIC_ERROR       ((tt_status)7)  /* NaN/Inf where a number is required */
#define TT_MISSING_DEPENDENCY  ((tt_status)8)  /* a prerequisite table is not loaded */
#define TT_INTERNAL_ERROR      ((tt_status)9)  /* a C++ exception caught at the boundary */

/* ------------------------------------------------------------------ tensor */

#define TT_MAX_DIMS 8

/* Passed as `axis` to the reductions of module 01 to reduce over every axis. */
#define TT_AXIS_ALL INT32_MIN

struct tt_node;

/*
 * A dense float32 tensor: contiguous, row-major, `numel` floats at `data`.
 *   shape[0..ndim-1] are the sizes; ndim == 0 is a scalar with numel == 1.
 *   Allocation and release belong to module 01 (tensor->create, tensor->free):
 *   the struct and `data` come from host->alloc; `free` also frees `grad`.
 *
 * Autograd fields (dormant until module 05):
 *   requires_grad - 1 if gradients should flow to this tensor;
 *   grad          - d(loss)/d(this), same shape; owned by this tensor, created
 *                   by the autograd engine, freed together with the tensor;
 *   grad_fn       - the graph node that produced this tensor, or NULL for a
 *                   leaf. Owned by the core's tape, never freed by modules.
 */
typedef struct tt_tensor {
    float*          data;
    int64_t         shape[TT_MAX_DIMS];
    int32_t         ndim;
    int32_t         requires_grad;
    int64_t         numel;
    struct tt_tensor* grad;
    struct tt_node* grad_fn;
} tt_tensor;

/* ----------------------------------------------------------- autograd node */

#define TT_NODE_MAX_INPUTS 4

/*
 * A backward rule as the engine sees it. Given the node and d(loss)/d(output),
 * it writes into grad_inputs[i] (for i < node->n_inputs) a NEW tensor with
 * d(loss)/d(inputs[i]), shaped like inputs[i], or NULL when that input does not
 * require grad. The engine owns (and frees with tensor->free) what it gets back.
 */
typedef tt_status (*tt_backward_fn)(const struct tt_node* node,
                                    const tt_tensor* grad_output,
                                    tt_tensor** grad_inputs);

/*
 * One recorded operation. The core creates nodes when an op runs on an input
 * that requires grad (and grad mode is on); the engine in module 05 walks them
 * from the loss back to the leaves. Nodes are owned by the core.
 */
typedef struct tt_node {
    const char*    op_name;                       /* "add", "conv2d", ... */
    int32_t        n_inputs;
    tt_tensor*     inputs[TT_NODE_MAX_INPUTS];    /* kept alive by the core */
    tt_backward_fn backward;
    void*          core_ctx;                      /* the core's private data */
} tt_node;

/* ------------------------------------------------------------- host table */

/* State of a xoshiro256** generator; seed it with host->rng_seed. */
typedef struct tt_rng {
    uint64_t s[4];
} tt_rng;

/* A body for host->parallel_for: process items [begin, end). */
typedef void (*tt_parallel_body)(void* ctx, int64_t begin, int64_t end);

struct tt_tensor_api;
struct tt_activations_api;
struct tt_layers_api;
struct tt_losses_api;
struct tt_autograd_api;
struct tt_optimizers_api;
struct tt_training_api;
struct tt_dataloader_api;
struct tt_spatial_api;

/*
 * Services the core gives every module at init. Valid for the life of the
 * process (modules are never unloaded). The dependency tables are set only for
 * the modules named in the descriptor's deps_mask; everything else is NULL.
 */
typedef struct tt_host {
    uint32_t abi_version;   /* TT_ABI_VERSION of the core */
    uint32_t struct_size;   /* sizeof(tt_host) as the core was compiled */

    /* Report why a call failed. `function` names the API function, `message`
     * says what went wrong and how to fix it. Copies both; returns `status`
     * so a module can write: return host->set_error(...). */
    tt_status (*set_error)(int32_t module_number, tt_status status,
                           const char* function, const char* message);

    /* Memory: 64-byte aligned, uninitialised, NULL when out of memory.
     * Release with host->release (never with free()). Cheap: freed blocks are
     * kept for reuse, so allocating per op in a training loop is fine. */
    void* (*alloc)(size_t bytes);
    void  (*release)(void* ptr);

    /* Randomness: xoshiro256**. global_rng is seeded once from --seed; weight
     * init and dropout draw from it so a run is reproducible per seed. */
    void     (*rng_seed)(tt_rng* rng, uint64_t seed);
    uint64_t (*rng_next)(tt_rng* rng);
    float    (*rng_uniform)(tt_rng* rng);   /* [0, 1) */
    tt_rng*  global_rng;

    /* Row-major single-precision GEMM (BLAS semantics):
     *   C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C
     * op(X) is X or X^T per trans_a / trans_b (0 or 1). lda/ldb/ldc are the
     * row strides of A, B, C as stored. */
    void (*sgemm)(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k,
                  float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                  float beta, float* c, int64_t ldc);

    /* Run body over [0, n) split into chunks on the core's thread pool; returns
     * when all chunks are done. `grain` is the smallest chunk worth a thread. */
    void (*parallel_for)(int64_t n, int64_t grain, tt_parallel_body body, void* ctx);
    int32_t (*num_threads)(void);

    /* zlib's CRC-32 (start with crc = 0). */
    uint32_t (*crc32)(uint32_t crc, const void* data, size_t n);

    /* Tables of the loaded prerequisites (NULL unless in deps_mask). */
    const struct tt_tensor_api*      tensor;       /* 01 */
    const struct tt_activations_api* activations;  /* 02 */
    const struct tt_layers_api*      layers;       /* 03 */
    const struct tt_losses_api*      losses;       /* 04 */
    const struct tt_autograd_api*    autograd;     /* 05 */
    const struct tt_optimizers_api*  optimizers;   /* 06 */
    const struct tt_training_api*    training;     /* 07 */
    const struct tt_dataloader_api*  dataloader;   /* 08 */
    const struct tt_spatial_api*     spatial;      /* 09 */
} tt_host;

/* ------------------------------------------------------- module descriptor */

#define TT_VARIANT_STUDENT   ((int32_t)0)
#define TT_VARIANT_REFERENCE ((int32_t)1)
/* The same functions as the reference, tuned for speed (only the modules
 * whose speed work lives apart from the readable reference: module 09). */
#define TT_VARIANT_FAST      ((int32_t)2)

/* Bit for module n in deps_mask. */
#define TT_DEP(n) (1u << (n))

typedef struct tt_module_descriptor {
    uint32_t    abi_version;      /* TT_ABI_VERSION the module was built with */
    uint32_t    module_number;    /* 1 .. 9 */
    const char* module_name;      /* "tensor", "activations", ... */
    int32_t     variant;          /* TT_VARIANT_STUDENT, _REFERENCE or _FAST */
    uint32_t    deps_mask;        /* TT_DEP(1) | TT_DEP(2) ... */
    /* Called once by the loader, before any table function. `host` lives as
     * long as the process. */
    tt_status (*init)(const tt_host* host);
    uint32_t    api_struct_size;  /* sizeof(the module's table) as compiled */
    const void* api;              /* const tt_tensor_api*, ... per module */
} tt_module_descriptor;

/* The entry point every module exports, under its own name:
 *   tt_entry_01_tensor, tt_entry_02_activations, ... tt_entry_09_spatial. */
typedef const tt_module_descriptor* (*tt_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TT_COMMON_H */
