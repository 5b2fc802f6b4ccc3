// playground.cpp - yours to edit: try your modules here before the tests do.
//
//   ./tito run playground                  your modules (every module: student)
//   ./tito run playground --impl reference the reference, to compare
//   ./tito run playground --impl reference,02=student   your 02 on reference 01
//
// A call into a function you have not written yet throws tt::Error with the
// stub's message (the file and the TODO to look for); main prints it.
// std::cout << tensor prints it NumPy-style, shape included.
#include <iostream>

#include "tinytorch/runtime.hpp"
#include "tinytorch/tensor.hpp"

int main() {
    try {
        std::cout << "modules: " << tt::format_impl_choice(tt::runtime().choice()) << "\n\n";

        // Module 01: creation, broadcasting, matmul, reductions.
        tt::Tensor a = tt::Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3});
        tt::Tensor b = tt::Tensor::from({10, 20, 30}, {3});
        std::cout << "a =\n" << a << "\n";
        std::cout << "a + b (b broadcast over the rows) =\n" << a + b << "\n";
        std::cout << "a @ a^T =\n" << a.matmul(a.transpose()) << "\n";
        std::cout << "a.sum(0) = " << a.sum(0) << "\n\n";

        // Module 02: activations.
        tt::Tensor x = tt::Tensor::from({-100, -1, 0, 1, 100}, {5});
        std::cout << "sigmoid(" << x << ") =\n" << tt::sigmoid(x) << "\n";
        std::cout << "softmax(a, axis 1) =\n" << tt::softmax(a, 1) << "\n";
    } catch (const std::exception& e) {  // tt::Error from a module, tt::LoadError, ...
        std::cerr << "playground: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
