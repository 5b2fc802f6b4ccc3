// Grading suite for module 01 Tensor: creation and release, reshape, transpose,
// element-wise ops with broadcasting, matmul, reductions.
// Expected values are worked by hand or computed here in double (index math
// written independently of any implementation), never copied from one.
#include "common/grading.hpp"

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "tinytorch/runtime.hpp"

namespace {

using tt::Shape;
using tt::Tensor;

const tt_tensor_api& api() { return tt::runtime().tensor(); }

int64_t numel_of(const Shape& s) {
    int64_t n = 1;
    for (int64_t v : s) n *= v;
    return n;
}

// Require f to fail with `status` and its message to mention every one of `words`.
void require_error(tt_status status, const std::function<void()>& f, const std::vector<std::string>& words) {
    try {
        f();
    } catch (const tt::Error& e) {
        INFO("the call failed with: " << e.what());
        REQUIRE(std::string(tt::status_name(e.status())) == tt::status_name(status));
        for (const std::string& w : words) {
            INFO("the message should mention \"" << w << "\"");
            CHECK(e.message().find(w) != std::string::npos);
        }
        return;
    }
    FAIL("expected the call to fail with " << tt::status_name(status) << ", but it succeeded");
}

// Row-major index helpers, written out on the test side.
std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
    std::vector<int64_t> idx(shape.size());
    for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
        idx[d] = flat % shape[d];
        flat /= shape[d];
    }
    return idx;
}

int64_t ravel(const std::vector<int64_t>& idx, const Shape& shape) {
    int64_t flat = 0;
    for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + idx[d];
    return flat;
}

// NumPy broadcasting of two shapes, on the test side.
Shape broadcast_shape(const Shape& a, const Shape& b) {
    size_t nd = std::max(a.size(), b.size());
    Shape out(nd);
    for (size_t i = 0; i < nd; ++i) {
        int64_t sa = i < a.size() ? a[a.size() - 1 - i] : 1;
        int64_t sb = i < b.size() ? b[b.size() - 1 - i] : 1;
        out[nd - 1 - i] = sa == 1 ? sb : sa;
    }
    return out;
}

// Element of x (shape xs) that output index `idx` (shape of rank >= xs) reads.
double read_broadcast(const std::vector<float>& x, const Shape& xs, const std::vector<int64_t>& idx) {
    std::vector<int64_t> own(xs.size());
    size_t off = idx.size() - xs.size();
    for (size_t d = 0; d < xs.size(); ++d) own[d] = xs[d] == 1 ? 0 : idx[off + d];
    return x[static_cast<size_t>(ravel(own, xs))];
}

std::vector<double> broadcast_ref(const std::vector<float>& a, const Shape& as, const std::vector<float>& b,
                                  const Shape& bs, const std::function<double(double, double)>& op) {
    Shape os = broadcast_shape(as, bs);
    std::vector<double> out(static_cast<size_t>(numel_of(os)));
    for (int64_t i = 0; i < numel_of(os); ++i) {
        auto idx = unravel(i, os);
        out[static_cast<size_t>(i)] = op(read_broadcast(a, as, idx), read_broadcast(b, bs, idx));
    }
    return out;
}

// Batched matmul with broadcast batch axes: a triple loop in double.
std::vector<double> matmul_ref(const std::vector<float>& a, const Shape& as, const std::vector<float>& b,
                               const Shape& bs, Shape* out_shape) {
    Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
    int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
    Shape batch = broadcast_shape(ab, bb);
    *out_shape = batch;
    out_shape->push_back(M);
    out_shape->push_back(N);
    std::vector<double> out(static_cast<size_t>(numel_of(*out_shape)));
    for (int64_t e = 0; e < numel_of(batch); ++e) {
        auto idx = unravel(e, batch);
        auto pick = [&](const Shape& own) {
            std::vector<int64_t> i(own.size());
            size_t off = idx.size() - own.size();
            for (size_t d = 0; d < own.size(); ++d) i[d] = own[d] == 1 ? 0 : idx[off + d];
            return ravel(i, own);
        };
        const float* A = a.data() + pick(ab) * M * K;
        const float* B = b.data() + pick(bb) * K * N;
        for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) {
                double s = 0;
                for (int64_t k = 0; k < K; ++k) s += static_cast<double>(A[i * K + k]) * B[k * N + j];
                out[static_cast<size_t>((e * M + i) * N + j)] = s;
            }
    }
    return out;
}

// Reduce x [outer, n, inner] along the middle, in double.
std::vector<double> reduce_ref(const std::vector<float>& x, const Shape& s, int axis,
                               const std::function<double(const std::vector<double>&)>& f) {
    int nd = static_cast<int>(s.size());
    if (axis < 0) axis += nd;
    int64_t outer = 1, inner = 1, n = s[axis];
    for (int d = 0; d < axis; ++d) outer *= s[d];
    for (int d = axis + 1; d < nd; ++d) inner *= s[d];
    std::vector<double> out;
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
            std::vector<double> v;
            for (int64_t j = 0; j < n; ++j) v.push_back(x[static_cast<size_t>((o * n + j) * inner + i)]);
            out.push_back(f(v));
        }
    return out;
}

