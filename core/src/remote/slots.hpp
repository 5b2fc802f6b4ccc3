// slots.hpp - every function slot of every module table, in table order, with
// its argument signature: the one list the loader (slot names), the proxy
// tables (trusted side) and the worker (calls by slot index) are built from.
// Appending a function to a table means appending one line here.
//
// Signature: one token per C argument, separated by spaces.
//   t          const tt_tensor* input (NULL allowed)
//   m          tt_tensor* changed in place (its data and grad come back)
//   x          tt_tensor* the function frees (tensor->free)
//   o          tt_tensor** out: a new tensor the caller owns
//   b          tt_tensor** out: a borrowed view owned by the call's handle
//   i32 i64 u64 f32                       plain values
//   *i32 *i64 *f32                        one value written through a pointer
//   &i64       int64_t* read and written
//   shape@N    const int64_t[arg N]       (the count is argument N)
//   data@N     const float[numel of the shape at argument N]
//   f32s@N     const float[arg N]
//   *i64s@N    int64_t[arg N] written
//   rng        tt_rng* read and written
//   h          an opaque handle;  H  a handle created (out);  hfree  a handle freed
//   params@N   tt_tensor* const[arg N] the created handle keeps and updates
//   ms@N       tt_tensor* const[arg N] changed in place
//   ts@N       const tt_tensor* const[arg N]
//   str        const char*;   strs@N   const char* const[arg N]
//   pod:NAME   const struct NAME* input;  *pod:NAME  struct NAME* output
//   graph      tt_tensor* root of a recorded graph (the engine walks it)
//   cb         const tt_train_callbacks* (calls come back to the caller)
#pragma once

#define TT_SLOTS_01(X)                                   \
    X(tt_tensor_api, create, "shape@1 i32 o")            \
    X(tt_tensor_api, from_data, "data@1 shape@2 i32 o")  \
    X(tt_tensor_api, free, "x")                          \
    X(tt_tensor_api, copy, "t o")                        \
    X(tt_tensor_api, reshape, "t shape@2 i32 o")         \
    X(tt_tensor_api, transpose, "t i32 i32 o")           \
    X(tt_tensor_api, add, "t t o")                       \
    X(tt_tensor_api, sub, "t t o")                       \
    X(tt_tensor_api, mul, "t t o")                       \
    X(tt_tensor_api, div, "t t o")                       \
    X(tt_tensor_api, add_scalar, "t f32 o")              \
    X(tt_tensor_api, sub_scalar, "t f32 o")              \
    X(tt_tensor_api, mul_scalar, "t f32 o")              \
    X(tt_tensor_api, div_scalar, "t f32 o")              \
    X(tt_tensor_api, matmul, "t t o")                    \
    X(tt_tensor_api, sum, "t i32 i32 o")                 \
    X(tt_tensor_api, mean, "t i32 i32 o")                \
    X(tt_tensor_api, max, "t i32 i32 o")                 \
    X(tt_tensor_api, argmax, "t i32 i32 o")              \
    X(tt_tensor_api, empty, "shape@1 i32 o")

#define TT_SLOTS_02(X)                          \
    X(tt_activations_api, relu, "t o")          \
    X(tt_activations_api, sigmoid, "t o")       \
    X(tt_activations_api, tanh, "t o")          \
    X(tt_activations_api, gelu, "t o")          \
    X(tt_activations_api, softmax, "t i32 o")

#define TT_SLOTS_03(X)                                   \
    X(tt_layers_api, linear_init, "i64 i64 i32 o o")     \
    X(tt_layers_api, linear_forward, "t t t o")          \
    X(tt_layers_api, dropout_forward, "t f32 i32 o o")

#define TT_SLOTS_04(X)                                  \
    X(tt_losses_api, mse, "t t o")                      \
    X(tt_losses_api, log_softmax, "t i32 o")            \
    X(tt_losses_api, cross_entropy, "t t o")            \
    X(tt_losses_api, binary_cross_entropy, "t t o")

