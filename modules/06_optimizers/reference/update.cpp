// update.cpp - the update rules: one step of SGD (momentum, dampening,
// Nesterov, weight decay), Adam and AdamW, and zero_grad.
//
// The formulas are those of PyTorch (see tt_06_optimizers.h). Suggested order
// (after validate_config in optimizer.cpp): optimizer_zero_grad, sgd_update
// without momentum, with momentum, Nesterov, then adam_update (Adam, AdamW).
#include <cmath>
#include <cstring>

// BEGIN SOLUTION: remove
#if defined(__SSE__)
#include <xmmintrin.h>  // _mm_getcsr, _mm_setcsr
#endif

// END SOLUTION
#include "optim_internal.hpp"

namespace optim {

namespace {
// BEGIN SOLUTION: remove

// While alive, the calling thread treats subnormal floats (below ~1.2e-38) as
// 0 (x86 MXCSR flags FTZ and DAZ; elsewhere it does nothing). Why Adam needs
// it: a parameter whose gradient stays 0 (a dead ReLU unit) sees m shrink by
// beta1 every step, and after a few hundred steps m is subnormal. x86 cores
// compute with subnormals in slow microcode (~100x slower), and the whole
// update of a small net took 10x longer. The change to the result is below
// 1e-38 per element.
class FlushSubnormals {
public:
#if defined(__SSE__)
    FlushSubnormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040u); }  // FTZ | DAZ
    ~FlushSubnormals() { _mm_setcsr(saved_); }

private:
    unsigned saved_;
#endif
};
// END SOLUTION

// One SGD update of parameter p from p->grad. buf is the momentum buffer
// (NULL when momentum == 0). first is true when the buffer was just created:
// then it starts as the gradient itself (v = g), as in PyTorch.
tt_status sgd_update(const tt_optimizer_config& c, tt_tensor* p, tt_tensor* buf, bool first) {
    // BEGIN SOLUTION
    // TODO: for every element k:
    //   g = grad[k] + weight_decay * p[k]
    //   with momentum (buf != NULL):
    //     v = first ? g : momentum * v + (1 - dampening) * g   (store v in buf)
    //     d = nesterov ? g + momentum * v : v
    //   without momentum: d = g
    //   p[k] -= lr * d
    // HINT: compute g from p[k] BEFORE you change p[k].
    float* w = p->data;
    const float* grad = p->grad->data;
    float* v = buf != nullptr ? buf->data : nullptr;
    for (int64_t k = 0; k < p->numel; ++k) {
        const float g = grad[k] + c.weight_decay * w[k];
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

// BEGIN SOLUTION: remove
// The settings of one Adam step as plain floats (local copies: the loop writes
// floats through pointers, and the compiler cannot prove those never alias a
// config's fields).
struct AdamScalars {
    float beta1, beta2, eps, decay, lr_decay, step_size, inv_sqrt_bc2;
};

// The Adam update of n consecutive elements, in its own function so that the
// __restrict pointers and the settings in registers let the compiler turn it
// into vector code (sqrt and division four lanes at a time; as a loop inside
// a lambda reading its captures it stayed scalar: ~10 cycles per element).
// kDecoupled (AdamW) is a template parameter so that each variant is one
// branch-free loop.
template <bool kDecoupled>
static void adam_elements(const AdamScalars k, float* __restrict w, const float* __restrict grad,
                          float* __restrict m, float* __restrict v, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        float g = grad[i];
        if constexpr (kDecoupled)
            w[i] -= k.lr_decay * w[i];  // AdamW: decay the weight itself, before the step
        else
            g += k.decay * w[i];  // Adam: L2 decay through the gradient
        m[i] = k.beta1 * m[i] + (1.0f - k.beta1) * g;
        v[i] = k.beta2 * v[i] + (1.0f - k.beta2) * g * g;
        w[i] -= k.step_size * m[i] / (std::sqrt(v[i]) * k.inv_sqrt_bc2 + k.eps);
    }
}

// END SOLUTION

// One Adam / AdamW update of parameter p at step t (t >= 1) with the moment
// tensors m and v.
tt_status adam_update(const tt_optimizer_config& c, int64_t t, tt_tensor* p, tt_tensor* m, tt_tensor* v) {
    // BEGIN SOLUTION
    // TODO: with the bias corrections bc1 = 1 - beta1^t, bc2 = 1 - beta2^t,
    //   for every element:
    //   Adam:  g = grad + weight_decay * p
    //   AdamW: p -= lr * weight_decay * p first (decoupled decay), then g = grad
    //   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
    //   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps)
    // HINT: compute beta^t once with std::pow in double, outside the loop.
    const double bc1 = 1.0 - std::pow(static_cast<double>(c.beta1), static_cast<double>(t));
    const double bc2 = 1.0 - std::pow(static_cast<double>(c.beta2), static_cast<double>(t));
    // p -= lr * (m / bc1) / (sqrt(v / bc2) + eps), rearranged as PyTorch does
    // so that the loop needs no double math (which would keep it scalar):
    //   p -= step_size * m / (sqrt(v) * inv_sqrt_bc2 + eps)
    const float step_size = static_cast<float>(c.lr / bc1);
    const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
    const AdamScalars k{c.beta1, c.beta2, c.eps, c.weight_decay, c.lr * c.weight_decay, step_size,
                        inv_sqrt_bc2};
    const bool decoupled = c.kind == TT_OPTIM_ADAMW;
    float* w = p->data;
    const float* grad = p->grad->data;
    float* mm = m->data;
    float* vv = v->data;
    // Every element is independent: a big parameter (a Linear's weight) is
    // split over the core's threads; small ones run here in one piece.
    ttm::parallel_range(p->numel, int64_t(1) << 15, [&](int64_t begin, int64_t end) {
        FlushSubnormals flush;  // see above: per thread, for this loop only
        if (decoupled)
            adam_elements<true>(k, w + begin, grad + begin, mm + begin, vv + begin, end - begin);
        else
            adam_elements<false>(k, w + begin, grad + begin, mm + begin, vv + begin, end - begin);
    });
    return TT_OK;
    // END SOLUTION
}

}  // namespace

tt_status optimizer_step(tt_optimizer* opt) {
    TT_GUARD_BEGIN
    if (opt == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "opt is NULL");
    const size_t n = opt->params.size();
    const int32_t slots = slot_count(opt->config);

    // First check every gradient and create every missing state tensor, so
    // that a failure leaves all the parameters as they were.
    std::vector<char> fresh(n, 0);  // the state was created just now
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

    // Then update every parameter that has a gradient.
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
    // TODO: set every element of every parameter's grad to 0. A parameter
    //   whose grad is NULL keeps a NULL grad (do not create one).
    // HINT: a grad is a tt_tensor with numel floats at grad->data.
    for (tt_tensor* p : opt->params)
        if (p->grad != nullptr && p->grad->numel > 0)
            std::memset(p->grad->data, 0, static_cast<size_t>(p->grad->numel) * sizeof(float));
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

}  // namespace optim
