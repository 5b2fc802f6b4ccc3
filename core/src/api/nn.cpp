// nn.cpp - layers that own their parameters.
#include "tinytorch/nn.hpp"

#include <sstream>

#include "tinytorch/runtime.hpp"

namespace tt::nn {

int64_t Module::parameter_count() {
    int64_t n = 0;
    for (auto& p : parameters()) n += p.tensor.numel();
    return n;
}

// ---------------------------------------------------------------- Linear

Linear::Linear(int64_t in_features, int64_t out_features, int32_t init) : in_(in_features), out_(out_features) {
    tt_tensor *w = nullptr, *b = nullptr;
    runtime().check(runtime().layers().linear_init(in_features, out_features, init, &w, &b), 3, "linear_init");
    weight = Tensor::adopt(w);
    bias = Tensor::adopt(b);
    weight.set_requires_grad();
    bias.set_requires_grad();
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }
std::vector<NamedTensor> Linear::parameters() { return {{"weight", weight}, {"bias", bias}}; }
std::string Linear::describe() const {
    return "Linear(" + std::to_string(in_) + " -> " + std::to_string(out_) + ")";
}

std::string Dropout::describe() const {
    std::ostringstream os;
    os << "Dropout(p=" << p_ << ")";
    return os.str();
}

// ---------------------------------------------------------------- Conv2d

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, int32_t stride, int32_t padding)
    : in_(in_channels), out_(out_channels), kernel_(kernel), stride_(stride), padding_(padding) {
    tt_tensor *w = nullptr, *b = nullptr;
    runtime().check(runtime().spatial().conv2d_init(out_channels, in_channels, kernel, kernel, &w, &b), 9,
                    "conv2d_init");
    weight = Tensor::adopt(w);
    bias = Tensor::adopt(b);
    weight.set_requires_grad();
    bias.set_requires_grad();
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, stride_, padding_); }
std::vector<NamedTensor> Conv2d::parameters() { return {{"weight", weight}, {"bias", bias}}; }
std::string Conv2d::describe() const {
    std::ostringstream os;
    os << "Conv2d(" << in_ << " -> " << out_ << ", " << kernel_ << "x" << kernel_;
    if (stride_ != 1) os << ", stride " << stride_;
    if (padding_ != 0) os << ", padding " << padding_;
    os << ")";
    return os.str();
}

std::string MaxPool2d::describe() const {
    return "MaxPool2d(" + std::to_string(kernel_) + (stride_ != kernel_ ? ", stride " + std::to_string(stride_) : "") + ")";
}
std::string AvgPool2d::describe() const {
    return "AvgPool2d(" + std::to_string(kernel_) + (stride_ != kernel_ ? ", stride " + std::to_string(stride_) : "") + ")";
}

// ---------------------------------------------------------------- BatchNorm2d

BatchNorm2d::BatchNorm2d(int64_t channels, float momentum, float eps)
    : channels_(channels), momentum_(momentum), eps_(eps) {
    gamma = Tensor::ones({channels});
    beta = Tensor::zeros({channels});
    running_mean = Tensor::zeros({channels});
    running_var = Tensor::ones({channels});
    gamma.set_requires_grad();
    beta.set_requires_grad();
}

Tensor BatchNorm2d::forward(const Tensor& x) {
    return batch_norm2d(x, gamma, beta, running_mean, running_var, training_, momentum_, eps_);
}
Tensor BatchNorm2d::forward_relu(const Tensor& x) {
    return batch_norm2d_relu(x, gamma, beta, running_mean, running_var, training_, momentum_, eps_);
}
Tensor BatchNorm2d::forward_relu_maxpool(const Tensor& x, const MaxPool2d& pool) {
    return batch_norm2d_relu_max_pool2d(x, gamma, beta, running_mean, running_var, training_, momentum_, eps_,
                                        pool.kernel(), pool.stride());
}
std::vector<NamedTensor> BatchNorm2d::parameters() { return {{"gamma", gamma}, {"beta", beta}}; }
std::vector<NamedTensor> BatchNorm2d::state() {
    return {{"gamma", gamma}, {"beta", beta}, {"running_mean", running_mean}, {"running_var", running_var}};
}
std::string BatchNorm2d::describe() const { return "BatchNorm2d(" + std::to_string(channels_) + ")"; }

// ---------------------------------------------------------------- Sequential

Tensor Sequential::forward(const Tensor& x) {
    Tensor h = x;
    auto layer_is = [this](size_t i, auto* type) {
        return i < layers_.size() && dynamic_cast<decltype(type)>(layers_[i].get()) != nullptr;
    };
    for (size_t i = 0; i < layers_.size(); ++i) {
        auto* bn = dynamic_cast<BatchNorm2d*>(layers_[i].get());
        if (bn != nullptr && layer_is(i + 1, static_cast<ReLU*>(nullptr))) {
            if (layer_is(i + 2, static_cast<MaxPool2d*>(nullptr))) {  // BatchNorm2d, ReLU, MaxPool2d
                h = bn->forward_relu_maxpool(h, static_cast<const MaxPool2d&>(*layers_[i + 2]));
                i += 2;
            } else {  // BatchNorm2d, ReLU
                h = bn->forward_relu(h);
                i += 1;
            }
            continue;
        }
        h = layers_[i]->forward(h);
    }
    return h;
}

namespace {
std::vector<NamedTensor> prefixed(const std::vector<std::shared_ptr<Module>>& layers,
                                  std::vector<NamedTensor> (Module::*get)()) {
    std::vector<NamedTensor> all;
    for (size_t i = 0; i < layers.size(); ++i)
        for (auto& p : ((*layers[i]).*get)()) all.push_back({std::to_string(i) + "." + p.name, p.tensor});
    return all;
}
}  // namespace

std::vector<NamedTensor> Sequential::parameters() { return prefixed(layers_, &Module::parameters); }
std::vector<NamedTensor> Sequential::state() { return prefixed(layers_, &Module::state); }

std::string Sequential::describe() const {
    std::string s = "Sequential(";
    for (size_t i = 0; i < layers_.size(); ++i) s += (i ? ", " : "") + layers_[i]->describe();
    return s + ")";
}

void Sequential::on_mode_change() {
    for (auto& layer : layers_) layer->train(training_);
}

}  // namespace tt::nn
