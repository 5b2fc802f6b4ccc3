// spatial_internal.hpp - plumbing shared by the files of module 09.
//
// The FAST variant of module 09 (lib/tt_09_spatial_fast.so, --impl 09=fast):
// the same functions as ../reference/, tuned for speed. reference/ is the
// readable solution (and the source of the student stubs); this copy is
// checked against it on random shapes by tests/spatial_fast/.
//
// Nothing to implement here. These helpers wrap the host services so the
// convolution, pooling and batch-norm code reads like the math:
//   - new_tensor(): a tensor from module 01 (host->tensor->create, zero-filled);
//   - new_empty():  the same without the zeros (host->tensor->empty);
//   - Scratch:      a temporary float buffer from host->alloc (the core caches
//                   freed blocks, so allocating one per call is cheap);
//   - parallel():   run a lambda over [0, n) on the core's thread pool;
//   - gemm():       row-major SGEMM through host->sgemm (OpenBLAS in the core).
// They throw ttm::StatusError on failure; TT_GUARD_END turns that back into a
// status, and OwnedTensor / Scratch release everything on the way out.
//
// Layout reminder: images are NCHW, contiguous float32, so element (n, c, h, w)
// of x [N, C, H, W] lives at x->data[((n * C + c) * H + h) * W + w].
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

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

// A new tensor whose values are NOT set (module 01's empty): for an output the
// op then writes in full. Zero-filling a 7 MB activation first would cost
// about as much as a ReLU over it.
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

// Run f(begin, end) over [0, n) in chunks on the core's thread pool. `grain`
// is the smallest chunk worth a thread. f must not throw.
template <class F>
void parallel(int64_t n, int64_t grain, F&& f) {
    if (n <= 0) return;
    using Fn = std::remove_reference_t<F>;
    tt_parallel_body body = [](void* ctx, int64_t begin, int64_t end) {
        (*static_cast<Fn*>(ctx))(begin, end);
    };
    ttm::host()->parallel_for(n, grain, body, const_cast<void*>(static_cast<const void*>(&f)));
}

// The same for n items of about `work` floats each: chunks of at least
// ~32K floats, so a small job runs on the calling thread instead of paying to
// wake the pool (a few microseconds, more than the job itself).
template <class F>
void parallel_work(int64_t n, int64_t work, F&& f) {
    const int64_t min_chunk = 32768;
    const int64_t grain = work >= min_chunk ? 1 : (min_chunk + work - 1) / (work > 0 ? work : 1);
    parallel(n, grain, std::forward<F>(f));
}

// Long sums. float addition is not associative, so the compiler may not
// reorder `s += v[i]` into vector adds on its own: the sums below keep eight
// partial sums in two vectors of four floats explicitly (the GCC/Clang
// vector extension: SSE on x86-64, NEON on ARM), held in registers.
typedef float f4 __attribute__((vector_size(16)));
inline f4 load4(const float* p) {
    f4 v;
    std::memcpy(&v, p, sizeof v);  // an unaligned vector load
    return v;
}
inline void store4(float* p, f4 v) { std::memcpy(p, &v, sizeof v); }
inline float lanes_sum(f4 v) { return (v[0] + v[1]) + (v[2] + v[3]); }

// v[0] + ... + v[n-1].
inline float sum(const float* v, int64_t n) {
    f4 a0 = {}, a1 = {};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 += load4(v + i);
        a1 += load4(v + i + 4);
    }
    float s = lanes_sum(a0 + a1);
    for (; i < n; ++i) s += v[i];
    return s;
}

// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, row-major (BLAS).
inline void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                 int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    ttm::host()->sgemm(trans_a ? 1 : 0, trans_b ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c,
                       ldc);
}

}  // namespace sp

// The size of a pooling window op's output (pool.cpp checks the arguments
// and fills it; batchnorm.cpp's fused op pools too).
struct PoolGeom {
    int64_t N, C, H, W, OH, OW, k, s;  // input [N, C, H, W], output planes OH x OW, kernel, stride
    int64_t planes() const { return N * C; }
};
PoolGeom pool_geometry(const char* function, const tt_tensor* x, int32_t kernel, int32_t stride);
// Max pooling of one plane of g.H x g.W floats into g.OH x g.OW (pool.cpp).
void maxpool_plane(const float* in, const PoolGeom& g, float* out, float* idx);

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
