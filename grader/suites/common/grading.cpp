#include "common/grading.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "tinytorch/runtime.hpp"

std::string Catch::StringMaker<tt::Tensor>::convert(const tt::Tensor& t) {
    std::ostringstream os;
    os << t;
    std::string s = os.str();
    return s.find('\n') == std::string::npos ? s : "\n" + s;
}

namespace grade {
namespace {

constexpr size_t kTableRows = 6;  // differing elements listed
constexpr int64_t kRowWidth = 8;  // values shown of the row around the first difference

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.7g", v);
    return buf;
}

int64_t numel_of(const tt::Shape& s) {
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    return n;
}

// "[1, :]" for the row of element [1, 0]; "[:]" for a vector.
std::string row_str(int64_t flat, const tt::Shape& shape) {
    std::string idx = index_str(flat, shape);  // "[1, 0]"
    size_t last = idx.rfind(", ");
    return last == std::string::npos ? "[:]" : idx.substr(0, last) + ", :]";
}

// The values of the last axis around element `flat`, padded to one width.
void show_row(std::ostringstream& os, const std::vector<double>& expected, const std::vector<double>& actual,
              const std::vector<bool>& bad, int64_t flat, const tt::Shape& shape) {
    int64_t n = shape.empty() ? 1 : shape.back();
    int64_t start = flat - flat % n, pos = flat % n;
    int64_t lo = std::max<int64_t>(0, pos - kRowWidth / 2), hi = std::min(n, lo + kRowWidth);
    lo = std::max<int64_t>(0, hi - kRowWidth);
    std::vector<std::string> e, a;
    size_t w = 1;
    for (int64_t i = lo; i < hi; ++i) {
        e.push_back(num(expected[start + i]));
        a.push_back(num(actual[start + i]) + (bad[start + i] ? "*" : ""));
        w = std::max({w, e.back().size(), a.back().size()});
    }
    auto line = [&](const char* label, const std::vector<std::string>& v) {
        os << "\n    " << label << " [" << (lo > 0 ? "... " : "");
        for (size_t i = 0; i < v.size(); ++i)
            os << (i ? ", " : "") << std::string(w - v[i].size(), ' ') << v[i];
        os << (hi < n ? " ..." : "") << "]";
    };
    os << "\n  row " << row_str(flat, shape) << " (* marks a difference):";
    line("expected", e);
    line("actual  ", a);
}

// "02" from ".../grader/suites/02_activations.cpp", for the --sanitize hint.
std::string module_of(const Where& where) {
    std::string f = where.file_name();
    size_t slash = f.find_last_of('/');
    std::string base = slash == std::string::npos ? f : f.substr(slash + 1);
    if (base.size() >= 2 && std::isdigit(static_cast<unsigned char>(base[0])) &&
        std::isdigit(static_cast<unsigned char>(base[1])))
        return base.substr(0, 2);
    return "NN";
}

}  // namespace

void fail_at(const Where& where, const std::string& message) {
    Catch::AssertionHandler handler("FAIL", Catch::SourceLineInfo(where.file_name(), where.line()),
                                    Catch::StringRef(), Catch::ResultDisposition::Normal);
    handler.handleMessage(Catch::ResultWas::ExplicitFailure, message);
    handler.complete();                // throws: the case ends here, like REQUIRE
    throw Catch::TestFailureException();  // not reached
}

std::string index_str(int64_t flat, const tt::Shape& shape) {
    std::vector<int64_t> idx(shape.size());
    for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
        int64_t n = shape[d] > 0 ? shape[d] : 1;
        idx[d] = flat % n;
        flat /= n;
    }
    std::string s = "[";
    for (size_t d = 0; d < idx.size(); ++d) s += (d ? ", " : "") + std::to_string(idx[d]);
    return s + "]";
}

