// Grading suite for module 05 Autograd: the backward rules of modules 01-04
// and the engine (topological order, accumulation, no-grad mode).
//
// Every gradient is checked against central finite differences computed here,
// in double, on the forward functions of modules 01-04 (the reference ones
// when grading isolated), or against values worked by hand. The rules are
// called directly through the raw table (tt::runtime().autograd()), so a wrong
// rule costs only its own points; the engine is tested on graphs built by hand
// and through the C++ API.
#include "common/grading.hpp"

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "tinytorch/runtime.hpp"

namespace {

using tt::Shape;
using tt::Tensor;

const tt_autograd_api& AG() { return tt::runtime().autograd(); }

// Throw tt::Error (the test fails with the module's message) unless OK.
void check(tt_status status, const char* function) { tt::runtime().check(status, 5, function); }

// Adopt a gradient a rule returned; a rule that says OK must have written it.
Tensor got(tt_tensor* t, const char* what) {
    INFO("the rule returned TT_OK but left " << what << " NULL");
    REQUIRE(t != nullptr);
    return Tensor::adopt(t);
}

Tensor from(const std::vector<float>& v, const Shape& shape) { return Tensor::from(v, shape); }

int64_t numel_of(const Shape& s) {
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    return n;
}

// Random tensor of the given shape (test-side generator).
Tensor rnd(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    return from(grade::random_values(static_cast<size_t>(numel_of(shape)), seed, lo, hi), shape);
}

// Random values kept at least `gap` away from 0 (for relu's kink).
Tensor rnd_away_from_zero(const Shape& shape, uint64_t seed, float gap = 0.1f) {
    std::vector<float> v = grade::random_values(static_cast<size_t>(numel_of(shape)), seed);
    for (float& x : v) x += x >= 0 ? gap : -gap;
    return from(v, shape);
}

using Forward = std::function<Tensor(const std::vector<Tensor>&)>;
using Rule = std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs, const Tensor& grad)>;

// d/d inputs[which] of sum(forward(inputs) * w), by central differences in double.
std::vector<double> numeric_vjp(const Forward& forward, std::vector<Tensor> inputs, size_t which,
                                const std::vector<float>& w) {
    const Shape shape = inputs[which].shape();
    auto phi = [&](const std::vector<float>& v) {
        inputs[which] = from(v, shape);
        Tensor y = forward(inputs);
        const float* d = y.data();
        double s = 0;
        for (size_t i = 0; i < w.size(); ++i) s += static_cast<double>(d[i]) * w[i];
        return s;
    };
    return grade::numeric_gradient(phi, inputs[which].to_vector());
}

// Call `rule` with a random upstream gradient shaped like forward's output and
// compare each gradient it returns (an undefined Tensor means "not checked")
// with finite differences of sum(forward(inputs) * grad).
void check_rule(const Forward& forward, const std::vector<Tensor>& inputs, const Rule& rule,
                uint64_t seed, double atol = 1e-3, double rtol = 1e-2) {
    Tensor y = forward(inputs);
    Tensor g = rnd(y.shape(), seed, -1.0f, 1.0f);
    std::vector<float> w = g.to_vector();
    std::vector<Tensor> grads = rule(inputs, g);
    REQUIRE(grads.size() <= inputs.size());
    for (size_t i = 0; i < grads.size(); ++i) {
        if (!grads[i].defined()) continue;
        INFO("gradient of input " << i << " (shape " << tt::shape_str(inputs[i].shape()) << ")");
        grade::require_close(grads[i], numeric_vjp(forward, inputs, i, w), inputs[i].shape(), atol,
                             rtol);
    }
}

// Same for a scalar loss: the upstream gradient is a scalar (ndim 0).
void check_loss_rule(const Forward& forward, const std::vector<Tensor>& inputs, const Rule& rule,
                     float upstream, double atol = 1e-3, double rtol = 1e-2) {
    Tensor g = Tensor::scalar(upstream);
    std::vector<Tensor> grads = rule(inputs, g);
    for (size_t i = 0; i < grads.size(); ++i) {
        if (!grads[i].defined()) continue;
        INFO("gradient of input " << i << " (shape " << tt::shape_str(inputs[i].shape()) << ")");
        grade::require_close(grads[i], numeric_vjp(forward, inputs, i, {upstream}),
                             inputs[i].shape(), atol, rtol);
    }
}

// ---- rules of the binary element-wise ops, called raw -------------------------

using BinaryRule = tt_status (*)(const tt_tensor*, const tt_tensor*, const tt_tensor*, tt_tensor**,
                                 tt_tensor**);

Rule binary_rule(BinaryRule tt_autograd_api::*fn, const char* name) {
    return [fn, name](const std::vector<Tensor>& in, const Tensor& g) {
        tt_tensor *ga = nullptr, *gb = nullptr;
        check((AG().*fn)(in[0].raw(), in[1].raw(), g.raw(), &ga, &gb), name);
        return std::vector<Tensor>{got(ga, "out_grad_a"), got(gb, "out_grad_b")};
    };
}

// Check a binary op on inputs of shapes sa and sb (b drawn from [blo, bhi)).
void check_binary(tt::Tensor (*op)(const Tensor&, const Tensor&), BinaryRule tt_autograd_api::*fn,
                  const char* name, const Shape& sa, const Shape& sb, uint64_t seed,
                  float blo = -1.0f, float bhi = 1.0f) {
    INFO(name << " with a " << tt::shape_str(sa) << " and b " << tt::shape_str(sb));
    Forward f = [op](const std::vector<Tensor>& in) { return op(in[0], in[1]); };
    check_rule(f, {rnd(sa, seed), rnd(sb, seed + 1, blo, bhi)}, binary_rule(fn, name), seed + 2);
}

Tensor add_op(const Tensor& a, const Tensor& b) { return a + b; }
Tensor sub_op(const Tensor& a, const Tensor& b) { return a - b; }
Tensor mul_op(const Tensor& a, const Tensor& b) { return a * b; }
Tensor div_op(const Tensor& a, const Tensor& b) { return a / b; }
Tensor matmul_op(const Tensor& a, const Tensor& b) { return tt::matmul(a, b); }

// Rule of a reduction (sum / mean / max) with the given axis and keepdims.
using ReduceRule = tt_status (*)(const tt_tensor*, int32_t, int32_t, const tt_tensor*, tt_tensor**);

