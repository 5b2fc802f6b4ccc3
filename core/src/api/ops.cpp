// ops.cpp - the differentiable operations of the C++ API.
//
// Each op: call the loaded module's forward, wrap the result, and, when an
// input requires grad, record a node whose rule calls the matching backward
// of module 05 (ops of 01-04) or module 09 (spatial ops). Captured raw
// pointers stay valid because the node keeps its inputs (and `saved`) alive.
#include <string>

#include "autograd/tape.hpp"
#include "runtime/host_services.hpp"
#include "tinytorch/runtime.hpp"
#include "tinytorch/tensor.hpp"

namespace tt {

using detail::record;
using detail::should_record;

namespace {

// Run a module call that produces one new tensor and adopt it.
template <class Fn>
Tensor produce(int module, const char* function, Fn&& fn) {
    tt_tensor* out = nullptr;
    runtime().check(fn(&out), module, function);
    return Tensor::adopt(out);
}

const tt_autograd_api& ag() { return runtime().autograd(); }

// Binary element-wise op with broadcasting (module 01) and its rule (module 05).
using BinaryForward = tt_status (*)(const tt_tensor*, const tt_tensor*, tt_tensor**);
using BinaryBackward = tt_status (*)(const tt_tensor*, const tt_tensor*, const tt_tensor*, tt_tensor**,
                                     tt_tensor**);

Tensor binary(const char* name, BinaryForward forward, BinaryBackward tt_autograd_api::*backward,
              const Tensor& a, const Tensor& b) {
    Tensor out = produce(1, name, [&](tt_tensor** o) { return forward(a.raw(), b.raw(), o); });
    if (should_record({&a, &b})) {
        const tt_tensor *ra = a.raw(), *rb = b.raw();
        record(out, name, {&a, &b}, [ra, rb, backward](const tt_tensor* g, tt_tensor** const* want) {
            return (ag().*backward)(ra, rb, g, want[0], want[1]);
        });
    }
    return out;
}

using ScalarForward = tt_status (*)(const tt_tensor*, float, tt_tensor**);

// out = a (op) s. The rule is chosen here, once: add/sub have the identity as
// derivative, mul/div scale the gradient by s or 1/s.
enum class ScalarOp { add, sub, mul, div };

Tensor scalar_op(const char* name, ScalarForward forward, ScalarOp op, const Tensor& a, float s) {
    Tensor out = produce(1, name, [&](tt_tensor** o) { return forward(a.raw(), s, o); });
    if (should_record({&a})) {
        detail::BackwardRule rule;
        if (op == ScalarOp::mul)
            rule = [s](const tt_tensor* g, tt_tensor** const* want) { return ag().mul_scalar_backward(s, g, want[0]); };
        else if (op == ScalarOp::div)
            rule = [s](const tt_tensor* g, tt_tensor** const* want) { return ag().div_scalar_backward(s, g, want[0]); };
        else
            rule = [](const tt_tensor* g, tt_tensor** const* want) { return ag().add_scalar_backward(g, want[0]); };
        record(out, name, {&a}, std::move(rule));
    }
    return out;
}

// Unary op whose rule needs the input x (relu, gelu) or the output y.
using UnaryForward = tt_status (*)(const tt_tensor*, tt_tensor**);
using UnaryBackward = tt_status (*)(const tt_tensor*, const tt_tensor*, tt_tensor**);

Tensor unary(const char* name, UnaryForward forward, UnaryBackward tt_autograd_api::*backward,
             bool rule_uses_output, const Tensor& x) {
    Tensor out = produce(2, name, [&](tt_tensor** o) { return forward(x.raw(), o); });
    if (should_record({&x})) {
        // The output is this node's own tensor: capturing it raw (not as a
        // Tensor) avoids an ownership cycle; it is alive whenever the engine
        // reaches this node.
        const tt_tensor* keep = rule_uses_output ? out.raw() : x.raw();
        record(out, name, {&x}, [keep, backward](const tt_tensor* g, tt_tensor** const* want) {
            return (ag().*backward)(keep, g, want[0]);
        });
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------- module 01

Tensor operator+(const Tensor& a, const Tensor& b) {
    return binary("add", runtime().tensor().add, &tt_autograd_api::add_backward, a, b);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
    return binary("sub", runtime().tensor().sub, &tt_autograd_api::sub_backward, a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
    return binary("mul", runtime().tensor().mul, &tt_autograd_api::mul_backward, a, b);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
    return binary("div", runtime().tensor().div, &tt_autograd_api::div_backward, a, b);
}
Tensor matmul(const Tensor& a, const Tensor& b) {
    return binary("matmul", runtime().tensor().matmul, &tt_autograd_api::matmul_backward, a, b);
}
Tensor Tensor::matmul(const Tensor& other) const { return tt::matmul(*this, other); }

Tensor operator+(const Tensor& a, float s) { return scalar_op("add_scalar", runtime().tensor().add_scalar, ScalarOp::add, a, s); }
Tensor operator-(const Tensor& a, float s) { return scalar_op("sub_scalar", runtime().tensor().sub_scalar, ScalarOp::sub, a, s); }
Tensor operator*(const Tensor& a, float s) { return scalar_op("mul_scalar", runtime().tensor().mul_scalar, ScalarOp::mul, a, s); }
Tensor operator/(const Tensor& a, float s) { return scalar_op("div_scalar", runtime().tensor().div_scalar, ScalarOp::div, a, s); }
Tensor operator+(float s, const Tensor& a) { return a + s; }
Tensor operator*(float s, const Tensor& a) { return a * s; }
Tensor operator-(const Tensor& a) { return a * -1.0f; }

Tensor Tensor::reshape(const Shape& shape) const {
    const Tensor& a = *this;
    Tensor out = produce(1, "reshape", [&](tt_tensor** o) {
        return runtime().tensor().reshape(a.raw(), shape.data(), static_cast<int32_t>(shape.size()), o);
    });
    if (should_record({&a})) {
        const tt_tensor* ra = a.raw();
        record(out, "reshape", {&a}, [ra](const tt_tensor* g, tt_tensor** const* want) {
            return ag().reshape_backward(ra, g, want[0]);
        });
    }
    return out;
}

Tensor Tensor::transpose(int32_t dim0, int32_t dim1) const {
    const Tensor& a = *this;
    Tensor out = produce(1, "transpose", [&](tt_tensor** o) {
        return runtime().tensor().transpose(a.raw(), dim0, dim1, o);
    });
    if (should_record({&a})) {
        record(out, "transpose", {&a}, [dim0, dim1](const tt_tensor* g, tt_tensor** const* want) {
            return ag().transpose_backward(dim0, dim1, g, want[0]);
        });
    }
    return out;
}

namespace {
using ReduceForward = tt_status (*)(const tt_tensor*, int32_t, int32_t, tt_tensor**);
using ReduceBackward = tt_status (*)(const tt_tensor*, int32_t, int32_t, const tt_tensor*, tt_tensor**);

Tensor reduce(const char* name, ReduceForward forward, ReduceBackward tt_autograd_api::*backward,
              const Tensor& a, int32_t axis, bool keepdims) {
    int32_t keep = keepdims ? 1 : 0;
    Tensor out = produce(1, name, [&](tt_tensor** o) { return forward(a.raw(), axis, keep, o); });
    if (backward != nullptr && should_record({&a})) {
        const tt_tensor* ra = a.raw();
        record(out, name, {&a}, [ra, axis, keep, backward](const tt_tensor* g, tt_tensor** const* want) {
            return (ag().*backward)(ra, axis, keep, g, want[0]);
        });
    }
    return out;
}
}  // namespace

Tensor Tensor::sum(int32_t axis, bool keepdims) const {
    return reduce("sum", runtime().tensor().sum, &tt_autograd_api::sum_backward, *this, axis, keepdims);
}
Tensor Tensor::mean(int32_t axis, bool keepdims) const {
    return reduce("mean", runtime().tensor().mean, &tt_autograd_api::mean_backward, *this, axis, keepdims);
}
Tensor Tensor::max(int32_t axis, bool keepdims) const {
    return reduce("max", runtime().tensor().max, &tt_autograd_api::max_backward, *this, axis, keepdims);
}
Tensor Tensor::argmax(int32_t axis, bool keepdims) const {
    // An index has no gradient: never recorded.
    return reduce("argmax", runtime().tensor().argmax, nullptr, *this, axis, keepdims);
}

// ---------------------------------------------------------------- module 02

Tensor relu(const Tensor& x) {
    return unary("relu", runtime().activations().relu, &tt_autograd_api::relu_backward, false, x);
}
Tensor sigmoid(const Tensor& x) {
    return unary("sigmoid", runtime().activations().sigmoid, &tt_autograd_api::sigmoid_backward, true, x);
}
Tensor tanh(const Tensor& x) {
    return unary("tanh", runtime().activations().tanh, &tt_autograd_api::tanh_backward, true, x);
}
Tensor gelu(const Tensor& x) {
    return unary("gelu", runtime().activations().gelu, &tt_autograd_api::gelu_backward, false, x);
}

Tensor softmax(const Tensor& x, int32_t axis) {
    Tensor out = produce(2, "softmax", [&](tt_tensor** o) { return runtime().activations().softmax(x.raw(), axis, o); });
    if (should_record({&x})) {
        const tt_tensor* y = out.raw();
        record(out, "softmax", {&x}, [y, axis](const tt_tensor* g, tt_tensor** const* want) {
            return ag().softmax_backward(y, axis, g, want[0]);
        });
    }
    return out;
}

// ---------------------------------------------------------------- module 03

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
    Tensor out = produce(3, "linear_forward", [&](tt_tensor** o) {
        return runtime().layers().linear_forward(x.raw(), weight.raw(), bias.defined() ? bias.raw() : nullptr, o);
    });
    if (should_record({&x, &weight, &bias})) {
        const tt_tensor *rx = x.raw(), *rw = weight.raw();
        bool has_bias = bias.defined();
        record(out, "linear", {&x, &weight, &bias}, [rx, rw, has_bias](const tt_tensor* g, tt_tensor** const* want) {
            return ag().linear_backward(rx, rw, g, want[0], want[1], has_bias ? want[2] : nullptr);
        });
    }
    return out;
}

Tensor dropout(const Tensor& x, float p, bool training) {
    tt_tensor *o = nullptr, *m = nullptr;
    runtime().check(runtime().layers().dropout_forward(x.raw(), p, training ? 1 : 0, &o, &m), 3,
                    "dropout_forward");
    Tensor out = Tensor::adopt(o);
    Tensor mask = Tensor::adopt(m);
    if (should_record({&x})) {
        const tt_tensor* rm = mask.raw();
        record(out, "dropout", {&x}, [rm](const tt_tensor* g, tt_tensor** const* want) {
            return ag().dropout_backward(rm, g, want[0]);
        }, {mask});
    }
    return out;
}

// ---------------------------------------------------------------- module 04

Tensor mse_loss(const Tensor& pred, const Tensor& target) {
    Tensor out = produce(4, "mse", [&](tt_tensor** o) { return runtime().losses().mse(pred.raw(), target.raw(), o); });
    if (should_record({&pred, &target})) {
        const tt_tensor *rp = pred.raw(), *rt = target.raw();
        record(out, "mse", {&pred, &target}, [rp, rt](const tt_tensor* g, tt_tensor** const* want) {
            return ag().mse_backward(rp, rt, g, want[0], want[1]);
        });
    }
    return out;
}

Tensor log_softmax(const Tensor& x, int32_t axis) {
    Tensor out = produce(4, "log_softmax", [&](tt_tensor** o) { return runtime().losses().log_softmax(x.raw(), axis, o); });
    if (should_record({&x})) {
        const tt_tensor* y = out.raw();
        record(out, "log_softmax", {&x}, [y, axis](const tt_tensor* g, tt_tensor** const* want) {
            return ag().log_softmax_backward(y, axis, g, want[0]);
        });
    }
    return out;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& targets) {
    Tensor out = produce(4, "cross_entropy", [&](tt_tensor** o) {
        return runtime().losses().cross_entropy(logits.raw(), targets.raw(), o);
    });
    if (should_record({&logits})) {
        const tt_tensor *rl = logits.raw(), *rt = targets.raw();
        // targets are class indices: no gradient, but keep them alive.
        record(out, "cross_entropy", {&logits}, [rl, rt](const tt_tensor* g, tt_tensor** const* want) {
            return ag().cross_entropy_backward(rl, rt, g, want[0]);
        }, {targets});
    }
    return out;
}

Tensor binary_cross_entropy(const Tensor& probs, const Tensor& targets) {
    Tensor out = produce(4, "binary_cross_entropy", [&](tt_tensor** o) {
        return runtime().losses().binary_cross_entropy(probs.raw(), targets.raw(), o);
    });
    if (should_record({&probs})) {
        const tt_tensor *rp = probs.raw(), *rt = targets.raw();
        record(out, "binary_cross_entropy", {&probs}, [rp, rt](const tt_tensor* g, tt_tensor** const* want) {
            return ag().binary_cross_entropy_backward(rp, rt, g, want[0]);
        }, {targets});
    }
    return out;
}

// ---------------------------------------------------------------- module 09

namespace {
const tt_spatial_api& sp() { return runtime().spatial(); }

// A fused op that module 09 has not implemented (a student's, not yet
// written): the caller runs the separate ops instead. The stub's message is
// dropped, since nothing failed.
bool fused_op_missing(tt_status st) {
    if (st != TT_NOT_IMPLEMENTED) return false;
    detail::take_last_error();
    return true;
}
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, int32_t stride, int32_t padding) {
    Tensor out = produce(9, "conv2d_forward", [&](tt_tensor** o) {
        return sp().conv2d_forward(x.raw(), weight.raw(), bias.defined() ? bias.raw() : nullptr, stride, padding, o);
    });
    if (should_record({&x, &weight, &bias})) {
        const tt_tensor *rx = x.raw(), *rw = weight.raw();
        bool has_bias = bias.defined();
        record(out, "conv2d", {&x, &weight, &bias},
               [rx, rw, has_bias, stride, padding](const tt_tensor* g, tt_tensor** const* want) {
                   return sp().conv2d_backward(rx, rw, g, stride, padding, want[0], want[1],
                                               has_bias ? want[2] : nullptr);
               });
    }
    return out;
}

Tensor max_pool2d(const Tensor& x, int32_t kernel, int32_t stride) {
    if (stride == 0) stride = kernel;
    tt_tensor *o = nullptr, *idx = nullptr;
    runtime().check(sp().maxpool2d_forward(x.raw(), kernel, stride, &o, &idx), 9, "maxpool2d_forward");
    Tensor out = Tensor::adopt(o);
    Tensor indices = Tensor::adopt(idx);
    if (should_record({&x})) {
        const tt_tensor *rx = x.raw(), *ri = indices.raw();
        record(out, "max_pool2d", {&x}, [rx, ri, kernel, stride](const tt_tensor* g, tt_tensor** const* want) {
            return sp().maxpool2d_backward(rx, ri, g, kernel, stride, want[0]);
        }, {indices});
    }
    return out;
}

Tensor avg_pool2d(const Tensor& x, int32_t kernel, int32_t stride) {
    if (stride == 0) stride = kernel;
    Tensor out = produce(9, "avgpool2d_forward", [&](tt_tensor** o) { return sp().avgpool2d_forward(x.raw(), kernel, stride, o); });
    if (should_record({&x})) {
        const tt_tensor* rx = x.raw();
        record(out, "avg_pool2d", {&x}, [rx, kernel, stride](const tt_tensor* g, tt_tensor** const* want) {
            return sp().avgpool2d_backward(rx, g, kernel, stride, want[0]);
        });
    }
    return out;
}

Tensor batch_norm2d(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                    Tensor& running_var, bool training, float momentum, float eps) {
    tt_tensor *o = nullptr, *m = nullptr, *s = nullptr;
    runtime().check(sp().batchnorm2d_forward(x.raw(), gamma.raw(), beta.raw(), running_mean.raw(),
                                             running_var.raw(), training ? 1 : 0, momentum, eps, &o, &m, &s),
                    9, "batchnorm2d_forward");
    Tensor out = Tensor::adopt(o);
    Tensor mean = Tensor::adopt(m);
    Tensor invstd = Tensor::adopt(s);
    if (should_record({&x, &gamma, &beta})) {
        const tt_tensor *rx = x.raw(), *rg = gamma.raw(), *rm = mean.raw(), *rs = invstd.raw();
        int32_t train = training ? 1 : 0;
        record(out, "batch_norm2d", {&x, &gamma, &beta},
               [rx, rg, rm, rs, train](const tt_tensor* g, tt_tensor** const* want) {
                   return sp().batchnorm2d_backward(rx, rg, rm, rs, train, g, want[0], want[1], want[2]);
               },
               {mean, invstd});
    }
    return out;
}

Tensor batch_norm2d_relu(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                         Tensor& running_var, bool training, float momentum, float eps) {
    tt_tensor *o = nullptr, *m = nullptr, *s = nullptr;
    tt_status st = sp().batchnorm2d_relu_forward(x.raw(), gamma.raw(), beta.raw(), running_mean.raw(),
                                                 running_var.raw(), training ? 1 : 0, momentum, eps, &o, &m, &s);
    if (fused_op_missing(st))
        return relu(batch_norm2d(x, gamma, beta, running_mean, running_var, training, momentum, eps));
    runtime().check(st, 9, "batchnorm2d_relu_forward");
    Tensor out = Tensor::adopt(o);
    Tensor mean = Tensor::adopt(m);
    Tensor invstd = Tensor::adopt(s);
    if (should_record({&x, &gamma, &beta})) {
        // The rule needs the output (where it is > 0 the ReLU let the gradient
        // through): captured raw, as in unary(), since it is this node's own tensor.
        const tt_tensor *rx = x.raw(), *rg = gamma.raw(), *rm = mean.raw(), *rs = invstd.raw(), *ro = out.raw();
        int32_t train = training ? 1 : 0;
        record(out, "batch_norm2d_relu", {&x, &gamma, &beta},
               [rx, rg, rm, rs, ro, train](const tt_tensor* g, tt_tensor** const* want) {
                   return sp().batchnorm2d_relu_backward(rx, rg, rm, rs, ro, train, g, want[0], want[1], want[2]);
               },
               {mean, invstd});
    }
    return out;
}

Tensor batch_norm2d_relu_max_pool2d(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                                    Tensor& running_var, bool training, float momentum, float eps, int32_t kernel,
                                    int32_t stride) {
    if (stride == 0) stride = kernel;
    tt_tensor *o = nullptr, *idx = nullptr, *m = nullptr, *s = nullptr;
    tt_status st = sp().batchnorm2d_relu_maxpool2d_forward(x.raw(), gamma.raw(), beta.raw(), running_mean.raw(),
                                                           running_var.raw(), training ? 1 : 0, momentum, eps,
                                                           kernel, stride, &o, &idx, &m, &s);
    if (fused_op_missing(st))
        return max_pool2d(batch_norm2d_relu(x, gamma, beta, running_mean, running_var, training, momentum, eps),
                          kernel, stride);
    runtime().check(st, 9, "batchnorm2d_relu_maxpool2d_forward");
    Tensor out = Tensor::adopt(o);
    Tensor indices = Tensor::adopt(idx);
    Tensor mean = Tensor::adopt(m);
    Tensor invstd = Tensor::adopt(s);
    if (should_record({&x, &gamma, &beta})) {
        // The rule needs the output (where it is > 0 the ReLU let the gradient
        // through): captured raw, as in unary(), since it is this node's own tensor.
        const tt_tensor *rx = x.raw(), *rg = gamma.raw(), *rm = mean.raw(), *rs = invstd.raw();
        const tt_tensor *ri = indices.raw(), *ro = out.raw();
        int32_t train = training ? 1 : 0;
        record(out, "batch_norm2d_relu_max_pool2d", {&x, &gamma, &beta},
               [rx, rg, rm, rs, ri, ro, train, kernel, stride](const tt_tensor* g, tt_tensor** const* want) {
                   return sp().batchnorm2d_relu_maxpool2d_backward(rx, rg, rm, rs, ri, ro, train, kernel, stride, g,
                                                                   want[0], want[1], want[2]);
               },
               {mean, invstd, indices});
    }
    return out;
}

Tensor flatten(const Tensor& x) {
    Tensor out = produce(9, "flatten", [&](tt_tensor** o) { return sp().flatten(x.raw(), o); });
    if (should_record({&x})) {
        const tt_tensor* rx = x.raw();
        // flatten is a reshape: its gradient is reshaping back (module 05's rule).
        record(out, "flatten", {&x}, [rx](const tt_tensor* g, tt_tensor** const* want) {
            return ag().reshape_backward(rx, g, want[0]);
        });
    }
    return out;
}

}  // namespace tt
