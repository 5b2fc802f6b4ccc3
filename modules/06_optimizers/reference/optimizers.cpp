// optimizers.cpp - module 06 Optimizers: SGD (momentum, dampening, Nesterov,
// weight decay), Adam and AdamW with bias correction.
//
// The contract is core/include/tinytorch/abi/tt_06_optimizers.h. An optimizer
// borrows the parameter tensors and owns its per-parameter state tensors,
// created with module 01's create (zeros) the first time they are needed.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "tinytorch/abi/tt_05_autograd.h"
#include "tinytorch/abi/tt_06_optimizers.h"
#include "tinytorch/module/module_support.hpp"

// State slots per parameter: SGD uses slot 0 (the momentum buffer) when
// momentum != 0; Adam and AdamW use slot 0 (m) and slot 1 (v).
#define TT_OPTIM_MAX_SLOTS 2

struct tt_optimizer {
    tt_optimizer_config config;
    std::vector<tt_tensor*> params;  // borrowed
    std::vector<tt_tensor*> state;   // owned; state[i * TT_OPTIM_MAX_SLOTS + slot], NULL until needed
    int64_t step = 0;                // steps taken (Adam's t after the step)
};

namespace {

const tt_host* host() { return ttm::host(); }

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

// How many state slots the optimizer keeps per parameter.
int32_t slot_count(const tt_optimizer_config& c) {
    if (c.kind == TT_OPTIM_SGD) return c.momentum != 0.0f ? 1 : 0;
    return 2;
}

// Check a configuration before anything is allocated. Every rejection names
// the setting, its value and the range it must be in.
tt_status validate_config(const tt_optimizer_config* c) {
    const char* fn = "optimizer_create";
    // BEGIN SOLUTION
    // TODO: reject settings that make no sense with TT_INVALID_ARGUMENT
    //   (ttm::fail(TT_INVALID_ARGUMENT, fn, "...")): an unknown kind, lr < 0,
    //   weight_decay < 0, momentum < 0, dampening outside [0, 1], nesterov
    //   without momentum > 0 or with dampening != 0, beta1/beta2 outside
    //   [0, 1), eps < 0. NaN must be rejected too.
    // HINT: write the checks as !(value >= 0) so that NaN fails them as well.
    if (c->kind != TT_OPTIM_SGD && c->kind != TT_OPTIM_ADAM && c->kind != TT_OPTIM_ADAMW)
        return ttm::fail(TT_INVALID_ARGUMENT, fn,
                         "unknown optimizer kind " + std::to_string(c->kind) +
                             " (use TT_OPTIM_SGD, TT_OPTIM_ADAM or TT_OPTIM_ADAMW)");
    if (!(c->lr >= 0.0f) || std::isinf(c->lr))
        return ttm::fail(TT_INVALID_ARGUMENT, fn, "lr must be a finite number >= 0, got " + num(c->lr));
    if (!(c->weight_decay >= 0.0f) || std::isinf(c->weight_decay))
        return ttm::fail(TT_INVALID_ARGUMENT, fn,
                         "weight_decay must be a finite number >= 0, got " + num(c->weight_decay));
    if (c->kind == TT_OPTIM_SGD) {
        if (!(c->momentum >= 0.0f) || std::isinf(c->momentum))
            return ttm::fail(TT_INVALID_ARGUMENT, fn,
                             "momentum must be a finite number >= 0, got " + num(c->momentum));
        if (!(c->dampening >= 0.0f && c->dampening <= 1.0f))
            return ttm::fail(TT_INVALID_ARGUMENT, fn,
                             "dampening must be in [0, 1], got " + num(c->dampening));
        if (c->nesterov != 0 && (c->momentum <= 0.0f || c->dampening != 0.0f))
            return ttm::fail(TT_INVALID_ARGUMENT, fn,
                             "nesterov needs momentum > 0 and dampening == 0 (got momentum " +
                                 num(c->momentum) + ", dampening " + num(c->dampening) + ")");
    } else {
        if (!(c->beta1 >= 0.0f && c->beta1 < 1.0f))
            return ttm::fail(TT_INVALID_ARGUMENT, fn, "beta1 must be in [0, 1), got " + num(c->beta1));
        if (!(c->beta2 >= 0.0f && c->beta2 < 1.0f))
            return ttm::fail(TT_INVALID_ARGUMENT, fn, "beta2 must be in [0, 1), got " + num(c->beta2));
        if (!(c->eps >= 0.0f) || std::isinf(c->eps))
            return ttm::fail(TT_INVALID_ARGUMENT, fn, "eps must be a finite number >= 0, got " + num(c->eps));
    }
    return TT_OK;
    // END SOLUTION
}

// Return state slot `slot` of parameter i, creating it (zeros, shaped like the
// parameter) on first use.
tt_status ensure_state(tt_optimizer* opt, size_t i, int32_t slot, tt_tensor** out) {
    tt_tensor*& s = opt->state[i * TT_OPTIM_MAX_SLOTS + static_cast<size_t>(slot)];
    if (s == nullptr) {
        const tt_tensor* p = opt->params[i];
        TT_CHECK(host()->tensor->create(p->shape, p->ndim, &s));
    }
    *out = s;
    return TT_OK;
}

// One SGD update of parameter p from its grad. buf is the momentum buffer
// (NULL when momentum == 0); first is true when the buffer was just created,
// so it must start as the gradient itself (v = g), as in PyTorch.
tt_status sgd_update(const tt_optimizer_config& c, tt_tensor* p, tt_tensor* buf, bool first) {
    // BEGIN SOLUTION
    // TODO: for every element k:
    //   g = grad[k] + weight_decay * p[k]
    //   with momentum: v = first ? g : momentum * v + (1 - dampening) * g, store v in buf
    //                  d = nesterov ? g + momentum * v : v
    //   without momentum (buf == NULL): d = g
    //   p[k] -= lr * d
    // HINT: read the decayed gradient from p[k] BEFORE you change p[k].
    float* w = p->data;
    const float* grad = p->grad->data;
    float* v = buf != nullptr ? buf->data : nullptr;
    for (int64_t k = 0; k < p->numel; ++k) {
        float g = grad[k] + c.weight_decay * w[k];
        float d = g;
        if (v != nullptr) {
            v[k] = first ? g : c.momentum * v[k] + (1.0f - c.dampening) * g;
            d = c.nesterov != 0 ? g + c.momentum * v[k] : v[k];
        }
        w[k] -= c.lr * d;
    }
    return TT_OK;
    // END SOLUTION
}

// One Adam / AdamW update of parameter p at step t (t >= 1) with moments m, v.
tt_status adam_update(const tt_optimizer_config& c, int64_t t, tt_tensor* p, tt_tensor* m,
                      tt_tensor* v) {
    // BEGIN SOLUTION
    // TODO: bias corrections bc1 = 1 - beta1^t and bc2 = 1 - beta2^t, then per element:
    //   Adam:  g = grad + weight_decay * p
    //   AdamW: p -= lr * weight_decay * p first (decoupled decay), and g = grad
    //   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
    //   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps)
    // HINT: compute beta^t with std::pow in double; m and v live in the two state tensors.
    const double bc1 = 1.0 - std::pow(static_cast<double>(c.beta1), static_cast<double>(t));
    const double bc2 = 1.0 - std::pow(static_cast<double>(c.beta2), static_cast<double>(t));
    const bool decoupled = c.kind == TT_OPTIM_ADAMW;
    float* w = p->data;
    const float* grad = p->grad->data;
    float* mm = m->data;
    float* vv = v->data;
    for (int64_t k = 0; k < p->numel; ++k) {
        float g = grad[k];
        if (decoupled)
            w[k] -= c.lr * c.weight_decay * w[k];
        else
            g += c.weight_decay * w[k];
        mm[k] = c.beta1 * mm[k] + (1.0f - c.beta1) * g;
        vv[k] = c.beta2 * vv[k] + (1.0f - c.beta2) * g * g;
        const double mhat = mm[k] / bc1;
        const double vhat = vv[k] / bc2;
        w[k] -= static_cast<float>(c.lr * mhat / (std::sqrt(vhat) + c.eps));
    }
    return TT_OK;
    // END SOLUTION
}

// ------------------------------------------------------------ the table

tt_status optimizer_create(const tt_optimizer_config* config, tt_tensor* const* params,
                           int32_t n_params, tt_optimizer** out) {
    TT_GUARD_BEGIN
    if (out == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "out is NULL");
    *out = nullptr;
    if (config == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "config is NULL");
    if (n_params < 0)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                         "n_params must be >= 0, got " + std::to_string(n_params));
    if (n_params > 0 && params == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "params is NULL but n_params > 0");
    for (int32_t i = 0; i < n_params; ++i)
        if (params[i] == nullptr)
            return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                             "params[" + std::to_string(i) + "] is NULL");
    TT_CHECK(validate_config(config));

    auto* opt = new tt_optimizer;
    opt->config = *config;
    opt->params.assign(params, params + n_params);
    opt->state.assign(static_cast<size_t>(n_params) * TT_OPTIM_MAX_SLOTS, nullptr);
    *out = opt;
    return TT_OK;
    TT_GUARD_END
}