void check_reduce(Tensor (Tensor::*op)(int32_t, bool) const, ReduceRule tt_autograd_api::*fn,
                  const char* name, const Shape& shape, int32_t axis, bool keepdims, uint64_t seed) {
    INFO(name << " of " << tt::shape_str(shape) << " over axis "
              << (axis == TT_AXIS_ALL ? std::string("ALL") : std::to_string(axis))
              << (keepdims ? " keepdims" : ""));
    Forward f = [=](const std::vector<Tensor>& in) { return (in[0].*op)(axis, keepdims); };
    Rule r = [=](const std::vector<Tensor>& in, const Tensor& g) {
        tt_tensor* ga = nullptr;
        check((AG().*fn)(in[0].raw(), axis, keepdims ? 1 : 0, g.raw(), &ga), name);
        return std::vector<Tensor>{got(ga, "out_grad_a")};
    };
    check_rule(f, {rnd(shape, seed)}, r, seed + 1);
}

// Rule of an activation that takes the input x (relu, gelu) or the output y
// (sigmoid, tanh).
using UnaryRule = tt_status (*)(const tt_tensor*, const tt_tensor*, tt_tensor**);

void check_unary(Tensor (*op)(const Tensor&), UnaryRule tt_autograd_api::*fn, const char* name,
                 bool rule_takes_output, const Tensor& x, uint64_t seed) {
    INFO(name << " on " << tt::shape_str(x.shape()));
    Forward f = [op](const std::vector<Tensor>& in) { return op(in[0]); };
    Rule r = [=](const std::vector<Tensor>& in, const Tensor& g) {
        Tensor keep = rule_takes_output ? op(in[0]) : in[0];
        tt_tensor* gx = nullptr;
        check((AG().*fn)(keep.raw(), g.raw(), &gx), name);
        return std::vector<Tensor>{got(gx, "out_grad_x")};
    };
    check_rule(f, {x}, r, seed);
}

// ---- the C++ API: backward through the recorded graph ---------------------------

// loss(params) must be a one-element tensor. Marks the params as requiring
// grad, runs loss(params).backward() and compares every param's grad with
// finite differences of loss.
void check_api(const Forward& loss, const std::vector<Tensor>& values, double atol = 1e-3,
               double rtol = 1e-2) {
    std::vector<Tensor> params;
    for (const Tensor& v : values) params.push_back(v.clone().set_requires_grad());
    Tensor l = loss(params);
    REQUIRE(l.numel() == 1);
    l.backward();
    for (size_t i = 0; i < params.size(); ++i) {
        INFO("gradient of parameter " << i << " (shape " << tt::shape_str(params[i].shape()) << ")");
        REQUIRE(params[i].grad().defined());
        grade::require_close(params[i].grad(), numeric_vjp(loss, values, i, {1.0f}),
                             params[i].shape(), atol, rtol);
    }
}

// ---- hand-built graphs for the engine ------------------------------------------

// Each probe node passes factor * grad to every input that wants a gradient
// and records what it saw, so a test can check order and completeness.
struct Probe {
    const char* name = "";
    float factor = 1.0f;
    tt_status fail = TT_OK;       // return this instead of computing
    int calls = 0;
    float first_grad_seen = 0.0f;  // grad_output->data[0] at the (last) call
    std::vector<const char*>* log = nullptr;
};

tt_status probe_backward(const tt_node* node, const tt_tensor* grad, tt_tensor** grad_inputs) {
    auto* p = static_cast<Probe*>(node->core_ctx);
    ++p->calls;
    p->first_grad_seen = grad->data[0];
    if (p->log) p->log->push_back(p->name);
    if (p->fail != TT_OK) return p->fail;
    for (int32_t i = 0; i < node->n_inputs; ++i) {
        grad_inputs[i] = nullptr;
        const tt_tensor* in = node->inputs[i];
        if (!in->requires_grad && in->grad_fn == nullptr) continue;
        tt_status s = tt::runtime().tensor().mul_scalar(grad, p->factor, &grad_inputs[i]);
        if (s != TT_OK) return s;
    }
    return TT_OK;
}

// A graph node built by hand: `out` becomes its output.
struct HandNode {
    Probe probe;
    tt_node node{};
    void wire(const char* name, float factor, std::initializer_list<Tensor*> inputs, Tensor& out) {
        probe.name = name;
        probe.factor = factor;
        node.op_name = name;
        node.backward = probe_backward;
        node.core_ctx = &probe;
        for (Tensor* t : inputs) node.inputs[node.n_inputs++] = t->raw();
        out.raw()->grad_fn = &node;
        out.raw()->requires_grad = 1;
    }
};

}  // namespace

// ======================================================================
// Rules of module 01: element-wise ops and un-broadcasting
// ======================================================================

TEST_CASE("add_backward passes grad to both inputs (same shapes by hand)", "[points:1]") {
    Tensor a = from({1, 2, 3, 4}, {2, 2}), b = from({5, 6, 7, 8}, {2, 2});
    Tensor g = from({1, -2, 3, 0.5f}, {2, 2});
    tt_tensor *ga = nullptr, *gb = nullptr;
    check(AG().add_backward(a.raw(), b.raw(), g.raw(), &ga, &gb), "add_backward");
    grade::require_close(got(ga, "out_grad_a"), std::vector<float>{1, -2, 3, 0.5f}, {2, 2});
    grade::require_close(got(gb, "out_grad_b"), std::vector<float>{1, -2, 3, 0.5f}, {2, 2});
}

TEST_CASE("add_backward sums a broadcast row back to its shape (by hand)", "[points:2]") {
    // a [2, 3] + b [3]: b's value j was used in both rows.
    Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({3});
    Tensor g = from({1, 2, 3, 10, 20, 30}, {2, 3});
    tt_tensor *ga = nullptr, *gb = nullptr;
    check(AG().add_backward(a.raw(), b.raw(), g.raw(), &ga, &gb), "add_backward");
    grade::require_close(got(ga, "out_grad_a"), std::vector<float>{1, 2, 3, 10, 20, 30}, {2, 3});
    grade::require_close(got(gb, "out_grad_b"), std::vector<float>{11, 22, 33}, {3});
}

TEST_CASE("add_backward un-broadcasts a column and a scalar and an added leading axis", "[points:2]") {
    check_binary(add_op, &tt_autograd_api::add_backward, "add", {2, 3, 4}, {3, 1}, 501);
    check_binary(add_op, &tt_autograd_api::add_backward, "add", {2, 3}, {}, 504);
    check_binary(add_op, &tt_autograd_api::add_backward, "add", {4}, {2, 3, 4}, 507);
    check_binary(add_op, &tt_autograd_api::add_backward, "add", {2, 1, 4}, {1, 3, 1}, 510);
}

