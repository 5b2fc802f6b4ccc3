// Hidden grading cases for module 01 Tensor (instructors only).
//
// grader/hidden/NN_name.cpp is compiled into bin/tt_grade_NN next to the
// public suite grader/suites/NN_name.cpp, so `./tito grade`, `./tito
// grade-batch` and the Gradescope autograder count these cases. A student
// release (`./tito release`) leaves this directory out. The cases compose
// several operations the public suite tests one at a time; expected values
// are computed here in double.
#include "common/grading.hpp"

#include <cstdint>
#include <vector>

#include "tinytorch/tensor.hpp"

namespace {

using tt::Shape;
using tt::Tensor;

}  // namespace

TEST_CASE("hidden: centring the rows of a matrix with mean(keepdims) and broadcasting", "[points:2][hidden]") {
    const int64_t rows = 3, cols = 5;
    std::vector<float> x = grade::random_values(rows * cols, 6101, -4.0f, 4.0f);
    Tensor t = Tensor::from(x, {rows, cols});
    Tensor centred = t - t.mean(1, true);  // [3, 5] - [3, 1]
    std::vector<double> expected(x.size());
    for (int64_t r = 0; r < rows; ++r) {
        double mean = 0;
        for (int64_t c = 0; c < cols; ++c) mean += x[r * cols + c];
        mean /= cols;
        for (int64_t c = 0; c < cols; ++c) expected[r * cols + c] = x[r * cols + c] - mean;
    }
    grade::require_close(centred, expected, {rows, cols}, 1e-5, 1e-5);
    // every centred row sums to zero
    grade::require_close(centred.sum(1), std::vector<double>(rows, 0.0), {rows}, 1e-4, 0);
}

TEST_CASE("hidden: (A B)^T equals B^T A^T on a batch, through transpose and matmul", "[points:2][hidden]") {
    const int64_t batch = 2, m = 3, k = 4, n = 2;
    std::vector<float> a = grade::random_values(batch * m * k, 6102);
    std::vector<float> b = grade::random_values(batch * k * n, 6103);
    Tensor A = Tensor::from(a, {batch, m, k});
    Tensor B = Tensor::from(b, {batch, k, n});
    // (A B)^T [batch, n, m], computed in double: out[e][j][i] = sum_p a[e][i][p] b[e][p][j]
    std::vector<double> expected(batch * n * m);
    for (int64_t e = 0; e < batch; ++e)
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
                double s = 0;
                for (int64_t p = 0; p < k; ++p) s += double(a[(e * m + i) * k + p]) * b[(e * k + p) * n + j];
                expected[(e * n + j) * m + i] = s;
            }
    grade::require_close(A.matmul(B).transpose(-2, -1), expected, {batch, n, m}, 1e-5, 1e-5);
    grade::require_close(B.transpose(1, 2).matmul(A.transpose(1, 2)), expected, {batch, n, m}, 1e-5, 1e-5);
}

TEST_CASE("hidden: argmax of a reshaped tensor indexes the flattened order", "[points:1][hidden]") {
    // 24 values with a single maximum at flat index 17 and the row maxima known.
    std::vector<float> x(24);
    for (int i = 0; i < 24; ++i) x[i] = static_cast<float>((i * 7) % 24) - 10.0f;  // a permutation of -10..13
    Tensor t = Tensor::from(x, {2, 3, 4});
    int64_t best = 0;
    for (int i = 1; i < 24; ++i)
        if (x[i] > x[best]) best = i;
    grade::require_close(t.reshape({-1}).argmax(), std::vector<double>{double(best)}, {}, 0, 0);
    // along the last axis of the [6, 4] view
    Tensor rows = t.reshape({6, -1}).argmax(1);
    std::vector<double> expected(6);
    for (int r = 0; r < 6; ++r) {
        int arg = 0;
        for (int c = 1; c < 4; ++c)
            if (x[r * 4 + c] > x[r * 4 + arg]) arg = c;
        expected[r] = arg;
    }
    grade::require_close(rows, expected, {6}, 0, 0);
}

// Hidden by its tag alone (no "hidden:" in the name): tito takes visibility
// from the [hidden] tag, so this case is withheld like the others.
TEST_CASE("an outer product by broadcasting sums to the product of the sums", "[points:1][hidden]") {
    std::vector<float> x = grade::random_values(3, 6104, -2.0f, 2.0f);
    std::vector<float> y = grade::random_values(4, 6105, -2.0f, 2.0f);
    Tensor outer = Tensor::from(x, {3, 1}) * Tensor::from(y, {1, 4});  // [3, 1] * [1, 4] -> [3, 4]
    std::vector<double> expected(12);
    double sx = 0, sy = 0;
    for (int i = 0; i < 3; ++i) sx += x[i];
    for (int j = 0; j < 4; ++j) sy += y[j];
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 4; ++j) expected[i * 4 + j] = double(x[i]) * y[j];
    grade::require_close(outer, expected, {3, 4}, 1e-6, 1e-6);
    // sum over both axes = (sum of x) (sum of y)
    grade::require_close(outer.sum(), std::vector<double>{sx * sy}, {}, 1e-5, 1e-5);
}
