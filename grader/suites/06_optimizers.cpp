// Grading suite for module 06 Optimizers: SGD (momentum, dampening, Nesterov,
// weight decay), Adam, AdamW, zero_grad, learning rate, state and step count.
// Every expected update sequence is computed here, in double, from the
// formulas of tt_06_optimizers.h; gradients are set by hand, so no other
// module's backward is involved.
#include "common/grading.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tinytorch/runtime.hpp"

namespace {

using tt::Tensor;

const tt_optimizers_api& api() { return tt::runtime().optimizers(); }

// An optimizer that frees itself.
struct Opt {
    tt_optimizer* p = nullptr;
    Opt() = default;
    Opt(const Opt&) = delete;
    Opt& operator=(const Opt&) = delete;
    ~Opt() { api().optimizer_free(p); }
};

tt_optimizer_config sgd_config(float lr, float momentum = 0, float dampening = 0, bool nesterov = false,
                               float weight_decay = 0) {
    tt_optimizer_config c{};
    c.kind = TT_OPTIM_SGD;
    c.lr = lr;
    c.momentum = momentum;
    c.dampening = dampening;
    c.nesterov = nesterov ? 1 : 0;
    c.weight_decay = weight_decay;
    return c;
}

tt_optimizer_config adam_config(float lr, float weight_decay = 0, bool decoupled = false, float beta1 = 0.9f,
                                float beta2 = 0.999f, float eps = 1e-8f) {
    tt_optimizer_config c{};
    c.kind = decoupled ? TT_OPTIM_ADAMW : TT_OPTIM_ADAM;
    c.lr = lr;
    c.weight_decay = weight_decay;
    c.beta1 = beta1;
    c.beta2 = beta2;
    c.eps = eps;
    return c;
}

void create(Opt& opt, const tt_optimizer_config& c, std::vector<Tensor*> params) {
    std::vector<tt_tensor*> raw;
    for (Tensor* p : params) raw.push_back(p->raw());
    TT_CALL(6, api(), optimizer_create, &c, raw.data(), static_cast<int32_t>(raw.size()), &opt.p);
    REQUIRE(opt.p != nullptr);
}

// Give p exactly this gradient (creating p's grad tensor when it has none).
void set_grad(Tensor& p, const std::vector<float>& g) {
    REQUIRE(static_cast<int64_t>(g.size()) == p.numel());
    tt_tensor* raw = p.raw();
    if (raw->grad == nullptr) {
        tt_tensor* gt = nullptr;
        TT_CALL(1, tt::runtime().tensor(), from_data, g.data(), raw->shape, raw->ndim, &gt);
        raw->grad = gt;  // owned by p from now on
    } else {
        for (size_t i = 0; i < g.size(); ++i) raw->grad->data[i] = g[i];
    }
}

std::vector<double> to_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

// ---- the update rules in double, written from the header's formulas ----
// (The hyper-parameters are taken from the config, float values widened to
// double, so that the comparison measures the update rule, not 0.999f vs 0.999.)

struct SgdRef {
    double lr, momentum, dampening, weight_decay;
    bool nesterov;
    std::vector<double> v;
    bool started = false;
    explicit SgdRef(const tt_optimizer_config& c)
        : lr(c.lr), momentum(c.momentum), dampening(c.dampening), weight_decay(c.weight_decay),
          nesterov(c.nesterov != 0) {}
    void step(std::vector<double>& p, const std::vector<float>& grad) {
        if (v.empty()) v.assign(p.size(), 0.0);
        for (size_t k = 0; k < p.size(); ++k) {
            double g = grad[k] + weight_decay * p[k];
            double d = g;
            if (momentum != 0) {
                v[k] = started ? momentum * v[k] + (1 - dampening) * g : g;
                d = nesterov ? g + momentum * v[k] : v[k];
            }
            p[k] -= lr * d;
        }
        started = true;
    }
};

struct AdamRef {
    double lr, b1, b2, eps, weight_decay;
    bool decoupled;
    std::vector<double> m, v;
    int t = 0;
    explicit AdamRef(const tt_optimizer_config& c)
        : lr(c.lr), b1(c.beta1), b2(c.beta2), eps(c.eps), weight_decay(c.weight_decay),
          decoupled(c.kind == TT_OPTIM_ADAMW) {}
    void step(std::vector<double>& p, const std::vector<float>& grad) {
        if (m.empty()) m.assign(p.size(), 0.0), v.assign(p.size(), 0.0);
        ++t;
        for (size_t k = 0; k < p.size(); ++k) {
            double g = grad[k];
            if (decoupled)
                p[k] -= lr * weight_decay * p[k];
            else
                g += weight_decay * p[k];
            m[k] = b1 * m[k] + (1 - b1) * g;
            v[k] = b2 * v[k] + (1 - b2) * g * g;
            double mhat = m[k] / (1 - std::pow(b1, t)), vhat = v[k] / (1 - std::pow(b2, t));
            p[k] -= lr * mhat / (std::sqrt(vhat) + eps);
        }
    }
};

const std::vector<float> kP0 = {1.0f, -2.0f};
const std::vector<std::vector<float>> kGrads = {{0.5f, -1.0f}, {0.25f, 0.5f}, {-1.0f, 2.0f}};

// Three steps of the module against the double reference, compared after each.
template <class Ref>
void run_three_steps_with(const tt_optimizer_config& c) {
    Ref ref(c);
    Tensor p = Tensor::from(kP0, {2});
    Opt opt;
    create(opt, c, {&p});
    std::vector<double> expect = to_double(kP0);
    for (size_t s = 0; s < kGrads.size(); ++s) {
        INFO("after step " << s + 1);
        set_grad(p, kGrads[s]);
        TT_CALL(6, api(), optimizer_step, opt.p);
        ref.step(expect, kGrads[s]);
        grade::require_close(p, expect, {2}, 1e-6, 1e-5);
    }
}

void run_three_steps(const tt_optimizer_config& c) {
    if (c.kind == TT_OPTIM_SGD)
        run_three_steps_with<SgdRef>(c);
    else
        run_three_steps_with<AdamRef>(c);
}

// A pointer value no module returns: checks that an out argument is written.
template <class T>
T* sentinel() {
    static char byte;
    return reinterpret_cast<T*>(&byte);
}

}  // namespace

