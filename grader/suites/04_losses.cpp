// Grading suite for module 04 Losses: mse, log_softmax, cross_entropy,
// binary_cross_entropy. Expected values are worked by hand or computed here in
// double, never copied from an implementation.
#include "common/grading.hpp"

#include <cmath>
#include <vector>

#include "tinytorch/runtime.hpp"

namespace {

using tt::Shape;
using tt::Tensor;

const double kLn2 = std::log(2.0);
const double kLn3 = std::log(3.0);

// log_softmax of a [outer, n, inner] view along the middle axis, in double.
std::vector<double> log_softmax_ref(const std::vector<float>& x, const Shape& shape, int axis) {
    int nd = static_cast<int>(shape.size());
    if (axis < 0) axis += nd;
    int64_t outer = 1, inner = 1, n = shape[axis];
    for (int d = 0; d < axis; ++d) outer *= shape[d];
    for (int d = axis + 1; d < nd; ++d) inner *= shape[d];
    std::vector<double> y(x.size());
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
            auto at = [&](int64_t j) { return (o * n + j) * inner + i; };
            double m = -INFINITY;
            for (int64_t j = 0; j < n; ++j) m = std::max(m, static_cast<double>(x[at(j)]));
            double s = 0;
            for (int64_t j = 0; j < n; ++j) s += std::exp(x[at(j)] - m);
            for (int64_t j = 0; j < n; ++j) y[at(j)] = x[at(j)] - m - std::log(s);
        }
    return y;
}

// mean over rows of logsumexp(row) - row[target], in double.
double cross_entropy_ref(const std::vector<float>& logits, const std::vector<float>& targets, int64_t n,
                         int64_t c) {
    std::vector<double> ls = log_softmax_ref(logits, {n, c}, 1);
    double total = 0;
    for (int64_t r = 0; r < n; ++r) total -= ls[r * c + static_cast<int64_t>(targets[r])];
    return total / n;
}

double bce_ref(const std::vector<float>& p, const std::vector<float>& t) {
    double s = 0;
    for (size_t i = 0; i < p.size(); ++i) s += t[i] * std::log(p[i]) + (1 - t[i]) * std::log(1 - p[i]);
    return -s / p.size();
}

// A scalar result: ndim 0, one element, close to `expected`.
void require_scalar(const Tensor& t, double expected, double atol, double rtol) {
    grade::require_close(t, std::vector<double>{expected}, {}, atol, rtol);
    REQUIRE(t.ndim() == 0);
}

}  // namespace

// ------------------------------------------------------------------ MSE

TEST_CASE("mse of a hand-worked example is a scalar (ndim 0)", "[points:1]") {
    // (1-1)^2 + (2-0)^2 + (3-6)^2 = 0 + 4 + 9 = 13, mean 13/3
    Tensor loss = tt::mse_loss(Tensor::from({1, 2, 3}, {3}), Tensor::from({1, 0, 6}, {3}));
    require_scalar(loss, 13.0 / 3.0, 1e-6, 1e-6);
    // equal tensors: 0
    Tensor a = Tensor::from({0.5f, -1.5f, 2.0f, 7.0f}, {2, 2});
    CAPTURE(a);
    require_scalar(tt::mse_loss(a, a), 0.0, 0, 0);
}

TEST_CASE("mse matches a double computation on random input", "[points:1]") {
    std::vector<float> p = grade::random_values(8 * 9, 401, -3.0f, 3.0f);
    std::vector<float> t = grade::random_values(8 * 9, 402, -3.0f, 3.0f);
    double s = 0;
    for (size_t i = 0; i < p.size(); ++i) s += (static_cast<double>(p[i]) - t[i]) * (p[i] - t[i]);
    require_scalar(tt::mse_loss(Tensor::from(p, {8, 9}), Tensor::from(t, {8, 9})), s / p.size(), 1e-6, 1e-5);
}

