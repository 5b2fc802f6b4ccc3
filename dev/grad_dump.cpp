// grad_dump.cpp - run the milestone-shaped gradient cases of
// dev/torch_grad_check.py through the C++ API (tape + module 05's engine and
// rules) and print inputs and gradients as text for the script to compare
// with PyTorch. Built and run by dev/torch_grad_check.py; not part of the build.
//
// Output, one record per line:
//   case <name>
//   in <name> <requires_grad 0|1> <ndim> <sizes...> <values...>
//   grad <name> <ndim> <sizes...> <values...>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "tinytorch/runtime.hpp"
#include "tinytorch/tensor.hpp"

namespace {

using tt::Shape;
using tt::Tensor;

void print_tensor(const char* kind, const std::string& name, const Tensor& t, int rg = -1) {
    std::printf("%s %s", kind, name.c_str());
    if (rg >= 0) std::printf(" %d", rg);
    std::printf(" %d", t.ndim());
    for (int64_t s : t.shape()) std::printf(" %lld", static_cast<long long>(s));
    const float* d = t.data();
    for (int64_t i = 0; i < t.numel(); ++i) std::printf(" %.9g", d[i]);
    std::printf("\n");
}

struct Input {
    std::string name;
    Tensor value;
    bool requires_grad;
};

Tensor uniform(const Shape& s, float lo, float hi) { return Tensor::uniform(s, lo, hi); }

Tensor labels(int64_t n, int classes) {
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<float>((i * 7 + 3) % classes);
    return Tensor::from(v, {n});
}

// Print the inputs, run loss(inputs).backward(), print the gradients.
void run_case(const std::string& name, std::vector<Input> inputs,
              const std::function<Tensor(std::vector<Tensor>&)>& loss) {
    std::printf("case %s\n", name.c_str());
    std::vector<Tensor> ts;
    for (Input& in : inputs) {
        print_tensor("in", in.name, in.value, in.requires_grad ? 1 : 0);
        if (in.requires_grad) in.value.set_requires_grad();
        ts.push_back(in.value);
    }
    loss(ts).backward();
    for (size_t i = 0; i < inputs.size(); ++i)
        if (inputs[i].requires_grad) print_tensor("grad", inputs[i].name, ts[i].grad());
}

// sum(y * w): a random upstream gradient w for the ops before it.
Tensor weighted(const Tensor& y, const Tensor& w) { return (y * w).sum(); }

}  // namespace