tt_status optimizer_step(tt_optimizer* opt) {
    TT_GUARD_BEGIN
    if (opt == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "opt is NULL");
    const size_t n = opt->params.size();
    const int32_t slots = slot_count(opt->config);

    // Check every gradient and create every missing state tensor first, so a
    // failure leaves all parameters as they were.
    std::vector<char> fresh(n, 0);
    for (size_t i = 0; i < n; ++i) {
        const tt_tensor* p = opt->params[i];
        if (p->grad == nullptr) continue;
        if (p->grad->numel != p->numel)
            return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                             "parameter " + std::to_string(i) + " has " + std::to_string(p->numel) +
                                 " elements but its grad has " + std::to_string(p->grad->numel));
        fresh[i] = opt->state[i * TT_OPTIM_MAX_SLOTS] == nullptr;
        for (int32_t s = 0; s < slots; ++s) {
            tt_tensor* st = nullptr;
            TT_CHECK(ensure_state(opt, i, s, &st));
        }
    }

    const int64_t t = opt->step + 1;
    for (size_t i = 0; i < n; ++i) {
        tt_tensor* p = opt->params[i];
        if (p->grad == nullptr) continue;
        tt_tensor** st = &opt->state[i * TT_OPTIM_MAX_SLOTS];
        if (opt->config.kind == TT_OPTIM_SGD)
            TT_CHECK(sgd_update(opt->config, p, st[0], fresh[i] != 0));
        else
            TT_CHECK(adam_update(opt->config, t, p, st[0], st[1]));
    }
    opt->step = t;
    return TT_OK;
    TT_GUARD_END
}

