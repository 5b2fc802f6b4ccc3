#include "common/grading.hpp"

#include <cmath>
#include <sstream>

#include "tinytorch/runtime.hpp"

namespace grade {
namespace {

std::string show(const std::vector<double>& v, size_t around) {
    std::ostringstream os;
    size_t lo = around > 3 ? around - 3 : 0;
    size_t hi = std::min(v.size(), around + 4);
    os << "[";
    if (lo > 0) os << "... ";
    for (size_t i = lo; i < hi; ++i) os << (i > lo ? ", " : "") << v[i];
    if (hi < v.size()) os << " ...";
    os << "]";
    return os.str();
}

}  // namespace

void require_close(const tt::Tensor& actual, const std::vector<double>& expected,
                   const tt::Shape& expected_shape, double atol, double rtol) {
    INFO("expected shape " << tt::shape_str(expected_shape) << ", actual shape "
                           << tt::shape_str(actual.shape()));
    REQUIRE(actual.shape() == expected_shape);
    REQUIRE(static_cast<size_t>(actual.numel()) == expected.size());
    const float* a = actual.data();
    std::vector<double> got(a, a + actual.numel());
    for (size_t i = 0; i < expected.size(); ++i) {
        double e = expected[i], g = got[i];
        bool ok = (std::isnan(e) && std::isnan(g)) || (std::isinf(e) && e == g) ||
                  std::fabs(g - e) <= atol + rtol * std::fabs(e);
        if (!ok) {
            std::ostringstream msg;
            msg << "element " << i << " differs: expected " << e << ", actual " << g
                << " (tolerance " << atol << " + " << rtol << "*|expected|)\n"
                << "  expected " << show(expected, i) << "\n  actual   " << show(got, i);
            FAIL(msg.str());
        }
    }
}

void require_close(const tt::Tensor& actual, const std::vector<float>& expected,
                   const tt::Shape& expected_shape, double atol, double rtol) {
    require_close(actual, std::vector<double>(expected.begin(), expected.end()), expected_shape,
                  atol, rtol);
}

void require_close(const tt::Tensor& actual, const tt::Tensor& expected, double atol, double rtol) {
    require_close(actual, expected.to_vector(), expected.shape(), atol, rtol);
}

void require_ok(tt_status status, const char* function) {
    tt::runtime().check(status, 0, function);
}

void require_status(tt_status expected, const std::function<void()>& f) {
    try {
        f();
    } catch (const tt::Error& e) {
        INFO("the call failed with: " << e.what());
        REQUIRE(std::string(tt::status_name(e.status())) == tt::status_name(expected));
        return;
    }
    FAIL("expected the call to fail with " << tt::status_name(expected) << ", but it succeeded");
}

std::vector<double> numeric_gradient(const std::function<double(const std::vector<float>&)>& f,
                                     std::vector<float> x, double h) {
    std::vector<double> g(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        float keep = x[i];
        x[i] = static_cast<float>(keep + h);
        double fp = f(x);
        x[i] = static_cast<float>(keep - h);
        double fm = f(x);
        x[i] = keep;
        g[i] = (fp - fm) / (2 * h);
    }
    return g;
}

std::vector<float> random_values(size_t n, uint64_t seed, float lo, float hi) {
    // splitmix64: independent of the host RNG the modules use.
    std::vector<float> v(n);
    uint64_t s = seed;
    for (size_t i = 0; i < n; ++i) {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        v[i] = lo + (hi - lo) * static_cast<float>((z >> 40) * (1.0 / 16777216.0));
    }
    return v;
}

}  // namespace grade