TEST_CASE("mse requires equal shapes (no broadcasting)", "[points:1]") {
    grade::require_status(TT_SHAPE_MISMATCH, [] { tt::mse_loss(Tensor::zeros({2, 3}), Tensor::zeros({3, 2})); });
    grade::require_status(TT_SHAPE_MISMATCH, [] { tt::mse_loss(Tensor::zeros({3}), Tensor::zeros({1})); });
    grade::require_status(TT_SHAPE_MISMATCH, [] { tt::mse_loss(Tensor::zeros({6}), Tensor::zeros({2, 3})); });
    grade::require_status(TT_SHAPE_MISMATCH, [] { tt::mse_loss(Tensor::zeros({4}), Tensor::zeros({4, 1})); });

    tt_tensor* out = nullptr;
    Tensor a = Tensor::zeros({2}), b = Tensor::zeros({3});
    CHECK(tt::runtime().losses().mse(a.raw(), b.raw(), &out) == TT_SHAPE_MISMATCH);
    CHECK(out == nullptr);
}

// ------------------------------------------------------------------ log_softmax

TEST_CASE("log_softmax of (0 ln2) is (ln 1/3 ln 2/3) and of four zeros is -ln 4", "[points:2]") {
    Tensor a = tt::log_softmax(Tensor::from({0.0f, static_cast<float>(kLn2)}, {2}));
    grade::require_close(a, std::vector<double>{std::log(1.0 / 3), std::log(2.0 / 3)}, {2}, 1e-6, 1e-5);
    Tensor b = tt::log_softmax(Tensor::zeros({2, 4}), -1);
    grade::require_close(b, std::vector<double>(8, -std::log(4.0)), {2, 4}, 1e-6, 1e-5);
}

TEST_CASE("log_softmax is stable: finite for logits of +-1e4 and far-apart values", "[points:2]") {
    Tensor a = tt::log_softmax(Tensor::from({1e4f, 0.0f}, {2}));
    grade::require_close(a, std::vector<double>{0.0, -1e4}, {2}, 1e-3, 1e-6);

    Tensor b = tt::log_softmax(Tensor::from({-1e4f, -1e4f}, {2}));
    grade::require_close(b, std::vector<double>{-kLn2, -kLn2}, {2}, 1e-6, 1e-5);

    // exp(-200) underflows float: log(softmax(x)) would give -inf here
    Tensor c = tt::log_softmax(Tensor::from({0.0f, -200.0f, 1e4f, -1e4f}, {2, 2}), -1);
    grade::require_close(c, std::vector<double>{0.0, -200.0, 0.0, -2e4}, {2, 2}, 1e-3, 1e-6);
}

TEST_CASE("log_softmax along every axis matches a double computation", "[points:2]") {
    Shape shape = {3, 4, 5};
    std::vector<float> v = grade::random_values(60, 403, -10.0f, 10.0f);
    Tensor x = Tensor::from(v, shape);
    for (int axis : {0, 1, 2, -1, -3}) {
        INFO("axis " << axis);
        Tensor y = tt::log_softmax(x, axis);
        grade::require_close(y, log_softmax_ref(v, shape, axis), shape, 1e-5, 1e-5);
    }
    // exp(log_softmax) sums to 1 along the axis
    std::vector<float> y = tt::log_softmax(x, 1).to_vector();
    for (int o = 0; o < 3; ++o)
        for (int i = 0; i < 5; ++i) {
            double s = 0;
            for (int j = 0; j < 4; ++j) s += std::exp(static_cast<double>(y[(o * 4 + j) * 5 + i]));
            REQUIRE(std::fabs(s - 1.0) < 1e-5);
        }
    grade::require_close(x, v, shape, 0, 0);  // input untouched
}

TEST_CASE("log_softmax rejects an axis out of range", "[points:1]") {
    grade::require_status(TT_INVALID_ARGUMENT, [] { tt::log_softmax(Tensor::zeros({2, 3}), 2); });
    grade::require_status(TT_INVALID_ARGUMENT, [] { tt::log_softmax(Tensor::zeros({2, 3}), -3); });
}

// ------------------------------------------------------------------ cross-entropy

