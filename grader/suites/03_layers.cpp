// Grading suite for module 03 Layers: linear_init, linear_forward, dropout_forward.
// Expected values are worked by hand or computed here in double; the random
// parts (init, dropout) are checked statistically and for reproducibility.
#include "common/grading.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "tinytorch/nn.hpp"
#include "tinytorch/runtime.hpp"

namespace {

using tt::Shape;
using tt::Tensor;

// x [M, in] . W [in, out] + b [out] in double on the test side.
std::vector<double> linear_ref(const std::vector<float>& x, const std::vector<float>& w,
                               const std::vector<float>* b, int64_t m, int64_t in, int64_t out) {
    std::vector<double> y(static_cast<size_t>(m * out));
    for (int64_t r = 0; r < m; ++r)
        for (int64_t o = 0; o < out; ++o) {
            double s = b ? (*b)[o] : 0.0;
            for (int64_t k = 0; k < in; ++k) s += static_cast<double>(x[r * in + k]) * w[k * out + o];
            y[r * out + o] = s;
        }
    return y;
}

struct InitResult {
    Tensor weight, bias;
};

// Call the raw linear_init and take ownership of what it returns.
InitResult raw_init(int64_t in, int64_t out, int32_t scheme) {
    tt_tensor* w = nullptr;
    tt_tensor* b = nullptr;
    tt_status st = tt::runtime().layers().linear_init(in, out, scheme, &w, &b);
    tt::runtime().check(st, 3, "linear_init");
    REQUIRE(w != nullptr);
    REQUIRE(b != nullptr);
    return {Tensor::adopt(w), Tensor::adopt(b)};
}

struct DropoutResult {
    Tensor out, mask;
};

DropoutResult raw_dropout(const Tensor& x, float p, bool training) {
    tt_tensor* o = nullptr;
    tt_tensor* m = nullptr;
    tt_status st = tt::runtime().layers().dropout_forward(x.raw(), p, training ? 1 : 0, &o, &m);
    tt::runtime().check(st, 3, "dropout_forward");
    REQUIRE(o != nullptr);
    REQUIRE(m != nullptr);
    return {Tensor::adopt(o), Tensor::adopt(m)};
}

struct Stats {
    double mean = 0, var = 0, min = 0, max = 0;
};

Stats stats(const std::vector<float>& v) {
    Stats s;
    s.min = *std::min_element(v.begin(), v.end());
    s.max = *std::max_element(v.begin(), v.end());
    for (float x : v) s.mean += x;
    s.mean /= static_cast<double>(v.size());
    for (float x : v) s.var += (x - s.mean) * (x - s.mean);
    s.var /= static_cast<double>(v.size());
    return s;
}

// Values drawn from U(-bound, bound): all inside, both ends nearly reached,
// mean about 0 and variance about bound^2 / 3. The tolerances are five
// standard errors of n samples (the mean of U(-b, b) has standard error
// b / sqrt(3n); the variance estimate has relative standard error sqrt(0.8/n)).
void require_uniform(const std::vector<float>& v, double bound) {
    Stats s = stats(v);
    const double n = static_cast<double>(v.size());
    const double var = bound * bound / 3;
    INFO(v.size() << " values, bound " << bound << ": min " << s.min << ", max " << s.max << ", mean "
                  << s.mean << ", var " << s.var << " (expected about " << var << ")");
    REQUIRE(s.min >= -bound * (1 + 1e-6));
    REQUIRE(s.max <= bound * (1 + 1e-6));
    REQUIRE(s.max > 0.9 * bound);
    REQUIRE(s.min < -0.9 * bound);
    REQUIRE(std::fabs(s.mean) < 5 * bound / std::sqrt(3 * n));
    REQUIRE(std::fabs(s.var - var) < 5 * std::sqrt(0.8 / n) * var);
}

}  // namespace

// ------------------------------------------------------------------ linear_forward

TEST_CASE("linear: a hand-worked 2x2 example with bias", "[points:2]") {
    // [1 2] . [[1 2] [3 4]] = [1+6, 2+8] = [7, 10]; + [10, 20] = [17, 30]
    Tensor w = Tensor::from({1, 2, 3, 4}, {2, 2});
    Tensor b = Tensor::from({10, 20}, {2});
    CAPTURE(w, b);
    grade::require_close(tt::linear(Tensor::from({1, 2}, {1, 2}), w, b), std::vector<float>{17, 30}, {1, 2});
    // a 1-D x is a single sample: [in] -> [out]
    grade::require_close(tt::linear(Tensor::from({1, 2}, {2}), w, b), std::vector<float>{17, 30}, {2});
}

