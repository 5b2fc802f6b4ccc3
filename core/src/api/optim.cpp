// optim.cpp - tt::Optimizer over module 06.
#include "tinytorch/optim.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "tinytorch/runtime.hpp"

namespace tt {

std::vector<Tensor> tensors_of(const std::vector<nn::NamedTensor>& named) {
    std::vector<Tensor> out;
    out.reserve(named.size());
    for (const auto& n : named) out.push_back(n.tensor);
    return out;
}

Optimizer::Optimizer(std::vector<Tensor> params, const tt_optimizer_config& config)
    : params_(std::move(params)), config_(config) {
    if (params_.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
        throw std::invalid_argument("Optimizer: too many parameters");
    raw_params_.reserve(params_.size());
    for (size_t i = 0; i < params_.size(); ++i) {
        if (!params_[i].defined())
            throw std::invalid_argument("Optimizer: parameter " + std::to_string(i) + " is an undefined tt::Tensor");
        raw_params_.push_back(params_[i].raw());
    }
    TT_CALL(6, runtime().optimizers(), optimizer_create, &config_, raw_params_.data(),
            static_cast<int32_t>(raw_params_.size()), &opt_);
}

Optimizer Optimizer::sgd(std::vector<Tensor> params, float lr, float momentum, float weight_decay, bool nesterov) {
    tt_optimizer_config c{};
    c.kind = TT_OPTIM_SGD;
    c.lr = lr;
    c.momentum = momentum;
    c.weight_decay = weight_decay;
    c.nesterov = nesterov ? 1 : 0;
    return Optimizer(std::move(params), c);
}

namespace {

tt_optimizer_config adam_config(int32_t kind, float lr, float beta1, float beta2, float eps, float weight_decay) {
    tt_optimizer_config c{};
    c.kind = kind;
    c.lr = lr;
    c.beta1 = beta1;
    c.beta2 = beta2;
    c.eps = eps;
    c.weight_decay = weight_decay;
    return c;
}

}  // namespace

Optimizer Optimizer::adam(std::vector<Tensor> params, float lr, float beta1, float beta2, float eps,
                          float weight_decay) {
    return Optimizer(std::move(params), adam_config(TT_OPTIM_ADAM, lr, beta1, beta2, eps, weight_decay));
}

Optimizer Optimizer::adamw(std::vector<Tensor> params, float lr, float beta1, float beta2, float eps,
                           float weight_decay) {
    return Optimizer(std::move(params), adam_config(TT_OPTIM_ADAMW, lr, beta1, beta2, eps, weight_decay));
}

Optimizer::~Optimizer() {
    if (opt_ != nullptr) runtime().optimizers().optimizer_free(opt_);
}

Optimizer::Optimizer(Optimizer&& other) noexcept
    : params_(std::move(other.params_)),
      raw_params_(std::move(other.raw_params_)),
      config_(other.config_),
      opt_(other.opt_) {
    other.opt_ = nullptr;
}

Optimizer& Optimizer::operator=(Optimizer&& other) noexcept {
    if (this != &other) {
        if (opt_ != nullptr) runtime().optimizers().optimizer_free(opt_);
        params_ = std::move(other.params_);
        raw_params_ = std::move(other.raw_params_);  // the buffer (what the module holds) moves along
        config_ = other.config_;
        opt_ = other.opt_;
        other.opt_ = nullptr;
    }
    return *this;
}

tt_optimizer* Optimizer::need() const {
    if (opt_ == nullptr) throw std::logic_error("tt::Optimizer used after it was moved from");
    return opt_;
}

void Optimizer::step() { TT_CALL(6, runtime().optimizers(), optimizer_step, need()); }
void Optimizer::zero_grad() { TT_CALL(6, runtime().optimizers(), optimizer_zero_grad, need()); }

float Optimizer::lr() const {
    float lr = 0.0f;
    TT_CALL(6, runtime().optimizers(), optimizer_get_lr, need(), &lr);
    return lr;
}

void Optimizer::set_lr(float lr) { TT_CALL(6, runtime().optimizers(), optimizer_set_lr, need(), lr); }

int64_t Optimizer::step_count() const {
    int64_t step = 0;
    TT_CALL(6, runtime().optimizers(), optimizer_get_step, need(), &step);
    return step;
}

void Optimizer::set_step_count(int64_t step) { TT_CALL(6, runtime().optimizers(), optimizer_set_step, need(), step); }

Tensor Optimizer::state(int32_t index, int32_t slot) {
    tt_tensor* s = nullptr;
    TT_CALL(6, runtime().optimizers(), optimizer_state, need(), index, slot, &s);
    return s != nullptr ? Tensor::borrow(s) : Tensor();
}

namespace {

constexpr int64_t kStepRadix = int64_t{1} << 24;  // floats hold integers below 2^24 exactly

}  // namespace

std::vector<nn::NamedTensor> Optimizer::state_dict(const std::string& prefix) {
    std::vector<nn::NamedTensor> out;
    for (int32_t i = 0; i < static_cast<int32_t>(params_.size()); ++i)
        for (int32_t slot = 0; slot < kOptimizerStateSlots; ++slot) {
            Tensor s = state(i, slot);
            if (s.defined())
                out.push_back({prefix + "state." + std::to_string(i) + "." + std::to_string(slot), s});
        }
    const int64_t step = step_count();
    out.push_back({prefix + "step", Tensor::from({static_cast<float>(step % kStepRadix),
                                                  static_cast<float>(step / kStepRadix)},
                                                 {2})});
    out.push_back({prefix + "lr", Tensor::from({lr()}, {1})});
    return out;
}

void Optimizer::load_state_dict(const std::vector<nn::NamedTensor>& entries, const std::string& prefix) {
    // Check everything first, then apply: a bad entry changes nothing.
    struct Copy {
        Tensor from, to;
    };
    std::vector<Copy> copies;
    int64_t step = -1;
    float new_lr = -1.0f;  // < 0: not given
    for (const auto& e : entries) {
        if (e.name.compare(0, prefix.size(), prefix) != 0 || !e.tensor.defined()) continue;
        const std::string key = e.name.substr(prefix.size());
        if (key == "step") {
            if (e.tensor.numel() != 2) throw std::invalid_argument("load_state_dict: " + e.name + " must hold 2 values");
            const float* d = e.tensor.data();
            if (!(d[0] >= 0.0f && d[0] < kStepRadix && d[1] >= 0.0f && d[1] < kStepRadix))
                throw std::invalid_argument("load_state_dict: " + e.name + " is not a valid step count");
            step = static_cast<int64_t>(d[0]) + static_cast<int64_t>(d[1]) * kStepRadix;
        } else if (key == "lr") {
            if (e.tensor.numel() != 1) throw std::invalid_argument("load_state_dict: " + e.name + " must hold 1 value");
            new_lr = e.tensor.data()[0];
            if (!(new_lr >= 0.0f) || std::isinf(new_lr))
                throw std::invalid_argument("load_state_dict: " + e.name + " is not a valid learning rate");
        } else if (key.compare(0, 6, "state.") == 0) {
            int index = -1, slot = -1;
            char tail = 0;
            if (std::sscanf(key.c_str() + 6, "%d.%d%c", &index, &slot, &tail) != 2 || index < 0 ||
                index >= static_cast<int>(params_.size()))
                throw std::invalid_argument("load_state_dict: " + e.name + " names no state of this optimizer");
            Tensor own = state(index, slot);
            if (!own.defined())
                throw std::invalid_argument("load_state_dict: " + e.name + " names a slot this optimizer does not have");
            if (own.shape() != e.tensor.shape())
                throw std::invalid_argument("load_state_dict: " + e.name + " has shape " + shape_str(e.tensor.shape()) +
                                            ", the optimizer's state has " + shape_str(own.shape()));
            if (own.raw() != e.tensor.raw()) copies.push_back({e.tensor, own});
        }
    }
    for (auto& c : copies) std::copy(c.from.data(), c.from.data() + c.from.numel(), c.to.data());
    if (step >= 0) set_step_count(step);
    if (new_lr >= 0.0f) set_lr(new_lr);
}

}  // namespace tt
