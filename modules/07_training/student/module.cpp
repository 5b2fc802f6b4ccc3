// module.cpp - module 07's function table and its one exported entry point.
// Nothing to implement here: the functions live in step.cpp, accuracy.cpp,
// clip.cpp, schedule.cpp and checkpoint.cpp.
#include "training_internal.hpp"

namespace {

// Designated initialisers: the compiler checks the order against the header.
constexpr tt_training_api k_api = {
    .train_step = train::train_step,
    .train_epoch = train::train_epoch,
    .evaluate = train::evaluate,
    .accuracy = train::accuracy,
    .clip_grad_norm = train::clip_grad_norm,
    .schedule_lr = train::schedule_lr,
    .checkpoint_save = train::checkpoint_save,
    .checkpoint_load = train::checkpoint_load,
};

}  // namespace

TT_DEFINE_MODULE(tt_entry_07_training, "training", TT_TRAINING_DEPS, tt_training_api, k_api)