// ------------------------------------------------------------------ SGD

TEST_CASE("sgd without momentum: p -= lr * grad", "[points:1]") {
    Tensor p = Tensor::from({1.0f, -2.0f, 3.0f}, {3});
    Opt opt;
    create(opt, sgd_config(0.1f), {&p});
    set_grad(p, {0.5f, -1.0f, 0.0f});
    TT_CALL(6, api(), optimizer_step, opt.p);
    // 1 - 0.1*0.5 = 0.95, -2 + 0.1 = -1.9, 3 - 0 = 3
    grade::require_close(p, std::vector<double>{0.95, -1.9, 3.0}, {3}, 1e-6, 1e-6);
    // The gradient is not consumed: a second step applies it again.
    TT_CALL(6, api(), optimizer_step, opt.p);
    grade::require_close(p, std::vector<double>{0.9, -1.8, 3.0}, {3}, 1e-6, 1e-6);
}

TEST_CASE("sgd with momentum: three steps match the formula (v = g on the first step)", "[points:2]") {
    // By hand for element 0 (lr 0.1, momentum 0.9): v1 = 0.5, p1 = 0.95;
    // v2 = 0.45 + 0.25 = 0.7, p2 = 0.88; v3 = 0.63 - 1 = -0.37, p3 = 0.917.
    run_three_steps(sgd_config(0.1f, 0.9f));
    Tensor p = Tensor::from(kP0, {2});
    Opt opt;
    create(opt, sgd_config(0.1f, 0.9f), {&p});
    for (const auto& g : kGrads) {
        set_grad(p, g);
        TT_CALL(6, api(), optimizer_step, opt.p);
    }
    CHECK(p.to_vector()[0] == Approx(0.917).margin(1e-6));
}