TEST_CASE("sub_backward negates b's gradient with broadcasting", "[points:2]") {
    check_binary(sub_op, &tt_autograd_api::sub_backward, "sub", {3, 4}, {3, 4}, 520);
    check_binary(sub_op, &tt_autograd_api::sub_backward, "sub", {3, 1}, {1, 4}, 523);
    check_binary(sub_op, &tt_autograd_api::sub_backward, "sub", {2, 3, 4}, {4}, 526);
}

TEST_CASE("mul_backward gives grad times b and grad times a (by hand)", "[points:1]") {
    Tensor a = from({1, 2, 3}, {3}), b = from({4, 5, 6}, {3}), g = from({1, 10, 100}, {3});
    tt_tensor *ga = nullptr, *gb = nullptr;
    check(AG().mul_backward(a.raw(), b.raw(), g.raw(), &ga, &gb), "mul_backward");
    grade::require_close(got(ga, "out_grad_a"), std::vector<float>{4, 50, 600}, {3});
    grade::require_close(got(gb, "out_grad_b"), std::vector<float>{1, 20, 300}, {3});
}

TEST_CASE("mul_backward matches finite differences with broadcasting", "[points:2]") {
    check_binary(mul_op, &tt_autograd_api::mul_backward, "mul", {3, 4}, {3, 4}, 530);
    check_binary(mul_op, &tt_autograd_api::mul_backward, "mul", {2, 1, 3}, {4, 3}, 533);
    check_binary(mul_op, &tt_autograd_api::mul_backward, "mul", {2, 3}, {}, 536);
    check_binary(mul_op, &tt_autograd_api::mul_backward, "mul", {5, 1}, {1, 2, 1, 6}, 539);
}

TEST_CASE("div_backward matches finite differences with broadcasting", "[points:2]") {
    check_binary(div_op, &tt_autograd_api::div_backward, "div", {3, 4}, {3, 4}, 540, 0.5f, 1.5f);
    check_binary(div_op, &tt_autograd_api::div_backward, "div", {2, 3}, {3}, 543, 0.5f, 1.5f);
    check_binary(div_op, &tt_autograd_api::div_backward, "div", {4, 1}, {1, 3}, 546, -1.5f, -0.5f);
}

TEST_CASE("a NULL out pointer means that gradient is not needed", "[points:1]") {
    Tensor a = rnd({2, 3}, 550), b = rnd({3}, 551), g = rnd({2, 3}, 552);
    tt_tensor* gb = nullptr;
    check(AG().mul_backward(a.raw(), b.raw(), g.raw(), nullptr, &gb), "mul_backward");
    Tensor grad_b = got(gb, "out_grad_b");
    REQUIRE(grad_b.shape() == Shape{3});
    tt_tensor* ga = nullptr;
    check(AG().div_backward(a.raw(), b.raw(), g.raw(), &ga, nullptr), "div_backward");
    REQUIRE(got(ga, "out_grad_a").shape() == Shape{2, 3});
    check(AG().add_backward(a.raw(), b.raw(), g.raw(), nullptr, nullptr), "add_backward");
}

TEST_CASE("scalar forms: add passes grad and mul scales by s and div by 1/s", "[points:1]") {
    Tensor g = from({1, -2, 4}, {3});
    tt_tensor* out = nullptr;
    check(AG().add_scalar_backward(g.raw(), &out), "add_scalar_backward");
    grade::require_close(got(out, "out_grad_a"), std::vector<float>{1, -2, 4}, {3});
    out = nullptr;
    check(AG().mul_scalar_backward(3.0f, g.raw(), &out), "mul_scalar_backward");
    grade::require_close(got(out, "out_grad_a"), std::vector<float>{3, -6, 12}, {3});
    out = nullptr;
    check(AG().div_scalar_backward(4.0f, g.raw(), &out), "div_scalar_backward");
    grade::require_close(got(out, "out_grad_a"), std::vector<float>{0.25f, -0.5f, 1}, {3});
}

TEST_CASE("add_scalar_backward returns a new tensor and not the grad itself", "[points:1]") {
    Tensor g = from({1, 2}, {2});
    tt_tensor* out = nullptr;
    check(AG().add_scalar_backward(g.raw(), &out), "add_scalar_backward");
    Tensor r = got(out, "out_grad_a");
    REQUIRE(r.raw() != g.raw());
    REQUIRE(r.data() != g.data());
}

// ---- matmul ----------------------------------------------------------------------

TEST_CASE("matmul_backward for 2-D matrices", "[points:2]") {
    check_binary(matmul_op, &tt_autograd_api::matmul_backward, "matmul", {3, 4}, {4, 5}, 560);
    check_binary(matmul_op, &tt_autograd_api::matmul_backward, "matmul", {1, 3}, {3, 1}, 563);
}

TEST_CASE("matmul_backward for batched matrices", "[points:2]") {
    check_binary(matmul_op, &tt_autograd_api::matmul_backward, "matmul", {2, 3, 4}, {2, 4, 5}, 570);
}

TEST_CASE("matmul_backward sums over broadcast batch dims", "[points:2]") {
    // b has no batch axis: its gradient collects every batch entry.
    check_binary(matmul_op, &tt_autograd_api::matmul_backward, "matmul", {2, 3, 4}, {4, 5}, 580);
    check_binary(matmul_op, &tt_autograd_api::matmul_backward, "matmul", {1, 3, 4}, {2, 4, 5}, 583);
    check_binary(matmul_op, &tt_autograd_api::matmul_backward, "matmul", {2, 1, 3, 4}, {3, 4, 2}, 586);
}

// ---- shape ops ------------------------------------------------------------------------

TEST_CASE("reshape_backward gives the gradient the input's shape", "[points:1]") {
    Forward f = [](const std::vector<Tensor>& in) { return in[0].reshape({3, 8}); };
    Rule r = [](const std::vector<Tensor>& in, const Tensor& g) {
        tt_tensor* ga = nullptr;
        check(AG().reshape_backward(in[0].raw(), g.raw(), &ga), "reshape_backward");
        return std::vector<Tensor>{got(ga, "out_grad_a")};
    };
    check_rule(f, {rnd({2, 3, 4}, 590)}, r, 591);
}

TEST_CASE("transpose_backward swaps the axes back", "[points:1]") {
    for (auto [d0, d1] : {std::pair{0, 2}, std::pair{-2, -1}, std::pair{1, 0}}) {
        INFO("transpose(" << d0 << ", " << d1 << ") of [2, 3, 4]");
        Forward f = [=](const std::vector<Tensor>& in) { return in[0].transpose(d0, d1); };
        Rule r = [=](const std::vector<Tensor>&, const Tensor& g) {
            tt_tensor* ga = nullptr;
            check(AG().transpose_backward(d0, d1, g.raw(), &ga), "transpose_backward");
            return std::vector<Tensor>{got(ga, "out_grad_a")};
        };
        check_rule(f, {rnd({2, 3, 4}, 592)}, r, 593);
    }
}