#define TT_SLOTS_05(X)                                                 \
    X(tt_autograd_api, add_backward, "t t t o o")                      \
    X(tt_autograd_api, sub_backward, "t t t o o")                      \
    X(tt_autograd_api, mul_backward, "t t t o o")                      \
    X(tt_autograd_api, div_backward, "t t t o o")                      \
    X(tt_autograd_api, add_scalar_backward, "t o")                     \
    X(tt_autograd_api, mul_scalar_backward, "f32 t o")                 \
    X(tt_autograd_api, div_scalar_backward, "f32 t o")                 \
    X(tt_autograd_api, matmul_backward, "t t t o o")                   \
    X(tt_autograd_api, reshape_backward, "t t o")                      \
    X(tt_autograd_api, transpose_backward, "i32 i32 t o")              \
    X(tt_autograd_api, sum_backward, "t i32 i32 t o")                  \
    X(tt_autograd_api, mean_backward, "t i32 i32 t o")                 \
    X(tt_autograd_api, max_backward, "t i32 i32 t o")                  \
    X(tt_autograd_api, relu_backward, "t t o")                         \
    X(tt_autograd_api, sigmoid_backward, "t t o")                      \
    X(tt_autograd_api, tanh_backward, "t t o")                         \
    X(tt_autograd_api, gelu_backward, "t t o")                         \
    X(tt_autograd_api, softmax_backward, "t i32 t o")                  \
    X(tt_autograd_api, linear_backward, "t t t o o o")                 \
    X(tt_autograd_api, dropout_backward, "t t o")                      \
    X(tt_autograd_api, mse_backward, "t t t o o")                      \
    X(tt_autograd_api, log_softmax_backward, "t i32 t o")              \
    X(tt_autograd_api, cross_entropy_backward, "t t t o")              \
    X(tt_autograd_api, binary_cross_entropy_backward, "t t t o")       \
    X(tt_autograd_api, backward, "graph t")                            \
    X(tt_autograd_api, set_grad_enabled, "i32 *i32")                   \
    X(tt_autograd_api, is_grad_enabled, "*i32")

#define TT_SLOTS_06(X)                                                       \
    X(tt_optimizers_api, optimizer_create, "pod:optimizer_config params@2 i32 H") \
    X(tt_optimizers_api, optimizer_step, "h")                                \
    X(tt_optimizers_api, optimizer_zero_grad, "h")                           \
    X(tt_optimizers_api, optimizer_set_lr, "h f32")                          \
    X(tt_optimizers_api, optimizer_get_lr, "h *f32")                         \
    X(tt_optimizers_api, optimizer_state, "h i32 i32 b")                     \
    X(tt_optimizers_api, optimizer_get_step, "h *i64")                       \
    X(tt_optimizers_api, optimizer_set_step, "h i64")                        \
    X(tt_optimizers_api, optimizer_free, "hfree")

#define TT_SLOTS_07(X)                                                          \
    X(tt_training_api, train_step, "cb t t f32 *pod:step_result")               \
    X(tt_training_api, train_epoch, "cb pod:lr_schedule f32 &i64 *pod:epoch_result") \
    X(tt_training_api, evaluate, "cb *pod:epoch_result")                        \
    X(tt_training_api, accuracy, "t t *i64")                                    \
    X(tt_training_api, clip_grad_norm, "ms@1 i32 f32 *f32")                     \
    X(tt_training_api, schedule_lr, "pod:lr_schedule i64 *f32")                 \
    X(tt_training_api, checkpoint_save, "str i32 strs@1 ts@1")                  \
    X(tt_training_api, checkpoint_load, "str i32 strs@1 ms@1")

#define TT_SLOTS_08(X)                                                    \
    X(tt_dataloader_api, shuffle_indices, "i64 u64 *i64s@0")              \
    X(tt_dataloader_api, loader_create, "t t i64 i32 i32 u64 H")          \
    X(tt_dataloader_api, loader_num_batches, "h *i64")                    \
    X(tt_dataloader_api, loader_start_epoch, "h i64")                     \
    X(tt_dataloader_api, loader_next, "h o o *i32")                       \
    X(tt_dataloader_api, loader_free, "hfree")                            \
    X(tt_dataloader_api, random_hflip, "t f32 rng o")                     \
    X(tt_dataloader_api, random_crop, "t i32 rng o")                      \
    X(tt_dataloader_api, normalize, "t f32s@3 f32s@3 i32 o")

#define TT_SLOTS_09(X)                                                                   \
    X(tt_spatial_api, conv2d_init, "i64 i64 i64 i64 o o")                                \
    X(tt_spatial_api, conv2d_forward, "t t t i32 i32 o")                                 \
    X(tt_spatial_api, conv2d_backward, "t t t i32 i32 o o o")                            \
    X(tt_spatial_api, maxpool2d_forward, "t i32 i32 o o")                                \
    X(tt_spatial_api, maxpool2d_backward, "t t t i32 i32 o")                             \
    X(tt_spatial_api, avgpool2d_forward, "t i32 i32 o")                                  \
    X(tt_spatial_api, avgpool2d_backward, "t t i32 i32 o")                               \
    X(tt_spatial_api, batchnorm2d_forward, "t t t m m i32 f32 f32 o o o")                \
    X(tt_spatial_api, batchnorm2d_backward, "t t t t i32 t o o o")                       \
    X(tt_spatial_api, flatten, "t o")                                                    \
    X(tt_spatial_api, batchnorm2d_relu_forward, "t t t m m i32 f32 f32 o o o")           \
    X(tt_spatial_api, batchnorm2d_relu_backward, "t t t t t i32 t o o o")                \
    X(tt_spatial_api, batchnorm2d_relu_maxpool2d_forward, "t t t m m i32 f32 f32 i32 i32 o o o o") \
    X(tt_spatial_api, batchnorm2d_relu_maxpool2d_backward, "t t t t t t i32 i32 i32 t o o o")
