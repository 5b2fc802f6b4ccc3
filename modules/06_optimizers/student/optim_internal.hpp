// optim_internal.hpp - what the files of module 06 share: the optimizer
// struct and the functions of the table.
//
// Nothing to implement here. The TODOs are in optimizer.cpp (checking a
// configuration) and update.cpp (the SGD and Adam updates, zero_grad).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinytorch/abi/tt_06_optimizers.h"
#include "tinytorch/module/module_support.hpp"

// State slots per parameter: SGD keeps slot 0 (the momentum buffer) when
// momentum != 0; Adam and AdamW keep slot 0 (m) and slot 1 (v).
#define TT_OPTIM_MAX_SLOTS 2

// The optimizer behind the opaque handle of the header.
struct tt_optimizer {
    tt_optimizer_config config;     // a copy; lr changes with set_lr
    std::vector<tt_tensor*> params; // borrowed: the caller keeps them alive
    // Owned state tensors, state[i * TT_OPTIM_MAX_SLOTS + slot] for parameter
    // i; NULL until first needed, then created (zeros) with tensor->create.
    std::vector<tt_tensor*> state;
    int64_t step = 0;               // steps taken: Adam's t after a step
};

namespace optim {

// "0.001", "nan": a float for a message.
std::string num(double v);

// How many state slots the optimizer keeps per parameter (0, 1 or 2).
int32_t slot_count(const tt_optimizer_config& c);

// State slot `slot` of parameter i, created (zeros, shaped like the
// parameter) on first use.
tt_status ensure_state(tt_optimizer* opt, size_t i, int32_t slot, tt_tensor** out);

// ---- the table (optimizer.cpp) ----
tt_status optimizer_create(const tt_optimizer_config* config, tt_tensor* const* params, int32_t n_params,
                           tt_optimizer** out);
tt_status optimizer_set_lr(tt_optimizer* opt, float lr);
tt_status optimizer_get_lr(const tt_optimizer* opt, float* out_lr);
tt_status optimizer_state(tt_optimizer* opt, int32_t index, int32_t slot, tt_tensor** out_state);
tt_status optimizer_get_step(const tt_optimizer* opt, int64_t* out_step);
tt_status optimizer_set_step(tt_optimizer* opt, int64_t step);
tt_status optimizer_free(tt_optimizer* opt);

// ---- the table (update.cpp) ----
tt_status optimizer_step(tt_optimizer* opt);
tt_status optimizer_zero_grad(tt_optimizer* opt);

}  // namespace optim