// ---- reductions ------------------------------------------------------------------------

TEST_CASE("sum_backward copies grad back along the reduced axis (by hand)", "[points:1]") {
    Tensor a = Tensor::zeros({2, 3}), g = from({1, 2}, {2});
    tt_tensor* ga = nullptr;
    check(AG().sum_backward(a.raw(), 1, 0, g.raw(), &ga), "sum_backward");
    grade::require_close(got(ga, "out_grad_a"), std::vector<float>{1, 1, 1, 2, 2, 2}, {2, 3});
}

TEST_CASE("sum_backward over an axis with and without keepdims and over all axes", "[points:2]") {
    auto op = &Tensor::sum;
    auto fn = &tt_autograd_api::sum_backward;
    check_reduce(op, fn, "sum", {2, 3, 4}, 0, false, 600);
    check_reduce(op, fn, "sum", {2, 3, 4}, 1, true, 602);
    check_reduce(op, fn, "sum", {2, 3, 4}, -1, false, 604);
    check_reduce(op, fn, "sum", {2, 3, 4}, TT_AXIS_ALL, false, 606);
    check_reduce(op, fn, "sum", {2, 3, 4}, TT_AXIS_ALL, true, 608);
}

TEST_CASE("mean_backward divides by the number of averaged elements", "[points:2]") {
    auto op = &Tensor::mean;
    auto fn = &tt_autograd_api::mean_backward;
    check_reduce(op, fn, "mean", {3, 5}, 0, false, 610);
    check_reduce(op, fn, "mean", {2, 3, 4}, -2, true, 612);
    check_reduce(op, fn, "mean", {2, 3, 4}, TT_AXIS_ALL, false, 614);
    check_reduce(op, fn, "mean", {2, 3}, TT_AXIS_ALL, true, 616);
}

TEST_CASE("max_backward routes the gradient to the maximum", "[points:2]") {
    auto op = &Tensor::max;
    auto fn = &tt_autograd_api::max_backward;
    check_reduce(op, fn, "max", {4, 5}, 1, false, 620);
    check_reduce(op, fn, "max", {3, 4, 2}, 0, true, 622);
    check_reduce(op, fn, "max", {3, 4}, TT_AXIS_ALL, false, 624);
}

TEST_CASE("max_backward gives a tie's gradient to the first maximum only", "[points:1]") {
    Tensor a = from({1, 3, 3, 5, 5, 0}, {2, 3}), g = from({2, 7}, {2});
    tt_tensor* ga = nullptr;
    check(AG().max_backward(a.raw(), -1, 0, g.raw(), &ga), "max_backward");
    grade::require_close(got(ga, "out_grad_a"), std::vector<float>{0, 2, 0, 7, 0, 0}, {2, 3});
    Tensor s = Tensor::scalar(4);
    ga = nullptr;
    check(AG().max_backward(a.raw(), TT_AXIS_ALL, 0, s.raw(), &ga), "max_backward");
    grade::require_close(got(ga, "out_grad_a"), std::vector<float>{0, 0, 0, 4, 0, 0}, {2, 3});
}

// ======================================================================
// Rules of module 02: activations
// ======================================================================

TEST_CASE("relu_backward passes the gradient where x > 0 only", "[points:1]") {
    Tensor x = from({-1, 2, -3, 4}, {4}), g = from({10, 20, 30, 40}, {4});
    tt_tensor* gx = nullptr;
    check(AG().relu_backward(x.raw(), g.raw(), &gx), "relu_backward");
    grade::require_close(got(gx, "out_grad_x"), std::vector<float>{0, 20, 0, 40}, {4});
    check_unary(tt::relu, &tt_autograd_api::relu_backward, "relu", false,
                rnd_away_from_zero({3, 5}, 700), 701);
}

TEST_CASE("relu_backward is 0 at exactly x == 0, as in PyTorch", "[points:1]") {
    // The kink: relu'(0) is taken as 0 (x > 0 passes, x <= 0 does not). The
    // random inputs above stay 0.1 away from 0, so this is the only place it shows.
    Tensor x = from({0, -0.0f, 1e-30f, -1e-30f, 0}, {5}), g = from({3, 4, 5, 6, 7}, {5});
    tt_tensor* gx = nullptr;
    check(AG().relu_backward(x.raw(), g.raw(), &gx), "relu_backward");
    grade::require_close(got(gx, "out_grad_x"), std::vector<float>{0, 0, 5, 0, 0}, {5}, 0, 0);
    // The same through the tape: relu of a leaf holding zeros.
    Tensor leaf = from({0, 2, 0, -2}, {2, 2}).set_requires_grad();
    (tt::relu(leaf) * from({1, 2, 3, 4}, {2, 2})).sum().backward();
    grade::require_close(leaf.grad(), std::vector<float>{0, 2, 0, 0}, {2, 2}, 0, 0);
}

TEST_CASE("relu_backward lets the gradient through where x is NaN (NaN stays visible)", "[points:1]") {
    // relu(NaN) is NaN (module 02), and its rule, like PyTorch's, cuts the
    // gradient only where x <= 0, which NaN is not: the gradient passes.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    Tensor x = from({nan, -1, 2, nan}, {4}), g = from({10, 20, 30, 40}, {4});
    tt_tensor* gx = nullptr;
    check(AG().relu_backward(x.raw(), g.raw(), &gx), "relu_backward");
    grade::require_close(got(gx, "out_grad_x"), std::vector<float>{10, 0, 30, 40}, {4}, 0, 0);
}

TEST_CASE("sigmoid_backward is y (1 - y) from the output y", "[points:1]") {
    check_unary(tt::sigmoid, &tt_autograd_api::sigmoid_backward, "sigmoid", true,
                rnd({3, 5}, 710, -4.0f, 4.0f), 711);
}

TEST_CASE("tanh_backward is 1 - y^2 from the output y", "[points:1]") {
    check_unary(tt::tanh, &tt_autograd_api::tanh_backward, "tanh", true, rnd({3, 5}, 720, -3.0f, 3.0f),
                721);
}

TEST_CASE("gelu_backward differentiates the tanh form", "[points:2]") {
    check_unary(tt::gelu, &tt_autograd_api::gelu_backward, "gelu", false, rnd({4, 6}, 730, -4.0f, 4.0f),
                731);
}