TEST_CASE("cross_entropy of hand-worked logits", "[points:2]") {
    // softmax([0, ln 2]) = [1/3, 2/3]; target 1 -> -ln(2/3) = ln 3 - ln 2
    Tensor a = tt::cross_entropy(Tensor::from({0.0f, static_cast<float>(kLn2)}, {1, 2}), Tensor::from({1}, {1}));
    require_scalar(a, kLn3 - kLn2, 1e-6, 1e-5);

    // equal logits over C classes: every sample costs ln C, whatever its target
    Tensor b = tt::cross_entropy(Tensor::zeros({4, 10}), Tensor::from({0, 9, 3, 3}, {4}));
    require_scalar(b, std::log(10.0), 1e-6, 1e-5);

    // the mean over samples: target 0 costs ln 3 (= -ln 1/3), target 1 costs ln 3 - ln 2
    Tensor c = tt::cross_entropy(Tensor::from({0.0f, 0.0f, 0.0f, 0.0f, static_cast<float>(kLn2), 0.0f}, {2, 3}),
                                 Tensor::from({0, 1}, {2}));
    // row 1: exp = [1, 2, 1] -> p(1) = 1/2 -> ln 2
    require_scalar(c, (kLn3 + kLn2) / 2, 1e-6, 1e-5);
}

TEST_CASE("cross_entropy matches a double computation on random logits", "[points:2]") {
    const int64_t n = 16, c = 7;
    std::vector<float> logits = grade::random_values(n * c, 404, -5.0f, 5.0f);
    std::vector<float> targets(n);
    for (int64_t r = 0; r < n; ++r) targets[r] = static_cast<float>((r * 5 + 2) % c);
    Tensor loss = tt::cross_entropy(Tensor::from(logits, {n, c}), Tensor::from(targets, {n}));
    require_scalar(loss, cross_entropy_ref(logits, targets, n, c), 1e-5, 1e-5);
}

TEST_CASE("cross_entropy is finite for logits of +-1e4", "[points:2]") {
    // row 0 predicts class 0 with certainty (loss 0); row 1 puts class 0 at
    // -1e4 against 1e4 (loss 2e4): mean 1e4
    Tensor a = tt::cross_entropy(Tensor::from({1e4f, -1e4f, -1e4f, 1e4f}, {2, 2}), Tensor::from({0, 0}, {2}));
    REQUIRE(std::isfinite(a.item()));
    require_scalar(a, 1e4, 1e-2, 1e-6);

    Tensor b = tt::cross_entropy(Tensor::from({1e4f, 0.0f, -1e4f}, {1, 3}), Tensor::from({0}, {1}));
    require_scalar(b, 0.0, 1e-5, 0);

    Tensor c = tt::cross_entropy(Tensor::from({-1e4f, -1e4f}, {1, 2}), Tensor::from({1}, {1}));
    require_scalar(c, kLn2, 1e-5, 1e-5);
}

