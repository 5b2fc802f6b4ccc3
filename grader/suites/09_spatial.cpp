// Grading suite for module 09 Spatial: conv2d (init, forward, backward),
// max/avg pooling, batch norm and flatten.
// Expected values are worked by hand or computed here in double by the
// plainest possible loops (a 7-loop convolution, a window scan); gradients
// are also checked against central finite differences.
#include "common/grading.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tinytorch/nn.hpp"
#include "tinytorch/runtime.hpp"

namespace {

using tt::Shape;
using tt::Tensor;

const tt_spatial_api& api() { return tt::runtime().spatial(); }

void check(tt_status st, const char* function) { tt::runtime().check(st, 9, function); }

int64_t numel(const Shape& s) {
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    return n;
}

// ------------------------------------------------------------ test-side math

struct Conv {
    int64_t N, C, H, W, O, KH, KW, stride, pad;
    int64_t OH() const { return (H + 2 * pad - KH) / stride + 1; }
    int64_t OW() const { return (W + 2 * pad - KW) / stride + 1; }
    Shape xshape() const { return {N, C, H, W}; }
    Shape wshape() const { return {O, C, KH, KW}; }
    Shape yshape() const { return {N, O, OH(), OW()}; }
};

// The 7-loop convolution in double (x = 0 outside the image).
std::vector<double> naive_conv(const Conv& g, const std::vector<float>& x, const std::vector<float>& w,
                               const std::vector<float>* b) {
    const int64_t OH = g.OH(), OW = g.OW();
    std::vector<double> y(static_cast<size_t>(g.N * g.O * OH * OW));
    for (int64_t n = 0; n < g.N; ++n)
        for (int64_t o = 0; o < g.O; ++o)
            for (int64_t oh = 0; oh < OH; ++oh)
                for (int64_t ow = 0; ow < OW; ++ow) {
                    double s = b ? (*b)[o] : 0.0;
                    for (int64_t c = 0; c < g.C; ++c)
                        for (int64_t kh = 0; kh < g.KH; ++kh)
                            for (int64_t kw = 0; kw < g.KW; ++kw) {
                                int64_t ih = oh * g.stride - g.pad + kh, iw = ow * g.stride - g.pad + kw;
                                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                                s += static_cast<double>(x[((n * g.C + c) * g.H + ih) * g.W + iw]) *
                                     w[((o * g.C + c) * g.KH + kh) * g.KW + kw];
                            }
                    y[((n * g.O + o) * OH + oh) * OW + ow] = s;
                }
    return y;
}

struct ConvGrads {
    std::vector<double> dx, dw, db;
};

// The gradients of sum(out * dy) in double, by the same loops run backwards.
ConvGrads naive_conv_backward(const Conv& g, const std::vector<float>& x, const std::vector<float>& w,
                              const std::vector<float>& dy) {
    const int64_t OH = g.OH(), OW = g.OW();
    ConvGrads r;
    r.dx.assign(static_cast<size_t>(numel(g.xshape())), 0.0);
    r.dw.assign(static_cast<size_t>(numel(g.wshape())), 0.0);
    r.db.assign(static_cast<size_t>(g.O), 0.0);
    for (int64_t n = 0; n < g.N; ++n)
        for (int64_t o = 0; o < g.O; ++o)
            for (int64_t oh = 0; oh < OH; ++oh)
                for (int64_t ow = 0; ow < OW; ++ow) {
                    double d = dy[((n * g.O + o) * OH + oh) * OW + ow];
                    r.db[o] += d;
                    for (int64_t c = 0; c < g.C; ++c)
                        for (int64_t kh = 0; kh < g.KH; ++kh)
                            for (int64_t kw = 0; kw < g.KW; ++kw) {
                                int64_t ih = oh * g.stride - g.pad + kh, iw = ow * g.stride - g.pad + kw;
                                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                                int64_t xi = ((n * g.C + c) * g.H + ih) * g.W + iw;
                                int64_t wi = ((o * g.C + c) * g.KH + kh) * g.KW + kw;
                                r.dx[xi] += d * w[wi];
                                r.dw[wi] += d * x[xi];
                            }
                }
    return r;
}

double dot(const Tensor& a, const std::vector<float>& b) {
    const float* d = a.data();
    double s = 0.0;
    for (size_t i = 0; i < b.size(); ++i) s += static_cast<double>(d[i]) * b[i];
    return s;
}

// Max pooling by a window scan in the plainest way: value and first index.
void scan_maxpool(const std::vector<float>& x, int64_t planes, int64_t H, int64_t W, int64_t k, int64_t s,
                  std::vector<double>* out, std::vector<double>* idx) {
    const int64_t OH = (H - k) / s + 1, OW = (W - k) / s + 1;
    for (int64_t p = 0; p < planes; ++p)
        for (int64_t oh = 0; oh < OH; ++oh)
            for (int64_t ow = 0; ow < OW; ++ow) {
                float best = 0;
                int64_t at = -1;
                for (int64_t i = 0; i < k; ++i)
                    for (int64_t j = 0; j < k; ++j) {
                        int64_t pos = (oh * s + i) * W + ow * s + j;
                        if (at < 0 || x[p * H * W + pos] > best) best = x[p * H * W + pos], at = pos;
                    }
                out->push_back(best);
                idx->push_back(static_cast<double>(at));
            }
}

// ------------------------------------------------------------ raw calls

Tensor conv_fwd(const Tensor& x, const Tensor& w, const Tensor* b, int32_t stride, int32_t pad) {
    tt_tensor* o = nullptr;
    check(api().conv2d_forward(x.raw(), w.raw(), b ? b->raw() : nullptr, stride, pad, &o), "conv2d_forward");
    REQUIRE(o != nullptr);
    return Tensor::adopt(o);
}

struct Grads3 {
    Tensor a, b, c;
};

Grads3 conv_bwd(const Tensor& x, const Tensor& w, const Tensor& dy, int32_t stride, int32_t pad,
                bool want_x = true, bool want_w = true, bool want_b = true) {
    tt_tensor *gx = nullptr, *gw = nullptr, *gb = nullptr;
    check(api().conv2d_backward(x.raw(), w.raw(), dy.raw(), stride, pad, want_x ? &gx : nullptr,
                                want_w ? &gw : nullptr, want_b ? &gb : nullptr),
          "conv2d_backward");
    Grads3 r;
    if (want_x) { REQUIRE(gx != nullptr); r.a = Tensor::adopt(gx); }
    if (want_w) { REQUIRE(gw != nullptr); r.b = Tensor::adopt(gw); }
    if (want_b) { REQUIRE(gb != nullptr); r.c = Tensor::adopt(gb); }
    return r;
}

struct PoolOut {
    Tensor out, indices;
};

PoolOut maxpool(const Tensor& x, int32_t k, int32_t s) {
    tt_tensor *o = nullptr, *i = nullptr;
    check(api().maxpool2d_forward(x.raw(), k, s, &o, &i), "maxpool2d_forward");
    REQUIRE(o != nullptr);
    REQUIRE(i != nullptr);
    return {Tensor::adopt(o), Tensor::adopt(i)};
}

Tensor maxpool_bwd(const Tensor& x, const Tensor& idx, const Tensor& g, int32_t k, int32_t s) {
    tt_tensor* o = nullptr;
    check(api().maxpool2d_backward(x.raw(), idx.raw(), g.raw(), k, s, &o), "maxpool2d_backward");
    REQUIRE(o != nullptr);
    return Tensor::adopt(o);
}

Tensor avgpool(const Tensor& x, int32_t k, int32_t s) {
    tt_tensor* o = nullptr;
    check(api().avgpool2d_forward(x.raw(), k, s, &o), "avgpool2d_forward");
    REQUIRE(o != nullptr);
    return Tensor::adopt(o);
}

Tensor avgpool_bwd(const Tensor& x, const Tensor& g, int32_t k, int32_t s) {
    tt_tensor* o = nullptr;
    check(api().avgpool2d_backward(x.raw(), g.raw(), k, s, &o), "avgpool2d_backward");
    REQUIRE(o != nullptr);
    return Tensor::adopt(o);
}

struct BnOut {
    Tensor y, mean, invstd;
};

BnOut bn_fwd(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& rm, Tensor& rv, bool training,
             float momentum = 0.1f, float eps = 1e-5f) {
    tt_tensor *y = nullptr, *m = nullptr, *s = nullptr;
    check(api().batchnorm2d_forward(x.raw(), gamma.raw(), beta.raw(), rm.raw(), rv.raw(), training ? 1 : 0,
                                    momentum, eps, &y, &m, &s),
          "batchnorm2d_forward");
    REQUIRE(y != nullptr);
    REQUIRE(m != nullptr);
    REQUIRE(s != nullptr);
    return {Tensor::adopt(y), Tensor::adopt(m), Tensor::adopt(s)};
}

Grads3 bn_bwd(const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& invstd, bool training,
              const Tensor& g) {
    tt_tensor *dx = nullptr, *dg = nullptr, *db = nullptr;
    check(api().batchnorm2d_backward(x.raw(), gamma.raw(), mean.raw(), invstd.raw(), training ? 1 : 0, g.raw(),
                                     &dx, &dg, &db),
          "batchnorm2d_backward");
    REQUIRE(dx != nullptr);
    REQUIRE(dg != nullptr);
    REQUIRE(db != nullptr);
    return {Tensor::adopt(dx), Tensor::adopt(dg), Tensor::adopt(db)};
}

std::vector<float> sequence(int64_t n, float start = 1.0f) {
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
    return v;
}

}  // namespace

