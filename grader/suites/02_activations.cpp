// Grading suite for module 02 Activations: ReLU, Sigmoid, Tanh, GELU, Softmax.
// Expected values are worked by hand or computed here in double, never copied
// from an implementation.
#include "common/grading.hpp"

#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <vector>

#include "tinytorch/runtime.hpp"

namespace {

using tt::Shape;
using tt::Tensor;

const double kLn2 = std::log(2.0);
const double kLn3 = std::log(3.0);

// Apply f to every element, in double, on the test side.
std::vector<double> map(const std::vector<float>& x, const std::function<double(double)>& f) {
    std::vector<double> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = f(static_cast<double>(x[i]));
    return y;
}

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }

double gelu_ref(double x) {
    const double k = std::sqrt(2.0 / std::numbers::pi);
    return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}

// softmax of a [outer, n, inner] view along the middle axis, in double.
std::vector<double> softmax_ref(const std::vector<float>& x, const Shape& shape, int axis) {
    int nd = static_cast<int>(shape.size());
    if (axis < 0) axis += nd;
    int64_t outer = 1, inner = 1, n = shape[axis];
    for (int d = 0; d < axis; ++d) outer *= shape[d];
    for (int d = axis + 1; d < nd; ++d) inner *= shape[d];
    std::vector<double> y(x.size());
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
            double m = -INFINITY;
            for (int64_t j = 0; j < n; ++j) m = std::max(m, static_cast<double>(x[(o * n + j) * inner + i]));
            double s = 0;
            for (int64_t j = 0; j < n; ++j) s += std::exp(x[(o * n + j) * inner + i] - m);
            for (int64_t j = 0; j < n; ++j) y[(o * n + j) * inner + i] = std::exp(x[(o * n + j) * inner + i] - m) / s;
        }
    return y;
}

void require_all_finite(const Tensor& t) {
    std::vector<float> v = t.to_vector();
    for (size_t i = 0; i < v.size(); ++i) {
        INFO("element " << i << " is " << v[i]);
        REQUIRE(std::isfinite(v[i]));
    }
}

}  // namespace

// ------------------------------------------------------------------ ReLU

TEST_CASE("relu zeroes negatives and keeps positives", "[points:1]") {
    Tensor x = Tensor::from({-2.0f, -0.5f, 0.0f, 0.5f, 3.0f, -7.0f}, {2, 3});
    CAPTURE(x);
    grade::require_close(tt::relu(x), std::vector<float>{0, 0, 0, 0.5f, 3.0f, 0}, {2, 3});
}

TEST_CASE("relu matches a double computation on random input", "[points:1]") {
    std::vector<float> v = grade::random_values(4 * 5 * 6, 201, -5.0f, 5.0f);
    Tensor x = Tensor::from(v, {4, 5, 6});
    grade::require_close(tt::relu(x), map(v, [](double a) { return a > 0 ? a : 0.0; }), {4, 5, 6}, 0, 0);
}

TEST_CASE("relu lets a NaN through as NaN, as PyTorch does", "[points:1]") {
    // A NaN must stay visible (the training loop stops on a NaN loss); an
    // implementation that writes x > 0 ? x : 0 turns it into a quiet 0.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    Tensor y = tt::relu(Tensor::from({nan, -1.0f, 2.0f, nan}, {2, 2}));
    std::vector<float> v = y.to_vector();
    REQUIRE(v.size() == 4);
    CHECK(std::isnan(v[0]));
    CHECK(v[1] == 0.0f);
    CHECK(v[2] == 2.0f);
    CHECK(std::isnan(v[3]));
}

// ------------------------------------------------------------------ Sigmoid

TEST_CASE("sigmoid of 0 and +-ln 3 is 1/2 and 3/4 and 1/4", "[points:1]") {
    Tensor x = Tensor::from({0.0f, static_cast<float>(kLn3), static_cast<float>(-kLn3)}, {3});
    CAPTURE(x);
    grade::require_close(tt::sigmoid(x), std::vector<double>{0.5, 0.75, 0.25}, {3}, 1e-6, 1e-5);
}

TEST_CASE("sigmoid is stable for large |x| (no overflow and no NaN)", "[points:2]") {
    std::vector<float> v = {100.0f, -100.0f, 89.0f, -89.0f, 1e30f, -1e30f, 30.0f, -30.0f};
    Tensor y = tt::sigmoid(Tensor::from(v, {8}));
    require_all_finite(y);
    // -30 checks relative accuracy of the small tail: sigmoid(-30) ~ 9.4e-14.
    // (atol 1e-20 leaves room for the subnormal floats sigmoid(-89) and sigmoid(-100).)
    grade::require_close(y, map(v, sigmoid_ref), {8}, 1e-20, 1e-5);
    CHECK(y.to_vector()[0] == 1.0f);
    CHECK(y.to_vector()[4] == 1.0f);
    CHECK(y.to_vector()[5] == 0.0f);
}