TEST_CASE("sgd with dampening: the first step uses g undamped, later ones (1 - dampening) g", "[points:1]") {
    run_three_steps(sgd_config(0.1f, 0.9f, 0.5f));
}

TEST_CASE("sgd with dampening: after the first step the momentum buffer is g itself", "[points:1]") {
    // v = g on the first step (the buffer starts AS the gradient, not at 0):
    // with dampening 0.5 a buffer that started at 0 would hold 0.5 g.
    Tensor p = Tensor::from({1.0f, -2.0f, 4.0f}, {3});
    Opt opt;
    create(opt, sgd_config(0.1f, 0.9f, 0.5f), {&p});
    set_grad(p, {0.5f, -1.0f, 2.0f});
    TT_CALL(6, api(), optimizer_step, opt.p);
    tt_tensor* v = nullptr;
    TT_CALL(6, api(), optimizer_state, opt.p, 0, 0, &v);
    REQUIRE(v != nullptr);
    grade::require_close(Tensor::borrow(v), std::vector<double>{0.5, -1.0, 2.0}, {3}, 1e-7, 1e-6);
    grade::require_close(p, std::vector<double>{0.95, -1.9, 3.8}, {3}, 1e-6, 1e-6);
    // second step: v = 0.9 v + 0.5 g
    set_grad(p, {1.0f, 1.0f, 1.0f});
    TT_CALL(6, api(), optimizer_step, opt.p);
    v = nullptr;
    TT_CALL(6, api(), optimizer_state, opt.p, 0, 0, &v);
    REQUIRE(v != nullptr);
    grade::require_close(Tensor::borrow(v), std::vector<double>{0.95, -0.4, 2.3}, {3}, 1e-6, 1e-6);
}

TEST_CASE("sgd with nesterov: d = g + momentum * v", "[points:2]") {
    run_three_steps(sgd_config(0.05f, 0.8f, 0.0f, true));
}

TEST_CASE("sgd weight decay adds weight_decay * p to the gradient (with and without momentum)", "[points:1]") {
    // No momentum, by hand: p = 1, g = 0.5, wd = 0.1, lr = 0.1: p = 1 - 0.1 * (0.5 + 0.1) = 0.94.
    Tensor p = Tensor::from({1.0f}, {1});
    Opt opt;
    create(opt, sgd_config(0.1f, 0, 0, false, 0.1f), {&p});
    set_grad(p, {0.5f});
    TT_CALL(6, api(), optimizer_step, opt.p);
    grade::require_close(p, std::vector<double>{0.94}, {1}, 1e-6, 1e-6);
    run_three_steps(sgd_config(0.1f, 0.9f, 0.0f, false, 0.01f));
    run_three_steps(sgd_config(0.1f, 0.9f, 0.0f, true, 0.05f));
}

TEST_CASE("sgd weight decay goes into the momentum buffer (by hand, zero gradient)", "[points:1]") {
    // g = 0, p = 1, wd = 0.1, momentum 0.9, lr 0.1. The decay is part of the
    // gradient BEFORE momentum: g' = 0.1 p, v = 0.9 v + g', p -= 0.1 v.
    //   step 1: g' = 0.1,   v = 0.1,                 p = 0.99
    //   step 2: g' = 0.099, v = 0.09 + 0.099 = 0.189, p = 0.99 - 0.0189 = 0.9711
    // (decay added after the momentum would give v = 0 and p = 0.9801.)
    Tensor p = Tensor::from({1.0f}, {1});
    Opt opt;
    create(opt, sgd_config(0.1f, 0.9f, 0, false, 0.1f), {&p});
    set_grad(p, {0.0f});
    TT_CALL(6, api(), optimizer_step, opt.p);
    grade::require_close(p, std::vector<double>{0.99}, {1}, 1e-6, 1e-6);
    TT_CALL(6, api(), optimizer_step, opt.p);
    grade::require_close(p, std::vector<double>{0.9711}, {1}, 1e-6, 1e-6);
    tt_tensor* v = nullptr;
    TT_CALL(6, api(), optimizer_state, opt.p, 0, 0, &v);
    REQUIRE(v != nullptr);
    grade::require_close(Tensor::borrow(v), std::vector<double>{0.189}, {1}, 1e-6, 1e-6);
}