// ================================================================ conv2d

TEST_CASE("conv2d: a 3x3 image and a 2x2 kernel worked by hand", "[points:2]") {
    // x = 1 2 3     w = 1 2     out[0,0] = 1*1 + 2*2 + 4*3 + 5*4 = 37
    //     4 5 6         3 4     out[0,1] = 2*1 + 3*2 + 5*3 + 6*4 = 47
    //     7 8 9                 out[1,0] = 67, out[1,1] = 77; + bias 0.5
    Tensor x = Tensor::from(sequence(9), {1, 1, 3, 3});
    Tensor w = Tensor::from({1, 2, 3, 4}, {1, 1, 2, 2});
    Tensor b = Tensor::from({0.5f}, {1});
    grade::require_close(tt::conv2d(x, w, b), {37.5f, 47.5f, 67.5f, 77.5f}, {1, 1, 2, 2});
    grade::require_close(conv_fwd(x, w, nullptr, 1, 0), {37, 47, 67, 77}, {1, 1, 2, 2});
}

TEST_CASE("conv2d: padding and stride worked by hand", "[points:2]") {
    // A 3x3 kernel of ones with padding 1 over a 2x2 image: every window
    // covers all four pixels.
    Tensor x = Tensor::from({1, 2, 3, 4}, {1, 1, 2, 2});
    Tensor w = Tensor::ones({1, 1, 3, 3});
    grade::require_close(conv_fwd(x, w, nullptr, 1, 1), {10, 10, 10, 10}, {1, 1, 2, 2});
    // stride 2 over a 4x4 image with a 2x2 kernel picking the top-left pixel:
    // the output is every other pixel of every other row.
    Tensor x4 = Tensor::from(sequence(16), {1, 1, 4, 4});
    Tensor pick = Tensor::from({1, 0, 0, 0}, {1, 1, 2, 2});
    grade::require_close(conv_fwd(x4, pick, nullptr, 2, 0), {1, 3, 9, 11}, {1, 1, 2, 2});
    // stride 2 and padding 1: windows start at -1, 1, 3; the picked pixel of
    // the first row/column of windows lies in the zero padding.
    grade::require_close(conv_fwd(x4, pick, nullptr, 2, 1), {0, 0, 0, 0, 6, 8, 0, 14, 16}, {1, 1, 3, 3});
}

TEST_CASE("conv2d: output shapes for stride and padding", "[points:1]") {
    struct Case {
        int64_t H, W, KH, KW;
        int32_t s, p;
        int64_t OH, OW;
    };
    for (Case c : {Case{7, 5, 3, 2, 2, 1, 4, 3}, Case{32, 32, 3, 3, 1, 0, 30, 30},
                   Case{8, 8, 3, 3, 1, 1, 8, 8}, Case{5, 5, 5, 5, 1, 0, 1, 1},
                   Case{9, 6, 3, 3, 3, 0, 3, 2}, Case{1, 1, 3, 3, 1, 1, 1, 1}}) {
        INFO("H=" << c.H << " W=" << c.W << " K=" << c.KH << "x" << c.KW << " stride=" << c.s
                  << " padding=" << c.p);
        Tensor x = Tensor::zeros({2, 3, c.H, c.W});
        Tensor w = Tensor::zeros({4, 3, c.KH, c.KW});
        Tensor y = conv_fwd(x, w, nullptr, c.s, c.p);
        REQUIRE(y.shape() == Shape{2, 4, c.OH, c.OW});
    }
}

TEST_CASE("conv2d forward matches a naive convolution on random data", "[points:3]") {
    const Conv cases[] = {
        {2, 3, 7, 6, 4, 3, 3, 1, 0},  // plain
        {3, 2, 9, 8, 5, 3, 3, 2, 1},  // stride and padding
        {2, 4, 6, 7, 3, 3, 2, 3, 2},  // non-square kernel, big stride and padding
        {1, 1, 5, 5, 2, 1, 1, 1, 0},  // 1x1 kernel
        {4, 3, 8, 8, 6, 5, 5, 1, 2},  // "same" 5x5
    };
    uint64_t seed = 1;
    for (const Conv& g : cases) {
        INFO("x " << tt::shape_str(g.xshape()) << " w " << tt::shape_str(g.wshape()) << " stride " << g.stride
                  << " padding " << g.pad);
        auto xv = grade::random_values(numel(g.xshape()), seed++);
        auto wv = grade::random_values(numel(g.wshape()), seed++);
        auto bv = grade::random_values(g.O, seed++);
        Tensor x = Tensor::from(xv, g.xshape()), w = Tensor::from(wv, g.wshape()), b = Tensor::from(bv, {g.O});
        grade::require_close(conv_fwd(x, w, &b, g.stride, g.pad), naive_conv(g, xv, wv, &bv), g.yshape(), 1e-4,
                             1e-4);
        grade::require_close(conv_fwd(x, w, nullptr, g.stride, g.pad), naive_conv(g, xv, wv, nullptr),
                             g.yshape(), 1e-4, 1e-4);
    }
}

TEST_CASE("conv2d forward and backward on a batch big enough to be split", "[points:2]") {
    // 20 images of 16 x 32 x 32: an implementation that works on the batch in
    // chunks must still see every image (and sum the weight gradient over all).
    const Conv g{20, 16, 32, 32, 8, 3, 3, 1, 1};
    auto xv = grade::random_values(numel(g.xshape()), 11);
    auto wv = grade::random_values(numel(g.wshape()), 12, -0.2f, 0.2f);
    auto bv = grade::random_values(g.O, 13);
    auto dyv = grade::random_values(numel(g.yshape()), 14);
    Tensor x = Tensor::from(xv, g.xshape()), w = Tensor::from(wv, g.wshape()), b = Tensor::from(bv, {g.O});
    grade::require_close(conv_fwd(x, w, &b, 1, 1), naive_conv(g, xv, wv, &bv), g.yshape(), 1e-4, 1e-4);
    Grads3 r = conv_bwd(x, w, Tensor::from(dyv, g.yshape()), 1, 1);
    ConvGrads e = naive_conv_backward(g, xv, wv, dyv);
    grade::require_close(r.a, e.dx, g.xshape(), 1e-4, 1e-4);
    grade::require_close(r.b, e.dw, g.wshape(), 5e-3, 1e-4);
    grade::require_close(r.c, e.db, {g.O}, 5e-3, 1e-4);
}

TEST_CASE("conv2d backward matches the naive gradients", "[points:3]") {
    const Conv cases[] = {
        {2, 3, 6, 5, 4, 3, 3, 1, 0},
        {2, 2, 7, 7, 3, 3, 3, 2, 1},
        {1, 3, 5, 6, 2, 2, 3, 3, 2},
        {3, 2, 4, 4, 2, 1, 1, 1, 0},
    };
    uint64_t seed = 100;
    for (const Conv& g : cases) {
        INFO("x " << tt::shape_str(g.xshape()) << " w " << tt::shape_str(g.wshape()) << " stride " << g.stride
                  << " padding " << g.pad);
        auto xv = grade::random_values(numel(g.xshape()), seed++);
        auto wv = grade::random_values(numel(g.wshape()), seed++);
        auto dyv = grade::random_values(numel(g.yshape()), seed++);
        Tensor x = Tensor::from(xv, g.xshape()), w = Tensor::from(wv, g.wshape());
        Grads3 r = conv_bwd(x, w, Tensor::from(dyv, g.yshape()), static_cast<int32_t>(g.stride),
                            static_cast<int32_t>(g.pad));
        ConvGrads e = naive_conv_backward(g, xv, wv, dyv);
        grade::require_close(r.a, e.dx, g.xshape(), 1e-4, 1e-4);
        grade::require_close(r.b, e.dw, g.wshape(), 1e-4, 1e-4);
        grade::require_close(r.c, e.db, {g.O}, 1e-4, 1e-4);
    }
}

TEST_CASE("conv2d backward matches finite differences for x, weight and bias", "[points:3]") {
    // loss = sum(conv(x, w, b) * R) for a fixed random R, so d loss / d out = R.
    const Conv g{2, 2, 5, 4, 3, 3, 2, 2, 1};
    auto xv = grade::random_values(numel(g.xshape()), 21);
    auto wv = grade::random_values(numel(g.wshape()), 22);
    auto bv = grade::random_values(g.O, 23);
    auto rv = grade::random_values(numel(g.yshape()), 24);
    Tensor x = Tensor::from(xv, g.xshape()), w = Tensor::from(wv, g.wshape()), b = Tensor::from(bv, {g.O});
    auto loss = [&](const std::vector<float>& xs, const std::vector<float>& ws, const std::vector<float>& bs) {
        Tensor bt = Tensor::from(bs, {g.O});
        return dot(conv_fwd(Tensor::from(xs, g.xshape()), Tensor::from(ws, g.wshape()), &bt, 2, 1), rv);
    };
    Grads3 r = conv_bwd(x, w, Tensor::from(rv, g.yshape()), 2, 1);
    auto nx = grade::numeric_gradient([&](const std::vector<float>& v) { return loss(v, wv, bv); }, xv);
    auto nw = grade::numeric_gradient([&](const std::vector<float>& v) { return loss(xv, v, bv); }, wv);
    auto nb = grade::numeric_gradient([&](const std::vector<float>& v) { return loss(xv, wv, v); }, bv);
    grade::require_close(r.a, nx, g.xshape(), 2e-3, 1e-2);
    grade::require_close(r.b, nw, g.wshape(), 2e-3, 1e-2);
    grade::require_close(r.c, nb, {g.O}, 2e-3, 1e-2);
}