TEST_CASE("sigmoid keeps its tiny tail where exp(-x) overflows float (x < -88.7)", "[points:1]") {
    // exp(88.8) is above FLT_MAX (3.4e38), so the naive float form
    // 1 / (1 + exp(-x)) returns exactly 0 here, while sigmoid(x) ~ exp(x) is a
    // representable (subnormal) float: sigmoid(-89) ~ 2.23e-39. The stable form
    // exp(x) / (1 + exp(x)) keeps it to a few ulp. No absolute tolerance:
    // 0 is wrong by 100 %.
    std::vector<float> v = {-88.8f, -89.0f, -90.0f, -92.0f};
    Tensor x = Tensor::from(v, {4});
    CAPTURE(x);
    Tensor y = tt::sigmoid(x);
    grade::require_close(y, map(v, sigmoid_ref), {4}, 0, 1e-4);
}

TEST_CASE("sigmoid matches a double computation on random input", "[points:1]") {
    std::vector<float> v = grade::random_values(7 * 13, 202, -20.0f, 20.0f);
    Tensor y = tt::sigmoid(Tensor::from(v, {7, 13}));
    grade::require_close(y, map(v, sigmoid_ref), {7, 13}, 1e-7, 1e-5);
}

// ------------------------------------------------------------------ Tanh

TEST_CASE("tanh of 0 and ln 2 is 0 and 3/5 and saturates at +-1", "[points:1]") {
    // tanh(ln 2) = (2 - 1/2) / (2 + 1/2) = 0.6
    Tensor x = Tensor::from({0.0f, static_cast<float>(kLn2), static_cast<float>(-kLn2), 100.0f, -100.0f}, {5});
    CAPTURE(x);
    Tensor y = tt::tanh(x);
    require_all_finite(y);
    grade::require_close(y, std::vector<double>{0.0, 0.6, -0.6, 1.0, -1.0}, {5}, 1e-6, 1e-5);
}

TEST_CASE("tanh matches a double computation on random input", "[points:1]") {
    std::vector<float> v = grade::random_values(3 * 4 * 5, 203, -6.0f, 6.0f);
    Tensor y = tt::tanh(Tensor::from(v, {3, 4, 5}));
    grade::require_close(y, map(v, [](double a) { return std::tanh(a); }), {3, 4, 5}, 1e-6, 1e-5);
}

// ------------------------------------------------------------------ GELU

TEST_CASE("gelu uses the tanh form: known values at 0 and +-1 and +-10", "[points:2]") {
    // 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))): 0 at 0, about x for large x,
    // about 0 for very negative x. At 1 the tanh form gives 0.841192 (the exact
    // erf form would give 0.841345: outside the tolerance).
    Tensor x = Tensor::from({0.0f, 1.0f, -1.0f, 10.0f, -10.0f}, {5});
    CAPTURE(x);
    Tensor y = tt::gelu(x);
    require_all_finite(y);
    grade::require_close(y, std::vector<double>{0.0, 0.8411919906082768, -0.15880800939172324, 10.0, 0.0},
                         {5}, 1e-5, 1e-5);
}

TEST_CASE("gelu matches a double computation on random input", "[points:1]") {
    std::vector<float> v = grade::random_values(6 * 11, 204, -6.0f, 6.0f);
    Tensor y = tt::gelu(Tensor::from(v, {6, 11}));
    grade::require_close(y, map(v, gelu_ref), {6, 11}, 1e-5, 1e-4);
}

// ------------------------------------------------------------------ Softmax

TEST_CASE("softmax of (0 ln2) is (1/3 2/3) and of (0 ln2 ln3) is (1/6 1/3 1/2)", "[points:2]") {
    Tensor a = Tensor::from({0.0f, static_cast<float>(kLn2)}, {2});
    CAPTURE(a);
    grade::require_close(tt::softmax(a), std::vector<double>{1.0 / 3, 2.0 / 3}, {2}, 1e-6, 1e-5);

    // two rows, softmax along the last axis: the second row is shifted by 5
    // (softmax does not change when a constant is added to a row)
    float l2 = static_cast<float>(kLn2), l3 = static_cast<float>(kLn3);
    Tensor b = Tensor::from({0.0f, l2, l3, 5.0f, 5.0f + l2, 5.0f + l3}, {2, 3});
    CAPTURE(b);
    grade::require_close(tt::softmax(b, -1),
                         std::vector<double>{1.0 / 6, 1.0 / 3, 0.5, 1.0 / 6, 1.0 / 3, 0.5}, {2, 3}, 1e-6,
                         1e-5);
}