// ------------------------------------------------------------------ Adam

TEST_CASE("adam: the first step moves every element by about lr (bias correction)", "[points:1]") {
    // m1 / (1 - b1) = g and v1 / (1 - b2) = g^2, so the step is lr * g / (|g| + eps).
    Tensor p = Tensor::from({1.0f, -2.0f, 0.5f, 3.0f}, {2, 2});
    Opt opt;
    create(opt, adam_config(0.01f), {&p});
    set_grad(p, {0.5f, -1e-3f, 40.0f, -2.0f});
    TT_CALL(6, api(), optimizer_step, opt.p);
    grade::require_close(p, std::vector<double>{0.99, -1.99, 0.49, 3.01}, {2, 2}, 1e-6, 1e-5);
}

TEST_CASE("adam: three steps match the formula with bias correction", "[points:3]") {
    run_three_steps(adam_config(0.01f));
    run_three_steps(adam_config(0.1f, 0, false, 0.5f, 0.75f, 1e-3f));
}

TEST_CASE("adam weight decay is L2 in the gradient", "[points:1]") {
    run_three_steps(adam_config(0.01f, 0.5f));
}

TEST_CASE("adamw decays the weights directly: three steps match the formula", "[points:2]") {
    run_three_steps(adam_config(0.01f, 0.5f, true));
}

TEST_CASE("adamw and adam differ: with zero gradient only adamw moves the weights", "[points:1]") {
    // g = 0: Adam's g + wd*p = wd*p is normalised to a step of about lr; AdamW
    // shrinks p by lr*wd*p and its Adam part is 0.
    Tensor pa = Tensor::from({2.0f}, {1});
    Tensor pw = Tensor::from({2.0f}, {1});
    Opt a, w;
    create(a, adam_config(0.1f, 0.01f), {&pa});
    create(w, adam_config(0.1f, 0.01f, true), {&pw});
    set_grad(pa, {0.0f});
    set_grad(pw, {0.0f});
    TT_CALL(6, api(), optimizer_step, a.p);
    TT_CALL(6, api(), optimizer_step, w.p);
    grade::require_close(pa, std::vector<double>{2.0 - 0.1 * 0.02 / (0.02 + 1e-8)}, {1}, 1e-6, 1e-6);
    grade::require_close(pw, std::vector<double>{2.0 - 0.1 * 0.01 * 2.0}, {1}, 1e-6, 1e-6);
}

// --------------------------------------------------------- bookkeeping

TEST_CASE("parameters whose grad is NULL are skipped; the others still update", "[points:1]") {
    Tensor a = Tensor::from({1.0f, 2.0f}, {2});
    Tensor b = Tensor::from({5.0f}, {1});
    for (auto c : {sgd_config(0.1f, 0.9f), adam_config(0.1f), adam_config(0.1f, 0.1f, true)}) {
        INFO("optimizer kind " << c.kind);
        Opt opt;
        create(opt, c, {&a, &b});
        std::vector<float> before = a.to_vector();
        REQUIRE(a.raw()->grad == nullptr);
        set_grad(b, {1.0f});
        float b0 = b.to_vector()[0];
        TT_CALL(6, api(), optimizer_step, opt.p);
        CHECK(a.to_vector() == before);
        CHECK(a.raw()->grad == nullptr);
        CHECK(b.to_vector()[0] < b0);
    }
}

TEST_CASE("zero_grad zeroes every grad and leaves NULL grads NULL", "[points:1]") {
    Tensor a = Tensor::from({1.0f, 2.0f, 3.0f}, {3});
    Tensor b = Tensor::from({4.0f}, {1});
    Opt opt;
    create(opt, sgd_config(0.1f), {&a, &b});
    set_grad(a, {1.0f, -2.0f, 3.0f});
    TT_CALL(6, api(), optimizer_zero_grad, opt.p);
    REQUIRE(a.raw()->grad != nullptr);
    grade::require_close(a.grad(), std::vector<float>{0, 0, 0}, {3}, 0, 0);
    CHECK(b.raw()->grad == nullptr);
    CHECK(a.to_vector() == std::vector<float>{1.0f, 2.0f, 3.0f});
}

