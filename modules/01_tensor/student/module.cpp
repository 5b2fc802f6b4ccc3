// module.cpp - module 01's function table and its one exported entry point.
// Nothing to implement here: the functions live in creation.cpp, shape.cpp,
// elementwise.cpp, matmul.cpp and reductions.cpp.
#include "tensor_internal.hpp"

namespace {

// Designated initialisers: the compiler checks the order against the header.
constexpr tt_tensor_api k_api = {
    .create = t01::create,
    .from_data = t01::from_data,
    .free = t01::free,
    .copy = t01::copy,
    .reshape = t01::reshape,
    .transpose = t01::transpose,
    .add = t01::add,
    .sub = t01::sub,
    .mul = t01::mul,
    .div = t01::div,
    .add_scalar = t01::add_scalar,
    .sub_scalar = t01::sub_scalar,
    .mul_scalar = t01::mul_scalar,
    .div_scalar = t01::div_scalar,
    .matmul = t01::matmul,
    .sum = t01::sum,
    .mean = t01::mean,
    .max = t01::max,
    .argmax = t01::argmax,
    .empty = t01::empty,  // ABI 1.1
};

}  // namespace

TT_DEFINE_MODULE(tt_entry_01_tensor, "tensor", TT_TENSOR_DEPS, tt_tensor_api, k_api)
