// optim.hpp - tt::Optimizer, the RAII handle over a module-06 optimizer.
//
//   auto params = tt::tensors_of(model.parameters());
//   auto opt = tt::Optimizer::adam(params, 1e-3f);
//   opt.zero_grad(); loss.backward(); opt.step();
//
// The optimizer keeps a handle on every parameter (they stay alive as long as
// it does) and owns its per-parameter state (momentum buffer, Adam moments)
// inside the module. Every call goes to the loaded module 06 and throws
// tt::Error on failure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinytorch/abi/tt_06_optimizers.h"
#include "tinytorch/nn.hpp"
#include "tinytorch/tensor.hpp"

namespace tt {

// State slots per parameter at most (Adam: m and v).
constexpr int32_t kOptimizerStateSlots = 2;

// The tensors of named parameters, in order (model.parameters() -> tensors).
std::vector<Tensor> tensors_of(const std::vector<nn::NamedTensor>& named);

class Optimizer {
public:
    // A new optimizer over params with the given configuration (see
    // tt_06_optimizers.h for every field). Throws tt::Error
    // (TT_INVALID_ARGUMENT) for a configuration the module rejects.
    Optimizer(std::vector<Tensor> params, const tt_optimizer_config& config);

    // SGD with optional momentum (dampening 0), Nesterov and L2 weight decay.
    static Optimizer sgd(std::vector<Tensor> params, float lr, float momentum = 0.0f, float weight_decay = 0.0f,
                         bool nesterov = false);
    // Adam: L2 weight decay added to the gradient.
    static Optimizer adam(std::vector<Tensor> params, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
                          float eps = 1e-8f, float weight_decay = 0.0f);
    // AdamW: decoupled weight decay (p -= lr * wd * p before the Adam step).
    static Optimizer adamw(std::vector<Tensor> params, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
                           float eps = 1e-8f, float weight_decay = 1e-2f);

    ~Optimizer();
    Optimizer(Optimizer&& other) noexcept;
    Optimizer& operator=(Optimizer&& other) noexcept;
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    // One update of every parameter that has a gradient.
    void step();
    // Fill every existing gradient with zeros.
    void zero_grad();

    float lr() const;
    void set_lr(float lr);
    // Steps taken (Adam's t); settable to resume training.
    int64_t step_count() const;
    void set_step_count(int64_t step);

    const tt_optimizer_config& config() const { return config_; }  // as created (lr: see lr())
    const std::vector<Tensor>& params() const { return params_; }

    // State slot `slot` of parameter `index` (SGD: 0 = momentum buffer; Adam:
    // 0 = m, 1 = v), created as zeros when it does not exist yet. A borrowed
    // view: valid while this optimizer lives. Undefined Tensor for a slot the
    // optimizer does not have (SGD without momentum has none).
    Tensor state(int32_t index, int32_t slot);

    // ---- checkpoints ----------------------------------------------------------
    // The optimizer's state as named tensors, to save next to the model:
    //   <prefix>state.<index>.<slot>  live views of the state tensors
    //   <prefix>step                  [2]: step count = [0] + [1] * 2^24 (exact)
    //   <prefix>lr                    [1]: the current learning rate
    // With save_checkpoint, load_checkpoint and join of train.hpp:
    //   saving:  save_checkpoint(path, join(model.state(), opt.state_dict()));
    //   loading: auto st = opt.state_dict();
    //            load_checkpoint(path, join(model.state(), st));
    //            opt.load_state_dict(st);      // applies step and lr
    // state_dict creates missing state tensors (zeros).
    std::vector<nn::NamedTensor> state_dict(const std::string& prefix = "optimizer.");
    // Apply entries named as state_dict names them (others are ignored): the
    // step count, the lr, and the data of state tensors that are not already
    // this optimizer's own views. Throws std::invalid_argument on a shape mismatch.
    void load_state_dict(const std::vector<nn::NamedTensor>& entries, const std::string& prefix = "optimizer.");

    tt_optimizer* raw() const { return opt_; }  // borrowed

private:
    tt_optimizer* need() const;
    std::vector<Tensor> params_;         // keeps the parameters alive
    std::vector<tt_tensor*> raw_params_; // the array the module was given
    tt_optimizer_config config_{};
    tt_optimizer* opt_ = nullptr;
};

}  // namespace tt