Shape drop_axis(Shape s, int axis, bool keepdims) {
    if (axis < 0) axis += static_cast<int>(s.size());
    if (keepdims) s[axis] = 1;
    else s.erase(s.begin() + axis);
    return s;
}

double vsum(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s;
}
double vmean(const std::vector<double>& v) { return vsum(v) / static_cast<double>(v.size()); }
double vmax(const std::vector<double>& v) {
    double m = v[0];
    for (double x : v) m = std::max(m, x);
    return m;
}
double vargmax(const std::vector<double>& v) {
    size_t best = 0;
    for (size_t i = 1; i < v.size(); ++i)
        if (v[i] > v[best]) best = i;
    return static_cast<double>(best);
}

}  // namespace

// ------------------------------------------------------------------ creation and release

TEST_CASE("create gives a zero-filled tensor with shape, ndim and numel set", "[points:2]") {
    const int64_t shape[3] = {2, 3, 4};
    tt_tensor* t = nullptr;
    grade::require_ok(api().create(shape, 3, &t), "create");
    REQUIRE(t != nullptr);
    Tensor owner = Tensor::adopt(t);
    CHECK(t->ndim == 3);
    CHECK(t->shape[0] == 2);
    CHECK(t->shape[1] == 3);
    CHECK(t->shape[2] == 4);
    CHECK(t->numel == 24);
    CHECK(t->requires_grad == 0);
    CHECK(t->grad == nullptr);
    CHECK(t->grad_fn == nullptr);
    REQUIRE(t->data != nullptr);
    for (int64_t i = 0; i < 24; ++i) REQUIRE(t->data[i] == 0.0f);
    // every element is writable
    for (int64_t i = 0; i < 24; ++i) t->data[i] = static_cast<float>(i);
    CHECK(owner.at({1, 2, 3}) == 23.0f);
}

TEST_CASE("create handles scalars and empty tensors, and rejects bad shapes", "[points:2]") {
    Tensor s = Tensor::zeros({});
    CHECK(s.ndim() == 0);
    CHECK(s.numel() == 1);
    CHECK(s.item() == 0.0f);

    Tensor e = Tensor::zeros({0, 3});
    CHECK(e.shape() == Shape{0, 3});
    CHECK(e.numel() == 0);

    const int64_t bad[2] = {2, -1};
    tt_tensor* t = reinterpret_cast<tt_tensor*>(0x1);
    CHECK(api().create(bad, 2, &t) == TT_INVALID_ARGUMENT);
    CHECK(t == nullptr);  // *out is NULL after an error
    const int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    t = nullptr;
    CHECK(api().create(nine, 9, &t) == TT_INVALID_ARGUMENT);
    CHECK(t == nullptr);
    CHECK(api().create(nine, -1, &t) == TT_INVALID_ARGUMENT);
    CHECK(api().create(nine, 2, nullptr) == TT_INVALID_ARGUMENT);
}

TEST_CASE("empty gives a tensor of the right shape whose every element can be written", "[points:1]") {
    // empty promises no values, only the shape, the autograd fields and
    // numel writable floats (at least one, so data is never NULL).
    const int64_t shape[2] = {3, 5};
    tt_tensor* t = nullptr;
    grade::require_ok(api().empty(shape, 2, &t), "empty");
    REQUIRE(t != nullptr);
    Tensor owner = Tensor::adopt(t);
    CHECK(t->ndim == 2);
    CHECK(t->shape[0] == 3);
    CHECK(t->shape[1] == 5);
    CHECK(t->numel == 15);
    CHECK(t->requires_grad == 0);
    CHECK(t->grad == nullptr);
    CHECK(t->grad_fn == nullptr);
    REQUIRE(t->data != nullptr);
    for (int64_t i = 0; i < 15; ++i) t->data[i] = static_cast<float>(i);
    CHECK(owner.at({2, 4}) == 14.0f);

    tt_tensor* s = nullptr;
    grade::require_ok(api().empty(nullptr, 0, &s), "empty of a scalar");
    Tensor scalar = Tensor::adopt(s);
    CHECK(s->ndim == 0);
    CHECK(s->numel == 1);
    REQUIRE(s->data != nullptr);

    const int64_t bad[2] = {4, -2};
    tt_tensor* e = reinterpret_cast<tt_tensor*>(0x1);
    CHECK(api().empty(bad, 2, &e) == TT_INVALID_ARGUMENT);
    CHECK(e == nullptr);
    CHECK(api().empty(shape, 2, nullptr) == TT_INVALID_ARGUMENT);
}