tt_status optimizer_zero_grad(tt_optimizer* opt) {
    TT_GUARD_BEGIN
    if (opt == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "opt is NULL");
    // BEGIN SOLUTION
    // TODO: set every element of every parameter's grad to 0. A parameter whose
    //   grad is NULL keeps a NULL grad (do not create one).
    // HINT: the grad is a tt_tensor with numel floats at grad->data.
    for (tt_tensor* p : opt->params)
        if (p->grad != nullptr && p->grad->numel > 0)
            std::memset(p->grad->data, 0, static_cast<size_t>(p->grad->numel) * sizeof(float));
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status optimizer_set_lr(tt_optimizer* opt, float lr) {
    TT_GUARD_BEGIN
    if (opt == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "opt is NULL");
    if (!(lr >= 0.0f) || std::isinf(lr))
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "lr must be a finite number >= 0, got " + num(lr));
    opt->config.lr = lr;
    return TT_OK;
    TT_GUARD_END
}

tt_status optimizer_get_lr(const tt_optimizer* opt, float* out_lr) {
    TT_GUARD_BEGIN
    if (opt == nullptr || out_lr == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "opt or out_lr is NULL");
    *out_lr = opt->config.lr;
    return TT_OK;
    TT_GUARD_END
}

tt_status optimizer_state(tt_optimizer* opt, int32_t index, int32_t slot, tt_tensor** out_state) {
    TT_GUARD_BEGIN
    if (out_state == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "out_state is NULL");
    *out_state = nullptr;
    if (opt == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "opt is NULL");
    if (index < 0 || static_cast<size_t>(index) >= opt->params.size())
        return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                         "parameter index " + std::to_string(index) + " is out of range (the optimizer has " +
                             std::to_string(opt->params.size()) + " parameters)");
    if (slot < 0 || slot >= slot_count(opt->config)) return TT_OK;  // no such slot: NULL
    return ensure_state(opt, static_cast<size_t>(index), slot, out_state);
    TT_GUARD_END
}

tt_status optimizer_get_step(const tt_optimizer* opt, int64_t* out_step) {
    TT_GUARD_BEGIN
    if (opt == nullptr || out_step == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "opt or out_step is NULL");
    *out_step = opt->step;
    return TT_OK;
    TT_GUARD_END
}

tt_status optimizer_set_step(tt_optimizer* opt, int64_t step) {
    TT_GUARD_BEGIN
    if (opt == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "opt is NULL");
    if (step < 0)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "step must be >= 0, got " + std::to_string(step));
    opt->step = step;
    return TT_OK;
    TT_GUARD_END
}

tt_status optimizer_free(tt_optimizer* opt) {
    TT_GUARD_BEGIN
    if (opt == nullptr) return TT_OK;
    for (tt_tensor* s : opt->state)
        if (s != nullptr) host()->tensor->free(s);
    delete opt;
    return TT_OK;
    TT_GUARD_END
}

constexpr tt_optimizers_api k_api = {
    optimizer_create, optimizer_step,  optimizer_zero_grad, optimizer_set_lr,  optimizer_get_lr,
    optimizer_state,  optimizer_get_step, optimizer_set_step, optimizer_free,
};

}  // namespace

TT_DEFINE_MODULE(tt_entry_06_optimizers, "optimizers", TT_OPTIMIZERS_DEPS, tt_optimizers_api, k_api)