TEST_CASE("zero_grad then step moves nothing; a new gradient after it is not added to the old", "[points:1]") {
    // Observed through the steps only: after zero_grad plain SGD sees g = 0.
    Tensor a = Tensor::from({1.0f, 2.0f}, {2});
    Tensor b = Tensor::from({-3.0f}, {1});
    Opt opt;
    create(opt, sgd_config(0.5f), {&a, &b});
    set_grad(a, {1.0f, -1.0f});
    set_grad(b, {2.0f});
    TT_CALL(6, api(), optimizer_step, opt.p);  // a = 0.5, 2.5; b = -4
    TT_CALL(6, api(), optimizer_zero_grad, opt.p);
    TT_CALL(6, api(), optimizer_step, opt.p);
    grade::require_close(a, std::vector<double>{0.5, 2.5}, {2}, 1e-7, 0);
    grade::require_close(b, std::vector<double>{-4.0}, {1}, 1e-7, 0);
    // Accumulate a new gradient into the zeroed one, as backward does.
    a.raw()->grad->data[0] += 2.0f;
    TT_CALL(6, api(), optimizer_step, opt.p);
    grade::require_close(a, std::vector<double>{-0.5, 2.5}, {2}, 1e-7, 0);
}

TEST_CASE("set_lr / get_lr: the new rate applies to the next step", "[points:1]") {
    Tensor p = Tensor::from({1.0f}, {1});
    Opt opt;
    create(opt, sgd_config(0.1f), {&p});
    float lr = 0;
    TT_CALL(6, api(), optimizer_get_lr, opt.p, &lr);
    CHECK(lr == 0.1f);
    TT_CALL(6, api(), optimizer_set_lr, opt.p, 0.5f);
    TT_CALL(6, api(), optimizer_get_lr, opt.p, &lr);
    CHECK(lr == 0.5f);
    set_grad(p, {1.0f});
    TT_CALL(6, api(), optimizer_step, opt.p);
    grade::require_close(p, std::vector<double>{0.5}, {1}, 1e-7, 0);
    grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(6, api(), optimizer_set_lr, opt.p, -1.0f); });
    TT_CALL(6, api(), optimizer_get_lr, opt.p, &lr);
    CHECK(lr == 0.5f);
}

TEST_CASE("step count starts at 0, counts steps and can be set", "[points:1]") {
    Tensor p = Tensor::from({1.0f}, {1});
    Opt opt;
    create(opt, adam_config(0.1f), {&p});
    int64_t t = -1;
    TT_CALL(6, api(), optimizer_get_step, opt.p, &t);
    CHECK(t == 0);
    set_grad(p, {1.0f});
    TT_CALL(6, api(), optimizer_step, opt.p);
    TT_CALL(6, api(), optimizer_step, opt.p);
    TT_CALL(6, api(), optimizer_get_step, opt.p, &t);
    CHECK(t == 2);
    TT_CALL(6, api(), optimizer_set_step, opt.p, int64_t{1000});
    TT_CALL(6, api(), optimizer_get_step, opt.p, &t);
    CHECK(t == 1000);
    grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(6, api(), optimizer_set_step, opt.p, int64_t{-1}); });
}