TEST_CASE("softmax_backward along the last axis and along axis 0", "[points:2]") {
    for (int32_t axis : {-1, 0, 1}) {
        INFO("softmax over axis " << axis << " of [3, 4, 2]");
        Forward f = [=](const std::vector<Tensor>& in) { return tt::softmax(in[0], axis); };
        Rule r = [=](const std::vector<Tensor>& in, const Tensor& g) {
            Tensor y = tt::softmax(in[0], axis);
            tt_tensor* gx = nullptr;
            check(AG().softmax_backward(y.raw(), axis, g.raw(), &gx), "softmax_backward");
            return std::vector<Tensor>{got(gx, "out_grad_x")};
        };
        check_rule(f, {rnd({3, 4, 2}, 740, -2.0f, 2.0f)}, r, 741);
    }
}

// ======================================================================
// Rules of module 03: layers
// ======================================================================

namespace {
Rule linear_rule(bool want_x, bool want_w, bool want_b) {
    return [=](const std::vector<Tensor>& in, const Tensor& g) {
        tt_tensor *gx = nullptr, *gw = nullptr, *gb = nullptr;
        check(AG().linear_backward(in[0].raw(), in[1].raw(), g.raw(), want_x ? &gx : nullptr,
                                   want_w ? &gw : nullptr, want_b ? &gb : nullptr),
              "linear_backward");
        return std::vector<Tensor>{want_x ? got(gx, "out_grad_x") : Tensor(),
                                   want_w ? got(gw, "out_grad_weight") : Tensor(),
                                   want_b ? got(gb, "out_grad_bias") : Tensor()};
    };
}
Forward linear_forward = [](const std::vector<Tensor>& in) { return tt::linear(in[0], in[1], in[2]); };
}  // namespace

TEST_CASE("linear_backward: grads of x and weight and bias for a batch", "[points:3]") {
    check_rule(linear_forward, {rnd({5, 4}, 800), rnd({4, 3}, 801), rnd({3}, 802)},
               linear_rule(true, true, true), 803);
}

TEST_CASE("linear_backward flattens extra batch dims and handles one sample", "[points:2]") {
    check_rule(linear_forward, {rnd({2, 3, 4}, 810), rnd({4, 2}, 811), rnd({2}, 812)},
               linear_rule(true, true, true), 813);
    check_rule(linear_forward, {rnd({1, 4}, 814), rnd({4, 3}, 815), rnd({3}, 816)},
               linear_rule(true, true, true), 817);
}

TEST_CASE("linear_backward skips the gradients that are not asked for", "[points:1]") {
    check_rule(linear_forward, {rnd({3, 4}, 820), rnd({4, 2}, 821), rnd({2}, 822)},
               linear_rule(false, true, false), 823);
    check_rule(linear_forward, {rnd({3, 4}, 824), rnd({4, 2}, 825), rnd({2}, 826)},
               linear_rule(true, false, false), 827);
}

TEST_CASE("dropout_backward multiplies the gradient by the mask", "[points:1]") {
    Tensor mask = from({0, 2, 2, 0, 2, 0}, {2, 3}), g = from({1, 2, 3, 4, 5, 6}, {2, 3});
    tt_tensor* gx = nullptr;
    check(AG().dropout_backward(mask.raw(), g.raw(), &gx), "dropout_backward");
    grade::require_close(got(gx, "out_grad_x"), std::vector<float>{0, 4, 6, 0, 10, 0}, {2, 3});
}

// ======================================================================
// Rules of module 04: losses (scalar upstream gradient)
// ======================================================================

TEST_CASE("mse_backward: 2 (p - t) / n for pred and the negative for target", "[points:2]") {
    Forward f = [](const std::vector<Tensor>& in) { return tt::mse_loss(in[0], in[1]); };
    Rule r = [](const std::vector<Tensor>& in, const Tensor& g) {
        tt_tensor *gp = nullptr, *gt = nullptr;
        check(AG().mse_backward(in[0].raw(), in[1].raw(), g.raw(), &gp, &gt), "mse_backward");
        return std::vector<Tensor>{got(gp, "out_grad_pred"), got(gt, "out_grad_target")};
    };
    check_loss_rule(f, {rnd({3, 4}, 900), rnd({3, 4}, 901)}, r, 1.0f);
    check_loss_rule(f, {rnd({5}, 902), rnd({5}, 903)}, r, -2.5f);
}

TEST_CASE("log_softmax_backward is g - softmax times sum(g)", "[points:2]") {
    for (int32_t axis : {-1, 0}) {
        INFO("log_softmax over axis " << axis << " of [3, 5]");
        Forward f = [=](const std::vector<Tensor>& in) { return tt::log_softmax(in[0], axis); };
        Rule r = [=](const std::vector<Tensor>& in, const Tensor& g) {
            Tensor y = tt::log_softmax(in[0], axis);
            tt_tensor* gx = nullptr;
            check(AG().log_softmax_backward(y.raw(), axis, g.raw(), &gx), "log_softmax_backward");
            return std::vector<Tensor>{got(gx, "out_grad_x")};
        };
        check_rule(f, {rnd({3, 5}, 910, -2.0f, 2.0f)}, r, 911);
    }
}

TEST_CASE("cross_entropy_backward is (softmax - onehot) / N (by hand)", "[points:2]") {
    // Zero logits: softmax is 1/3 everywhere.
    Tensor logits = Tensor::zeros({2, 3}), targets = from({0, 2}, {2}), g = Tensor::scalar(1);
    tt_tensor* gl = nullptr;
    check(AG().cross_entropy_backward(logits.raw(), targets.raw(), g.raw(), &gl),
          "cross_entropy_backward");
    const float t = 1.0f / 6.0f;
    grade::require_close(got(gl, "out_grad_logits"),
                         std::vector<float>{t - 0.5f, t, t, t, t, t - 0.5f}, {2, 3});
}

TEST_CASE("cross_entropy_backward matches finite differences", "[points:2]") {
    Forward f = [](const std::vector<Tensor>& in) { return tt::cross_entropy(in[0], in[1]); };
    Rule r = [](const std::vector<Tensor>& in, const Tensor& g) {
        tt_tensor* gl = nullptr;
        check(AG().cross_entropy_backward(in[0].raw(), in[1].raw(), g.raw(), &gl),
              "cross_entropy_backward");
        return std::vector<Tensor>{got(gl, "out_grad_logits")};
    };
    check_loss_rule(f, {rnd({4, 5}, 920, -3.0f, 3.0f), from({0, 4, 2, 2}, {4})}, r, 1.0f);
    check_loss_rule(f, {rnd({3, 2}, 921, -3.0f, 3.0f), from({1, 0, 1}, {3})}, r, 0.5f);
}