TEST_CASE("conv2d backward computes only the gradients asked for", "[points:1]") {
    const Conv g{2, 3, 5, 5, 2, 3, 3, 1, 1};
    auto xv = grade::random_values(numel(g.xshape()), 31);
    auto wv = grade::random_values(numel(g.wshape()), 32);
    auto dyv = grade::random_values(numel(g.yshape()), 33);
    Tensor x = Tensor::from(xv, g.xshape()), w = Tensor::from(wv, g.wshape()), dy = Tensor::from(dyv, g.yshape());
    ConvGrads e = naive_conv_backward(g, xv, wv, dyv);
    // only the weight (what the first layer of a network needs: no d x)
    Grads3 r = conv_bwd(x, w, dy, 1, 1, false, true, false);
    grade::require_close(r.b, e.dw, g.wshape(), 1e-4, 1e-4);
    // only x
    r = conv_bwd(x, w, dy, 1, 1, true, false, false);
    grade::require_close(r.a, e.dx, g.xshape(), 1e-4, 1e-4);
    // only the bias
    r = conv_bwd(x, w, dy, 1, 1, false, false, true);
    grade::require_close(r.c, e.db, {g.O}, 1e-4, 1e-4);
}

TEST_CASE("conv2d gradients flow through the tape", "[points:2]") {
    // d sum(conv(x, w, b)) / d x: the naive backward with dy = 1 everywhere.
    const Conv g{2, 2, 5, 5, 3, 3, 3, 1, 1};
    auto xv = grade::random_values(numel(g.xshape()), 41);
    auto wv = grade::random_values(numel(g.wshape()), 42);
    auto bv = grade::random_values(g.O, 43);
    Tensor x = Tensor::from(xv, g.xshape()), w = Tensor::from(wv, g.wshape()), b = Tensor::from(bv, {g.O});
    x.set_requires_grad();
    w.set_requires_grad();
    b.set_requires_grad();
    tt::conv2d(x, w, b, 1, 1).sum().backward();
    ConvGrads e = naive_conv_backward(g, xv, wv, std::vector<float>(static_cast<size_t>(numel(g.yshape())), 1.0f));
    REQUIRE(x.grad().defined());
    REQUIRE(w.grad().defined());
    REQUIRE(b.grad().defined());
    grade::require_close(x.grad(), e.dx, g.xshape(), 1e-4, 1e-4);
    grade::require_close(w.grad(), e.dw, g.wshape(), 1e-4, 1e-4);
    grade::require_close(b.grad(), e.db, {g.O}, 1e-4, 1e-4);
}

TEST_CASE("conv2d_init: shapes, bounds U(-k, k) with k = 1/sqrt(C*KH*KW), reproducible", "[points:2]") {
    tt::runtime().seed(7);
    tt_tensor *w = nullptr, *b = nullptr;
    check(api().conv2d_init(16, 8, 3, 3, &w, &b), "conv2d_init");
    REQUIRE(w != nullptr);
    REQUIRE(b != nullptr);
    Tensor wt = Tensor::adopt(w), bt = Tensor::adopt(b);
    REQUIRE(wt.shape() == Shape{16, 8, 3, 3});
    REQUIRE(bt.shape() == Shape{16});
    const double k = 1.0 / std::sqrt(8.0 * 3 * 3);
    auto wv = wt.to_vector();
    double mean = 0, var = 0;
    for (float v : wv) {
        REQUIRE(std::fabs(v) <= k);
        mean += v;
    }
    mean /= static_cast<double>(wv.size());
    for (float v : wv) var += (v - mean) * (v - mean);
    var /= static_cast<double>(wv.size());
    const double n = static_cast<double>(wv.size());
    CHECK(std::fabs(mean) < 5 * k / std::sqrt(3 * n));
    CHECK(std::fabs(var - k * k / 3) < 5 * (k * k / 3) * std::sqrt(0.8 / n));
    CHECK(*std::max_element(wv.begin(), wv.end()) > 0.9 * k);
    CHECK(*std::min_element(wv.begin(), wv.end()) < -0.9 * k);
    for (float v : bt.to_vector()) REQUIRE(std::fabs(v) <= k);
    // the same seed gives the same values
    tt::runtime().seed(7);
    tt_tensor *w2 = nullptr, *b2 = nullptr;
    check(api().conv2d_init(16, 8, 3, 3, &w2, &b2), "conv2d_init");
    Tensor wt2 = Tensor::adopt(w2), bt2 = Tensor::adopt(b2);
    REQUIRE(wt2.to_vector() == wv);
    REQUIRE(bt2.to_vector() == bt.to_vector());
}

TEST_CASE("conv2d rejects bad arguments with a clear status", "[points:2]") {
    Tensor x = Tensor::zeros({1, 3, 5, 5});
    Tensor w = Tensor::zeros({2, 3, 3, 3});
    SECTION("channel mismatch") {
        Tensor w4 = Tensor::zeros({2, 4, 3, 3});
        grade::require_status(TT_SHAPE_MISMATCH, [&] { tt::conv2d(x, w4, Tensor()); });
    }
    SECTION("kernel larger than the padded input") {
        Tensor big = Tensor::zeros({2, 3, 6, 6});
        grade::require_status(TT_SHAPE_MISMATCH, [&] { tt::conv2d(x, big, Tensor()); });
        // with padding it fits
        REQUIRE(tt::conv2d(x, big, Tensor(), 1, 1).shape() == Shape{1, 2, 2, 2});
    }
    SECTION("stride < 1 and padding < 0") {
        grade::require_status(TT_INVALID_ARGUMENT, [&] { tt::conv2d(x, w, Tensor(), 0, 0); });
        grade::require_status(TT_INVALID_ARGUMENT, [&] { tt::conv2d(x, w, Tensor(), -1, 0); });
        grade::require_status(TT_INVALID_ARGUMENT, [&] { tt::conv2d(x, w, Tensor(), 1, -1); });
    }
    SECTION("inputs that are not 4-D") {
        grade::require_status(TT_SHAPE_MISMATCH, [&] { tt::conv2d(Tensor::zeros({3, 5, 5}), w, Tensor()); });
        grade::require_status(TT_SHAPE_MISMATCH, [&] { tt::conv2d(x, Tensor::zeros({2, 27}), Tensor()); });
    }
    SECTION("a bias of the wrong size") {
        grade::require_status(TT_SHAPE_MISMATCH, [&] { tt::conv2d(x, w, Tensor::zeros({3})); });
    }
    SECTION("backward with a grad of the wrong shape") {
        tt_tensor* gx = nullptr;
        Tensor bad = Tensor::zeros({1, 2, 4, 4});  // the output is [1, 2, 3, 3]
        tt_status st = api().conv2d_backward(x.raw(), w.raw(), bad.raw(), 1, 0, &gx, nullptr, nullptr);
        REQUIRE(std::string(tt::status_name(st)) == tt::status_name(TT_SHAPE_MISMATCH));
        REQUIRE(gx == nullptr);
    }
}

// ================================================================ max pool

TEST_CASE("max_pool2d 2x2 worked by hand, with indices", "[points:2]") {
    Tensor x = Tensor::from({1, 5, 2, 0,   //
                             3, 4, 8, 7,   //
                             9, 0, 1, 1,   //
                             2, 6, 3, 2},
                            {1, 1, 4, 4});
    PoolOut r = maxpool(x, 2, 2);
    grade::require_close(r.out, {5, 8, 9, 3}, {1, 1, 2, 2});
    // flat positions h*W + w in the 4x4 input plane
    grade::require_close(r.indices, {1, 6, 8, 14}, {1, 1, 2, 2});
    grade::require_close(tt::max_pool2d(x, 2), {5, 8, 9, 3}, {1, 1, 2, 2});
}

TEST_CASE("max_pool2d ties go to the first maximum in row-major window order", "[points:2]") {
    Tensor x = Tensor::from({7, 7, 1, 3,   //
                             7, 7, 3, 2,   //
                             0, 4, 5, 5,   //
                             4, 0, 5, 5},
                            {1, 1, 4, 4});
    PoolOut r = maxpool(x, 2, 2);
    grade::require_close(r.out, {7, 3, 4, 5}, {1, 1, 2, 2});
    grade::require_close(r.indices, {0, 3, 9, 10}, {1, 1, 2, 2});

    // wide planes full of ties: values 0, 1, 2 only
    auto v = grade::random_values(2 * 3 * 8 * 18, 52, 0.0f, 3.0f);
    for (float& f : v) f = std::floor(f);
    std::vector<double> ev, ei;
    scan_maxpool(v, 6, 8, 18, 2, 2, &ev, &ei);
    PoolOut w = maxpool(Tensor::from(v, {2, 3, 8, 18}), 2, 2);
    grade::require_close(w.out, ev, {2, 3, 4, 9}, 0, 0);
    grade::require_close(w.indices, ei, {2, 3, 4, 9}, 0, 0);
}