TEST_CASE("linear without bias is x . W", "[points:1]") {
    Tensor w = Tensor::from({1, 2, 3, 4}, {2, 2});
    Tensor x = Tensor::from({1, 2, 3, 4}, {2, 2});
    CAPTURE(w, x);
    grade::require_close(tt::linear(x, w), std::vector<float>{7, 10, 15, 22}, {2, 2});
    // a non-square weight: [2, 3] . [3, 1]
    Tensor w2 = Tensor::from({1, -1, 2}, {3, 1});
    Tensor x2 = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
    CAPTURE(w2, x2);
    grade::require_close(tt::linear(x2, w2), std::vector<float>{5, 11}, {2, 1});
}

TEST_CASE("linear flattens any batch shape: (2 3 4) . (4 5) + (5)", "[points:2]") {
    std::vector<float> xv = grade::random_values(24, 301), wv = grade::random_values(20, 302),
                       bv = grade::random_values(5, 303);
    Tensor y = tt::linear(Tensor::from(xv, {2, 3, 4}), Tensor::from(wv, {4, 5}), Tensor::from(bv, {5}));
    grade::require_close(y, linear_ref(xv, wv, &bv, 6, 4, 5), {2, 3, 5}, 1e-5, 1e-5);

    // four leading dims
    std::vector<float> x4 = grade::random_values(2 * 1 * 3 * 2 * 4, 304);
    Tensor y4 = tt::linear(Tensor::from(x4, {2, 1, 3, 2, 4}), Tensor::from(wv, {4, 5}), Tensor::from(bv, {5}));
    grade::require_close(y4, linear_ref(x4, wv, &bv, 12, 4, 5), {2, 1, 3, 2, 5}, 1e-5, 1e-5);
}

TEST_CASE("linear matches a double computation on a larger random layer", "[points:1]") {
    std::vector<float> xv = grade::random_values(64 * 128, 305), wv = grade::random_values(128 * 32, 306),
                       bv = grade::random_values(32, 307);
    Tensor y = tt::linear(Tensor::from(xv, {64, 128}), Tensor::from(wv, {128, 32}), Tensor::from(bv, {32}));
    grade::require_close(y, linear_ref(xv, wv, &bv, 64, 128, 32), {64, 32}, 1e-4, 1e-4);
}

TEST_CASE("linear rejects mismatched shapes and leaves out NULL", "[points:2]") {
    Tensor x = Tensor::zeros({3, 4});
    Tensor w = Tensor::zeros({5, 2});
    grade::require_status(TT_SHAPE_MISMATCH, [&] { tt::linear(x, w); });           // in 4 vs 5
    grade::require_status(TT_SHAPE_MISMATCH, [&] { tt::linear(Tensor::zeros({5}), Tensor::zeros({4, 5})); });
    Tensor w_ok = Tensor::zeros({4, 2});
    grade::require_status(TT_SHAPE_MISMATCH, [&] { tt::linear(x, w_ok, Tensor::zeros({3})); });  // bias 3 vs 2

    tt_tensor* out = nullptr;
    tt_status st = tt::runtime().layers().linear_forward(x.raw(), w.raw(), nullptr, &out);
    CHECK(st == TT_SHAPE_MISMATCH);
    CHECK(out == nullptr);
}

TEST_CASE("linear on an empty batch gives an empty output", "[points:1]") {
    Tensor y = tt::linear(Tensor::zeros({0, 4}), Tensor::ones({4, 3}), Tensor::ones({3}));
    CHECK(y.shape() == Shape{0, 3});
    CHECK(y.numel() == 0);
}

TEST_CASE("linear leaves x and W and b unchanged", "[points:1]") {
    std::vector<float> xv = grade::random_values(6, 308), wv = grade::random_values(6, 309),
                       bv = grade::random_values(3, 310);
    Tensor x = Tensor::from(xv, {3, 2}), w = Tensor::from(wv, {2, 3}), b = Tensor::from(bv, {3});
    Tensor y = tt::linear(x, w, b);
    grade::require_close(x, xv, {3, 2}, 0, 0);
    grade::require_close(w, wv, {2, 3}, 0, 0);
    grade::require_close(b, bv, {3}, 0, 0);
    CHECK(y.shape() == Shape{3, 3});
}

// ------------------------------------------------------------------ linear_init

TEST_CASE("linear_init Kaiming-uniform: W and b in U(-1/sqrt(in) 1/sqrt(in)) with shapes (in out) and (out)",
          "[points:2]") {
    tt::runtime().seed(1234);
    InitResult r = raw_init(256, 200, TT_INIT_KAIMING_UNIFORM);
    CHECK(r.weight.shape() == Shape{256, 200});
    CHECK(r.bias.shape() == Shape{200});
    require_uniform(r.weight.to_vector(), 1.0 / std::sqrt(256.0));
    require_uniform(r.bias.to_vector(), 1.0 / std::sqrt(256.0));
}