TEST_CASE("binary_cross_entropy_backward is (p - t) / (p (1 - p)) / n", "[points:2]") {
    Forward f = [](const std::vector<Tensor>& in) { return tt::binary_cross_entropy(in[0], in[1]); };
    Rule r = [](const std::vector<Tensor>& in, const Tensor& g) {
        tt_tensor* gp = nullptr;
        check(AG().binary_cross_entropy_backward(in[0].raw(), in[1].raw(), g.raw(), &gp),
              "binary_cross_entropy_backward");
        return std::vector<Tensor>{got(gp, "out_grad_probs")};
    };
    check_loss_rule(f, {rnd({3, 4}, 930, 0.1f, 0.9f), rnd({3, 4}, 931, 0.0f, 1.0f)}, r, 1.0f);
    check_loss_rule(f, {rnd({6}, 932, 0.2f, 0.8f), from({0, 1, 1, 0, 1, 0}, {6})}, r, 2.0f);
}

TEST_CASE("binary_cross_entropy_backward is 0 beyond the clamp (p = 0 and p = 1 included)", "[points:1]") {
    // The loss clamps p to [eps, 1 - eps] (eps = 1e-7): below eps or above
    // 1 - eps the clamped p, and so the loss, does not move with p, and the
    // gradient of that loss is 0 (what PyTorch's autograd gives for
    // bce(clamp(p, eps, 1 - eps))). The probabilities are 1e-9 and 1 - 6e-8
    // (1 - 2^-24, the float just below 1) as well as 0 and 1; the last two are
    // inside the clamp and get the usual (p - t) / (p (1 - p)) / n.
    const float below = 1e-9f, above = 1.0f - 5.9604645e-8f;
    Tensor p = from({0, 1, 0, 1, below, above, 0.25f, 0.5f}, {8});
    Tensor t = from({1, 0, 0, 1, 1, 0, 1, 0}, {8});
    Tensor g = Tensor::scalar(2);
    tt_tensor* gp = nullptr;
    check(AG().binary_cross_entropy_backward(p.raw(), t.raw(), g.raw(), &gp),
          "binary_cross_entropy_backward");
    // inside: 2 * (0.25 - 1) / (0.25 * 0.75) / 8 = -1, 2 * 0.5 / 0.25 / 8 = 0.5
    grade::require_close(got(gp, "out_grad_probs"), std::vector<double>{0, 0, 0, 0, 0, 0, -1.0, 0.5}, {8}, 1e-6,
                         1e-5);
}

// ======================================================================
// The engine, on graphs built by hand
// ======================================================================

TEST_CASE("engine: each node runs once and after every node that uses its output", "[points:3]") {
    // x -> A(*2) -> t1 -> B(*3) -> t2;  C(t1, t2, c) -> root (c needs no grad).
    // d root / d t2 = 1, d root / d t1 = 1 + 3 = 4, d root / d x = 8.
    Tensor x = from({1, 2}, {2}).set_requires_grad();
    Tensor c = from({5, 5}, {2});
    Tensor t1 = Tensor::zeros({2}), t2 = Tensor::zeros({2}), root = Tensor::zeros({2});
    std::vector<const char*> log;
    HandNode A, B, C;
    A.wire("A", 2.0f, {&x}, t1);
    B.wire("B", 3.0f, {&t1}, t2);
    C.wire("C", 1.0f, {&t1, &t2, &c}, root);
    A.probe.log = B.probe.log = C.probe.log = &log;
    Tensor seed = from({1, 1}, {2});
    check(AG().backward(root.raw(), seed.raw()), "backward");
    REQUIRE(A.probe.calls == 1);
    REQUIRE(B.probe.calls == 1);
    REQUIRE(C.probe.calls == 1);
    REQUIRE(log == std::vector<const char*>{"C", "B", "A"});
    INFO("A must see the complete gradient of t1 (from C and from B)");
    REQUIRE(A.probe.first_grad_seen == Approx(4.0f));
    REQUIRE(x.grad().defined());
    grade::require_close(x.grad(), std::vector<float>{8, 8}, {2});
    REQUIRE_FALSE(c.grad().defined());
}

TEST_CASE("engine: the seed gradient is used and a NULL seed means 1", "[points:1]") {
    Tensor x = from({1, 2, 3}, {3}).set_requires_grad();
    Tensor y = Tensor::zeros({3});
    HandNode A;
    A.wire("A", 2.0f, {&x}, y);
    Tensor seed = from({1, -1, 0.5f}, {3});
    check(AG().backward(y.raw(), seed.raw()), "backward");
    grade::require_close(x.grad(), std::vector<float>{2, -2, 1}, {3});

    Tensor w = from({4}, {1}).set_requires_grad();
    Tensor z = Tensor::zeros({1});
    HandNode B;
    B.wire("B", 3.0f, {&w}, z);
    check(AG().backward(z.raw(), nullptr), "backward");
    grade::require_close(w.grad(), std::vector<float>{3}, {1});
}

TEST_CASE("engine: a NULL seed on a root with several elements is INVALID_ARGUMENT", "[points:1]") {
    Tensor x = from({1, 2, 3}, {3}).set_requires_grad();
    Tensor y = Tensor::zeros({3});
    HandNode A;
    A.wire("A", 2.0f, {&x}, y);
    Tensor seed = from({1, 1, 1}, {3});
    check(AG().backward(y.raw(), seed.raw()), "backward");
    REQUIRE(A.probe.calls == 1);
    REQUIRE(AG().backward(y.raw(), nullptr) == TT_INVALID_ARGUMENT);
    REQUIRE(A.probe.calls == 1);
    grade::require_close(x.grad(), std::vector<float>{2, 2, 2}, {3});
}