TEST_CASE("max_pool2d lets a NaN through, as PyTorch does", "[points:1]") {
    // 2 rows x 10 columns: five 2x2 windows; the third holds a NaN (at row 1,
    // column 5) and its output must be that NaN with its index, the others
    // are untouched.
    const float nan = std::nanf("");
    std::vector<float> xv = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10,  //
                             0, 0, 0, 0, 0, nan, 0, 0, 0, 0};
    PoolOut r = maxpool(Tensor::from(xv, {1, 1, 2, 10}), 2, 2);
    auto out = r.out.to_vector();
    REQUIRE(out.size() == 5);
    CHECK(out[0] == 2);
    CHECK(out[1] == 4);
    CHECK(std::isnan(out[2]));
    CHECK(out[3] == 8);
    CHECK(out[4] == 10);
    grade::require_close(r.indices, {1, 3, 15, 7, 9}, {1, 1, 1, 5});

    // a plane only two windows wide (4x4 -> 2x2), NaN in its last window
    std::vector<float> nv = {1, 2, 3, 4,  //
                             5, 6, 7, 8,  //
                             9, 1, 2, 3,  //
                             4, 5, 6, nan};
    PoolOut n = maxpool(Tensor::from(nv, {1, 1, 4, 4}), 2, 2);
    auto nout = n.out.to_vector();
    REQUIRE(nout.size() == 4);
    CHECK(nout[0] == 6);
    CHECK(nout[1] == 8);
    CHECK(nout[2] == 9);
    CHECK(std::isnan(nout[3]));
    grade::require_close(n.indices, {5, 7, 8, 15}, {1, 1, 2, 2});
}

TEST_CASE("max_pool2d with several planes, overlap and an uncovered edge", "[points:2]") {
    // 2 images x 2 channels of 5x5, kernel 3 stride 2 (overlapping windows) and
    // kernel 2 stride 2 (the last row and column are never read), against a
    // window scan here.
    auto xv = grade::random_values(2 * 2 * 5 * 5, 51);
    Tensor x = Tensor::from(xv, {2, 2, 5, 5});
    for (int32_t k : {2, 3}) {
        INFO("kernel " << k << " stride 2");
        const int64_t OH = (5 - k) / 2 + 1;
        std::vector<double> ev, ei;
        scan_maxpool(xv, 4, 5, 5, k, 2, &ev, &ei);
        PoolOut r = maxpool(x, k, 2);
        grade::require_close(r.out, ev, {2, 2, OH, OH}, 0, 0);
        grade::require_close(r.indices, ei, {2, 2, OH, OH}, 0, 0);
    }
    // wider planes (13 x 21: an odd size, rows of ten windows), several kernels and strides
    auto wv = grade::random_values(3 * 2 * 13 * 21, 53);
    Tensor wx = Tensor::from(wv, {3, 2, 13, 21});
    for (auto ks : {std::pair<int32_t, int32_t>{2, 2}, {3, 2}, {2, 1}, {3, 3}}) {
        INFO("kernel " << ks.first << " stride " << ks.second);
        const int64_t OH = (13 - ks.first) / ks.second + 1, OW = (21 - ks.first) / ks.second + 1;
        std::vector<double> ev, ei;
        scan_maxpool(wv, 6, 13, 21, ks.first, ks.second, &ev, &ei);
        PoolOut r = maxpool(wx, ks.first, ks.second);
        grade::require_close(r.out, ev, {3, 2, OH, OW}, 0, 0);
        grade::require_close(r.indices, ei, {3, 2, OH, OW}, 0, 0);
    }
}

TEST_CASE("max_pool2d backward routes each gradient to its maximum", "[points:2]") {
    SECTION("2x2 stride 2, an uncovered last row and column get 0") {
        Tensor x = Tensor::from({1, 2, 0,   //
                                 4, 3, 9,   //
                                 9, 9, 9},
                                {1, 1, 3, 3});
        PoolOut r = maxpool(x, 2, 2);
        grade::require_close(r.out, {4}, {1, 1, 1, 1});
        Tensor dx = maxpool_bwd(x, r.indices, Tensor::from({2.5f}, {1, 1, 1, 1}), 2, 2);
        grade::require_close(dx, {0, 0, 0, 2.5f, 0, 0, 0, 0, 0}, {1, 1, 3, 3});
    }
    SECTION("overlapping windows that pick the same pixel add up") {
        // 3x3 windows with stride 1 over a 4x4 plane whose maximum (at the
        // centre) lies in all four windows.
        std::vector<float> xv(16, 0.0f);
        xv[5] = 10.0f;  // (1, 1): in every window
        Tensor x = Tensor::from(xv, {1, 1, 4, 4});
        PoolOut r = maxpool(x, 3, 1);
        grade::require_close(r.indices, {5, 5, 5, 5}, {1, 1, 2, 2});
        Tensor dx = maxpool_bwd(x, r.indices, Tensor::from({1, 2, 3, 4}, {1, 1, 2, 2}), 3, 1);
        std::vector<float> e(16, 0.0f);
        e[5] = 10.0f;
        grade::require_close(dx, e, {1, 1, 4, 4});
    }
    SECTION("through the tape") {
        Tensor x = Tensor::from({1, 5, 2, 0, 3, 4, 8, 7, 9, 0, 1, 1, 2, 6, 3, 2}, {1, 1, 4, 4});
        x.set_requires_grad();
        (tt::max_pool2d(x, 2) * Tensor::from({1, 2, 3, 4}, {1, 1, 2, 2})).sum().backward();
        grade::require_close(x.grad(), {0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 4, 0}, {1, 1, 4, 4});
    }
}

TEST_CASE("max_pool2d 2x2 backward on wide planes matches a scatter of the gradients", "[points:1]") {
    // 9x11 planes: 4x5 windows (more than four in a row), an uncovered last
    // row and column. Random data, so every window position gets picked.
    const int64_t N = 2, C = 3, H = 9, W = 11, OH = 4, OW = 5;
    auto xv = grade::random_values(N * C * H * W, 331);
    auto gv = grade::random_values(N * C * OH * OW, 332);
    Tensor x = Tensor::from(xv, {N, C, H, W});
    PoolOut r = maxpool(x, 2, 2);
    Tensor dx = maxpool_bwd(x, r.indices, Tensor::from(gv, {N, C, OH, OW}), 2, 2);
    std::vector<double> e(xv.size(), 0.0);
    for (int64_t p = 0; p < N * C; ++p)
        for (int64_t i = 0; i < OH * OW; ++i) {
            // the maximum of window i, found here: first of equals in row-major order
            const int64_t oh = i / OW, ow = i % OW;
            int64_t best = 2 * oh * W + 2 * ow;
            for (int64_t dh = 0; dh < 2; ++dh)
                for (int64_t dw = 0; dw < 2; ++dw) {
                    const int64_t at = (2 * oh + dh) * W + 2 * ow + dw;
                    if (xv[static_cast<size_t>(p * H * W + at)] > xv[static_cast<size_t>(p * H * W + best)]) best = at;
                }
            e[static_cast<size_t>(p * H * W + best)] += gv[static_cast<size_t>(p * OH * OW + i)];
        }
    grade::require_close(dx, e, {N, C, H, W}, 0, 0);

    // An index that names a pixel outside its own window (not what the
    // forward returns, but inside the plane) still receives its gradient.
    std::vector<float> iv(r.indices.data(), r.indices.data() + r.indices.numel());
    iv[0] = static_cast<float>(H * W - 1);  // plane 0, window 0 -> the bottom-right pixel
    Tensor dx2 = maxpool_bwd(x, Tensor::from(iv, {N, C, OH, OW}), Tensor::from(gv, {N, C, OH, OW}), 2, 2);
    e[static_cast<size_t>(r.indices.data()[0])] -= gv[0];
    e[static_cast<size_t>(H * W - 1)] += gv[0];
    grade::require_close(dx2, e, {N, C, H, W}, 0, 0);
}