TEST_CASE("from_data copies the values; copy is deep and carries no grad", "[points:2]") {
    std::vector<float> v = {1, 2, 3, 4, 5, 6};
    Tensor t = Tensor::from(v, {2, 3});
    v[0] = 100.0f;  // the tensor owns its own copy
    grade::require_close(t, std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3}, 0, 0);

    // a copy of a tensor with requires_grad and a grad
    tt_tensor* g = nullptr;
    const int64_t shape[2] = {2, 3};
    grade::require_ok(api().create(shape, 2, &g), "create");
    t.raw()->requires_grad = 1;
    t.raw()->grad = g;  // owned by t from now on: t's free releases it
    tt_tensor* c = nullptr;
    grade::require_ok(api().copy(t.raw(), &c), "copy");
    Tensor cp = Tensor::adopt(c);
    CHECK(c != t.raw());
    CHECK(c->data != t.raw()->data);
    CHECK(c->requires_grad == 0);
    CHECK(c->grad == nullptr);
    CHECK(c->grad_fn == nullptr);
    grade::require_close(cp, std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3}, 0, 0);
    cp.data()[0] = -1.0f;
    CHECK(t.at({0, 0}) == 1.0f);
}

TEST_CASE("free accepts NULL and releases a tensor with a grad chain", "[points:1]") {
    grade::require_ok(api().free(nullptr), "free");
    const int64_t shape[1] = {4};
    tt_tensor *t = nullptr, *g = nullptr, *gg = nullptr;
    grade::require_ok(api().create(shape, 1, &t), "create");
    grade::require_ok(api().create(shape, 1, &g), "create");
    grade::require_ok(api().create(shape, 1, &gg), "create");
    g->grad = gg;
    t->grad = g;
    // frees t, g and gg (a leak checker would flag anything left behind)
    grade::require_ok(api().free(t), "free");
}

// ------------------------------------------------------------------ reshape and transpose

TEST_CASE("reshape keeps the element order and infers one -1", "[points:2]") {
    std::vector<float> v(24);
    for (int i = 0; i < 24; ++i) v[i] = static_cast<float>(i);
    Tensor t = Tensor::from(v, {2, 3, 4});
    grade::require_close(t.reshape({6, 4}), v, {6, 4}, 0, 0);
    grade::require_close(t.reshape({-1, 4}), v, {6, 4}, 0, 0);
    grade::require_close(t.reshape({2, -1, 2}), v, {2, 6, 2}, 0, 0);
    grade::require_close(t.reshape({-1}), v, {24}, 0, 0);
    grade::require_close(t.reshape({1, 24, 1}), v, {1, 24, 1}, 0, 0);
    grade::require_close(Tensor::scalar(5.0f).reshape({1, 1}), std::vector<float>{5}, {1, 1}, 0, 0);
    grade::require_close(Tensor::from({7.0f}, {1, 1}).reshape({}), std::vector<float>{7}, {}, 0, 0);
    // the input is untouched and the result is a new tensor
    Tensor r = t.reshape({4, 6});
    CHECK(r.data() != t.data());
    CHECK(t.shape() == Shape{2, 3, 4});
}

TEST_CASE("reshape errors name both element counts", "[points:2]") {
    Tensor t = Tensor::zeros({2, 3});
    require_error(TT_SHAPE_MISMATCH, [&] { t.reshape({4, 2}); }, {"6", "8"});
    require_error(TT_SHAPE_MISMATCH, [&] { t.reshape({4, -1}); }, {"6", "4"});
    grade::require_status(TT_INVALID_ARGUMENT, [&] { t.reshape({-1, -1}); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { t.reshape({-2, -3}); });
}

TEST_CASE("transpose of a matrix swaps rows and columns", "[points:1]") {
    Tensor t = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
    CAPTURE(t);
    grade::require_close(t.transpose(0, 1), std::vector<float>{1, 4, 2, 5, 3, 6}, {3, 2}, 0, 0);
    grade::require_close(t.transpose(), std::vector<float>{1, 4, 2, 5, 3, 6}, {3, 2}, 0, 0);
    grade::require_close(t.transpose(1, 1), std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3}, 0, 0);
}