TEST_CASE("state views: SGD's momentum buffer, Adam's m and v, NULL for missing slots", "[points:2]") {
    Tensor p = Tensor::from(kP0, {2});
    {
        Opt opt;
        create(opt, sgd_config(0.1f, 0.9f), {&p});
        for (const auto& g : {kGrads[0], kGrads[1]}) {
            set_grad(p, g);
            TT_CALL(6, api(), optimizer_step, opt.p);
        }
        tt_tensor* v = nullptr;
        TT_CALL(6, api(), optimizer_state, opt.p, 0, 0, &v);
        REQUIRE(v != nullptr);
        // v2 = 0.9 * g1 + g2
        grade::require_close(Tensor::borrow(v), std::vector<double>{0.9 * 0.5 + 0.25, 0.9 * -1.0 + 0.5}, {2}, 1e-6,
                             1e-6);
        tt_tensor* none = sentinel<tt_tensor>();  // must be overwritten with NULL
        TT_CALL(6, api(), optimizer_state, opt.p, 0, 1, &none);
        CHECK(none == nullptr);
        grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(6, api(), optimizer_state, opt.p, 1, 0, &none); });
    }
    {
        Opt opt;
        create(opt, sgd_config(0.1f), {&p});
        tt_tensor* none = sentinel<tt_tensor>();
        TT_CALL(6, api(), optimizer_state, opt.p, 0, 0, &none);
        CHECK(none == nullptr);  // plain SGD keeps no state
    }
    {
        Opt opt;
        create(opt, adam_config(0.01f), {&p});
        set_grad(p, kGrads[0]);
        TT_CALL(6, api(), optimizer_step, opt.p);
        tt_tensor *m = nullptr, *v = nullptr;
        TT_CALL(6, api(), optimizer_state, opt.p, 0, 0, &m);
        TT_CALL(6, api(), optimizer_state, opt.p, 0, 1, &v);
        REQUIRE(m != nullptr);
        REQUIRE(v != nullptr);
        // m1 = (1 - beta1) g, v1 = (1 - beta2) g^2, with the float betas of the config
        const double a = 1.0 - static_cast<double>(0.9f), b = 1.0 - static_cast<double>(0.999f);
        grade::require_close(Tensor::borrow(m), std::vector<double>{a * 0.5, a * -1.0}, {2}, 1e-9, 1e-5);
        grade::require_close(Tensor::borrow(v), std::vector<double>{b * 0.25, b * 1.0}, {2}, 1e-10, 1e-5);
    }
}

TEST_CASE("state and step written into a fresh optimizer resume the same trajectory", "[points:2]") {
    // What a checkpoint does: copy the moments and the step count over.
    for (bool adam : {false, true}) {
        INFO((adam ? "adam" : "sgd with momentum"));
        tt_optimizer_config c = adam ? adam_config(0.05f) : sgd_config(0.1f, 0.9f);
        int32_t slots = adam ? 2 : 1;
        Tensor p = Tensor::from(kP0, {2});
        Opt first;
        create(first, c, {&p});
        for (int s = 0; s < 2; ++s) {
            set_grad(p, kGrads[s]);
            TT_CALL(6, api(), optimizer_step, first.p);
        }
        Tensor q = p.clone();
        Opt second;
        create(second, c, {&q});
        for (int32_t slot = 0; slot < slots; ++slot) {
            tt_tensor *from = nullptr, *to = nullptr;
            TT_CALL(6, api(), optimizer_state, first.p, 0, slot, &from);
            TT_CALL(6, api(), optimizer_state, second.p, 0, slot, &to);
            REQUIRE(from != nullptr);
            REQUIRE(to != nullptr);
            for (int64_t k = 0; k < from->numel; ++k) to->data[k] = from->data[k];
        }
        TT_CALL(6, api(), optimizer_set_step, second.p, int64_t{2});
        set_grad(p, kGrads[2]);
        set_grad(q, kGrads[2]);
        TT_CALL(6, api(), optimizer_step, first.p);
        TT_CALL(6, api(), optimizer_step, second.p);
        grade::require_close(q, p, 1e-7, 1e-6);
    }
}

// ------------------------------------------------------------------ errors