TEST_CASE("max_pool2d backward follows the stored indices, not a new search of x", "[points:1]") {
    // Every pixel equal: a search over x would pick each window's first pixel;
    // the indices (flat within each plane) say otherwise and must be obeyed.
    // 2x2 windows of a 4x4 plane: {0,1,4,5}, {2,3,6,7}, {8,9,12,13}, {10,11,14,15}.
    Tensor flat = Tensor::zeros({1, 2, 4, 4});
    Tensor idx = Tensor::from({5, 7, 13, 15, 4, 3, 12, 11}, {1, 2, 2, 2});
    Tensor g = Tensor::from(sequence(8), {1, 2, 2, 2});
    std::vector<float> e(32, 0.0f);
    const int at[8] = {5, 7, 13, 15, 16 + 4, 16 + 3, 16 + 12, 16 + 11};
    for (int i = 0; i < 8; ++i) e[static_cast<size_t>(at[i])] = static_cast<float>(i + 1);
    grade::require_close(maxpool_bwd(flat, idx, g, 2, 2), e, {1, 2, 4, 4}, 0, 0);

    // The indices of one image's forward, with another image passed as x.
    Tensor x1 = Tensor::from(grade::random_values(2 * 16, 341), {1, 2, 4, 4});
    Tensor x2 = Tensor::from(grade::random_values(2 * 16, 342), {1, 2, 4, 4});
    PoolOut r = maxpool(x1, 2, 2);
    std::vector<float> e1(32, 0.0f);
    for (int64_t i = 0; i < 8; ++i)
        e1[static_cast<size_t>((i / 4) * 16 + static_cast<int64_t>(r.indices.data()[i]))] += g.data()[i];
    grade::require_close(maxpool_bwd(x2, r.indices, g, 2, 2), e1, {1, 2, 4, 4}, 0, 0);
}

TEST_CASE("max_pool2d rejects bad arguments", "[points:1]") {
    Tensor x = Tensor::zeros({1, 1, 4, 4});
    grade::require_status(TT_SHAPE_MISMATCH, [&] { tt::max_pool2d(x, 5); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { tt::max_pool2d(x, 0, 1); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { tt::max_pool2d(x, 2, -1); });
    grade::require_status(TT_SHAPE_MISMATCH, [&] { tt::max_pool2d(Tensor::zeros({4, 4}), 2); });
    // the raw function does not take stride 0 (the C++ API turns 0 into kernel)
    tt_tensor *o = nullptr, *i = nullptr;
    REQUIRE(api().maxpool2d_forward(x.raw(), 2, 0, &o, &i) == TT_INVALID_ARGUMENT);
    REQUIRE(o == nullptr);
}

// ================================================================ avg pool

TEST_CASE("avg_pool2d forward and backward worked by hand", "[points:2]") {
    Tensor x = Tensor::from(sequence(16), {1, 1, 4, 4});
    // windows {1,2,5,6} {3,4,7,8} {9,10,13,14} {11,12,15,16}
    grade::require_close(avgpool(x, 2, 2), {3.5f, 5.5f, 11.5f, 13.5f}, {1, 1, 2, 2});
    grade::require_close(tt::avg_pool2d(x, 2), {3.5f, 5.5f, 11.5f, 13.5f}, {1, 1, 2, 2});
    // kernel 3 stride 1: overlapping windows
    grade::require_close(avgpool(x, 3, 1), {6, 7, 10, 11}, {1, 1, 2, 2});
    // backward: each pixel of window (oh, ow) receives grad / 4
    Tensor dx = avgpool_bwd(x, Tensor::from({4, 8, 12, 16}, {1, 1, 2, 2}), 2, 2);
    grade::require_close(dx, {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, {1, 1, 4, 4});
    // overlapping: the centre pixels belong to every 3x3 window, add up
    Tensor dx3 = avgpool_bwd(x, Tensor::from({9, 9, 9, 9}, {1, 1, 2, 2}), 3, 1);
    grade::require_close(dx3, {1, 2, 2, 1, 2, 4, 4, 2, 2, 4, 4, 2, 1, 2, 2, 1}, {1, 1, 4, 4});
}

TEST_CASE("avg_pool2d backward matches finite differences", "[points:1]") {
    auto xv = grade::random_values(2 * 3 * 5 * 5, 61);
    auto rv = grade::random_values(2 * 3 * 2 * 2, 62);
    Tensor dx = avgpool_bwd(Tensor::from(xv, {2, 3, 5, 5}), Tensor::from(rv, {2, 3, 2, 2}), 3, 2);
    auto n = grade::numeric_gradient(
        [&](const std::vector<float>& v) { return dot(avgpool(Tensor::from(v, {2, 3, 5, 5}), 3, 2), rv); }, xv);
    grade::require_close(dx, n, {2, 3, 5, 5}, 1e-3, 1e-2);
    grade::require_status(TT_SHAPE_MISMATCH, [&] { tt::avg_pool2d(Tensor::zeros({1, 1, 2, 2}), 3); });
}

// ================================================================ batch norm

TEST_CASE("batch_norm2d training: per-channel mean 0, variance 1, then gamma and beta", "[points:3]") {
    const int64_t N = 4, C = 3, H = 3, W = 5, M = N * H * W;
    // channels on very different scales and offsets
    auto xv = grade::random_values(N * C * H * W, 71);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < H * W; ++i) {
                float& v = xv[(n * C + c) * H * W + i];
                v = v * static_cast<float>(c * 10 + 1) + static_cast<float>(c * 100 - 50);
            }
    Tensor x = Tensor::from(xv, {N, C, H, W});
    Tensor gamma = Tensor::ones({C}), beta = Tensor::zeros({C});
    Tensor rm = Tensor::zeros({C}), rv = Tensor::ones({C});
    BnOut r = bn_fwd(x, gamma, beta, rm, rv, true);
    REQUIRE(r.y.shape() == Shape{N, C, H, W});
    auto y = r.y.to_vector();
    std::vector<double> mean(C), var(C);
    for (int64_t c = 0; c < C; ++c) {
        double s = 0, s2 = 0, ys = 0, ys2 = 0;
        for (int64_t n = 0; n < N; ++n)
            for (int64_t i = 0; i < H * W; ++i) {
                size_t at = static_cast<size_t>((n * C + c) * H * W + i);
                s += xv[at];
                ys += y[at];
                ys2 += static_cast<double>(y[at]) * y[at];
            }
        mean[c] = s / M;
        for (int64_t n = 0; n < N; ++n)
            for (int64_t i = 0; i < H * W; ++i) {
                double d = xv[static_cast<size_t>((n * C + c) * H * W + i)] - mean[c];
                s2 += d * d;
            }
        var[c] = s2 / M;
        INFO("channel " << c);
        CHECK(std::fabs(ys / M) < 1e-4);
        // biased variance: exactly var/(var + eps) of 1
        CHECK(std::fabs(ys2 / M - var[c] / (var[c] + 1e-5)) < 1e-3);
    }
    // saved statistics: the batch mean and 1/sqrt(biased var + eps)
    std::vector<double> invstd(C), new_rm(C), new_rv(C);
    for (int64_t c = 0; c < C; ++c) {
        invstd[c] = 1.0 / std::sqrt(var[c] + 1e-5);
        new_rm[c] = 0.9 * 0.0 + 0.1 * mean[c];
        new_rv[c] = 0.9 * 1.0 + 0.1 * var[c] * M / (M - 1);  // unbiased
    }
    grade::require_close(r.mean, mean, {C}, 1e-4, 1e-5);
    grade::require_close(r.invstd, invstd, {C}, 1e-6, 1e-4);
    grade::require_close(rm, new_rm, {C}, 1e-4, 1e-5);
    grade::require_close(rv, new_rv, {C}, 1e-4, 1e-4);

    // gamma and beta scale and shift each channel
    Tensor g2 = Tensor::from({2.0f, -1.0f, 0.5f}, {C}), b2 = Tensor::from({1.0f, 0.0f, -3.0f}, {C});
    Tensor rm2 = Tensor::from({1, 2, 3}, {C}), rv2 = Tensor::from({4, 5, 6}, {C});
    BnOut r2 = bn_fwd(x, g2, b2, rm2, rv2, true, 0.3f, 1e-3f);
    std::vector<double> e(xv.size()), erm(C), erv(C);
    const float gv[] = {2.0f, -1.0f, 0.5f}, bv[] = {1.0f, 0.0f, -3.0f};
    for (int64_t c = 0; c < C; ++c) {
        double is = 1.0 / std::sqrt(var[c] + 1e-3);
        for (int64_t n = 0; n < N; ++n)
            for (int64_t i = 0; i < H * W; ++i) {
                size_t at = static_cast<size_t>((n * C + c) * H * W + i);
                e[at] = gv[c] * (xv[at] - mean[c]) * is + bv[c];
            }
        erm[c] = 0.7 * (c + 1) + 0.3 * mean[c];
        erv[c] = 0.7 * (c + 4) + 0.3 * var[c] * M / (M - 1);
    }
    grade::require_close(r2.y, e, {N, C, H, W}, 1e-4, 1e-4);
    grade::require_close(rm2, erm, {C}, 1e-4, 1e-5);
    grade::require_close(rv2, erv, {C}, 1e-3, 1e-4);
}

TEST_CASE("batch_norm2d eval normalises with the running statistics and leaves them alone", "[points:2]") {
    const int64_t N = 2, C = 2, H = 2, W = 3;
    auto xv = grade::random_values(N * C * H * W, 81, -2.0f, 2.0f);
    Tensor x = Tensor::from(xv, {N, C, H, W});
    Tensor gamma = Tensor::from({1.5f, 0.5f}, {C}), beta = Tensor::from({0.25f, -1.0f}, {C});
    Tensor rm = Tensor::from({0.5f, -0.25f}, {C}), rv = Tensor::from({2.0f, 0.5f}, {C});
    BnOut r = bn_fwd(x, gamma, beta, rm, rv, false, 0.1f, 1e-5f);
    const double g[] = {1.5, 0.5}, b[] = {0.25, -1.0}, m[] = {0.5, -0.25}, v[] = {2.0, 0.5};
    std::vector<double> e(xv.size());
    for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < H * W; ++i) {
                size_t at = static_cast<size_t>((n * C + c) * H * W + i);
                e[at] = g[c] * (xv[at] - m[c]) / std::sqrt(v[c] + 1e-5) + b[c];
            }
    grade::require_close(r.y, e, {N, C, H, W}, 1e-5, 1e-5);
    grade::require_close(rm, std::vector<float>{0.5f, -0.25f}, {C}, 0.0, 0.0);
    grade::require_close(rv, std::vector<float>{2.0f, 0.5f}, {C}, 0.0, 0.0);
    grade::require_close(r.mean, std::vector<float>{0.5f, -0.25f}, {C}, 0.0, 0.0);
    grade::require_close(r.invstd, std::vector<double>{1 / std::sqrt(2.0 + 1e-5), 1 / std::sqrt(0.5 + 1e-5)},
                         {C}, 1e-6, 1e-5);
    // the C++ API: a one-image batch is fine in eval
    Tensor one = Tensor::from(std::vector<float>(xv.begin(), xv.begin() + C), {1, C, 1, 1});
    REQUIRE(tt::batch_norm2d(one, gamma, beta, rm, rv, false).shape() == Shape{1, C, 1, 1});
}

TEST_CASE("batch_norm2d backward in training matches finite differences", "[points:3]") {
    const int64_t N = 3, C = 2, H = 2, W = 3;
    const Shape xs{N, C, H, W};
    auto xv = grade::random_values(N * C * H * W, 91, -2.0f, 2.0f);
    auto gv = std::vector<float>{1.5f, -0.75f};
    auto bv = std::vector<float>{0.5f, 0.25f};
    auto rv = grade::random_values(N * C * H * W, 92);
    auto loss = [&](const std::vector<float>& x, const std::vector<float>& g, const std::vector<float>& b) {
        Tensor rm = Tensor::zeros({C}), rvar = Tensor::ones({C});
        return dot(bn_fwd(Tensor::from(x, xs), Tensor::from(g, {C}), Tensor::from(b, {C}), rm, rvar, true).y, rv);
    };
    Tensor x = Tensor::from(xv, xs), gamma = Tensor::from(gv, {C}), beta = Tensor::from(bv, {C});
    Tensor rm = Tensor::zeros({C}), rvar = Tensor::ones({C});
    BnOut f = bn_fwd(x, gamma, beta, rm, rvar, true);
    Grads3 r = bn_bwd(x, gamma, f.mean, f.invstd, true, Tensor::from(rv, xs));
    auto nx = grade::numeric_gradient([&](const std::vector<float>& v) { return loss(v, gv, bv); }, xv);
    auto ng = grade::numeric_gradient([&](const std::vector<float>& v) { return loss(xv, v, bv); }, gv);
    auto nb = grade::numeric_gradient([&](const std::vector<float>& v) { return loss(xv, gv, v); }, bv);
    grade::require_close(r.a, nx, xs, 2e-3, 1e-2);
    grade::require_close(r.b, ng, {C}, 2e-3, 1e-2);
    grade::require_close(r.c, nb, {C}, 2e-3, 1e-2);

    // the same through the tape: x, gamma and beta all get their gradients
    Tensor x2 = Tensor::from(xv, xs), g2 = Tensor::from(gv, {C}), b2 = Tensor::from(bv, {C});
    x2.set_requires_grad();
    g2.set_requires_grad();
    b2.set_requires_grad();
    Tensor rm2 = Tensor::zeros({C}), rv2 = Tensor::ones({C});
    (tt::batch_norm2d(x2, g2, b2, rm2, rv2, true) * Tensor::from(rv, xs)).sum().backward();
    grade::require_close(x2.grad(), nx, xs, 2e-3, 1e-2);
    grade::require_close(g2.grad(), ng, {C}, 2e-3, 1e-2);
    grade::require_close(b2.grad(), nb, {C}, 2e-3, 1e-2);
}

TEST_CASE("batch_norm2d backward in eval treats the statistics as constants", "[points:2]") {
    const int64_t N = 2, C = 2, H = 2, W = 2;
    const Shape xs{N, C, H, W};
    auto xv = grade::random_values(N * C * H * W, 95);
    auto rv = grade::random_values(N * C * H * W, 96);
    Tensor x = Tensor::from(xv, xs), gamma = Tensor::from({2.0f, -0.5f}, {C}), beta = Tensor::from({0, 1}, {C});
    Tensor rm = Tensor::from({0.1f, -0.2f}, {C}), rvar = Tensor::from({0.8f, 1.7f}, {C});
    BnOut f = bn_fwd(x, gamma, beta, rm, rvar, false);
    Grads3 r = bn_bwd(x, gamma, f.mean, f.invstd, false, Tensor::from(rv, xs));
    const double g[] = {2.0, -0.5}, m[] = {0.1, -0.2}, v[] = {0.8, 1.7};
    std::vector<double> edx(xv.size()), edg(C, 0.0), edb(C, 0.0);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < H * W; ++i) {
                size_t at = static_cast<size_t>((n * C + c) * H * W + i);
                double is = 1.0 / std::sqrt(v[c] + 1e-5);
                edx[at] = g[c] * is * rv[at];
                edg[c] += rv[at] * (xv[at] - m[c]) * is;
                edb[c] += rv[at];
            }
    grade::require_close(r.a, edx, xs, 1e-5, 1e-4);
    grade::require_close(r.b, edg, {C}, 1e-5, 1e-4);
    grade::require_close(r.c, edb, {C}, 1e-5, 1e-4);
}