TEST_CASE("transpose swaps any two axes of a 4-D tensor, negative axes too", "[points:2]") {
    Shape s = {2, 3, 4, 5};
    std::vector<float> v = grade::random_values(120, 101);
    Tensor t = Tensor::from(v, s);
    const int pairs[][2] = {{0, 1}, {0, 3}, {1, 2}, {2, 3}, {-1, 0}, {-3, -2}, {3, 1}};
    for (const auto& p : pairs) {
        int d0 = p[0] < 0 ? p[0] + 4 : p[0], d1 = p[1] < 0 ? p[1] + 4 : p[1];
        Shape os = s;
        std::swap(os[d0], os[d1]);
        std::vector<double> expected(120);
        for (int64_t i = 0; i < 120; ++i) {
            auto idx = unravel(i, os);
            std::swap(idx[d0], idx[d1]);
            expected[static_cast<size_t>(i)] = v[static_cast<size_t>(ravel(idx, s))];
        }
        INFO("transpose(" << p[0] << ", " << p[1] << ")");
        grade::require_close(t.transpose(p[0], p[1]), expected, os, 0, 0);
    }
    grade::require_status(TT_INVALID_ARGUMENT, [&] { t.transpose(0, 4); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { t.transpose(-5, 1); });
}

// ------------------------------------------------------------------ element-wise

TEST_CASE("add, sub, mul, div of same-shape tensors", "[points:1]") {
    Tensor a = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
    Tensor b = Tensor::from({6, 5, 4, 3, 2, 1}, {2, 3});
    CAPTURE(a, b);
    grade::require_close(a + b, std::vector<float>{7, 7, 7, 7, 7, 7}, {2, 3}, 0, 0);
    grade::require_close(a - b, std::vector<float>{-5, -3, -1, 1, 3, 5}, {2, 3}, 0, 0);
    grade::require_close(a * b, std::vector<float>{6, 10, 12, 12, 10, 6}, {2, 3}, 0, 0);
    grade::require_close(a / b, std::vector<double>{1.0 / 6, 2.0 / 5, 3.0 / 4, 4.0 / 3, 5.0 / 2, 6.0}, {2, 3},
                         1e-7, 1e-6);
}

TEST_CASE("broadcasting a column [3, 1] against a row [1, 4] gives [3, 4]", "[points:2]") {
    Tensor col = Tensor::from({1, 2, 3}, {3, 1});
    Tensor row = Tensor::from({10, 20, 30, 40}, {1, 4});
    CAPTURE(col, row);
    grade::require_close(col + row, std::vector<float>{11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43}, {3, 4},
                         0, 0);
    grade::require_close(row - col, std::vector<float>{9, 19, 29, 39, 8, 18, 28, 38, 7, 17, 27, 37}, {3, 4}, 0,
                         0);
    // a 1-D row [4] (missing leading axis) broadcasts the same way
    Tensor row1 = Tensor::from({10, 20, 30, 40}, {4});
    CAPTURE(row1);
    grade::require_close(col * row1, std::vector<float>{10, 20, 30, 40, 20, 40, 60, 80, 30, 60, 90, 120}, {3, 4},
                         0, 0);
}

TEST_CASE("a scalar tensor broadcasts against a matrix, on either side", "[points:1]") {
    Tensor m = Tensor::from({1, 2, 3, 4}, {2, 2});
    CAPTURE(m);
    Tensor s = Tensor::scalar(10.0f);
    grade::require_close(m + s, std::vector<float>{11, 12, 13, 14}, {2, 2}, 0, 0);
    grade::require_close(s - m, std::vector<float>{9, 8, 7, 6}, {2, 2}, 0, 0);
    grade::require_close(s / m, std::vector<double>{10, 5, 10.0 / 3, 2.5}, {2, 2}, 1e-6, 1e-6);
    // a one-element tensor of higher rank raises the result's rank
    Tensor one = Tensor::from({2.0f}, {1, 1, 1});
    CAPTURE(one);
    grade::require_close(m * one, std::vector<float>{2, 4, 6, 8}, {1, 2, 2}, 0, 0);
}

TEST_CASE("broadcasting [2, 3, 4] with [4], [3, 1] and [2, 1, 4]", "[points:3]") {
    Shape s = {2, 3, 4};
    std::vector<float> av = grade::random_values(24, 111);
    Tensor a = Tensor::from(av, s);
    const Shape others[] = {{4}, {3, 1}, {2, 1, 4}, {1, 3, 1}, {2, 3, 4}, {1}};
    for (const Shape& bs : others) {
        std::vector<float> bv = grade::random_values(static_cast<size_t>(numel_of(bs)), 112, 0.5f, 2.0f);
        Tensor b = Tensor::from(bv, bs);
        INFO("a " << tt::shape_str(s) << " with b " << tt::shape_str(bs));
        grade::require_close(a + b, broadcast_ref(av, s, bv, bs, [](double x, double y) { return x + y; }), s,
                             1e-6, 1e-6);
        grade::require_close(b - a, broadcast_ref(bv, bs, av, s, [](double x, double y) { return x - y; }), s,
                             1e-6, 1e-6);
        grade::require_close(a * b, broadcast_ref(av, s, bv, bs, [](double x, double y) { return x * y; }), s,
                             1e-6, 1e-6);
        grade::require_close(a / b, broadcast_ref(av, s, bv, bs, [](double x, double y) { return x / y; }), s,
                             1e-6, 1e-6);
    }
    // [2, 1, 4] - [3, 1]: both sides stretch
    std::vector<float> p = grade::random_values(8, 113), q = grade::random_values(3, 114);
    grade::require_close(Tensor::from(p, {2, 1, 4}) - Tensor::from(q, {3, 1}),
                         broadcast_ref(p, {2, 1, 4}, q, {3, 1}, [](double x, double y) { return x - y; }),
                         {2, 3, 4}, 1e-6, 1e-6);
}

TEST_CASE("incompatible shapes fail with SHAPE_MISMATCH naming both shapes", "[points:2]") {
    Tensor a = Tensor::zeros({2, 3});
    Tensor b = Tensor::zeros({4});
    require_error(TT_SHAPE_MISMATCH, [&] { a + b; }, {"[2, 3]", "[4]"});
    require_error(TT_SHAPE_MISMATCH, [&] { Tensor::zeros({2, 3, 4}) * Tensor::zeros({3, 3, 4}); },
                  {"[2, 3, 4]", "[3, 3, 4]"});
    grade::require_status(TT_SHAPE_MISMATCH, [&] { Tensor::zeros({3, 2}) - Tensor::zeros({2, 1, 3}); });
    grade::require_status(TT_SHAPE_MISMATCH, [&] { Tensor::zeros({0}) / Tensor::zeros({2}); });
    // the raw call leaves *out NULL
    tt_tensor* out = reinterpret_cast<tt_tensor*>(0x1);
    CHECK(api().add(a.raw(), b.raw(), &out) == TT_SHAPE_MISMATCH);
    CHECK(out == nullptr);
}

TEST_CASE("element-wise ops on empty tensors and size-0 broadcasts", "[points:1]") {
    CHECK((Tensor::zeros({0, 3}) + Tensor::zeros({3})).shape() == Shape{0, 3});
    CHECK((Tensor::zeros({0, 3}) * Tensor::zeros({1, 1})).shape() == Shape{0, 3});
    CHECK((Tensor::zeros({2, 0}) - Tensor::zeros({2, 1})).shape() == Shape{2, 0});
    CHECK((Tensor::zeros({0}) + 1.0f).shape() == Shape{0});
}

TEST_CASE("division by zero follows IEEE 754", "[points:1]") {
    Tensor a = Tensor::from({1, -1, 0}, {3});
    CAPTURE(a);
    Tensor z = Tensor::zeros({3});
    std::vector<float> q = (a / z).to_vector();
    CHECK(std::isinf(q[0]));
    CHECK(q[0] > 0);
    CHECK(std::isinf(q[1]));
    CHECK(q[1] < 0);
    CHECK(std::isnan(q[2]));
    std::vector<float> r = (a / 0.0f).to_vector();
    CHECK((std::isinf(r[0]) && r[0] > 0));
    CHECK(std::isnan(r[2]));
}

TEST_CASE("scalar forms add, subtract, multiply and divide every element", "[points:1]") {
    Tensor a = Tensor::from({1, 2, 3, 4}, {2, 2});
    CAPTURE(a);
    grade::require_close(a + 1.5f, std::vector<float>{2.5f, 3.5f, 4.5f, 5.5f}, {2, 2}, 0, 0);
    grade::require_close(a - 1.0f, std::vector<float>{0, 1, 2, 3}, {2, 2}, 0, 0);
    grade::require_close(a * -2.0f, std::vector<float>{-2, -4, -6, -8}, {2, 2}, 0, 0);
    grade::require_close(a / 4.0f, std::vector<float>{0.25f, 0.5f, 0.75f, 1.0f}, {2, 2}, 0, 0);
    grade::require_close(Tensor::scalar(3.0f) * 2.0f, std::vector<float>{6}, {}, 0, 0);
    // the raw table too
    tt_tensor* out = nullptr;
    grade::require_ok(api().sub_scalar(a.raw(), 0.5f, &out), "sub_scalar");
    grade::require_close(Tensor::adopt(out), std::vector<float>{0.5f, 1.5f, 2.5f, 3.5f}, {2, 2}, 0, 0);
}

TEST_CASE("element-wise ops leave their inputs unchanged and return new tensors", "[points:1]") {
    std::vector<float> av = grade::random_values(6, 121), bv = grade::random_values(3, 122, 1.0f, 2.0f);
    Tensor a = Tensor::from(av, {2, 3});
    Tensor b = Tensor::from(bv, {3});
    std::vector<Tensor> outs = {a + b, a - b, a * b, a / b, a + 1.0f, a * 3.0f};
    grade::require_close(a, av, {2, 3}, 0, 0);
    grade::require_close(b, bv, {3}, 0, 0);
    for (const Tensor& y : outs) {
        CHECK(y.raw() != a.raw());
        CHECK(y.data() != a.data());
        CHECK(y.data() != b.data());
    }
}

TEST_CASE("seeded random shapes up to 6-D broadcast like NumPy", "[points:3]") {
    // splitmix-style integers on the test side
    uint64_t state = 0x5EED;
    auto next = [&](uint64_t n) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return (state >> 33) % n;
    };
    for (int trial = 0; trial < 40; ++trial) {
        size_t nd = 1 + next(6);
        Shape out(nd);
        for (auto& s : out) s = 1 + static_cast<int64_t>(next(4));
        // each side: drop some leading axes, set some axes to 1
        auto derive = [&](const Shape& full) {
            Shape s(full.begin() + static_cast<long>(next(full.size())), full.end());
            for (auto& v : s)
                if (next(3) == 0) v = 1;
            return s;
        };
        Shape as = derive(out), bs = derive(out);
        std::vector<float> av = grade::random_values(static_cast<size_t>(numel_of(as)), 200 + trial);
        std::vector<float> bv = grade::random_values(static_cast<size_t>(numel_of(bs)), 300 + trial);
        INFO("a " << tt::shape_str(as) << " with b " << tt::shape_str(bs));
        Shape os = broadcast_shape(as, bs);
        grade::require_close(Tensor::from(av, as) * Tensor::from(bv, bs),
                             broadcast_ref(av, as, bv, bs, [](double x, double y) { return x * y; }), os, 1e-6,
                             1e-6);
        grade::require_close(Tensor::from(av, as) - Tensor::from(bv, bs),
                             broadcast_ref(av, as, bv, bs, [](double x, double y) { return x - y; }), os, 1e-6,
                             1e-6);
    }
}

