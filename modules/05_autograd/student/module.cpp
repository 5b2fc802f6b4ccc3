// module.cpp - module 05's function table and its one exported entry point.
// Nothing to implement here: the functions live in rules_tensor.cpp,
// rules_nn.cpp and engine.cpp.
#include "autograd_internal.hpp"

namespace {

// Designated initialisers: the compiler checks the order against the header.
constexpr tt_autograd_api k_api = {
    .add_backward = ag::add_backward,
    .sub_backward = ag::sub_backward,
    .mul_backward = ag::mul_backward,
    .div_backward = ag::div_backward,
    .add_scalar_backward = ag::add_scalar_backward,
    .mul_scalar_backward = ag::mul_scalar_backward,
    .div_scalar_backward = ag::div_scalar_backward,
    .matmul_backward = ag::matmul_backward,
    .reshape_backward = ag::reshape_backward,
    .transpose_backward = ag::transpose_backward,
    .sum_backward = ag::sum_backward,
    .mean_backward = ag::mean_backward,
    .max_backward = ag::max_backward,
    .relu_backward = ag::relu_backward,
    .sigmoid_backward = ag::sigmoid_backward,
    .tanh_backward = ag::tanh_backward,
    .gelu_backward = ag::gelu_backward,
    .softmax_backward = ag::softmax_backward,
    .linear_backward = ag::linear_backward,
    .dropout_backward = ag::dropout_backward,
    .mse_backward = ag::mse_backward,
    .log_softmax_backward = ag::log_softmax_backward,
    .cross_entropy_backward = ag::cross_entropy_backward,
    .binary_cross_entropy_backward = ag::binary_cross_entropy_backward,
    .backward = ag::backward,
    .set_grad_enabled = ag::set_grad_enabled,
    .is_grad_enabled = ag::is_grad_enabled,
};

}  // namespace

TT_DEFINE_MODULE(tt_entry_05_autograd, "autograd", TT_AUTOGRAD_DEPS, tt_autograd_api, k_api)