TEST_CASE("batch_norm2d rejects bad arguments", "[points:1]") {
    Tensor x = Tensor::zeros({2, 3, 2, 2});
    Tensor g = Tensor::ones({3}), b = Tensor::zeros({3}), rm = Tensor::zeros({3}), rv = Tensor::ones({3});
    Tensor g4 = Tensor::ones({4});
    grade::require_status(TT_SHAPE_MISMATCH, [&] { tt::batch_norm2d(x, g4, b, rm, rv, true); });
    grade::require_status(TT_SHAPE_MISMATCH, [&] { tt::batch_norm2d(Tensor::zeros({2, 3}), g, b, rm, rv, true); });
    // one value per channel cannot be normalised in training
    Tensor one = Tensor::zeros({1, 3, 1, 1});
    grade::require_status(TT_INVALID_ARGUMENT, [&] { tt::batch_norm2d(one, g, b, rm, rv, true); });
}

// ================================================================ flatten

// ================================================================ batch norm fused with ReLU

namespace {

BnOut bn_relu_fwd(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& rm, Tensor& rv,
                  bool training) {
    tt_tensor *y = nullptr, *m = nullptr, *s = nullptr;
    check(api().batchnorm2d_relu_forward(x.raw(), gamma.raw(), beta.raw(), rm.raw(), rv.raw(), training ? 1 : 0,
                                         0.1f, 1e-5f, &y, &m, &s),
          "batchnorm2d_relu_forward");
    REQUIRE(y != nullptr);
    REQUIRE(m != nullptr);
    REQUIRE(s != nullptr);
    return {Tensor::adopt(y), Tensor::adopt(m), Tensor::adopt(s)};
}

// max(0, v) of every value, on the test side.
std::vector<float> relu_of(const Tensor& t) {
    std::vector<float> v(t.data(), t.data() + t.numel());
    for (float& f : v) f = f > 0.0f ? f : 0.0f;
    return v;
}

}  // namespace

TEST_CASE("batch_norm2d_relu forward is max(0, batch_norm2d) with the same statistics", "[points:2]") {
    const int64_t N = 4, C = 3, H = 5, W = 3;  // 15 values a plane: not a multiple of the vector width
    const Shape xs{N, C, H, W};
    auto xv = grade::random_values(N * C * H * W, 301, -2.0f, 2.0f);
    Tensor x = Tensor::from(xv, xs);
    Tensor gamma = Tensor::from({1.5f, -0.5f, 0.75f}, {C}), beta = Tensor::from({0.2f, 0.0f, -0.4f}, {C});
    for (bool training : {true, false}) {
        INFO((training ? "training" : "eval"));
        Tensor rm1 = Tensor::from({0.1f, -0.2f, 0.3f}, {C}), rv1 = Tensor::from({0.9f, 1.1f, 1.3f}, {C});
        Tensor rm2 = rm1.clone(), rv2 = rv1.clone();
        BnOut plain = bn_fwd(x, gamma, beta, rm1, rv1, training);
        BnOut fused = bn_relu_fwd(x, gamma, beta, rm2, rv2, training);
        grade::require_close(fused.y, relu_of(plain.y), xs, 1e-6, 1e-6);
        grade::require_close(fused.mean, plain.mean, 1e-6, 1e-6);
        grade::require_close(fused.invstd, plain.invstd, 1e-6, 1e-6);
        grade::require_close(rm2, rm1, 1e-6, 1e-6);  // the running statistics move the same way
        grade::require_close(rv2, rv1, 1e-6, 1e-6);
        int64_t cut = 0;
        for (int64_t i = 0; i < fused.y.numel(); ++i) cut += fused.y.data()[i] == 0.0f;
        CHECK(cut > 0);  // the data reaches both sides of the ReLU
        CHECK(cut < fused.y.numel());
    }
}