TEST_CASE("linear_init Xavier-uniform: W bound sqrt(6/(in+out)) and bias bound 1/sqrt(in)", "[points:2]") {
    tt::runtime().seed(99);
    // W bound sqrt(6/400) = 0.1225, bias bound 1/sqrt(100) = 0.1: a bias drawn
    // with the weight's bound would exceed 0.1.
    InitResult r = raw_init(100, 300, TT_INIT_XAVIER_UNIFORM);
    CHECK(r.weight.shape() == Shape{100, 300});
    CHECK(r.bias.shape() == Shape{300});
    require_uniform(r.weight.to_vector(), std::sqrt(6.0 / 400.0));
    require_uniform(r.bias.to_vector(), 0.1);
}

TEST_CASE("linear_init zeros scheme gives all-zero W and b", "[points:1]") {
    InitResult r = raw_init(7, 3, TT_INIT_ZEROS);
    grade::require_close(r.weight, std::vector<float>(21, 0.0f), {7, 3}, 0, 0);
    grade::require_close(r.bias, std::vector<float>(3, 0.0f), {3}, 0, 0);
}

TEST_CASE("linear_init rejects an unknown scheme and empty sizes", "[points:1]") {
    (void)raw_init(4, 3, TT_INIT_ZEROS);  // a valid call must work first
    const tt_layers_api& api = tt::runtime().layers();
    tt_tensor* w = nullptr;
    tt_tensor* b = nullptr;
    CHECK(api.linear_init(4, 3, 7, &w, &b) == TT_INVALID_ARGUMENT);
    CHECK(w == nullptr);
    CHECK(b == nullptr);
    CHECK(api.linear_init(0, 3, TT_INIT_KAIMING_UNIFORM, &w, &b) == TT_INVALID_ARGUMENT);
    CHECK(api.linear_init(4, -1, TT_INIT_XAVIER_UNIFORM, &w, &b) == TT_INVALID_ARGUMENT);
    CHECK(w == nullptr);
    CHECK(b == nullptr);
}

TEST_CASE("linear_init is reproducible per seed and draws fresh values otherwise", "[points:2]") {
    tt::runtime().seed(42);
    InitResult a = raw_init(16, 8, TT_INIT_KAIMING_UNIFORM);
    InitResult a2 = raw_init(16, 8, TT_INIT_KAIMING_UNIFORM);  // RNG moved on
    tt::runtime().seed(42);
    InitResult b = raw_init(16, 8, TT_INIT_KAIMING_UNIFORM);
    tt::runtime().seed(43);
    InitResult c = raw_init(16, 8, TT_INIT_KAIMING_UNIFORM);

    grade::require_close(b.weight, a.weight, 0, 0);
    grade::require_close(b.bias, a.bias, 0, 0);
    CHECK(a.weight.to_vector() != a2.weight.to_vector());
    CHECK(a.weight.to_vector() != c.weight.to_vector());
    CHECK(a.bias.to_vector() != c.bias.to_vector());
}

TEST_CASE("nn::Linear builds (in out) and (out) parameters reproducibly", "[points:1]") {
    tt::runtime().seed(42);
    tt::nn::Linear l1(8, 4);
    tt::runtime().seed(42);
    tt::nn::Linear l2(8, 4);
    CHECK(l1.weight.shape() == Shape{8, 4});
    CHECK(l1.bias.shape() == Shape{4});
    grade::require_close(l2.weight, l1.weight, 0, 0);
    grade::require_close(l2.bias, l1.bias, 0, 0);

    // nn::Linear's parameters require grad, and running them through forward
    // would record a graph (module 05): use detached copies here.
    std::vector<float> xv = grade::random_values(5 * 8, 311);
    std::vector<float> wv = l1.weight.to_vector(), bv = l1.bias.to_vector();
    Tensor y = tt::linear(Tensor::from(xv, {5, 8}), l1.weight.detach(), l1.bias.detach());
    grade::require_close(y, linear_ref(xv, wv, &bv, 5, 8, 4), {5, 4}, 1e-5, 1e-5);
}

// ------------------------------------------------------------------ dropout_forward

TEST_CASE("dropout in eval mode is the identity with a mask of ones", "[points:1]") {
    std::vector<float> v = grade::random_values(30, 312);
    Tensor x = Tensor::from(v, {5, 6});
    DropoutResult r = raw_dropout(x, 0.5f, false);
    grade::require_close(r.out, v, {5, 6}, 0, 0);
    grade::require_close(r.mask, std::vector<float>(30, 1.0f), {5, 6}, 0, 0);
    grade::require_close(tt::dropout(x, 0.9f, false), v, {5, 6}, 0, 0);
}

