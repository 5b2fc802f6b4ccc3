// grading.hpp - helpers shared by the grading suites: tensor comparison with
// readable expected/actual, error expectations, and finite differences.
//
// A failure is reported at the line of the test case that called the helper
// (each helper takes a defaulted std::source_location), so `./tito test NN`
// points at the case, not at this file. The message gives the first
// differing element by its multi-dimensional index ([1, 0]), a short table of
// the differing elements, and the row around the first one, expected beside
// actual. Show a hand-worked case's inputs with Catch2's CAPTURE: tensors
// print NumPy-like (tt::operator<<), shape included.
//     Tensor a = Tensor::from({1, 2, 3, 4}, {2, 2});
//     CAPTURE(a);
//     grade::require_close(a + a, std::vector<float>{2, 4, 6, 8}, {2, 2});
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <source_location>
#include <string>
#include <vector>

#include "tinytorch/error.hpp"
#include "tinytorch/tensor.hpp"

// CAPTURE(x) of a tensor: NumPy-like; one that spans several lines starts on
// its own line, so its rows stay aligned under each other in the report.
namespace Catch {
template <>
struct StringMaker<tt::Tensor> {
    static std::string convert(const tt::Tensor& t);
};
}  // namespace Catch

namespace grade {

using Where = std::source_location;

// Compare a tensor with expected values: shape must match, then every element
// within atol + rtol*|expected| (NaN matches NaN, inf matches the same inf).
void require_close(const tt::Tensor& actual, const std::vector<float>& expected,
                   const tt::Shape& expected_shape, double atol = 1e-5, double rtol = 1e-5,
                   Where where = Where::current());
void require_close(const tt::Tensor& actual, const tt::Tensor& expected, double atol = 1e-5,
                   double rtol = 1e-5, Where where = Where::current());
// Same, against doubles computed on the test side.
void require_close(const tt::Tensor& actual, const std::vector<double>& expected,
                   const tt::Shape& expected_shape, double atol, double rtol,
                   Where where = Where::current());

// Require a raw table call to succeed. A failure becomes the module's tt::Error
// (so a stub's NOT_IMPLEMENTED is reported as such, with its hint):
//     grade::require_ok(api().create(shape, 2, &t), "create");
void require_ok(tt_status status, const char* function);

// Run f and require it to fail with tt::Error of this status.
void require_status(tt_status expected, const std::function<void()>& f, Where where = Where::current());

// Report a failure at `where` (a test case's line) with this message; ends
// the case like REQUIRE. For helpers that compare something themselves.
[[noreturn]] void fail_at(const Where& where, const std::string& message);

// The multi-dimensional index of flat element i of a row-major shape: "[1, 0]".
std::string index_str(int64_t flat, const tt::Shape& shape);

// Central differences of a scalar function at x (computed in double on the
// test side): d f / d x[i] ~ (f(x + h e_i) - f(x - h e_i)) / 2h.
std::vector<double> numeric_gradient(const std::function<double(const std::vector<float>&)>& f,
                                     std::vector<float> x, double h = 1e-3);

// Seeded pseudo-random floats in [lo, hi) generated on the test side (not by
// the module under test).
std::vector<float> random_values(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f);

}  // namespace grade