int main() {
    tt::runtime().configure(tt::parse_impl_spec("reference"));
    tt::runtime().seed(2024);

    // The TinyDigits MLP of milestone 04: 64 -> 128 -> 10, batch 32.
    run_case("mlp_tinydigits",
             {{"x", uniform({32, 64}, 0, 1), true},
              {"w1", uniform({64, 128}, -0.125f, 0.125f), true},
              {"b1", uniform({128}, -0.125f, 0.125f), true},
              {"w2", uniform({128, 10}, -0.09f, 0.09f), true},
              {"b2", uniform({10}, -0.09f, 0.09f), true},
              {"t", labels(32, 10), false}},
             [](std::vector<Tensor>& p) {
                 Tensor h = tt::relu(tt::linear(p[0], p[1], p[2]));
                 return tt::cross_entropy(tt::linear(h, p[3], p[4]), p[5]);
             });

    // The CIFAR-10 head: flatten [64, 64, 6, 6] -> Linear(2304 -> 256) ReLU Linear(256 -> 10).
    run_case("cifar_head",
             {{"x", uniform({64, 64, 6, 6}, 0, 1), true},
              {"w1", uniform({2304, 256}, -0.02f, 0.02f), true},
              {"b1", uniform({256}, -0.02f, 0.02f), true},
              {"w2", uniform({256, 10}, -0.06f, 0.06f), true},
              {"b2", uniform({10}, -0.06f, 0.06f), true},
              {"t", labels(64, 10), false}},
             [](std::vector<Tensor>& p) {
                 Tensor h = tt::relu(tt::linear(p[0].reshape({64, 2304}), p[1], p[2]));
                 return tt::cross_entropy(tt::linear(h, p[3], p[4]), p[5]);
             });

    // Element-wise ops with broadcasting.
    run_case("broadcast",
             {{"a", uniform({8, 1, 16}, -1, 1), true},
              {"b", uniform({4, 16}, -1, 1), true},
              {"c", uniform({16}, -1, 1), true},
              {"w", uniform({8, 4, 16}, -1, 1), false}},
             [](std::vector<Tensor>& p) {
                 Tensor num = p[0] * p[1] + p[2];
                 Tensor den = p[1] * p[1] + 1.0f;
                 return weighted((num / den - p[0]) * 2.0f - p[2] / 3.0f, p[3]);
             });

    // Batched matmul with broadcast batch dims, transpose and reshape.
    run_case("matmul_shapes",
             {{"a", uniform({4, 8, 16}, -1, 1), true},
              {"b", uniform({16, 12}, -1, 1), true},
              {"c", uniform({1, 12, 5}, -1, 1), true},
              {"d", uniform({3, 1, 5, 8}, -1, 1), true},
              {"w", uniform({3, 4, 8, 8}, -1, 1), false}},
             [](std::vector<Tensor>& p) {
                 Tensor ab = tt::matmul(p[0], p[1]);            // [4, 8, 12]
                 Tensor abc = tt::matmul(ab, p[2]);             // [4, 8, 5]
                 Tensor e = tt::matmul(abc, p[3]);              // [3, 4, 8, 8]
                 Tensor f = e.transpose(0, 2).reshape({8, 4, 3, 8}).transpose(0, 2);
                 return weighted(f.reshape({3, 4, 8, 8}), p[4]);
             });

    // Reductions over one axis (with and without keepdims) and over all axes.
    run_case("reductions",
             {{"x", uniform({6, 7, 8}, -1, 1), true},
              {"w1", uniform({6, 8}, -1, 1), false},
              {"w2", uniform({6, 7, 1}, -1, 1), false},
              {"w3", uniform({7, 8}, -1, 1), false}},
             [](std::vector<Tensor>& p) {
                 return weighted(p[0].sum(1), p[1]) + weighted(p[0].mean(-1, true), p[2]) +
                        weighted(p[0].max(0), p[3]) + p[0].max() * 0.5f + p[0].mean() * 2.0f;
             });

    // Activations on a [32, 100] batch.
    run_case("activations",
             {{"x", uniform({32, 100}, -3, 3), true},
              {"w1", uniform({32, 100}, -1, 1), false},
              {"w2", uniform({32, 100}, -1, 1), false}},
             [](std::vector<Tensor>& p) {
                 Tensor h = tt::sigmoid(p[0]) + tt::tanh(p[0]) * tt::gelu(p[0]);
                 return weighted(tt::softmax(h, -1), p[1]) + weighted(tt::log_softmax(h, 0), p[2]) +
                        weighted(tt::relu(p[0]), p[2]);
             });

    // Regression losses on a [32, 10] batch.
    run_case("losses",
             {{"p", uniform({32, 10}, -1, 1), true},
              {"z", uniform({32, 10}, -4, 4), true},
              {"t", uniform({32, 10}, 0, 1), true},
              {"u", uniform({32, 10}, 0, 1), false}},
             [](std::vector<Tensor>& p) {
                 return tt::mse_loss(p[0], p[2]) + tt::binary_cross_entropy(tt::sigmoid(p[1]), p[3]);
             });

    // Spatial ops (module 09): CIFAR-shaped blocks on a small batch. Conv
    // with padding -> batch norm, ReLU and 2x2 max-pool fused
    // (batch_norm2d_relu_max_pool2d) -> strided conv -> batch norm and ReLU
    // fused (batch_norm2d_relu) -> 2x2 avg-pool.
    // Running statistics are scratch tensors: only the gradients are compared.
    run_case("spatial",
             {{"x", uniform({4, 3, 10, 10}, -1, 1), true},
              {"k1", uniform({6, 3, 3, 3}, -0.3f, 0.3f), true},
              {"c1", uniform({6}, -0.3f, 0.3f), true},
              {"g1", uniform({6}, 0.5f, 1.5f), true},
              {"h1", uniform({6}, -0.5f, 0.5f), true},
              {"k2", uniform({5, 6, 3, 3}, -0.2f, 0.2f), true},
              {"c2", uniform({5}, -0.2f, 0.2f), true},
              {"g2", uniform({5}, 0.5f, 1.5f), true},
              {"h2", uniform({5}, -0.5f, 0.5f), true},
              {"w", uniform({4, 5, 1, 1}, -1, 1), false}},
             [](std::vector<Tensor>& p) {
                 Tensor rm1 = Tensor::zeros({6}), rv1 = Tensor::ones({6});
                 Tensor rm2 = Tensor::zeros({5}), rv2 = Tensor::ones({5});
                 Tensor h = tt::conv2d(p[0], p[1], p[2], 1, 1);                      // [4, 6, 10, 10]
                 h = tt::batch_norm2d_relu_max_pool2d(h, p[3], p[4], rm1, rv1, true, 0.1f, 1e-5f, 2, 2);  // [4, 6, 5, 5]
                 h = tt::conv2d(h, p[5], p[6], 2, 0);                                 // [4, 5, 2, 2]
                 h = tt::batch_norm2d_relu(h, p[7], p[8], rm2, rv2, true);
                 return weighted(tt::avg_pool2d(h, 2), p[9]);                         // [4, 5, 1, 1]
             });
    return 0;
}