TEST_CASE("engine: diamonds whose longer path comes first: every node runs once, with its whole gradient",
          "[points:2]") {
    // C(t2, t1) with t2 = B(t1), t1 = A(x): C lists the longer path to A
    // first. A walk that does not remember visited nodes reaches A twice and
    // can put it before B, so A runs early with part of its gradient and
    // again later. Here each node must run exactly once, after its consumers.
    {
        Tensor x = from({1, 2}, {2}).set_requires_grad();
        Tensor t1 = Tensor::zeros({2}), t2 = Tensor::zeros({2}), root = Tensor::zeros({2});
        std::vector<const char*> log;
        HandNode A, B, C;
        A.wire("A", 2.0f, {&x}, t1);
        B.wire("B", 3.0f, {&t1}, t2);
        C.wire("C", 1.0f, {&t2, &t1}, root);
        A.probe.log = B.probe.log = C.probe.log = &log;
        Tensor seed = from({1, 1}, {2});
        check(AG().backward(root.raw(), seed.raw()), "backward");
        REQUIRE(log == std::vector<const char*>{"C", "B", "A"});
        REQUIRE(A.probe.first_grad_seen == Approx(4.0f));  // 3 via B + 1 from C
        grade::require_close(x.grad(), std::vector<float>{8, 8}, {2});
    }
    // A ladder of 10 such diamonds: t[k+1] = N_k(M_k(t[k]), t[k]). Each M and N
    // passes its gradient on unchanged, so t[k] gets twice what t[k+1] gets.
    const int levels = 10;
    Tensor x = from({1}, {1}).set_requires_grad();
    std::vector<Tensor> t, u;
    t.reserve(levels + 1);
    u.reserve(levels);
    std::vector<HandNode> M(levels), N(levels);
    HandNode first;
    t.push_back(Tensor::zeros({1}));
    first.wire("first", 1.0f, {&x}, t.back());
    for (int k = 0; k < levels; ++k) {
        u.push_back(Tensor::zeros({1}));
        M[k].wire("M", 1.0f, {&t[k]}, u.back());
        t.push_back(Tensor::zeros({1}));
        N[k].wire("N", 1.0f, {&u[k], &t[k]}, t.back());
    }
    check(AG().backward(t.back().raw(), nullptr), "backward");
    for (int k = 0; k < levels; ++k) {
        INFO("level " << k << " (counted from the leaf)");
        REQUIRE(M[k].probe.calls == 1);
        REQUIRE(N[k].probe.calls == 1);
        REQUIRE(N[k].probe.first_grad_seen == Approx(std::ldexp(1.0, levels - 1 - k)));
        REQUIRE(M[k].probe.first_grad_seen == Approx(std::ldexp(1.0, levels - 1 - k)));
    }
    REQUIRE(first.probe.calls == 1);
    REQUIRE(first.probe.first_grad_seen == Approx(std::ldexp(1.0, levels)));
    grade::require_close(x.grad(), std::vector<double>{std::ldexp(1.0, levels)}, {1}, 0, 0);
}

TEST_CASE("engine: a tensor used by two nodes and twice by one node sums its gradients", "[points:2]") {
    // root = D(u, u, x) with u = A(x): x gets 2*(1 + 1) from u's two uses + 5 directly.
    Tensor x = from({1, 1}, {2}).set_requires_grad();
    Tensor u = Tensor::zeros({2}), root = Tensor::zeros({2});
    HandNode A, D;
    A.wire("A", 2.0f, {&x}, u);
    D.wire("D", 1.0f, {&u, &u, &x}, root);
    D.probe.factor = 1.0f;
    Tensor seed = from({1, 1}, {2});
    check(AG().backward(root.raw(), seed.raw()), "backward");
    REQUIRE(A.probe.calls == 1);
    REQUIRE(A.probe.first_grad_seen == Approx(2.0f));
    grade::require_close(x.grad(), std::vector<float>{5, 5}, {2});
}

TEST_CASE("engine: leaf gradients accumulate across backward calls", "[points:2]") {
    Tensor x = from({1, 2}, {2}).set_requires_grad();
    Tensor y = Tensor::zeros({2});
    HandNode A;
    A.wire("A", 3.0f, {&x}, y);
    Tensor seed = from({1, 2}, {2});
    check(AG().backward(y.raw(), seed.raw()), "backward");
    tt_tensor* first = x.raw()->grad;
    check(AG().backward(y.raw(), seed.raw()), "backward");
    grade::require_close(x.grad(), std::vector<float>{6, 12}, {2});
    INFO("the second call must add into the existing grad, not replace it");
    REQUIRE(x.raw()->grad == first);
}

TEST_CASE("engine: a 10000-node chain runs without recursion", "[points:2]") {
    const int n = 10000;
    Tensor x = from({1}, {1}).set_requires_grad();
    std::vector<Tensor> ts;
    ts.reserve(n);
    std::vector<HandNode> nodes(n);
    Tensor* prev = &x;
    for (int i = 0; i < n; ++i) {
        ts.push_back(Tensor::zeros({1}));
        nodes[i].wire("chain", 1.0f, {prev}, ts.back());
        prev = &ts.back();
    }
    check(AG().backward(ts.back().raw(), nullptr), "backward");
    grade::require_close(x.grad(), std::vector<float>{1}, {1});
    for (int i = 0; i < n; i += 997) REQUIRE(nodes[i].probe.calls == 1);
}

TEST_CASE("engine: a failing rule makes backward fail", "[points:1]") {
    Tensor x = from({1, 2}, {2}).set_requires_grad();
    Tensor t = Tensor::zeros({2}), root = Tensor::zeros({2});
    HandNode A, B;
    A.wire("A", 2.0f, {&x}, t);
    B.wire("B", 2.0f, {&t}, root);
    Tensor seed = from({1, 1}, {2});
    check(AG().backward(root.raw(), seed.raw()), "backward");
    grade::require_close(x.grad(), std::vector<float>{4, 4}, {2});
    B.probe.fail = TT_NUMERIC_ERROR;
    REQUIRE(AG().backward(root.raw(), seed.raw()) != TT_OK);
    INFO("A's input gradient depends on B's: A must not run after B failed");
    REQUIRE(A.probe.calls == 1);
    grade::require_close(x.grad(), std::vector<float>{4, 4}, {2});
}

TEST_CASE("grad mode: set_grad_enabled reports the previous mode and nests", "[points:1]") {
    int32_t prev = -1, now = -1;
    check(AG().is_grad_enabled(&now), "is_grad_enabled");
    REQUIRE(now == 1);
    check(AG().set_grad_enabled(0, &prev), "set_grad_enabled");
    REQUIRE(prev == 1);
    check(AG().set_grad_enabled(0, &prev), "set_grad_enabled");
    REQUIRE(prev == 0);
    check(AG().is_grad_enabled(&now), "is_grad_enabled");
    REQUIRE(now == 0);
    check(AG().set_grad_enabled(1, &prev), "set_grad_enabled");
    REQUIRE(prev == 0);
    check(AG().set_grad_enabled(1, nullptr), "set_grad_enabled");
    check(AG().is_grad_enabled(&now), "is_grad_enabled");
    REQUIRE(now == 1);
}

// ======================================================================
// Through the C++ API: the core records the graph, module 05 runs it
// ======================================================================

TEST_CASE("api: y = x x + x gives dy/dx = 2x + 1", "[points:2]") {
    Tensor x = from({-1, 0.5f, 2}, {3}).set_requires_grad();
    Tensor y = (x * x + x).sum();
    y.backward();
    grade::require_close(x.grad(), std::vector<float>{-1, 2, 5}, {3});
}