// ------------------------------------------------------------------ matmul

TEST_CASE("matmul of two matrices, worked by hand", "[points:2]") {
    Tensor a = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
    Tensor b = Tensor::from({7, 8, 9, 10, 11, 12}, {3, 2});
    CAPTURE(a, b);
    // [1 2 3] . [7 9 11] = 58, [1 2 3] . [8 10 12] = 64, [4 5 6] -> 139, 154
    grade::require_close(a.matmul(b), std::vector<float>{58, 64, 139, 154}, {2, 2}, 0, 0);
    grade::require_close(tt::matmul(b, a), std::vector<float>{39, 54, 69, 49, 68, 87, 59, 82, 105}, {3, 3}, 0, 0);
    // a row times a column and a column times a row
    Tensor r = Tensor::from({1, 2, 3}, {1, 3}), c = Tensor::from({4, 5, 6}, {3, 1});
    CAPTURE(r, c);
    grade::require_close(r.matmul(c), std::vector<float>{32}, {1, 1}, 0, 0);
    grade::require_close(c.matmul(r), std::vector<float>{4, 8, 12, 5, 10, 15, 6, 12, 18}, {3, 3}, 0, 0);
}

TEST_CASE("batched matmul matches a triple loop in double", "[points:2]") {
    Shape as = {3, 4, 5}, bs = {3, 5, 6};
    std::vector<float> av = grade::random_values(60, 401), bv = grade::random_values(90, 402);
    Shape os;
    std::vector<double> expected = matmul_ref(av, as, bv, bs, &os);
    REQUIRE(os == Shape{3, 4, 6});
    grade::require_close(Tensor::from(av, as).matmul(Tensor::from(bv, bs)), expected, os, 1e-5, 1e-5);
}

