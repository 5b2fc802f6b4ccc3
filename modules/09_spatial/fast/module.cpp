// module.cpp - module 09 Spatial: flatten and the function table.
//
// The FAST variant of module 09 (lib/tt_09_spatial_fast.so, --impl 09=fast):
// the same functions as ../reference/, tuned for speed. reference/ is the
// readable solution (and the source of the student stubs); this copy is
// checked against it on random shapes by tests/spatial_fast/.
//
// The other functions live in conv2d.cpp (convolution), pool.cpp (max and
// average pooling) and batchnorm.cpp (batch normalisation); spatial_internal.hpp
// has the helpers they share.
#include <cstdint>
#include <string>

#include "spatial_internal.hpp"

// [N, d1, d2, ...] -> [N, d1*d2*...]: the same values in the same order (the
// data is contiguous and row-major), only the shape changes.
tt_status flatten(const tt_tensor* x, tt_tensor** out) {
    TT_GUARD_BEGIN
    sp::require(out, __func__, "out");
    *out = nullptr;
    sp::require(x, __func__, "x");
    if (x->ndim < 2)
        sp::throw_error(TT_SHAPE_MISMATCH, __func__,
                        "x must have a batch axis and at least one more, got shape " +
                            sp::shape_str(x));
    int64_t rest = 1;
    for (int32_t d = 1; d < x->ndim; ++d) rest *= x->shape[d];
    const int64_t shape[2] = {x->shape[0], rest};
    return ttm::host()->tensor->reshape(x, shape, 2, out);
    TT_GUARD_END
}

// ------------------------------------------------------------------ the table

static const tt_spatial_api k_api = {
    conv2d_init,
    conv2d_forward,
    conv2d_backward,
    maxpool2d_forward,
    maxpool2d_backward,
    avgpool2d_forward,
    avgpool2d_backward,
    batchnorm2d_forward,
    batchnorm2d_backward,
    flatten,
    batchnorm2d_relu_forward,   // ABI 1.2
    batchnorm2d_relu_backward,  // ABI 1.2
    batchnorm2d_relu_maxpool2d_forward,   // ABI 1.2
    batchnorm2d_relu_maxpool2d_backward,  // ABI 1.2
};

TT_DEFINE_MODULE(tt_entry_09_spatial, "spatial", TT_SPATIAL_DEPS, tt_spatial_api, k_api)
