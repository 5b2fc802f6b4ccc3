// slot_names.cpp - see slot_names.hpp. static_asserts keep these lists in step
// with the headers: adding a slot to a table without naming it here fails to compile.
#include "runtime/slot_names.hpp"

#include "tinytorch/runtime.hpp"

namespace tt::detail {
namespace {

const std::vector<const char*> k_tt_tensor_api_slots = {
    "create", "from_data", "free", "copy", "reshape", "transpose", "add", "sub", "mul", "div", "add_scalar", "sub_scalar", "mul_scalar", "div_scalar", "matmul", "sum", "mean", "max", "argmax", "empty",
};
static_assert(sizeof(tt_tensor_api) == 20 * sizeof(void*), "update the slot names of tt_tensor_api");

const std::vector<const char*> k_tt_activations_api_slots = {
    "relu", "sigmoid", "tanh", "gelu", "softmax",
};
static_assert(sizeof(tt_activations_api) == 5 * sizeof(void*), "update the slot names of tt_activations_api");

const std::vector<const char*> k_tt_layers_api_slots = {
    "linear_init", "linear_forward", "dropout_forward",
};
static_assert(sizeof(tt_layers_api) == 3 * sizeof(void*), "update the slot names of tt_layers_api");

const std::vector<const char*> k_tt_losses_api_slots = {
    "mse", "log_softmax", "cross_entropy", "binary_cross_entropy",
};
static_assert(sizeof(tt_losses_api) == 4 * sizeof(void*), "update the slot names of tt_losses_api");

const std::vector<const char*> k_tt_autograd_api_slots = {
    "add_backward", "sub_backward", "mul_backward", "div_backward", "add_scalar_backward", "mul_scalar_backward", "div_scalar_backward", "matmul_backward", "reshape_backward", "transpose_backward", "sum_backward", "mean_backward", "max_backward", "relu_backward", "sigmoid_backward", "tanh_backward", "gelu_backward", "softmax_backward", "linear_backward", "dropout_backward", "mse_backward", "log_softmax_backward", "cross_entropy_backward", "binary_cross_entropy_backward", "backward", "set_grad_enabled", "is_grad_enabled",
};
static_assert(sizeof(tt_autograd_api) == 27 * sizeof(void*), "update the slot names of tt_autograd_api");

const std::vector<const char*> k_tt_optimizers_api_slots = {
    "optimizer_create", "optimizer_step", "optimizer_zero_grad", "optimizer_set_lr", "optimizer_get_lr", "optimizer_state", "optimizer_get_step", "optimizer_set_step", "optimizer_free",
};
static_assert(sizeof(tt_optimizers_api) == 9 * sizeof(void*), "update the slot names of tt_optimizers_api");

const std::vector<const char*> k_tt_training_api_slots = {
    "train_step", "train_epoch", "evaluate", "accuracy", "clip_grad_norm", "schedule_lr", "checkpoint_save", "checkpoint_load",
};
static_assert(sizeof(tt_training_api) == 8 * sizeof(void*), "update the slot names of tt_training_api");

const std::vector<const char*> k_tt_dataloader_api_slots = {
    "shuffle_indices", "loader_create", "loader_num_batches", "loader_start_epoch", "loader_next", "loader_free", "random_hflip", "random_crop", "normalize",
};
static_assert(sizeof(tt_dataloader_api) == 9 * sizeof(void*), "update the slot names of tt_dataloader_api");

const std::vector<const char*> k_tt_spatial_api_slots = {
    "conv2d_init", "conv2d_forward", "conv2d_backward", "maxpool2d_forward", "maxpool2d_backward", "avgpool2d_forward", "avgpool2d_backward", "batchnorm2d_forward", "batchnorm2d_backward", "flatten", "batchnorm2d_relu_forward", "batchnorm2d_relu_backward", "batchnorm2d_relu_maxpool2d_forward", "batchnorm2d_relu_maxpool2d_backward",
};
static_assert(sizeof(tt_spatial_api) == 14 * sizeof(void*), "update the slot names of tt_spatial_api");

}  // namespace

const std::vector<const char*>& slot_names(int module_number) {
    static const std::vector<const char*>* tables[] = {
        &k_tt_tensor_api_slots,
        &k_tt_activations_api_slots,
        &k_tt_layers_api_slots,
        &k_tt_losses_api_slots,
        &k_tt_autograd_api_slots,
        &k_tt_optimizers_api_slots,
        &k_tt_training_api_slots,
        &k_tt_dataloader_api_slots,
        &k_tt_spatial_api_slots,
    };
    return *tables[module_number - 1];
}

}  // namespace tt::detail