TEST_CASE("matmul broadcasts the batch axes", "[points:3]") {
    const std::pair<Shape, Shape> cases[] = {
        {{4, 3, 5}, {5, 2}},           // one matrix b for every batch entry
        {{3, 5}, {4, 5, 2}},           // one matrix a for every batch entry
        {{2, 1, 3, 4}, {5, 4, 2}},     // [2, 1] with [5] -> [2, 5]
        {{1, 2, 3, 4}, {3, 1, 4, 6}},  // both sides stretch
    };
    uint64_t seed = 410;
    for (const auto& [as, bs] : cases) {
        std::vector<float> av = grade::random_values(static_cast<size_t>(numel_of(as)), ++seed);
        std::vector<float> bv = grade::random_values(static_cast<size_t>(numel_of(bs)), ++seed);
        Shape os;
        std::vector<double> expected = matmul_ref(av, as, bv, bs, &os);
        INFO("a " << tt::shape_str(as) << " @ b " << tt::shape_str(bs));
        grade::require_close(Tensor::from(av, as).matmul(Tensor::from(bv, bs)), expected, os, 1e-5, 1e-5);
    }
}

TEST_CASE("matmul of larger random matrices is accurate", "[points:1]") {
    Shape as = {33, 70}, bs = {70, 47};
    std::vector<float> av = grade::random_values(33 * 70, 421), bv = grade::random_values(70 * 47, 422);
    Shape os;
    std::vector<double> expected = matmul_ref(av, as, bv, bs, &os);
    grade::require_close(Tensor::from(av, as).matmul(Tensor::from(bv, bs)), expected, os, 1e-4, 1e-4);
}

