// spatial_internal.hpp - plumbing shared by the files of module 09.
//
// Given, nothing to write here. These helpers wrap the host services so the
// convolution, pooling and batch-norm code reads like the math:
//   - new_tensor(): a tensor from module 01 (host->tensor->create, zero-filled);
//   - new_empty():  the same without the zeros (host->tensor->empty), for an
//                   output the op then writes in full;
//   - Scratch:      a temporary float buffer from host->alloc (the core keeps
//                   freed blocks for reuse, so one per call or per image is cheap);
//   - parallel_for(): run a lambda for every image (or plane, or channel) on
//                   the core's threads;
//   - gemm():       row-major SGEMM through host->sgemm (the core's BLAS).
// Errors: sp::require, sp::throw_error and sp::ok (module_support.hpp) report
// and throw; TT_GUARD_END turns that back into the returned status, and
// OwnedTensor / Scratch release everything on the way out.
//
// Layout reminder: images are NCHW, contiguous float32, so element (n, c, h, w)
// of x [N, C, H, W] lives at x->data[((n * C + c) * H + h) * W + w].
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <new>
#include <string>

#include "tinytorch/abi/tt_09_spatial.h"
#include "tinytorch/module/module_support.hpp"

namespace sp {

using ttm::OwnedTensor;
using ttm::ok;           // throw when a call failed (the callee said why)
using ttm::require;      // throw TT_INVALID_ARGUMENT when a pointer is NULL
using ttm::shape_str;    // "[2, 3, 4, 4]"
using ttm::throw_error;  // throw_error(TT_SHAPE_MISMATCH, __func__, "...")

// Throw TT_SHAPE_MISMATCH unless t has exactly `ndim` dimensions.
inline void require_ndim(const tt_tensor* t, int32_t ndim, const char* function, const char* name,
                         const char* layout) {
    if (t->ndim != ndim)
        throw_error(TT_SHAPE_MISMATCH, function,
                    std::string(name) + " must be " + std::to_string(ndim) + "-D " + layout +
                        ", got shape " + shape_str(t));
}

// A new zero-filled tensor of the given shape, owned until released.
inline OwnedTensor new_tensor(std::initializer_list<int64_t> shape) {
    tt_tensor* t = nullptr;
    ok(ttm::host()->tensor->create(shape.begin(), static_cast<int32_t>(shape.size()), &t));
    return OwnedTensor(t);
}

// A new tensor whose values are NOT set (module 01's empty).
inline OwnedTensor new_empty(std::initializer_list<int64_t> shape) {
    tt_tensor* t = nullptr;
    ok(ttm::host()->tensor->empty(shape.begin(), static_cast<int32_t>(shape.size()), &t));
    return OwnedTensor(t);
}

// A temporary, uninitialised float buffer from host->alloc.
class Scratch {
public:
    explicit Scratch(int64_t count) {
        size_t bytes = static_cast<size_t>(count > 0 ? count : 1) * sizeof(float);
        p_ = static_cast<float*>(ttm::host()->alloc(bytes));
        if (p_ == nullptr) throw std::bad_alloc();
    }
    ~Scratch() { ttm::host()->release(p_); }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    float* get() const { return p_; }

private:
    float* p_;
};

// Run f(i) for every i in [0, n) on the core's thread pool:
//     sp::parallel_for(N, work, [&](int64_t n) { ... image n ... });
// For loops whose items are independent (images, planes, channels): f(i)
// must write only what belongs to item i. `work` is about how many floats
// one item touches; items are grouped so each thread gets at least ~32K
// floats (a smaller job runs right here: waking the pool costs a few
// microseconds). f may throw (ok, throw_error, a NOT_IMPLEMENTED stub): the
// error comes back to the caller as if the loop had run here.
template <class F>
void parallel_for(int64_t n, int64_t work, F&& f) {
    const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, work));
    ttm::parallel_range(n, grain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) f(i);
    });
}

// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, row-major (BLAS);
// op(X) is X^T when trans_x. lda, ldb, ldc: the row strides as stored.
// Called from inside parallel_for it runs on that thread alone; elsewhere
// the core splits a big product over its threads.
inline void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                 int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    ttm::host()->sgemm(trans_a ? 1 : 0, trans_b ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c,
                       ldc);
}

}  // namespace sp

