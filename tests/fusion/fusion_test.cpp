// Fusion in nn::Sequential: BatchNorm2d, ReLU[, MaxPool2d] run as module 09's
// fused ops, and as the separate ops when module 09 has not implemented the
// fused ones. The values and gradients must be the same either way.
//
// This process loads module 09 from a fixture whose fused slots return
// TT_NOT_IMPLEMENTED (tests/fusion/fixtures), the other modules from the
// reference libraries, all copied into one library directory.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/temp_dir.hpp"
#include "tinytorch/nn.hpp"
#include "tinytorch/runtime.hpp"
#include "tinytorch/tensor.hpp"

namespace fs = std::filesystem;
using tt::Shape;
using tt::Tensor;

namespace {

// Point the runtime at <tmp>/lib: the reference libraries plus the fixture as
// module 09's student library. Done once, before any module is loaded.
void use_fixture_stack() {
    static bool done = false;
    if (done) return;
    // Removed at exit (a loaded library's file may go: Linux keeps the mapping).
    static tt_test::TempDir tmp("fusion");
    const fs::path& dir = tmp.path;
    for (auto& e : fs::directory_iterator(TT_TEST_LIB_DIR)) {
        std::string name = e.path().filename().string();
        if (name.find("_reference.so") != std::string::npos)
            fs::copy_file(e.path(), dir / name, fs::copy_options::overwrite_existing);
    }
    fs::copy_file(fs::path(TT_FIXTURE_DIR) / "tt_09_spatial_student.so", dir / "tt_09_spatial_student.so",
                  fs::copy_options::overwrite_existing);
    ::setenv("TITO_LIB_DIR", dir.c_str(), 1);
    tt::runtime().configure(tt::parse_impl_spec("reference,09=student"));
    tt::runtime().seed(7);
    done = true;
}

void require_same(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    for (int64_t i = 0; i < a.numel(); ++i) REQUIRE(a.data()[i] == Approx(b.data()[i]).margin(1e-6));
}

}  // namespace

TEST_CASE("without the fused ops, the fused entry points fall back to the separate ops", "[fusion]") {
    use_fixture_stack();
    const tt_spatial_api& sp = tt::runtime().spatial();
    Tensor x = Tensor::uniform({2, 3, 6, 6}, -1, 1);
    Tensor gamma = Tensor::uniform({3}, 0.5f, 1.5f), beta = Tensor::uniform({3}, -0.5f, 0.5f);
    tt_tensor *o = nullptr, *m = nullptr, *s = nullptr;
    Tensor rm = Tensor::zeros({3}), rv = Tensor::ones({3});
    // the fixture really lacks them
    REQUIRE(sp.batchnorm2d_relu_forward(x.raw(), gamma.raw(), beta.raw(), rm.raw(), rv.raw(), 1, 0.1f, 1e-5f, &o,
                                        &m, &s) == TT_NOT_IMPLEMENTED);

    Tensor rm1 = Tensor::zeros({3}), rv1 = Tensor::ones({3}), rm2 = Tensor::zeros({3}), rv2 = Tensor::ones({3});
    require_same(tt::batch_norm2d_relu(x, gamma, beta, rm1, rv1, true),
                 tt::relu(tt::batch_norm2d(x, gamma, beta, rm2, rv2, true)));
    require_same(rv1, rv2);
    require_same(tt::batch_norm2d_relu_max_pool2d(x, gamma, beta, rm1, rv1, true, 0.1f, 1e-5f, 2, 2),
                 tt::max_pool2d(tt::relu(tt::batch_norm2d(x, gamma, beta, rm2, rv2, true)), 2));
    require_same(rm1, rm2);
}

TEST_CASE("Sequential with BatchNorm2d, ReLU, MaxPool2d trains the same without the fused ops", "[fusion]") {
    use_fixture_stack();
    const Shape xs{4, 2, 6, 6};
    Tensor xv = Tensor::uniform(xs, -1.5f, 1.5f);
    Tensor w = Tensor::uniform({4, 2, 3, 3}, -1, 1);

    auto seq = std::make_shared<tt::nn::Sequential>();
    auto& bn = seq->add<tt::nn::BatchNorm2d>(2);
    seq->add<tt::nn::ReLU>();
    seq->add<tt::nn::MaxPool2d>(2);
    Tensor x1 = xv.clone();
    x1.set_requires_grad();
    Tensor y1 = seq->forward(x1);
    (y1 * w).sum().backward();

    Tensor x2 = xv.clone(), g2 = Tensor::ones({2}), b2 = Tensor::zeros({2});
    x2.set_requires_grad();
    g2.set_requires_grad();
    b2.set_requires_grad();
    Tensor rm = Tensor::zeros({2}), rv = Tensor::ones({2});
    Tensor y2 = tt::max_pool2d(tt::relu(tt::batch_norm2d(x2, g2, b2, rm, rv, true)), 2);
    (y2 * w).sum().backward();

    require_same(y1, y2);
    require_same(x1.grad(), x2.grad());
    require_same(bn.gamma.grad(), g2.grad());
    require_same(bn.beta.grad(), b2.grad());
    require_same(bn.running_mean, rm);
}
