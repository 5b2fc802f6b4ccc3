// helpers.cpp - small helpers shared by the files of module 01.
// Nothing to implement here.
#include "tensor_internal.hpp"

namespace t01 {

std::string shape_str(const int64_t* shape, int32_t ndim) {
    std::string s = "[";
    for (int32_t d = 0; d < ndim; ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
    return s + "]";
}

tt_status begin_out(const char* function, tt_tensor** out) {
    if (out == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, function,
                         "out is NULL: pass the address of a tt_tensor* that receives the result");
    *out = nullptr;
    return TT_OK;
}

tt_status require(const void* p, const char* function, const char* name) {
    if (p != nullptr) return TT_OK;
    return ttm::fail(TT_INVALID_ARGUMENT, function, std::string(name) + " is NULL");
}

tt_status resolve_axis(const char* function, int32_t axis, int32_t ndim, int32_t* result) {
    int64_t a = axis < 0 ? int64_t{axis} + ndim : int64_t{axis};
    if (a < 0 || a >= ndim) {
        std::string msg = "axis " + std::to_string(axis) + " is out of range for a tensor with " +
                          std::to_string(ndim) + " dims";
        msg += ndim > 0 ? " (valid: " + std::to_string(-ndim) + " .. " + std::to_string(ndim - 1) + ")"
                        : " (a scalar has no axes)";
        return ttm::fail(TT_INVALID_ARGUMENT, function, msg);
    }
    *result = static_cast<int32_t>(a);
    return TT_OK;
}

}  // namespace t01