TEST_CASE("api: a diamond (2x)(x+1) gives 4x + 2", "[points:2]") {
    Tensor x = from({0, 1, -3}, {3}).set_requires_grad();
    Tensor a = x * 2.0f;
    Tensor b = x + 1.0f;
    (a * b).sum().backward();
    grade::require_close(x.grad(), std::vector<float>{2, 6, -10}, {3});
}

TEST_CASE("api: gradients accumulate across two backward calls", "[points:1]") {
    Tensor x = from({1, 2}, {2}).set_requires_grad();
    (x * 3.0f).sum().backward();
    (x * 3.0f).sum().backward();
    grade::require_close(x.grad(), std::vector<float>{6, 6}, {2});
}

TEST_CASE("api: a chain of 10000 additions backpropagates without overflow", "[points:2]") {
    Tensor x = from({0.5f, -1}, {2}).set_requires_grad();
    Tensor y = x;
    for (int i = 0; i < 10000; ++i) y = y + 1.0f;
    REQUIRE(y.at({0}) == Approx(10000.5f));
    y.sum().backward();
    grade::require_close(x.grad(), std::vector<float>{1, 1}, {2});
}

TEST_CASE("api: shared subgraphs are visited once (y = y + y 50 times)", "[points:2]") {
    // 2^50 paths lead from the root to x: an engine that does not remember
    // the nodes it has already visited never finishes.
    Tensor x = from({1}, {1}).set_requires_grad();
    Tensor y = x;
    for (int i = 0; i < 50; ++i) y = y + y;
    y.sum().backward();
    grade::require_close(x.grad(), std::vector<double>{std::ldexp(1.0, 50)}, {1}, 0, 1e-6);
}

TEST_CASE("api: max over an axis with tied maxima sends each gradient to the first one only", "[points:1]") {
    // Column 0 has its maximum 4 in rows 0 and 1, column 1 its 6 in rows 1 and 2.
    Tensor x = from({4, 1, 4, 6, 2, 6}, {3, 2}).set_requires_grad();
    (x.max(0, true) * from({10, 100}, {1, 2})).sum().backward();
    grade::require_close(x.grad(), std::vector<float>{10, 0, 0, 100, 0, 0}, {3, 2}, 0, 0);
    // Over everything: 7 appears three times; the first (flat order) takes it all.
    Tensor y = from({7, 1, 7, 7}, {2, 2}).set_requires_grad();
    (y.max() * 3.0f).backward();
    grade::require_close(y.grad(), std::vector<float>{3, 0, 0, 0}, {2, 2}, 0, 0);
}

TEST_CASE("api: only leaves receive .grad and only when they require grad", "[points:1]") {
    Tensor x = from({1, 2}, {2}).set_requires_grad();
    Tensor c = from({3, 4}, {2});
    Tensor z = x * c;
    (z * 2.0f).sum().backward();
    grade::require_close(x.grad(), std::vector<float>{6, 8}, {2});
    REQUIRE_FALSE(c.grad().defined());
    REQUIRE_FALSE(z.grad().defined());
}

TEST_CASE("api: backward with a seed and without one on a non-scalar", "[points:1]") {
    Tensor x = from({1, 2, 3}, {3}).set_requires_grad();
    Tensor y = x * 3.0f;
    y.backward(from({1, 2, 3}, {3}));
    grade::require_close(x.grad(), std::vector<float>{3, 6, 9}, {3});
    Tensor y2 = x * 3.0f;
    grade::require_status(TT_INVALID_ARGUMENT, [&] { y2.backward(); });
}

TEST_CASE("api: a no-grad scope records nothing", "[points:2]") {
    Tensor x = from({1, 2}, {2}).set_requires_grad();
    {
        tt::NoGradGuard guard;
        REQUIRE_FALSE(tt::grad_enabled());
        Tensor y = tt::relu(x * 2.0f + 1.0f);
        REQUIRE_FALSE(y.has_grad_fn());
        {
            tt::NoGradGuard nested;
            REQUIRE_FALSE(tt::grad_enabled());
        }
        REQUIRE_FALSE(tt::grad_enabled());
    }
    REQUIRE(tt::grad_enabled());
    Tensor y = x * 2.0f;
    REQUIRE(y.has_grad_fn());
}

TEST_CASE("api: reductions and reshape and transpose in one graph", "[points:2]") {
    Forward loss = [](const std::vector<Tensor>& p) {
        Tensor a = p[0].reshape({3, 4}).transpose(0, 1);  // [4, 3]
        Tensor m = a.max(1, true);                         // [4, 1]
        return (a * m).mean(0).sum() + p[0].mean();
    };
    check_api(loss, {rnd({2, 6}, 1000)});
}

TEST_CASE("api: activations and softmax composed", "[points:2]") {
    Forward loss = [](const std::vector<Tensor>& p) {
        Tensor h = tt::gelu(p[0]) + tt::tanh(p[0]) * tt::sigmoid(p[0]);
        Tensor s = tt::softmax(h, -1);
        return (s * p[1]).sum() + (tt::log_softmax(h, 0) * p[1]).sum();
    };
    check_api(loss, {rnd({3, 4}, 1010, -2.0f, 2.0f), rnd({3, 4}, 1011)});
}

TEST_CASE("api: MLP with cross-entropy matches finite differences", "[points:3]") {
    Tensor targets = from({0, 2, 1, 2}, {4});
    Forward loss = [targets](const std::vector<Tensor>& p) {
        Tensor h = tt::relu(tt::linear(p[0], p[1], p[2]));
        return tt::cross_entropy(tt::linear(h, p[3], p[4]), targets);
    };
    check_api(loss, {rnd({4, 3}, 1020, -2.0f, 2.0f), rnd({3, 5}, 1021), rnd({5}, 1022),
                     rnd({5, 3}, 1023), rnd({3}, 1024)});
}

TEST_CASE("api: regression with broadcasting and mse and bce", "[points:2]") {
    Tensor t = rnd({5, 2}, 1031, 0.0f, 1.0f);
    Forward loss = [t](const std::vector<Tensor>& p) {
        Tensor z = tt::matmul(p[0], p[1]) + p[2];    // [5, 2] + [2]
        Tensor q = tt::sigmoid(z / p[3]);            // / [5, 1]
        return tt::mse_loss(q, t) + tt::binary_cross_entropy(q, t) * 0.5f - (p[3] - 2.0f).sum() * 0.1f;
    };
    check_api(loss, {rnd({5, 3}, 1032), rnd({3, 2}, 1033), rnd({2}, 1034),
                     rnd({5, 1}, 1035, 0.5f, 1.5f)});
}