TEST_CASE("batch_norm2d_relu backward is batch_norm2d's with the gradient cut where out <= 0", "[points:2]") {
    const int64_t N = 3, C = 2, H = 3, W = 5;
    const Shape xs{N, C, H, W};
    auto xv = grade::random_values(N * C * H * W, 311, -2.0f, 2.0f);
    auto gv = grade::random_values(N * C * H * W, 312);
    Tensor x = Tensor::from(xv, xs), g = Tensor::from(gv, xs);
    Tensor gamma = Tensor::from({1.25f, -0.8f}, {C}), beta = Tensor::from({0.1f, -0.3f}, {C});
    for (bool training : {true, false}) {
        INFO((training ? "training" : "eval"));
        Tensor rm = Tensor::from({0.2f, -0.1f}, {C}), rv = Tensor::from({1.2f, 0.7f}, {C});
        BnOut f = bn_relu_fwd(x, gamma, beta, rm, rv, training);
        tt_tensor *dx = nullptr, *dg = nullptr, *db = nullptr;
        check(api().batchnorm2d_relu_backward(x.raw(), gamma.raw(), f.mean.raw(), f.invstd.raw(), f.y.raw(),
                                              training ? 1 : 0, g.raw(), &dx, &dg, &db),
              "batchnorm2d_relu_backward");
        REQUIRE(dx != nullptr);
        REQUIRE(dg != nullptr);
        REQUIRE(db != nullptr);
        Tensor tdx = Tensor::adopt(dx), tdg = Tensor::adopt(dg), tdb = Tensor::adopt(db);
        // The chain rule by hand: the ReLU's gradient first, then batch norm's own backward.
        std::vector<float> cut(gv);
        for (size_t i = 0; i < cut.size(); ++i)
            if (!(f.y.data()[i] > 0.0f)) cut[i] = 0.0f;
        Grads3 e = bn_bwd(x, gamma, f.mean, f.invstd, training, Tensor::from(cut, xs));
        grade::require_close(tdx, e.a, 1e-5, 1e-4);
        grade::require_close(tdg, e.b, 1e-5, 1e-4);
        grade::require_close(tdb, e.c, 1e-5, 1e-4);
    }
    // only what is asked for; an `out` of the wrong shape is refused
    Tensor rm = Tensor::zeros({C}), rv = Tensor::ones({C});
    BnOut f = bn_relu_fwd(x, gamma, beta, rm, rv, true);
    tt_tensor* db = nullptr;
    check(api().batchnorm2d_relu_backward(x.raw(), gamma.raw(), f.mean.raw(), f.invstd.raw(), f.y.raw(), 1, g.raw(),
                                          nullptr, nullptr, &db),
          "batchnorm2d_relu_backward (d beta only)");
    REQUIRE(db != nullptr);
    Tensor::adopt(db);
    Tensor wrong = Tensor::zeros({N, C, H, W + 1});
    tt_tensor* dx = reinterpret_cast<tt_tensor*>(0x1);
    CHECK(api().batchnorm2d_relu_backward(x.raw(), gamma.raw(), f.mean.raw(), f.invstd.raw(), wrong.raw(), 1,
                                          g.raw(), &dx, nullptr, nullptr) == TT_SHAPE_MISMATCH);
    CHECK(dx == nullptr);
}

TEST_CASE("Sequential fuses BatchNorm2d and ReLU: the same values and gradients as the two ops", "[points:1]") {
    const int64_t N = 4, C = 2, H = 4, W = 4;
    const Shape xs{N, C, H, W};
    auto xv = grade::random_values(N * C * H * W, 321, -1.5f, 1.5f);
    auto wv = grade::random_values(N * C * H * W, 322);
    auto seq = std::make_shared<tt::nn::Sequential>();
    auto& bn = seq->add<tt::nn::BatchNorm2d>(C);
    seq->add<tt::nn::ReLU>();
    bn.gamma = Tensor::from({0.5f, 2.0f}, {C});
    bn.beta = Tensor::from({0.25f, -0.5f}, {C});
    bn.gamma.set_requires_grad();
    bn.beta.set_requires_grad();
    Tensor x1 = Tensor::from(xv, xs);
    x1.set_requires_grad();
    Tensor y1 = seq->forward(x1);
    (y1 * Tensor::from(wv, xs)).sum().backward();

    Tensor x2 = Tensor::from(xv, xs), g2 = Tensor::from({0.5f, 2.0f}, {C}), b2 = Tensor::from({0.25f, -0.5f}, {C});
    x2.set_requires_grad();
    g2.set_requires_grad();
    b2.set_requires_grad();
    Tensor rm = Tensor::zeros({C}), rv = Tensor::ones({C});
    Tensor y2 = tt::relu(tt::batch_norm2d(x2, g2, b2, rm, rv, true));
    (y2 * Tensor::from(wv, xs)).sum().backward();
    grade::require_close(y1, y2, 1e-6, 1e-6);
    grade::require_close(x1.grad(), x2.grad(), 1e-5, 1e-4);
    grade::require_close(bn.gamma.grad(), g2.grad(), 1e-5, 1e-4);
    grade::require_close(bn.beta.grad(), b2.grad(), 1e-5, 1e-4);
    grade::require_close(bn.running_mean, rm, 1e-6, 1e-6);
}

// ================================================================ batch norm, ReLU and max-pool fused

namespace {

struct BnPoolOut {
    Tensor out, indices, mean, invstd;
};

BnPoolOut bn_relu_pool_fwd(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& rm, Tensor& rv,
                           bool training, int32_t k, int32_t s) {
    tt_tensor *o = nullptr, *i = nullptr, *m = nullptr, *v = nullptr;
    check(api().batchnorm2d_relu_maxpool2d_forward(x.raw(), gamma.raw(), beta.raw(), rm.raw(), rv.raw(),
                                                   training ? 1 : 0, 0.1f, 1e-5f, k, s, &o, &i, &m, &v),
          "batchnorm2d_relu_maxpool2d_forward");
    REQUIRE(o != nullptr);
    REQUIRE(i != nullptr);
    REQUIRE(m != nullptr);
    REQUIRE(v != nullptr);
    return {Tensor::adopt(o), Tensor::adopt(i), Tensor::adopt(m), Tensor::adopt(v)};
}

struct PoolCase {
    Shape shape;
    int32_t k, s;
};
const PoolCase kPoolCases[] = {{{2, 3, 6, 10}, 2, 2},   // five windows a row
                               {{2, 2, 4, 4}, 2, 2},    // two windows a row
                               {{2, 2, 7, 7}, 3, 2},    // overlapping windows
                               {{3, 2, 5, 5}, 2, 2}};   // an uncovered last row and column

// Random x, gamma and beta for a case (seed advanced past what they used).
struct BlockInputs {
    Tensor x, gamma, beta;
};
BlockInputs block_inputs(const PoolCase& pc, uint64_t* seed) {
    const int64_t C = pc.shape[1], n = pc.shape[0] * pc.shape[1] * pc.shape[2] * pc.shape[3];
    BlockInputs in;
    in.x = Tensor::from(grade::random_values(static_cast<size_t>(n), (*seed)++, -2, 2), pc.shape);
    in.gamma = Tensor::from(grade::random_values(static_cast<size_t>(C), (*seed)++, 0.5f, 1.5f), {C});
    in.beta = Tensor::from(grade::random_values(static_cast<size_t>(C), (*seed)++, -0.5f, 0.5f), {C});
    return in;
}

}  // namespace

TEST_CASE("batch_norm2d_relu_max_pool2d forward is max_pool2d of batch_norm2d_relu", "[points:2]") {
    uint64_t seed = 341;
    for (const PoolCase& pc : kPoolCases)
        for (bool training : {true, false}) {
            INFO("x " << tt::shape_str(pc.shape) << ", kernel " << pc.k << ", stride " << pc.s
                      << (training ? ", training" : ", eval"));
            const int64_t C = pc.shape[1];
            auto [x, gamma, beta] = block_inputs(pc, &seed);
            Tensor rm1 = Tensor::from(grade::random_values(static_cast<size_t>(C), seed++), {C});
            Tensor rv1 = Tensor::from(grade::random_values(static_cast<size_t>(C), seed++, 0.5f, 2.0f), {C});
            Tensor rm2 = rm1.clone(), rv2 = rv1.clone();
            BnOut z = bn_relu_fwd(x, gamma, beta, rm1, rv1, training);
            PoolOut p = maxpool(z.y, pc.k, pc.s);
            BnPoolOut f = bn_relu_pool_fwd(x, gamma, beta, rm2, rv2, training, pc.k, pc.s);
            grade::require_close(f.out, p.out, 0, 0);
            grade::require_close(f.indices, p.indices, 0, 0);
            grade::require_close(f.mean, z.mean, 0, 0);
            grade::require_close(f.invstd, z.invstd, 0, 0);
            grade::require_close(rm2, rm1, 0, 0);
            grade::require_close(rv2, rv1, 0, 0);
        }
}