TEST_CASE("softmax subtracts the max: finite for logits of 1e4", "[points:2]") {
    Tensor a = tt::softmax(Tensor::from({1e4f, 0.0f}, {2}));
    require_all_finite(a);
    grade::require_close(a, std::vector<double>{1.0, 0.0}, {2}, 1e-6, 0);

    Tensor b = tt::softmax(Tensor::from({-1e4f, -1e4f, 1e4f, 1e4f, 1e4f, 1e4f}, {2, 3}), 1);
    require_all_finite(b);
    // row 0: [-1e4, -1e4, 1e4] -> [0, 0, 1]; row 1: three equal -> 1/3 each
    grade::require_close(b, std::vector<double>{0, 0, 1, 1.0 / 3, 1.0 / 3, 1.0 / 3}, {2, 3}, 1e-6, 1e-5);

    Tensor c = tt::softmax(Tensor::from({-1e4f, -1e4f}, {1, 2}));
    require_all_finite(c);
    grade::require_close(c, std::vector<double>{0.5, 0.5}, {1, 2}, 1e-6, 1e-5);
}

TEST_CASE("softmax along every axis of a 3-D tensor", "[points:3]") {
    Shape shape = {3, 4, 5};
    std::vector<float> v = grade::random_values(60, 205, -4.0f, 4.0f);
    Tensor x = Tensor::from(v, shape);
    for (int axis : {0, 1, 2, -1, -2, -3}) {
        INFO("axis " << axis);
        grade::require_close(tt::softmax(x, axis), softmax_ref(v, shape, axis), shape, 1e-6, 1e-5);
    }
}

TEST_CASE("softmax rows sum to 1 for wide-ranging logits", "[points:1]") {
    std::vector<float> v = grade::random_values(8 * 50, 206, -80.0f, 80.0f);
    Tensor y = tt::softmax(Tensor::from(v, {8, 50}), -1);
    require_all_finite(y);
    std::vector<float> p = y.to_vector();
    for (int r = 0; r < 8; ++r) {
        double s = 0;
        for (int j = 0; j < 50; ++j) {
            REQUIRE(p[r * 50 + j] >= 0.0f);
            s += p[r * 50 + j];
        }
        INFO("row " << r);
        REQUIRE(std::fabs(s - 1.0) < 1e-5);
    }
    grade::require_close(y, softmax_ref(v, {8, 50}, -1), {8, 50}, 1e-6, 1e-4);
}

TEST_CASE("softmax rejects an axis out of range", "[points:1]") {
    Tensor x = Tensor::zeros({2, 3});
    grade::require_status(TT_INVALID_ARGUMENT, [&] { tt::softmax(x, 2); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { tt::softmax(x, -3); });
}

// ------------------------------------------------------------------ shapes and ownership

TEST_CASE("activations keep the shape of scalars and size-1 axes and empty tensors", "[points:1]") {
    Tensor s = Tensor::scalar(-3.0f);
    grade::require_close(tt::relu(s), std::vector<double>{0.0}, {}, 0, 0);
    grade::require_close(tt::sigmoid(s), std::vector<double>{sigmoid_ref(-3.0)}, {}, 1e-6, 1e-5);
    grade::require_close(tt::tanh(s), std::vector<double>{std::tanh(-3.0)}, {}, 1e-6, 1e-5);
    grade::require_close(tt::gelu(s), std::vector<double>{gelu_ref(-3.0)}, {}, 1e-5, 1e-4);

    // softmax over an axis of size 1 is all ones
    Tensor col = Tensor::from({3.0f, -2.0f, 100.0f}, {3, 1});
    CAPTURE(col);
    grade::require_close(tt::softmax(col, -1), std::vector<double>{1, 1, 1}, {3, 1}, 1e-6, 0);

    Tensor empty = Tensor::zeros({0, 4});
    CHECK(tt::relu(empty).shape() == Shape{0, 4});
    CHECK(tt::sigmoid(empty).shape() == Shape{0, 4});
    CHECK(tt::softmax(empty, 1).shape() == Shape{0, 4});
    CHECK(tt::softmax(Tensor::zeros({2, 0}), -1).shape() == Shape{2, 0});
}

TEST_CASE("activations leave their input unchanged and return a new tensor", "[points:1]") {
    std::vector<float> v = grade::random_values(24, 207, -3.0f, 3.0f);
    Tensor x = Tensor::from(v, {2, 3, 4});
    std::vector<Tensor> outs = {tt::relu(x), tt::sigmoid(x), tt::tanh(x), tt::gelu(x), tt::softmax(x, 1)};
    grade::require_close(x, v, {2, 3, 4}, 0, 0);
    for (const Tensor& y : outs) {
        REQUIRE(y.raw() != x.raw());
        REQUIRE(y.data() != x.data());
    }
}

TEST_CASE("the raw table fills out with a new tensor", "[points:1]") {
    const tt_activations_api& api = tt::runtime().activations();
    Tensor x = Tensor::from({-1.0f, 2.0f}, {2});
    CAPTURE(x);
    tt_tensor* out = nullptr;
    grade::require_ok(api.relu(x.raw(), &out), "relu");
    Tensor y = Tensor::adopt(out);
    grade::require_close(y, std::vector<float>{0.0f, 2.0f}, {2});
}
