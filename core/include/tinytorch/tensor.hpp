// tensor.hpp - tt::Tensor, the RAII handle over a module-01 tensor, and the
// differentiable operations of modules 01-04 and 09 as free functions.
//
// A Tensor shares ownership of one tt_tensor (copying a Tensor copies the
// handle, not the data; use clone() for a deep copy). Every operation calls the
// loaded module's function and throws tt::Error on failure. When an input
// requires grad and grad mode is on, the operation is recorded on the tape (a
// graph node pointing at the backward rule of module 05, or 09 for spatial
// ops), so y.backward() fills the grads of the leaves.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "tinytorch/abi/tt_common.h"

namespace tt {

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& shape);  // "[2, 3]"

namespace detail {
struct TensorImpl;
}

class Tensor {
public:
    Tensor() = default;  // undefined (no tensor)

    // ---- creation (module 01) ------------------------------------------------
    static Tensor zeros(const Shape& shape);
    static Tensor full(const Shape& shape, float value);
    static Tensor ones(const Shape& shape) { return full(shape, 1.0f); }
    static Tensor from(const std::vector<float>& data, const Shape& shape);
    static Tensor scalar(float value);
    // uniform in [lo, hi) / standard normal, from the runtime's global RNG
    static Tensor uniform(const Shape& shape, float lo, float hi);
    static Tensor randn(const Shape& shape);
    // Take ownership of a tensor a module returned (freed with module 01's free).
    static Tensor adopt(tt_tensor* raw);
    // A non-owning handle on a tensor someone else owns (an optimizer's state):
    // the caller guarantees `raw` outlives every copy of the handle.
    static Tensor borrow(tt_tensor* raw);

    // ---- inspection ----------------------------------------------------------
    bool defined() const { return impl_ != nullptr; }
    Shape shape() const;
    int32_t ndim() const;
    int64_t numel() const;
    int64_t size(int32_t dim) const;  // negative dim counts from the end
    float* data();
    const float* data() const;
    float item() const;                // the value of a one-element tensor
    std::vector<float> to_vector() const;
    float at(std::initializer_list<int64_t> index) const;
    std::string str(int max_values = 8) const;  // "Tensor[2, 3] {1, 2, ...}"
    tt_tensor* raw() const;            // borrowed; valid while this Tensor lives

    // ---- autograd --------------------------------------------------------------
    Tensor& set_requires_grad(bool on = true);
    bool requires_grad() const;
    // The accumulated gradient (undefined Tensor before the first backward).
    // Shares storage with this tensor's grad; stays valid while this lives.
    Tensor grad() const;
    void zero_grad();                  // drop the gradient
    // Back-propagate (module 05's engine). seed: d(loss)/d(this); undefined
    // means 1 (this must then hold one element). Releases the graph after.
    void backward(const Tensor& seed = Tensor()) const;
    Tensor detach() const;             // deep copy outside any graph
    Tensor clone() const;              // deep copy (module 01 copy), not recorded
    bool has_grad_fn() const;

    // ---- module 01 operations ---------------------------------------------------
    Tensor reshape(const Shape& shape) const;
    Tensor transpose(int32_t dim0 = -2, int32_t dim1 = -1) const;
    Tensor matmul(const Tensor& other) const;
    Tensor sum(int32_t axis = TT_AXIS_ALL, bool keepdims = false) const;
    Tensor mean(int32_t axis = TT_AXIS_ALL, bool keepdims = false) const;
    Tensor max(int32_t axis = TT_AXIS_ALL, bool keepdims = false) const;
    Tensor argmax(int32_t axis = TT_AXIS_ALL, bool keepdims = false) const;

    std::shared_ptr<detail::TensorImpl> impl() const { return impl_; }
    explicit Tensor(std::shared_ptr<detail::TensorImpl> impl) : impl_(std::move(impl)) {}

private:
    std::shared_ptr<detail::TensorImpl> impl_;
};

// NumPy-like printing, for trying things out (playground/) and for test
// messages: nested brackets, one number format, long axes summarised
// (core/src/api/print.cpp).
//     std::cout << x;   // tensor([[1., 2.],
//                       //         [3., 4.]], shape=[2, 2])
std::ostream& operator<<(std::ostream& os, const Tensor& t);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, float s);
Tensor operator-(const Tensor& a, float s);
Tensor operator*(const Tensor& a, float s);
Tensor operator/(const Tensor& a, float s);
Tensor operator+(float s, const Tensor& a);
Tensor operator*(float s, const Tensor& a);
Tensor operator-(const Tensor& a);  // a * -1
Tensor matmul(const Tensor& a, const Tensor& b);

// ---- module 02 -----------------------------------------------------------------
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor gelu(const Tensor& x);
Tensor softmax(const Tensor& x, int32_t axis = -1);

// ---- module 03 -----------------------------------------------------------------
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
Tensor dropout(const Tensor& x, float p, bool training);

// ---- module 04 (scalar results) ------------------------------------------------
Tensor mse_loss(const Tensor& pred, const Tensor& target);
Tensor log_softmax(const Tensor& x, int32_t axis = -1);
Tensor cross_entropy(const Tensor& logits, const Tensor& targets);
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& targets);

// ---- module 09 -----------------------------------------------------------------
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, int32_t stride = 1,
              int32_t padding = 0);
Tensor max_pool2d(const Tensor& x, int32_t kernel, int32_t stride = 0);  // stride 0: = kernel
Tensor avg_pool2d(const Tensor& x, int32_t kernel, int32_t stride = 0);
// running_mean / running_var are updated in place when training.
Tensor batch_norm2d(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                    Tensor& running_var, bool training, float momentum = 0.1f, float eps = 1e-5f);
// relu(batch_norm2d(...)) in one pass (module 09's fused op, ABI 1.2). A
// module 09 without it (TT_NOT_IMPLEMENTED) gets the two ops one after the other.
Tensor batch_norm2d_relu(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                         Tensor& running_var, bool training, float momentum = 0.1f, float eps = 1e-5f);
// max_pool2d(batch_norm2d_relu(...)) in one op (ABI 1.2), falling back the same way.
Tensor batch_norm2d_relu_max_pool2d(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                                    Tensor& running_var, bool training, float momentum, float eps, int32_t kernel,
                                    int32_t stride);
Tensor flatten(const Tensor& x);

// ---- grad mode -------------------------------------------------------------------
bool grad_enabled();
// Scope with recording switched off (evaluation); restores the previous mode.
class NoGradGuard {
public:
    NoGradGuard();
    ~NoGradGuard();
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool previous_;
};

}  // namespace tt
