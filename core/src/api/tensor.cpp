// tensor.cpp - tt::Tensor: creation, inspection and autograd entry points.
#include "tinytorch/tensor.hpp"

#include <cmath>
#include <sstream>

#include "autograd/tape.hpp"
#include "runtime/host_services.hpp"
#include "tinytorch/runtime.hpp"

namespace tt {

using detail::TensorImpl;

std::string shape_str(const Shape& shape) {
    std::ostringstream os;
    os << "[";
    for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
    os << "]";
    return os.str();
}

namespace {

const TensorImpl& need(const std::shared_ptr<TensorImpl>& impl) {
    if (!impl) throw std::logic_error("operation on an undefined tt::Tensor (default-constructed)");
    return *impl;
}

}  // namespace

Tensor Tensor::adopt(tt_tensor* raw) {
    if (raw == nullptr) throw std::logic_error("Tensor::adopt(NULL): the module returned no tensor");
    auto impl = std::make_shared<TensorImpl>();
    impl->t = raw;
    return Tensor(std::move(impl));
}

Tensor Tensor::borrow(tt_tensor* raw) {
    if (raw == nullptr) throw std::logic_error("Tensor::borrow(NULL)");
    auto impl = std::make_shared<TensorImpl>();
    impl->t = raw;
    impl->owned = false;
    return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape) {
    tt_tensor* out = nullptr;
    TT_CALL(1, runtime().tensor(), create, shape.data(), static_cast<int32_t>(shape.size()), &out);
    return adopt(out);
}

Tensor Tensor::full(const Shape& shape, float value) {
    Tensor t = zeros(shape);
    float* d = t.data();
    for (int64_t i = 0; i < t.numel(); ++i) d[i] = value;
    return t;
}

Tensor Tensor::from(const std::vector<float>& data, const Shape& shape) {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    if (n != static_cast<int64_t>(data.size()))
        throw std::invalid_argument("Tensor::from: " + std::to_string(data.size()) +
                                    " values do not fill shape " + shape_str(shape) + " (" +
                                    std::to_string(n) + " elements)");
    tt_tensor* out = nullptr;
    TT_CALL(1, runtime().tensor(), from_data, data.data(), shape.data(),
            static_cast<int32_t>(shape.size()), &out);
    return adopt(out);
}

Tensor Tensor::scalar(float value) { return from({value}, {}); }

Tensor Tensor::uniform(const Shape& shape, float lo, float hi) {
    Tensor t = zeros(shape);
    float* d = t.data();
    tt_rng* rng = detail::global_rng();
    for (int64_t i = 0; i < t.numel(); ++i) d[i] = lo + (hi - lo) * detail::rng_uniform(rng);
    return t;
}

Tensor Tensor::randn(const Shape& shape) {
    // Box-Muller on the global RNG.
    Tensor t = zeros(shape);
    float* d = t.data();
    tt_rng* rng = detail::global_rng();
    for (int64_t i = 0; i < t.numel(); i += 2) {
        double u1 = 1.0 - detail::rng_uniform(rng), u2 = detail::rng_uniform(rng);
        double r = std::sqrt(-2.0 * std::log(u1));
        d[i] = static_cast<float>(r * std::cos(2 * M_PI * u2));
        if (i + 1 < t.numel()) d[i + 1] = static_cast<float>(r * std::sin(2 * M_PI * u2));
    }
    return t;
}

Shape Tensor::shape() const {
    const tt_tensor* t = need(impl_).t;
    return Shape(t->shape, t->shape + t->ndim);
}
int32_t Tensor::ndim() const { return need(impl_).t->ndim; }
int64_t Tensor::numel() const { return need(impl_).t->numel; }
int64_t Tensor::size(int32_t dim) const {
    const tt_tensor* t = need(impl_).t;
    int32_t d = dim < 0 ? dim + t->ndim : dim;
    if (d < 0 || d >= t->ndim)
        throw std::out_of_range("Tensor::size(" + std::to_string(dim) + ") on a tensor of shape " +
                                shape_str(shape()));
    return t->shape[d];
}
float* Tensor::data() { return need(impl_).t->data; }
const float* Tensor::data() const { return need(impl_).t->data; }
tt_tensor* Tensor::raw() const { return need(impl_).t; }

float Tensor::item() const {
    if (numel() != 1)
        throw std::logic_error("Tensor::item() needs exactly one element, shape is " + shape_str(shape()));
    return data()[0];
}

std::vector<float> Tensor::to_vector() const { return std::vector<float>(data(), data() + numel()); }

float Tensor::at(std::initializer_list<int64_t> index) const {
    const tt_tensor* t = need(impl_).t;
    if (static_cast<int32_t>(index.size()) != t->ndim)
        throw std::out_of_range("Tensor::at: " + std::to_string(index.size()) + " indices for a " +
                                std::to_string(t->ndim) + "-d tensor");
    int64_t flat = 0, d = 0;
    for (int64_t i : index) {
        if (i < 0 || i >= t->shape[d])
            throw std::out_of_range("Tensor::at: index " + std::to_string(i) + " out of range for axis " +
                                    std::to_string(d) + " of shape " + shape_str(shape()));
        flat = flat * t->shape[d] + i;
        ++d;
    }
    return t->data[flat];
}

std::string Tensor::str(int max_values) const {
    if (!defined()) return "Tensor(undefined)";
    std::ostringstream os;
    os << "Tensor" << shape_str(shape()) << " {";
    for (int64_t i = 0; i < numel() && i < max_values; ++i) os << (i ? ", " : "") << data()[i];
    if (numel() > max_values) os << ", ...";
    os << "}";
    return os.str();
}

// ------------------------------------------------------------------ autograd

Tensor& Tensor::set_requires_grad(bool on) {
    need(impl_).t->requires_grad = on ? 1 : 0;
    return *this;
}
bool Tensor::requires_grad() const { return need(impl_).t->requires_grad != 0; }
bool Tensor::has_grad_fn() const { return need(impl_).t->grad_fn != nullptr; }

Tensor Tensor::grad() const {
    tt_tensor* g = need(impl_).t->grad;
    if (g == nullptr) return Tensor();
    auto view = std::make_shared<TensorImpl>();
    view->t = g;
    view->owned = false;  // the parent tensor owns its grad
    view->owner = impl_;
    return Tensor(std::move(view));
}

void Tensor::zero_grad() {
    tt_tensor* g = need(impl_).t->grad;
    if (g == nullptr) return;
    for (int64_t i = 0; i < g->numel; ++i) g->data[i] = 0.0f;
}

void Tensor::backward(const Tensor& seed) const {
    need(impl_);
    if (!impl_->t->requires_grad)
        throw std::logic_error(
            "backward() on a tensor that does not require grad: call set_requires_grad() on the "
            "parameters before computing the loss");
    auto& rt = runtime();
    tt_status st = rt.autograd().backward(impl_->t, seed.defined() ? seed.raw() : nullptr);
    detail::release_graph(impl_);
    rt.check(st, 5, "backward");
}

Tensor Tensor::clone() const {
    tt_tensor* out = nullptr;
    TT_CALL(1, runtime().tensor(), copy, raw(), &out);
    return adopt(out);
}

Tensor Tensor::detach() const { return clone(); }

// ------------------------------------------------------------------ grad mode

bool grad_enabled() {
    int32_t on = 1;
    TT_CALL(5, runtime().autograd(), is_grad_enabled, &on);
    return on != 0;
}

NoGradGuard::NoGradGuard() {
    int32_t previous = 1;
    TT_CALL(5, runtime().autograd(), set_grad_enabled, 0, &previous);
    previous_ = previous != 0;
}

NoGradGuard::~NoGradGuard() { runtime().autograd().set_grad_enabled(previous_ ? 1 : 0, nullptr); }

}  // namespace tt