TEST_CASE("batch_norm2d_relu_max_pool2d backward is the chain of max_pool2d's and batch_norm2d_relu's", "[points:2]") {
    uint64_t seed = 361;
    for (const PoolCase& pc : kPoolCases)
        for (bool training : {true, false}) {
            INFO("x " << tt::shape_str(pc.shape) << ", kernel " << pc.k << ", stride " << pc.s
                      << (training ? ", training" : ", eval"));
            const int64_t C = pc.shape[1];
            auto [x, gamma, beta] = block_inputs(pc, &seed);
            Tensor rm = Tensor::zeros({C}), rv = Tensor::ones({C});
            BnPoolOut f = bn_relu_pool_fwd(x, gamma, beta, rm, rv, training, pc.k, pc.s);
            Tensor g = Tensor::from(grade::random_values(static_cast<size_t>(f.out.numel()), seed++), f.out.shape());
            tt_tensor *dx = nullptr, *dg = nullptr, *db = nullptr;
            check(api().batchnorm2d_relu_maxpool2d_backward(x.raw(), gamma.raw(), f.mean.raw(), f.invstd.raw(),
                                                            f.indices.raw(), f.out.raw(), training ? 1 : 0, pc.k,
                                                            pc.s, g.raw(), &dx, &dg, &db),
                  "batchnorm2d_relu_maxpool2d_backward");
            REQUIRE(dx != nullptr);
            REQUIRE(dg != nullptr);
            REQUIRE(db != nullptr);
            Tensor tdx = Tensor::adopt(dx), tdg = Tensor::adopt(dg), tdb = Tensor::adopt(db);
            // the chain, op by op: the batch norm's output again, the pool's
            // backward into it, then batch_norm2d_relu's backward
            Tensor rm2 = Tensor::zeros({C}), rv2 = Tensor::ones({C});
            BnOut z = bn_relu_fwd(x, gamma, beta, rm2, rv2, training);
            Tensor dz = maxpool_bwd(z.y, f.indices, g, pc.k, pc.s);
            tt_tensor *ex = nullptr, *eg = nullptr, *eb = nullptr;
            check(api().batchnorm2d_relu_backward(x.raw(), gamma.raw(), z.mean.raw(), z.invstd.raw(), z.y.raw(),
                                                  training ? 1 : 0, dz.raw(), &ex, &eg, &eb),
                  "batchnorm2d_relu_backward");
            grade::require_close(tdx, Tensor::adopt(ex), 1e-5, 1e-4);
            grade::require_close(tdg, Tensor::adopt(eg), 1e-5, 1e-4);
            grade::require_close(tdb, Tensor::adopt(eb), 1e-5, 1e-4);
        }
    // bad input: an index outside the plane, a gradient of the wrong shape
    const Shape xs{1, 1, 4, 4};
    Tensor x = Tensor::from(grade::random_values(16, 371), xs);
    Tensor gamma = Tensor::ones({1}), beta = Tensor::full({1}, 5.0f);  // every output > 0
    Tensor rm = Tensor::zeros({1}), rv = Tensor::ones({1});
    BnPoolOut f = bn_relu_pool_fwd(x, gamma, beta, rm, rv, true, 2, 2);
    Tensor bad = Tensor::from({0, 2, 8, 99}, {1, 1, 2, 2});
    Tensor g = Tensor::ones({1, 1, 2, 2});
    tt_tensor* dx = nullptr;
    CHECK(api().batchnorm2d_relu_maxpool2d_backward(x.raw(), gamma.raw(), f.mean.raw(), f.invstd.raw(), bad.raw(),
                                                    f.out.raw(), 1, 2, 2, g.raw(), &dx, nullptr, nullptr) ==
          TT_INVALID_ARGUMENT);
    CHECK(dx == nullptr);
    Tensor wrong = Tensor::ones({1, 1, 2, 3});
    CHECK(api().batchnorm2d_relu_maxpool2d_backward(x.raw(), gamma.raw(), f.mean.raw(), f.invstd.raw(),
                                                    f.indices.raw(), f.out.raw(), 1, 2, 2, wrong.raw(), &dx, nullptr,
                                                    nullptr) == TT_SHAPE_MISMATCH);
    CHECK(dx == nullptr);
}

TEST_CASE("Sequential fuses BatchNorm2d, ReLU and MaxPool2d: the same values and gradients as the three ops", "[points:1]") {
    const int64_t N = 4, C = 2, H = 6, W = 6;
    const Shape xs{N, C, H, W};
    auto xv = grade::random_values(N * C * H * W, 381, -1.5f, 1.5f);
    auto wv = grade::random_values(N * C * 3 * 3, 382);
    auto seq = std::make_shared<tt::nn::Sequential>();
    auto& bn = seq->add<tt::nn::BatchNorm2d>(C);
    seq->add<tt::nn::ReLU>();
    seq->add<tt::nn::MaxPool2d>(2);
    bn.gamma = Tensor::from({0.5f, 2.0f}, {C});
    bn.beta = Tensor::from({0.25f, -0.5f}, {C});
    bn.gamma.set_requires_grad();
    bn.beta.set_requires_grad();
    Tensor x1 = Tensor::from(xv, xs);
    x1.set_requires_grad();
    Tensor y1 = seq->forward(x1);
    REQUIRE(y1.shape() == Shape{N, C, 3, 3});
    (y1 * Tensor::from(wv, {N, C, 3, 3})).sum().backward();

    Tensor x2 = Tensor::from(xv, xs), g2 = Tensor::from({0.5f, 2.0f}, {C}), b2 = Tensor::from({0.25f, -0.5f}, {C});
    x2.set_requires_grad();
    g2.set_requires_grad();
    b2.set_requires_grad();
    Tensor rm = Tensor::zeros({C}), rv = Tensor::ones({C});
    Tensor y2 = tt::max_pool2d(tt::relu(tt::batch_norm2d(x2, g2, b2, rm, rv, true)), 2);
    (y2 * Tensor::from(wv, {N, C, 3, 3})).sum().backward();
    grade::require_close(y1, y2, 1e-6, 1e-6);
    grade::require_close(x1.grad(), x2.grad(), 1e-5, 1e-4);
    grade::require_close(bn.gamma.grad(), g2.grad(), 1e-5, 1e-4);
    grade::require_close(bn.beta.grad(), b2.grad(), 1e-5, 1e-4);
    grade::require_close(bn.running_var, rv, 1e-6, 1e-6);
}

TEST_CASE("flatten keeps the batch axis and the element order", "[points:1]") {
    Tensor x = Tensor::from(sequence(2 * 3 * 2 * 2), {2, 3, 2, 2});
    grade::require_close(tt::flatten(x), sequence(24), {2, 12});
    grade::require_close(tt::flatten(Tensor::from(sequence(6), {3, 2})), sequence(6), {3, 2});
    grade::require_close(tt::flatten(Tensor::from(sequence(8), {2, 2, 1, 2, 1})), sequence(8), {2, 4});
    grade::require_status(TT_SHAPE_MISMATCH, [&] { tt::flatten(Tensor::from({1, 2, 3}, {3})); });
    // its gradient is a reshape back
    Tensor xg = Tensor::from(sequence(12), {2, 3, 2});
    xg.set_requires_grad();
    (tt::flatten(xg) * Tensor::from(sequence(12), {2, 6})).sum().backward();
    grade::require_close(xg.grad(), sequence(12), {2, 3, 2});
}

TEST_CASE("Flatten layer: random NCHW images flatten in C, H, W order, and back", "[points:1]") {
    // [2, 3, 2, 4]: sample n's row is its channels one after the other, each
    // plane row by row (never pixel by pixel across channels).
    const std::vector<float> v = grade::random_values(2 * 3 * 2 * 4, 351);
    Tensor x = Tensor::from(v, {2, 3, 2, 4});
    x.set_requires_grad();
    tt::nn::Flatten layer;
    Tensor y = layer(x);
    grade::require_close(y, v, {2, 24}, 0, 0);
    CHECK(y.at({0, 4}) == x.at({0, 0, 1, 0}));
    CHECK(y.at({1, 9}) == x.at({1, 1, 0, 1}));
    const std::vector<float> w = grade::random_values(48, 352);
    (y * Tensor::from(w, {2, 24})).sum().backward();
    grade::require_close(x.grad(), w, {2, 3, 2, 4}, 0, 0);
}

// ================================================================ layers

TEST_CASE("nn layers: Conv2d, BatchNorm2d, MaxPool2d and Flatten compose", "[points:1]") {
    tt::runtime().seed(3);
    tt::nn::Sequential net;
    net.add<tt::nn::Conv2d>(1, 4, 3, 1, 1);
    net.add<tt::nn::BatchNorm2d>(4);
    net.add<tt::nn::ReLU>();
    net.add<tt::nn::MaxPool2d>(2);
    net.add<tt::nn::Flatten>();
    Tensor x = Tensor::from(grade::random_values(2 * 1 * 8 * 8, 5), {2, 1, 8, 8});
    Tensor y = net(x);
    REQUIRE(y.shape() == Shape{2, 4 * 4 * 4});
    // every value is a max of ReLU outputs: never negative
    for (float v : y.to_vector()) REQUIRE(v >= 0.0f);
}