// The size of a pooling window op's output (pool.cpp checks the arguments
// and fills it; batchnorm.cpp's fused op checks its pooling arguments too).
struct PoolGeom {
    int64_t N, C, H, W, OH, OW, k, s;  // input [N, C, H, W], output planes OH x OW, kernel, stride
    int64_t planes() const { return N * C; }
};
PoolGeom pool_geometry(const char* function, const tt_tensor* x, int32_t kernel, int32_t stride);

// The table functions, one file each group (conv2d.cpp, pool.cpp,
// batchnorm.cpp); module.cpp puts them in the table.
tt_status conv2d_init(int64_t out_channels, int64_t in_channels, int64_t kh, int64_t kw,
                      tt_tensor** out_weight, tt_tensor** out_bias);
tt_status conv2d_forward(const tt_tensor* x, const tt_tensor* weight, const tt_tensor* bias,
                         int32_t stride, int32_t padding, tt_tensor** out);
tt_status conv2d_backward(const tt_tensor* x, const tt_tensor* weight, const tt_tensor* grad,
                          int32_t stride, int32_t padding, tt_tensor** out_grad_x,
                          tt_tensor** out_grad_weight, tt_tensor** out_grad_bias);
tt_status maxpool2d_forward(const tt_tensor* x, int32_t kernel, int32_t stride, tt_tensor** out,
                            tt_tensor** out_indices);
tt_status maxpool2d_backward(const tt_tensor* x, const tt_tensor* indices, const tt_tensor* grad,
                             int32_t kernel, int32_t stride, tt_tensor** out_grad_x);
tt_status avgpool2d_forward(const tt_tensor* x, int32_t kernel, int32_t stride, tt_tensor** out);
tt_status avgpool2d_backward(const tt_tensor* x, const tt_tensor* grad, int32_t kernel,
                             int32_t stride, tt_tensor** out_grad_x);
tt_status batchnorm2d_forward(const tt_tensor* x, const tt_tensor* gamma, const tt_tensor* beta,
                              tt_tensor* running_mean, tt_tensor* running_var, int32_t training,
                              float momentum, float eps, tt_tensor** out,
                              tt_tensor** out_saved_mean, tt_tensor** out_saved_invstd);
tt_status batchnorm2d_backward(const tt_tensor* x, const tt_tensor* gamma,
                               const tt_tensor* saved_mean, const tt_tensor* saved_invstd,
                               int32_t training, const tt_tensor* grad, tt_tensor** out_grad_x,
                               tt_tensor** out_grad_gamma, tt_tensor** out_grad_beta);
tt_status flatten(const tt_tensor* x, tt_tensor** out);
tt_status batchnorm2d_relu_forward(const tt_tensor* x, const tt_tensor* gamma, const tt_tensor* beta,
                                   tt_tensor* running_mean, tt_tensor* running_var, int32_t training,
                                   float momentum, float eps, tt_tensor** out,
                                   tt_tensor** out_saved_mean, tt_tensor** out_saved_invstd);
tt_status batchnorm2d_relu_backward(const tt_tensor* x, const tt_tensor* gamma,
                                    const tt_tensor* saved_mean, const tt_tensor* saved_invstd,
                                    const tt_tensor* out, int32_t training, const tt_tensor* grad,
                                    tt_tensor** out_grad_x, tt_tensor** out_grad_gamma,
                                    tt_tensor** out_grad_beta);
tt_status batchnorm2d_relu_maxpool2d_forward(const tt_tensor* x, const tt_tensor* gamma, const tt_tensor* beta,
                                             tt_tensor* running_mean, tt_tensor* running_var, int32_t training,
                                             float momentum, float eps, int32_t kernel, int32_t stride,
                                             tt_tensor** out, tt_tensor** out_indices, tt_tensor** out_saved_mean,
                                             tt_tensor** out_saved_invstd);
tt_status batchnorm2d_relu_maxpool2d_backward(const tt_tensor* x, const tt_tensor* gamma,
                                              const tt_tensor* saved_mean, const tt_tensor* saved_invstd,
                                              const tt_tensor* indices, const tt_tensor* out, int32_t training,
                                              int32_t kernel, int32_t stride, const tt_tensor* grad,
                                              tt_tensor** out_grad_x, tt_tensor** out_grad_gamma,
                                              tt_tensor** out_grad_beta);