TEST_CASE("dropout with p = 0 in training keeps everything", "[points:1]") {
    std::vector<float> v = grade::random_values(40, 313);
    Tensor x = Tensor::from(v, {40});
    DropoutResult r = raw_dropout(x, 0.0f, true);
    grade::require_close(r.out, v, {40}, 0, 0);
    grade::require_close(r.mask, std::vector<float>(40, 1.0f), {40}, 0, 0);
}

TEST_CASE("dropout with p = 1 in training drops everything", "[points:1]") {
    std::vector<float> v = grade::random_values(40, 314);
    Tensor x = Tensor::from(v, {4, 10});
    DropoutResult r = raw_dropout(x, 1.0f, true);
    grade::require_close(r.out, std::vector<float>(40, 0.0f), {4, 10}, 0, 0);
    grade::require_close(r.mask, std::vector<float>(40, 0.0f), {4, 10}, 0, 0);
}

TEST_CASE("dropout rejects p outside 0..1", "[points:1]") {
    Tensor x = Tensor::ones({3});
    grade::require_status(TT_INVALID_ARGUMENT, [&] { tt::dropout(x, -0.1f, true); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { tt::dropout(x, 1.5f, true); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { tt::dropout(x, std::nanf(""), true); });
}

TEST_CASE("dropout keeps about 1-p of the elements and scales them by 1/(1-p) preserving the mean",
          "[points:3]") {
    tt::runtime().seed(2024);
    const int64_t n = 100000;
    const float p = 0.3f;
    const double scale = 1.0 / (1.0 - p);
    DropoutResult r = raw_dropout(Tensor::ones({n}), p, true);
    REQUIRE(r.out.shape() == Shape{n});
    REQUIRE(r.mask.shape() == Shape{n});
    std::vector<float> out = r.out.to_vector(), mask = r.mask.to_vector();
    int64_t kept = 0;
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        bool zero = mask[i] == 0.0f;
        bool scaled = std::fabs(mask[i] - scale) < 1e-6 * scale;
        INFO("mask[" << i << "] = " << mask[i] << " must be 0 or 1/(1-p) = " << scale);
        REQUIRE((zero || scaled));
        REQUIRE(out[i] == mask[i]);  // x is all ones: out = x * mask
        kept += scaled ? 1 : 0;
        sum += out[i];
    }
    double keep_rate = static_cast<double>(kept) / n, mean = sum / n;
    INFO("kept " << keep_rate << " (expected 0.7), mean " << mean << " (expected 1)");
    CHECK(std::fabs(keep_rate - 0.7) < 0.01);
    CHECK(std::fabs(mean - 1.0) < 0.02);
}

TEST_CASE("dropout output is x times mask element by element", "[points:1]") {
    tt::runtime().seed(5);
    std::vector<float> v = grade::random_values(2 * 3 * 50, 315, -2.0f, 2.0f);
    Tensor x = Tensor::from(v, {2, 3, 50});
    DropoutResult r = raw_dropout(x, 0.5f, true);
    REQUIRE(r.out.shape() == Shape{2, 3, 50});
    REQUIRE(r.mask.shape() == Shape{2, 3, 50});
    std::vector<float> out = r.out.to_vector(), mask = r.mask.to_vector();
    int dropped = 0;
    for (size_t i = 0; i < v.size(); ++i) {
        INFO("element " << i << ": x " << v[i] << ", mask " << mask[i] << ", out " << out[i]);
        REQUIRE((mask[i] == 0.0f || mask[i] == 2.0f));
        REQUIRE(std::fabs(out[i] - v[i] * mask[i]) <= 1e-6f);
        dropped += mask[i] == 0.0f;
    }
    CHECK(dropped > 100);  // about 150 of 300
    CHECK(dropped < 200);
    grade::require_close(x, v, {2, 3, 50}, 0, 0);  // input untouched
}

TEST_CASE("dropout masks are reproducible per seed and differ call to call", "[points:1]") {
    Tensor x = Tensor::ones({500});
    tt::runtime().seed(7);
    std::vector<float> m1 = raw_dropout(x, 0.5f, true).mask.to_vector();
    std::vector<float> m1b = raw_dropout(x, 0.5f, true).mask.to_vector();
    tt::runtime().seed(7);
    std::vector<float> m2 = raw_dropout(x, 0.5f, true).mask.to_vector();
    CHECK(m1 == m2);
    CHECK(m1 != m1b);
}
