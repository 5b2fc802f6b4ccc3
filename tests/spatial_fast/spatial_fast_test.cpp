// The fast variant of module 09 (modules/09_spatial/fast/) against the
// reference (modules/09_spatial/reference/): every function, forward and
// backward, on random shapes, including the ones that take the fast
// variant's special paths (an image big enough to be its own GEMM, TinyDigits'
// 4- and 8-float rows, the 2x2 pool's vector code on wide and narrow planes,
// several threads).
//
// The runtime loads the reference as module 09; this test opens the fast
// library beside it (its own copy of the host table, module 01 from the
// runtime) and calls both tables on the same inputs.
#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tinytorch/runtime.hpp"
#include "tinytorch/tensor.hpp"

using tt::Tensor;

namespace {

const tt_spatial_api& fast_api() {
    static const tt_spatial_api* api = [] {
        tt::runtime().configure(tt::parse_impl_spec("reference"));
        tt::runtime().require(9);
        static tt_host host = tt::runtime().host();
        host.tensor = &tt::runtime().tensor();
        const std::string path = std::string(TT_TEST_LIB_DIR) + "/tt_09_spatial_fast.so";
        void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        INFO(path << ": " << (lib ? "" : dlerror()));
        REQUIRE(lib != nullptr);
        auto entry = reinterpret_cast<const tt_module_descriptor* (*)()>(dlsym(lib, "tt_entry_09_spatial"));
        REQUIRE(entry != nullptr);
        const tt_module_descriptor* d = entry();
        REQUIRE(d->variant == TT_VARIANT_FAST);
        REQUIRE(d->init(&host) == TT_OK);
        return static_cast<const tt_spatial_api*>(d->api);
    }();
    return *api;
}
const tt_spatial_api& ref_api() { return tt::runtime().spatial(); }

Tensor adopt(tt_tensor* t) { return t ? Tensor::adopt(t) : Tensor(); }

// Same shape and values within a tolerance relative to the largest value.
void require_close(const char* what, const Tensor& ref, const Tensor& fast, float rel = 2e-5f) {
    INFO(what);
    REQUIRE(ref.defined() == fast.defined());
    if (!ref.defined()) return;
    REQUIRE(ref.shape() == fast.shape());
    float scale = 1e-3f;
    for (int64_t i = 0; i < ref.numel(); ++i) scale = std::max(scale, std::fabs(ref.data()[i]));
    for (int64_t i = 0; i < ref.numel(); ++i) {
        INFO("element " << i << " of " << ref.numel());
        REQUIRE(fast.data()[i] == Approx(ref.data()[i]).margin(rel * scale));
    }
}

std::mt19937& rng() {
    static std::mt19937 r(2024);
    return r;
}
int64_t pick(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng()); }

struct ConvCase {
    int64_t N, C, H, W, O, KH, KW, stride, pad;
};

void check_conv(const ConvCase& c) {
    INFO("conv x [" << c.N << "," << c.C << "," << c.H << "," << c.W << "] weight [" << c.O << "," << c.C << ","
                    << c.KH << "," << c.KW << "] stride " << c.stride << " pad " << c.pad);
    Tensor x = Tensor::uniform({c.N, c.C, c.H, c.W}, -1, 1);
    Tensor w = Tensor::uniform({c.O, c.C, c.KH, c.KW}, -1, 1), b = Tensor::uniform({c.O}, -1, 1);
    tt_tensor *yr = nullptr, *yf = nullptr;
    REQUIRE(ref_api().conv2d_forward(x.raw(), w.raw(), b.raw(), c.stride, c.pad, &yr) == TT_OK);
    REQUIRE(fast_api().conv2d_forward(x.raw(), w.raw(), b.raw(), c.stride, c.pad, &yf) == TT_OK);
    Tensor y_ref = adopt(yr), y_fast = adopt(yf);
    require_close("conv2d_forward", y_ref, y_fast);
    Tensor grad = Tensor::uniform(y_ref.shape(), -1, 1);
    tt_tensor* r[3] = {};
    tt_tensor* f[3] = {};
    REQUIRE(ref_api().conv2d_backward(x.raw(), w.raw(), grad.raw(), c.stride, c.pad, &r[0], &r[1], &r[2]) == TT_OK);
    REQUIRE(fast_api().conv2d_backward(x.raw(), w.raw(), grad.raw(), c.stride, c.pad, &f[0], &f[1], &f[2]) == TT_OK);
    require_close("d x", adopt(r[0]), adopt(f[0]));
    require_close("d weight", adopt(r[1]), adopt(f[1]));
    require_close("d bias", adopt(r[2]), adopt(f[2]));
    // only d weight asked for (the first layer of a network)
    REQUIRE(fast_api().conv2d_backward(x.raw(), w.raw(), grad.raw(), c.stride, c.pad, nullptr, &f[1], nullptr) == TT_OK);
    REQUIRE(ref_api().conv2d_backward(x.raw(), w.raw(), grad.raw(), c.stride, c.pad, nullptr, &r[1], nullptr) == TT_OK);
    require_close("d weight alone", adopt(r[1]), adopt(f[1]));
}