TEST_CASE("invalid configurations are INVALID_ARGUMENT", "[points:2]") {
    Tensor p = Tensor::from({1.0f}, {1});
    tt_tensor* raw = p.raw();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    struct Bad {
        const char* what;
        tt_optimizer_config c;
    };
    tt_optimizer_config unknown = sgd_config(0.1f);
    unknown.kind = 7;
    std::vector<Bad> bad = {
        {"lr < 0", sgd_config(-0.1f)},
        {"lr NaN", adam_config(nan)},
        {"momentum < 0", sgd_config(0.1f, -0.5f)},
        {"dampening > 1", sgd_config(0.1f, 0.9f, 1.5f)},
        {"nesterov without momentum", sgd_config(0.1f, 0.0f, 0.0f, true)},
        {"nesterov with dampening", sgd_config(0.1f, 0.9f, 0.1f, true)},
        {"weight_decay < 0", sgd_config(0.1f, 0, 0, false, -1.0f)},
        {"beta1 == 1", adam_config(0.1f, 0, false, 1.0f)},
        {"beta2 < 0", adam_config(0.1f, 0, true, 0.9f, -0.1f)},
        {"beta2 NaN", adam_config(0.1f, 0, false, 0.9f, nan)},
        {"eps < 0", adam_config(0.1f, 0, false, 0.9f, 0.999f, -1e-8f)},
        {"adamw weight_decay < 0", adam_config(0.1f, -0.01f, true)},
        {"unknown kind", unknown},
    };
    for (const Bad& b : bad) {
        INFO(b.what);
        tt_optimizer* out = sentinel<tt_optimizer>();
        tt_status st = api().optimizer_create(&b.c, &raw, 1, &out);
        CHECK(std::string(tt::status_name(st)) == "INVALID_ARGUMENT");
        CHECK(out == nullptr);
        if (st == TT_OK && out != sentinel<tt_optimizer>()) api().optimizer_free(out);
    }
    tt_optimizer_config ok = sgd_config(0.1f);
    tt_optimizer* out = nullptr;
    grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(6, api(), optimizer_create, nullptr, &raw, 1, &out); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(6, api(), optimizer_create, &ok, &raw, -1, &out); });
    tt_tensor* null_param = nullptr;
    grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(6, api(), optimizer_create, &ok, &null_param, 1, &out); });
}

TEST_CASE("a valid edge configuration is accepted: lr 0 changes nothing, beta1 0 works", "[points:1]") {
    Tensor p = Tensor::from({1.0f, 2.0f}, {2});
    Opt zero;
    create(zero, sgd_config(0.0f, 0.9f), {&p});
    set_grad(p, {1.0f, 1.0f});
    TT_CALL(6, api(), optimizer_step, zero.p);
    CHECK(p.to_vector() == std::vector<float>{1.0f, 2.0f});
    run_three_steps(adam_config(0.01f, 0, false, 0.0f, 0.5f));
}

TEST_CASE("a grad whose size differs from its parameter is SHAPE_MISMATCH and nothing moves", "[points:1]") {
    Tensor a = Tensor::from({1.0f, 2.0f}, {2});
    Tensor b = Tensor::from({1.0f, 2.0f, 3.0f}, {3});
    Opt opt;
    create(opt, sgd_config(0.1f), {&a, &b});
    set_grad(a, {1.0f, 1.0f});
    tt_tensor* wrong = nullptr;
    int64_t two = 2;
    TT_CALL(1, tt::runtime().tensor(), create, &two, 1, &wrong);
    b.raw()->grad = wrong;
    grade::require_status(TT_SHAPE_MISMATCH, [&] { TT_CALL(6, api(), optimizer_step, opt.p); });
    CHECK(a.to_vector() == std::vector<float>{1.0f, 2.0f});
    CHECK(b.to_vector() == std::vector<float>{1.0f, 2.0f, 3.0f});
}

TEST_CASE("optimizer_free(NULL) is a no-op and an optimizer over no parameters steps", "[points:1]") {
    grade::require_ok(api().optimizer_free(nullptr), "optimizer_free");
    tt_optimizer_config c = adam_config(0.1f);
    Opt opt;
    TT_CALL(6, api(), optimizer_create, &c, nullptr, 0, &opt.p);
    TT_CALL(6, api(), optimizer_step, opt.p);
    TT_CALL(6, api(), optimizer_zero_grad, opt.p);
}