TEST_CASE("matmul errors: K mismatch names both sizes, fewer than 2 dims, batch mismatch", "[points:2]") {
    Tensor a = Tensor::zeros({2, 3});
    Tensor b = Tensor::zeros({4, 5});
    require_error(TT_SHAPE_MISMATCH, [&] { a.matmul(b); }, {"3", "4"});
    Tensor v = Tensor::zeros({3});
    grade::require_status(TT_SHAPE_MISMATCH, [&] { v.matmul(Tensor::zeros({3, 2})); });
    grade::require_status(TT_SHAPE_MISMATCH, [&] { Tensor::zeros({2, 3}).matmul(v); });
    grade::require_status(TT_SHAPE_MISMATCH, [&] { Tensor::scalar(1.0f).matmul(Tensor::scalar(1.0f)); });
    grade::require_status(TT_SHAPE_MISMATCH,
                          [&] { Tensor::zeros({2, 3, 4}).matmul(Tensor::zeros({3, 4, 5})); });
    tt_tensor* out = reinterpret_cast<tt_tensor*>(0x1);
    CHECK(api().matmul(a.raw(), b.raw(), &out) == TT_SHAPE_MISMATCH);
    CHECK(out == nullptr);
}

TEST_CASE("matmul with an empty inner size gives zeros; empty outer sizes give empty results", "[points:1]") {
    grade::require_close(Tensor::zeros({2, 0}).matmul(Tensor::zeros({0, 3})), std::vector<float>(6, 0.0f),
                         {2, 3}, 0, 0);
    CHECK(Tensor::zeros({0, 4}).matmul(Tensor::ones({4, 3})).shape() == Shape{0, 3});
    CHECK(Tensor::zeros({0, 2, 4}).matmul(Tensor::ones({4, 3})).shape() == Shape{0, 2, 3});
}

// ------------------------------------------------------------------ reductions

TEST_CASE("sum and mean over everything: scalar, or all ones with keepdims", "[points:2]") {
    Tensor t = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
    CAPTURE(t);
    grade::require_close(t.sum(), std::vector<float>{21}, {}, 0, 0);
    grade::require_close(t.mean(), std::vector<float>{3.5f}, {}, 0, 0);
    grade::require_close(t.sum(TT_AXIS_ALL, true), std::vector<float>{21}, {1, 1}, 0, 0);
    grade::require_close(t.mean(TT_AXIS_ALL, true), std::vector<float>{3.5f}, {1, 1}, 0, 0);
    grade::require_close(Tensor::scalar(4.0f).sum(), std::vector<float>{4}, {}, 0, 0);
    // long sums keep their precision: 100000 x 0.1
    Tensor many = Tensor::full({100000}, 0.1f);
    grade::require_close(many.sum(), std::vector<double>{100000 * static_cast<double>(0.1f)}, {}, 0, 1e-5);
    grade::require_close(many.mean(), std::vector<double>{static_cast<double>(0.1f)}, {}, 0, 1e-5);
}

TEST_CASE("sum and mean along each axis of a 3-D tensor, negative axes and keepdims", "[points:3]") {
    Shape s = {3, 4, 5};
    std::vector<float> v = grade::random_values(60, 501);
    Tensor t = Tensor::from(v, s);
    for (int axis : {0, 1, 2, -1, -2, -3}) {
        for (bool keep : {false, true}) {
            INFO("axis " << axis << ", keepdims " << keep);
            grade::require_close(t.sum(axis, keep), reduce_ref(v, s, axis, vsum), drop_axis(s, axis, keep), 1e-5,
                                 1e-5);
            grade::require_close(t.mean(axis, keep), reduce_ref(v, s, axis, vmean), drop_axis(s, axis, keep),
                                 1e-6, 1e-5);
        }
    }
}

TEST_CASE("sum and mean along a long axis keep their precision, whatever the layout", "[points:1]") {
    // 3 rows of 100000 equal values: a float accumulator drifts by about 1e-3
    // relative over that many additions; the header asks for the exact sum
    // to float precision. The axis is reduced once as the last axis (each sum
    // over a contiguous row) and once as the first (element-wise over rows).
    const int64_t n = 100000;
    const std::vector<float> c = {0.1f, 0.3f, 0.7f};
    std::vector<float> rows, cols;
    for (float v : c) rows.insert(rows.end(), static_cast<size_t>(n), v);
    for (int64_t i = 0; i < n; ++i) cols.insert(cols.end(), c.begin(), c.end());
    std::vector<double> sums, means;
    for (float v : c) {
        sums.push_back(static_cast<double>(n) * v);
        means.push_back(v);
    }
    Tensor by_row = Tensor::from(rows, {3, n});
    Tensor by_col = Tensor::from(cols, {n, 3});
    grade::require_close(by_row.sum(1), sums, {3}, 0, 1e-5);
    grade::require_close(by_row.mean(-1, true), means, {3, 1}, 0, 1e-5);
    grade::require_close(by_col.sum(0), sums, {3}, 0, 1e-5);
    grade::require_close(by_col.mean(0, true), means, {1, 3}, 0, 1e-5);
}

