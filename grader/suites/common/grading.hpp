// grading.hpp - helpers shared by the grading suites: tensor comparison with
// readable expected/actual, error expectations, and finite differences.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tinytorch/error.hpp"
#include "tinytorch/tensor.hpp"

namespace grade {

// Compare a tensor with expected values: shape must match, then every element
// within atol + rtol*|expected|. On failure the message shows both shapes, the
// first differing index and the values side by side.
void require_close(const tt::Tensor& actual, const std::vector<float>& expected,
                   const tt::Shape& expected_shape, double atol = 1e-5, double rtol = 1e-5);
void require_close(const tt::Tensor& actual, const tt::Tensor& expected, double atol = 1e-5,
                   double rtol = 1e-5);
// Same, against doubles computed on the test side.
void require_close(const tt::Tensor& actual, const std::vector<double>& expected,
                   const tt::Shape& expected_shape, double atol, double rtol);

// Require a raw table call to succeed. A failure becomes the module's tt::Error
// (so a stub's NOT_IMPLEMENTED is reported as such, with its hint):
//     grade::require_ok(api().create(shape, 2, &t), "create");
void require_ok(tt_status status, const char* function);

// Run f and require it to fail with tt::Error of this status.
void require_status(tt_status expected, const std::function<void()>& f);

// Central differences of a scalar function at x (computed in double on the
// test side): d f / d x[i] ~ (f(x + h e_i) - f(x - h e_i)) / 2h.
std::vector<double> numeric_gradient(const std::function<double(const std::vector<float>&)>& f,
                                     std::vector<float> x, double h = 1e-3);

// Seeded pseudo-random floats in [lo, hi) generated on the test side (not by
// the module under test).
std::vector<float> random_values(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f);

}  // namespace grade
