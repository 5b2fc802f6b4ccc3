// module.cpp - module 06's function table and its one exported entry point.
// Nothing to implement here: the functions live in optimizer.cpp and update.cpp.
#include "optim_internal.hpp"

namespace {

// Designated initialisers: the compiler checks the order against the header.
constexpr tt_optimizers_api k_api = {
    .optimizer_create = optim::optimizer_create,
    .optimizer_step = optim::optimizer_step,
    .optimizer_zero_grad = optim::optimizer_zero_grad,
    .optimizer_set_lr = optim::optimizer_set_lr,
    .optimizer_get_lr = optim::optimizer_get_lr,
    .optimizer_state = optim::optimizer_state,
    .optimizer_get_step = optim::optimizer_get_step,
    .optimizer_set_step = optim::optimizer_set_step,
    .optimizer_free = optim::optimizer_free,
};

}  // namespace

TT_DEFINE_MODULE(tt_entry_06_optimizers, "optimizers", TT_OPTIMIZERS_DEPS, tt_optimizers_api, k_api)