TEST_CASE("max along each axis, with negative values, and over everything", "[points:2]") {
    Shape s = {4, 3, 2};
    std::vector<float> v = grade::random_values(24, 511, -10.0f, -1.0f);  // all negative
    Tensor t = Tensor::from(v, s);
    for (int axis : {0, 1, 2, -1}) {
        for (bool keep : {false, true}) {
            INFO("axis " << axis << ", keepdims " << keep);
            grade::require_close(t.max(axis, keep), reduce_ref(v, s, axis, vmax), drop_axis(s, axis, keep), 0, 0);
        }
    }
    std::vector<double> all(v.begin(), v.end());
    grade::require_close(t.max(), std::vector<double>{vmax(all)}, {}, 0, 0);
    grade::require_close(t.max(TT_AXIS_ALL, true), std::vector<double>{vmax(all)}, {1, 1, 1}, 0, 0);
    grade::require_close(Tensor::from({-INFINITY, -INFINITY}, {2}).max(), std::vector<double>{-INFINITY}, {}, 0,
                         0);
}

TEST_CASE("argmax returns the first maximum's index (flat for all axes)", "[points:2]") {
    // ties: the first one wins
    Tensor t = Tensor::from({1, 3, 3, 0, 5, 2, 5, 5}, {2, 4});
    CAPTURE(t);
    grade::require_close(t.argmax(1), std::vector<float>{1, 0}, {2}, 0, 0);
    grade::require_close(t.argmax(-1, true), std::vector<float>{1, 0}, {2, 1}, 0, 0);
    grade::require_close(t.argmax(0), std::vector<float>{1, 0, 1, 1}, {4}, 0, 0);
    grade::require_close(t.argmax(), std::vector<float>{4}, {}, 0, 0);  // flat index of the first 5
    grade::require_close(t.argmax(TT_AXIS_ALL, true), std::vector<float>{4}, {1, 1}, 0, 0);
    grade::require_close(Tensor::full({3}, 2.0f).argmax(), std::vector<float>{0}, {}, 0, 0);
    grade::require_close(Tensor::from({-3, -1, -2}, {3}).argmax(), std::vector<float>{1}, {}, 0, 0);
    // random 3-D along the middle axis
    Shape s = {3, 5, 4};
    std::vector<float> v = grade::random_values(60, 521);
    grade::require_close(Tensor::from(v, s).argmax(1), reduce_ref(v, s, 1, vargmax), {3, 4}, 0, 0);
}

TEST_CASE("reductions of empty axes, and axes out of range", "[points:2]") {
    Tensor e = Tensor::zeros({0, 3});
    grade::require_close(e.sum(0), std::vector<float>{0, 0, 0}, {3}, 0, 0);  // sum of nothing is 0
    grade::require_close(e.sum(), std::vector<float>{0}, {}, 0, 0);
    std::vector<float> m = e.mean(0).to_vector();  // mean of nothing is NaN
    REQUIRE(m.size() == 3);
    CHECK(std::isnan(m[0]));
    CHECK(e.sum(1).shape() == Shape{0});  // nothing left: an empty result, not an error
    grade::require_status(TT_INVALID_ARGUMENT, [&] { e.max(0); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { e.argmax(); });

    Tensor t = Tensor::zeros({2, 3});
    grade::require_status(TT_INVALID_ARGUMENT, [&] { t.sum(2); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { t.mean(-3); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { t.max(5); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { t.argmax(-4); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { Tensor::scalar(1.0f).sum(0); });
}

TEST_CASE("reductions through the raw table fill *out and leave the input alone", "[points:1]") {
    std::vector<float> v = {1, 2, 3, 4, 5, 6};
    Tensor t = Tensor::from(v, {2, 3});
    tt_tensor* out = nullptr;
    grade::require_ok(api().sum(t.raw(), 0, 0, &out), "sum");
    grade::require_close(Tensor::adopt(out), std::vector<float>{5, 7, 9}, {3}, 0, 0);
    out = nullptr;
    grade::require_ok(api().mean(t.raw(), 1, 1, &out), "mean");
    grade::require_close(Tensor::adopt(out), std::vector<float>{2, 5}, {2, 1}, 0, 0);
    grade::require_close(t, v, {2, 3}, 0, 0);
    out = reinterpret_cast<tt_tensor*>(0x1);
    CHECK(api().max(t.raw(), 7, 0, &out) == TT_INVALID_ARGUMENT);
    CHECK(out == nullptr);
}