TEST_CASE("cross_entropy rejects targets that are not class indices", "[points:2]") {
    Tensor logits = Tensor::zeros({2, 3});
    grade::require_status(TT_INVALID_ARGUMENT, [&] { tt::cross_entropy(logits, Tensor::from({0, 2.5f}, {2})); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { tt::cross_entropy(logits, Tensor::from({-1, 0}, {2})); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { tt::cross_entropy(logits, Tensor::from({0, 3}, {2})); });
    grade::require_status(TT_INVALID_ARGUMENT,
                          [&] { tt::cross_entropy(logits, Tensor::from({std::nanf(""), 0}, {2})); });

    tt_tensor* out = nullptr;
    Tensor bad = Tensor::from({1, 7}, {2});
    CAPTURE(bad);
    CHECK(tt::runtime().losses().cross_entropy(logits.raw(), bad.raw(), &out) == TT_INVALID_ARGUMENT);
    CHECK(out == nullptr);
}

TEST_CASE("cross_entropy needs one target per row of logits", "[points:1]") {
    Tensor logits = Tensor::zeros({2, 3});
    grade::require_status(TT_SHAPE_MISMATCH, [&] { tt::cross_entropy(logits, Tensor::from({0, 1, 2}, {3})); });
    grade::require_status(TT_SHAPE_MISMATCH, [&] { tt::cross_entropy(logits, Tensor::from({0}, {1})); });
}

// ------------------------------------------------------------------ binary cross-entropy

TEST_CASE("binary_cross_entropy of hand-worked probabilities", "[points:1]") {
    require_scalar(tt::binary_cross_entropy(Tensor::from({0.5f}, {1}), Tensor::from({1}, {1})), kLn2, 1e-6, 1e-5);
    // -(ln 0.9 + ln(1 - 0.2)) / 2
    Tensor loss = tt::binary_cross_entropy(Tensor::from({0.9f, 0.2f}, {2}), Tensor::from({1, 0}, {2}));
    require_scalar(loss, -(std::log(0.9) + std::log(0.8)) / 2, 1e-6, 1e-5);
}

TEST_CASE("binary_cross_entropy matches a double computation (soft targets too)", "[points:1]") {
    std::vector<float> p = grade::random_values(5 * 6, 405, 0.02f, 0.98f);
    std::vector<float> t = grade::random_values(5 * 6, 406, 0.0f, 1.0f);
    for (int i = 0; i < 10; ++i) t[i] = static_cast<float>(i % 2);  // some hard 0/1 targets
    Tensor loss = tt::binary_cross_entropy(Tensor::from(p, {5, 6}), Tensor::from(t, {5, 6}));
    require_scalar(loss, bce_ref(p, t), 1e-5, 1e-5);
}

TEST_CASE("binary_cross_entropy clamps p to eps..1-eps: finite at p = 0 and p = 1", "[points:2]") {
    // p = 0 with target 1: -log(1e-7) = 16.118
    Tensor a = tt::binary_cross_entropy(Tensor::from({0.0f}, {1}), Tensor::from({1}, {1}));
    REQUIRE(std::isfinite(a.item()));
    require_scalar(a, -std::log(1e-7), 2e-2, 0);

    // p = 1 with target 0: -log(1 - (1 - 1e-7)); 1 - 1e-7 rounds in float, so
    // anything from about 15.9 to 16.2 is right
    Tensor b = tt::binary_cross_entropy(Tensor::from({1.0f}, {1}), Tensor::from({0}, {1}));
    REQUIRE(std::isfinite(b.item()));
    CHECK(b.item() > 15.8f);
    CHECK(b.item() < 16.2f);

    // right and certain: about 0, and no 0 * log(0) = NaN
    Tensor c = tt::binary_cross_entropy(Tensor::from({0.0f, 1.0f}, {2}), Tensor::from({0, 1}, {2}));
    REQUIRE(std::isfinite(c.item()));
    require_scalar(c, 0.0, 1e-5, 0);
}

TEST_CASE("binary_cross_entropy requires equal shapes", "[points:1]") {
    grade::require_status(TT_SHAPE_MISMATCH,
                          [] { tt::binary_cross_entropy(Tensor::full({3}, 0.5f), Tensor::zeros({2})); });
    grade::require_status(TT_SHAPE_MISMATCH,
                          [] { tt::binary_cross_entropy(Tensor::full({2, 2}, 0.5f), Tensor::zeros({4})); });
}

// ------------------------------------------------------------------ every loss

TEST_CASE("every loss returns a new scalar tensor and leaves its inputs alone", "[points:1]") {
    std::vector<float> pv = {0.2f, 0.7f, 0.4f, 0.9f};
    std::vector<float> tv = {0.0f, 1.0f, 1.0f, 0.0f};
    Tensor p = Tensor::from(pv, {2, 2}), t = Tensor::from(tv, {2, 2});
    Tensor targets = Tensor::from({1, 0}, {2});
    CAPTURE(targets);
    std::vector<Tensor> losses = {tt::mse_loss(p, t), tt::cross_entropy(p, targets), tt::binary_cross_entropy(p, t)};
    for (const Tensor& l : losses) {
        CHECK(l.ndim() == 0);
        CHECK(l.numel() == 1);
        CHECK(l.shape().empty());
        CHECK(std::isfinite(l.item()));
    }
    grade::require_close(p, pv, {2, 2}, 0, 0);
    grade::require_close(t, tv, {2, 2}, 0, 0);
    grade::require_close(targets, std::vector<float>{1, 0}, {2}, 0, 0);
}
