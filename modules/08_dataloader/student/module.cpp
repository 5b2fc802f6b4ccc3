// module.cpp - module 08's function table and its one exported entry point.
// Nothing to implement here: the functions live in loader.cpp and transforms.cpp.
#include "dataloader_internal.hpp"

namespace {

// Designated initialisers: the compiler checks the order against the header.
constexpr tt_dataloader_api k_api = {
    .shuffle_indices = data::shuffle_indices,
    .loader_create = data::loader_create,
    .loader_num_batches = data::loader_num_batches,
    .loader_start_epoch = data::loader_start_epoch,
    .loader_next = data::loader_next,
    .loader_free = data::loader_free,
    .random_hflip = data::random_hflip,
    .random_crop = data::random_crop,
    .normalize = data::normalize,
};

}  // namespace

TT_DEFINE_MODULE(tt_entry_08_dataloader, "dataloader", TT_DATALOADER_DEPS, tt_dataloader_api, k_api)
