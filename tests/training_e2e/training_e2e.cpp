// End-to-end training through the C++ API on the reference modules: the
// autograd tape (core) and the engine and rules (module 05) must together
// produce gradients good enough to fit XOR and to classify TinyDigits.
// The optimizer is a hand-written SGD step, so only modules 01-05 are involved.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "tinytorch/datasets.hpp"
#include "tinytorch/nn.hpp"
#include "tinytorch/runtime.hpp"
#include "tinytorch/tensor.hpp"

namespace {

using tt::Tensor;

void use_reference() { tt::runtime().configure(tt::parse_impl_spec("reference")); }

// Linear -> ReLU -> Linear, the network of both tests.
struct Mlp {
    tt::nn::Linear l1, l2;
    Mlp(int64_t in, int64_t hidden, int64_t out) : l1(in, hidden), l2(hidden, out) {}
    Tensor operator()(const Tensor& x) { return l2(tt::relu(l1(x))); }
    std::vector<Tensor> params() { return {l1.weight, l1.bias, l2.weight, l2.bias}; }
};

// One plain SGD step (w -= lr * grad), then drop the gradients.
void sgd_step(std::vector<Tensor>& params, float lr) {
    for (Tensor& w : params) {
        Tensor g = w.grad();
        REQUIRE(g.defined());
        float* wd = w.data();
        const float* gd = g.data();
        for (int64_t i = 0; i < w.numel(); ++i) wd[i] -= lr * gd[i];
        w.zero_grad();
    }
}

// Fraction of rows of `logits` whose argmax equals the label.
double accuracy(const Tensor& logits, const std::vector<float>& labels) {
    Tensor pred = logits.argmax(1);
    int64_t right = 0;
    for (int64_t i = 0; i < pred.numel(); ++i) right += pred.data()[i] == labels[i];
    return static_cast<double>(right) / static_cast<double>(pred.numel());
}

}  // namespace

TEST_CASE("an MLP trained with autograd and SGD fits XOR", "[training_e2e]") {
    use_reference();
    tt::runtime().seed(7);
    Tensor x = Tensor::from({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
    std::vector<float> labels = {0, 1, 1, 0};
    Tensor y = Tensor::from(labels, {4});
    Mlp net(2, 16, 2);
    std::vector<Tensor> params = net.params();
    float first_loss = 0, last_loss = 0;
    for (int step = 0; step < 1000; ++step) {
        Tensor loss = tt::cross_entropy(net(x), y);
        if (step == 0) first_loss = loss.item();
        last_loss = loss.item();
        loss.backward();
        sgd_step(params, 0.2f);
    }
    INFO("loss went from " << first_loss << " to " << last_loss);
    REQUIRE(last_loss < 0.1f * first_loss);
    tt::NoGradGuard no_grad;
    REQUIRE(accuracy(net(x), labels) == 1.0);
}

TEST_CASE("an MLP trained with autograd and SGD classifies TinyDigits above 90%", "[training_e2e]") {
    use_reference();
    tt::runtime().seed(42);
    const std::string dir = TT_TEST_SOURCE_DIR "/datasets/tinydigits";
    tt::data::ImageDataset train = tt::data::load_tinydigits(dir, true);
    tt::data::ImageDataset test = tt::data::load_tinydigits(dir, false);
    REQUIRE(train.count == 1000);
    REQUIRE(test.count == 200);
    const int64_t features = train.image_size();  // 64

    Mlp net(features, 64, 10);
    std::vector<Tensor> params = net.params();

    // Minibatch SGD over a seeded shuffle (test-side generator).
    const int64_t batch = 32;
    std::vector<int64_t> order(static_cast<size_t>(train.count));
    std::iota(order.begin(), order.end(), 0);
    uint64_t state = 12345;
    auto next = [&state] {  // splitmix64
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    };
    for (int epoch = 0; epoch < 30; ++epoch) {
        for (size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[next() % (i + 1)]);
        for (int64_t start = 0; start < train.count; start += batch) {
            const int64_t n = std::min(batch, train.count - start);
            std::vector<float> xb(static_cast<size_t>(n * features)), yb(static_cast<size_t>(n));
            for (int64_t r = 0; r < n; ++r) {
                const int64_t k = order[static_cast<size_t>(start + r)];
                std::copy(train.image(k), train.image(k) + features, xb.begin() + r * features);
                yb[static_cast<size_t>(r)] = train.labels[static_cast<size_t>(k)];
            }
            Tensor loss = tt::cross_entropy(net(Tensor::from(xb, {n, features})), Tensor::from(yb, {n}));
            loss.backward();
            sgd_step(params, 0.1f);
        }
    }

    tt::NoGradGuard no_grad;
    double train_acc = accuracy(net(Tensor::from(train.images, {train.count, features})), train.labels);
    double test_acc = accuracy(net(Tensor::from(test.images, {test.count, features})), test.labels);
    INFO("train accuracy " << train_acc << ", test accuracy " << test_acc);
    REQUIRE(test_acc > 0.90);
}