void check_pools(int64_t N, int64_t C, int64_t H, int64_t W, int32_t k, int32_t s) {
    INFO("pool x [" << N << "," << C << "," << H << "," << W << "] kernel " << k << " stride " << s);
    Tensor x = Tensor::uniform({N, C, H, W}, -1, 1);
    tt_tensor *yr = nullptr, *ir = nullptr, *yf = nullptr, *iff = nullptr;
    REQUIRE(ref_api().maxpool2d_forward(x.raw(), k, s, &yr, &ir) == TT_OK);
    REQUIRE(fast_api().maxpool2d_forward(x.raw(), k, s, &yf, &iff) == TT_OK);
    Tensor y = adopt(yr), idx = adopt(ir);
    require_close("maxpool2d_forward", y, adopt(yf), 0.0f);
    require_close("maxpool2d indices", idx, adopt(iff), 0.0f);
    Tensor grad = Tensor::uniform(y.shape(), -1, 1);
    REQUIRE(ref_api().maxpool2d_backward(x.raw(), idx.raw(), grad.raw(), k, s, &yr) == TT_OK);
    REQUIRE(fast_api().maxpool2d_backward(x.raw(), idx.raw(), grad.raw(), k, s, &yf) == TT_OK);
    require_close("maxpool2d_backward", adopt(yr), adopt(yf), 1e-6f);
    REQUIRE(ref_api().avgpool2d_forward(x.raw(), k, s, &yr) == TT_OK);
    REQUIRE(fast_api().avgpool2d_forward(x.raw(), k, s, &yf) == TT_OK);
    require_close("avgpool2d_forward", adopt(yr), adopt(yf));
    REQUIRE(ref_api().avgpool2d_backward(x.raw(), grad.raw(), k, s, &yr) == TT_OK);
    REQUIRE(fast_api().avgpool2d_backward(x.raw(), grad.raw(), k, s, &yf) == TT_OK);
    require_close("avgpool2d_backward", adopt(yr), adopt(yf));
}