void require_close(const tt::Tensor& actual, const std::vector<double>& expected,
                   const tt::Shape& expected_shape, double atol, double rtol, Where where) {
    if (!actual.defined()) fail_at(where, "no tensor came back (expected shape " + tt::shape_str(expected_shape) + ")");
    tt::Shape shape = actual.shape();
    if (shape != expected_shape)
        fail_at(where, "wrong shape: expected " + tt::shape_str(expected_shape) + ", actual " + tt::shape_str(shape));
    if (actual.numel() != numel_of(shape) || static_cast<size_t>(actual.numel()) != expected.size())
        fail_at(where, "the tensor of shape " + tt::shape_str(shape) + " says numel = " +
                           std::to_string(actual.numel()) + "; the shape holds " +
                           std::to_string(numel_of(shape)) + " elements");
    const float* a = actual.data();
    std::vector<double> got(a, a + actual.numel());
    std::vector<bool> bad(got.size(), false);
    std::vector<size_t> differing;
    size_t non_finite = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
        double e = expected[i], g = got[i];
        bool ok = (std::isnan(e) && std::isnan(g)) || (std::isinf(e) && e == g) ||
                  std::fabs(g - e) <= atol + rtol * std::fabs(e);
        if (ok) continue;
        bad[i] = true;
        differing.push_back(i);
        if (std::isfinite(e) && !std::isfinite(g)) ++non_finite;
    }
    if (differing.empty()) return;

    size_t first = differing.front();
    std::ostringstream os;
    os << "element " << index_str(static_cast<int64_t>(first), shape) << " differs: expected " << num(expected[first])
       << ", actual " << num(got[first]) << "\n  " << differing.size() << " of " << got.size()
       << " elements differ (tolerance " << atol << " + " << rtol << " * |expected|)";
    bool one_row = shape.size() <= 1 && got.size() <= static_cast<size_t>(kRowWidth);
    if (differing.size() > 1 && !one_row) {
        os << ":\n    index" << std::string(14, ' ') << "expected          actual";
        for (size_t k = 0; k < differing.size() && k < kTableRows; ++k) {
            size_t i = differing[k];
            std::string idx = index_str(static_cast<int64_t>(i), shape);
            std::string e = num(expected[i]);
            os << "\n    " << idx << std::string(idx.size() < 19 ? 19 - idx.size() : 1, ' ') << e
               << std::string(e.size() < 18 ? 18 - e.size() : 1, ' ') << num(got[i]);
        }
        if (differing.size() > kTableRows) os << "\n    ... and " << differing.size() - kTableRows << " more";
    }
    show_row(os, expected, got, bad, static_cast<int64_t>(first), shape);
    if (non_finite > 0) {
        std::string name = Catch::getResultCapture().getCurrentTestName();
        os << "\n  " << non_finite << " of the differing values are NaN or inf where finite ones are expected:"
           << " uninitialised memory or a read past the end of a buffer? Check with\n    ./tito test "
           << module_of(where) << " --sanitize -k '" << name << "'";
    }
    fail_at(where, os.str());
}

void require_close(const tt::Tensor& actual, const std::vector<float>& expected,
                   const tt::Shape& expected_shape, double atol, double rtol, Where where) {
    require_close(actual, std::vector<double>(expected.begin(), expected.end()), expected_shape, atol, rtol, where);
}

void require_close(const tt::Tensor& actual, const tt::Tensor& expected, double atol, double rtol, Where where) {
    require_close(actual, expected.to_vector(), expected.shape(), atol, rtol, where);
}

void require_ok(tt_status status, const char* function) {
    tt::runtime().check(status, 0, function);
}

void require_status(tt_status expected, const std::function<void()>& f, Where where) {
    try {
        f();
    } catch (const tt::Error& e) {
        if (e.status() == expected) return;
        // A stub: reported as the function not implemented yet, with its hint.
        if (e.status() == TT_NOT_IMPLEMENTED) throw;
        fail_at(where, std::string("expected the call to fail with ") + tt::status_name(expected) +
                           ", but it failed with " + tt::status_name(e.status()) + ": " + e.what());
    }
    fail_at(where, std::string("expected the call to fail with ") + tt::status_name(expected) +
                       ", but it succeeded");
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
