// optimizer.cpp - creating an optimizer, checking its configuration, and the
// small accessors (learning rate, state tensors, step count, free).
//
// Your TODO here is validate_config; the rest is given.
#include <cmath>
#include <cstdio>

#include "optim_internal.hpp"

namespace optim {

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

int32_t slot_count(const tt_optimizer_config& c) {
    if (c.kind == TT_OPTIM_SGD) return c.momentum != 0.0f ? 1 : 0;
    return 2;
}

tt_status ensure_state(tt_optimizer* opt, size_t i, int32_t slot, tt_tensor** out) {
    tt_tensor*& s = opt->state[i * TT_OPTIM_MAX_SLOTS + static_cast<size_t>(slot)];
    if (s == nullptr) {
        const tt_tensor* p = opt->params[i];
        TT_CHECK(ttm::host()->tensor->create(p->shape, p->ndim, &s));
    }
    *out = s;
    return TT_OK;
}

namespace {

// Check a configuration before anything is allocated. Every rejection names
// the setting, its value and the range it must be in.
tt_status validate_config(const tt_optimizer_config* c) {
    const char* fn = "optimizer_create";
    // BEGIN SOLUTION
    // TODO: reject settings that make no sense with TT_INVALID_ARGUMENT
    //   (return ttm::fail(TT_INVALID_ARGUMENT, fn, "...")): an unknown kind,
    //   lr < 0, weight_decay < 0; for SGD momentum < 0, dampening outside
    //   [0, 1], nesterov without momentum > 0 or with dampening != 0; for Adam
    //   and AdamW beta1 or beta2 outside [0, 1), eps < 0. NaN is never valid.
    // HINT: write each check as !(value >= 0) so that NaN fails it as well.
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
            return ttm::fail(TT_INVALID_ARGUMENT, fn, "momentum must be a finite number >= 0, got " + num(c->momentum));
        if (!(c->dampening >= 0.0f && c->dampening <= 1.0f))
            return ttm::fail(TT_INVALID_ARGUMENT, fn, "dampening must be in [0, 1], got " + num(c->dampening));
        if (c->nesterov != 0 && (c->momentum <= 0.0f || c->dampening != 0.0f))
            return ttm::fail(TT_INVALID_ARGUMENT, fn,
                             "nesterov needs momentum > 0 and dampening == 0 (got momentum " + num(c->momentum) +
                                 ", dampening " + num(c->dampening) + ")");
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

}  // namespace

tt_status optimizer_create(const tt_optimizer_config* config, tt_tensor* const* params, int32_t n_params,
                           tt_optimizer** out) {
    TT_GUARD_BEGIN
    if (out == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "out is NULL");
    *out = nullptr;
    if (config == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "config is NULL");
    if (n_params < 0)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "n_params must be >= 0, got " + std::to_string(n_params));
    if (n_params > 0 && params == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "params is NULL but n_params is " + std::to_string(n_params));
    for (int32_t i = 0; i < n_params; ++i)
        if (params[i] == nullptr)
            return ttm::fail(TT_INVALID_ARGUMENT, __func__, "params[" + std::to_string(i) + "] is NULL");
    TT_CHECK(validate_config(config));

    auto* opt = new tt_optimizer;
    opt->config = *config;
    opt->params.assign(params, params + n_params);
    opt->state.assign(static_cast<size_t>(n_params) * TT_OPTIM_MAX_SLOTS, nullptr);
    *out = opt;
    return TT_OK;
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
    if (opt == nullptr || out_lr == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "opt or out_lr is NULL");
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
    if (slot < 0 || slot >= slot_count(opt->config)) return TT_OK;  // a slot this optimizer lacks: NULL
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
    if (step < 0) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "step must be >= 0, got " + std::to_string(step));
    opt->step = step;
    return TT_OK;
    TT_GUARD_END
}

tt_status optimizer_free(tt_optimizer* opt) {
    TT_GUARD_BEGIN
    if (opt == nullptr) return TT_OK;
    for (tt_tensor* s : opt->state)
        if (s != nullptr) ttm::host()->tensor->free(s);
    delete opt;
    return TT_OK;
    TT_GUARD_END
}

}  // namespace optim