// Batch norm alone, with the ReLU, and with ReLU and a 2x2 max-pool; training
// and eval; the running statistics each variant leaves behind.
void check_batchnorm(int64_t N, int64_t C, int64_t H, int64_t W, bool training) {
    INFO("batchnorm x [" << N << "," << C << "," << H << "," << W << "] training " << training);
    Tensor x = Tensor::uniform({N, C, H, W}, -2, 3);
    Tensor gamma = Tensor::uniform({C}, 0.5f, 1.5f), beta = Tensor::uniform({C}, -0.5f, 0.5f);
    const Tensor rm0 = Tensor::uniform({C}, -0.2f, 0.2f), rv0 = Tensor::uniform({C}, 0.5f, 1.5f);
    const int32_t train = training ? 1 : 0;
    for (int fused = 0; fused < 3; ++fused) {
        INFO("fused " << fused << " (0 none, 1 ReLU, 2 ReLU and max-pool)");
        Tensor out[2], mean[2], invstd[2], idx[2], rm[2], rv[2];
        const tt_spatial_api* apis[2] = {&ref_api(), &fast_api()};
        for (int v = 0; v < 2; ++v) {
            rm[v] = rm0.clone();
            rv[v] = rv0.clone();
            tt_tensor *o = nullptr, *m = nullptr, *s = nullptr, *i = nullptr;
            tt_status st = fused == 0 ? apis[v]->batchnorm2d_forward(x.raw(), gamma.raw(), beta.raw(), rm[v].raw(),
                                                                     rv[v].raw(), train, 0.1f, 1e-5f, &o, &m, &s)
                           : fused == 1
                               ? apis[v]->batchnorm2d_relu_forward(x.raw(), gamma.raw(), beta.raw(), rm[v].raw(),
                                                                   rv[v].raw(), train, 0.1f, 1e-5f, &o, &m, &s)
                               : apis[v]->batchnorm2d_relu_maxpool2d_forward(x.raw(), gamma.raw(), beta.raw(),
                                                                             rm[v].raw(), rv[v].raw(), train, 0.1f,
                                                                             1e-5f, 2, 2, &o, &i, &m, &s);
            REQUIRE(st == TT_OK);
            out[v] = adopt(o), mean[v] = adopt(m), invstd[v] = adopt(s), idx[v] = adopt(i);
        }
        require_close("out", out[0], out[1], 1e-5f);
        require_close("saved mean", mean[0], mean[1], 1e-5f);
        require_close("saved invstd", invstd[0], invstd[1], 1e-5f);
        require_close("running mean", rm[0], rm[1], 1e-5f);
        require_close("running var", rv[0], rv[1], 1e-5f);
        if (fused == 2) require_close("indices", idx[0], idx[1], 0.0f);
        Tensor grad = Tensor::uniform(out[0].shape(), -1, 1);
        Tensor d[2][3];
        for (int v = 0; v < 2; ++v) {
            // both backwards from the reference's forward outputs
            tt_tensor* g[3] = {};
            tt_status st =
                fused == 0 ? apis[v]->batchnorm2d_backward(x.raw(), gamma.raw(), mean[0].raw(), invstd[0].raw(), train,
                                                           grad.raw(), &g[0], &g[1], &g[2])
                : fused == 1
                    ? apis[v]->batchnorm2d_relu_backward(x.raw(), gamma.raw(), mean[0].raw(), invstd[0].raw(),
                                                         out[0].raw(), train, grad.raw(), &g[0], &g[1], &g[2])
                    : apis[v]->batchnorm2d_relu_maxpool2d_backward(x.raw(), gamma.raw(), mean[0].raw(),
                                                                   invstd[0].raw(), idx[0].raw(), out[0].raw(), train,
                                                                   2, 2, grad.raw(), &g[0], &g[1], &g[2]);
            REQUIRE(st == TT_OK);
            for (int j = 0; j < 3; ++j) d[v][j] = adopt(g[j]);
        }
        require_close("d x", d[0][0], d[1][0], 1e-4f);
        require_close("d gamma", d[0][1], d[1][1], 1e-4f);
        require_close("d beta", d[0][2], d[1][2], 1e-4f);
    }
}

void on_threads(int threads) { tt::runtime().set_threads(threads); }

}  // namespace

TEST_CASE("fast conv2d matches the reference on random shapes, forward and backward", "[spatial_fast]") {
    fast_api();
    for (int threads : {1, 3}) {
        on_threads(threads);
        INFO(threads << " threads");
        for (int i = 0; i < 12; ++i) {
            ConvCase c{pick(1, 5), pick(1, 4), pick(3, 12), pick(3, 12), pick(1, 6), pick(1, 4), pick(1, 4),
                       pick(1, 3), pick(0, 2)};
            c.KH = std::min(c.KH, c.H + 2 * c.pad);
            c.KW = std::min(c.KW, c.W + 2 * c.pad);
            check_conv(c);
        }
        check_conv({3, 3, 32, 32, 8, 5, 5, 1, 0});  // an image big enough to be its own GEMM
        check_conv({9, 8, 6, 6, 16, 3, 3, 1, 0});   // rows of 4 floats (TinyDigits' second conv)
        check_conv({9, 1, 8, 8, 8, 3, 3, 1, 1});    // rows of 8 floats (its first)
        check_conv({2, 2, 9, 9, 3, 3, 3, 2, 1});    // stride 2 with padding
    }
}

TEST_CASE("fast max and average pooling match the reference", "[spatial_fast]") {
    fast_api();
    check_pools(2, 3, 16, 16, 2, 2);  // the vector 2x2 path
    check_pools(4, 5, 4, 4, 2, 2);    // narrow planes, two windows wide
    check_pools(2, 3, 13, 11, 2, 2);  // uncovered last row and column
    check_pools(2, 2, 9, 10, 3, 2);   // overlapping windows
    for (int i = 0; i < 6; ++i) {
        const int32_t k = static_cast<int32_t>(pick(1, 3)), s = static_cast<int32_t>(pick(1, 3));
        check_pools(pick(1, 3), pick(1, 4), pick(k, 12), pick(k, 12), k, s);
    }
}

TEST_CASE("fast batch norm and the fused ops match the reference", "[spatial_fast]") {
    fast_api();
    for (bool training : {true, false}) {
        check_batchnorm(4, 3, 8, 8, training);
        check_batchnorm(3, 5, 6, 10, training);
        check_batchnorm(2, 2, 13, 13, training);  // odd planes: scalar tails and an uncovered pool edge
    }
}
