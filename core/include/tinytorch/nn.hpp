// nn.hpp - layers as objects that own their parameters (the C++ API over
// modules 03 and 09), and Sequential to chain them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tinytorch/tensor.hpp"

namespace tt::nn {

// A named parameter (shares storage with the layer's tensor).
struct NamedTensor {
    std::string name;
    Tensor tensor;
};

class Module {
public:
    virtual ~Module() = default;
    virtual Tensor forward(const Tensor& x) = 0;
    Tensor operator()(const Tensor& x) { return forward(x); }
    // Trainable parameters, in a stable order.
    virtual std::vector<NamedTensor> parameters() { return {}; }
    // Parameters plus persistent state (BatchNorm running statistics): what a
    // checkpoint saves.
    virtual std::vector<NamedTensor> state() { return parameters(); }
    virtual std::string describe() const = 0;  // "Linear(64 -> 10)"
    void train(bool on = true) { training_ = on; on_mode_change(); }
    void eval() { train(false); }
    bool is_training() const { return training_; }
    int64_t parameter_count();

protected:
    virtual void on_mode_change() {}
    bool training_ = true;
};

class Linear : public Module {
public:
    Linear(int64_t in_features, int64_t out_features, int32_t init = 0 /* TT_INIT_KAIMING_UNIFORM */);
    Tensor forward(const Tensor& x) override;
    std::vector<NamedTensor> parameters() override;
    std::string describe() const override;
    Tensor weight, bias;  // [in, out], [out]

private:
    int64_t in_, out_;
};

class Dropout : public Module {
public:
    explicit Dropout(float p) : p_(p) {}
    Tensor forward(const Tensor& x) override { return dropout(x, p_, training_); }
    std::string describe() const override;

private:
    float p_;
};

class ReLU : public Module {
public:
    Tensor forward(const Tensor& x) override { return relu(x); }
    std::string describe() const override { return "ReLU"; }
};

class Flatten : public Module {
public:
    Tensor forward(const Tensor& x) override { return flatten(x); }
    std::string describe() const override { return "Flatten"; }
};

class Conv2d : public Module {
public:
    Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, int32_t stride = 1,
           int32_t padding = 0);
    Tensor forward(const Tensor& x) override;
    std::vector<NamedTensor> parameters() override;
    std::string describe() const override;
    Tensor weight, bias;  // [out, in, k, k], [out]

private:
    int64_t in_, out_, kernel_;
    int32_t stride_, padding_;
};

class MaxPool2d : public Module {
public:
    explicit MaxPool2d(int32_t kernel, int32_t stride = 0) : kernel_(kernel), stride_(stride ? stride : kernel) {}
    Tensor forward(const Tensor& x) override { return max_pool2d(x, kernel_, stride_); }
    std::string describe() const override;
    int32_t kernel() const { return kernel_; }
    int32_t stride() const { return stride_; }

private:
    int32_t kernel_, stride_;
};

class AvgPool2d : public Module {
public:
    explicit AvgPool2d(int32_t kernel, int32_t stride = 0) : kernel_(kernel), stride_(stride ? stride : kernel) {}
    Tensor forward(const Tensor& x) override { return avg_pool2d(x, kernel_, stride_); }
    std::string describe() const override;

private:
    int32_t kernel_, stride_;
};

class BatchNorm2d : public Module {
public:
    explicit BatchNorm2d(int64_t channels, float momentum = 0.1f, float eps = 1e-5f);
    Tensor forward(const Tensor& x) override;
    // relu(forward(x)) in one pass; Sequential uses it for BatchNorm2d, ReLU.
    Tensor forward_relu(const Tensor& x);
    // pool(relu(forward(x))) in one op; Sequential uses it for BatchNorm2d,
    // ReLU, MaxPool2d.
    Tensor forward_relu_maxpool(const Tensor& x, const MaxPool2d& pool);
    std::vector<NamedTensor> parameters() override;
    std::vector<NamedTensor> state() override;
    std::string describe() const override;
    Tensor gamma, beta, running_mean, running_var;

private:
    int64_t channels_;
    float momentum_, eps_;
};

class Sequential : public Module {
public:
    Sequential() = default;
    template <class M, class... Args>
    M& add(Args&&... args) {
        auto m = std::make_shared<M>(std::forward<Args>(args)...);
        M& ref = *m;
        layers_.push_back(std::move(m));
        return ref;
    }
    void push(std::shared_ptr<Module> m) { layers_.push_back(std::move(m)); }
    // Runs the layers in order. A BatchNorm2d directly followed by a ReLU
    // (and a MaxPool2d) runs as one fused op (BatchNorm2d::forward_relu,
    // forward_relu_maxpool): the same result, without writing and reading
    // back the activations in between.
    Tensor forward(const Tensor& x) override;
    std::vector<NamedTensor> parameters() override;  // names "0.weight", "3.gamma", ...
    std::vector<NamedTensor> state() override;
    std::string describe() const override;
    const std::vector<std::shared_ptr<Module>>& layers() const { return layers_; }

protected:
    void on_mode_change() override;

private:
    std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace tt::nn
