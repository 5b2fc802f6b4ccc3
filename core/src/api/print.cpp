// print.cpp - operator<< for tt::Tensor: NumPy-like nested brackets.
//
//     tensor([[ 1.0000,  2.0000,  3.0000],
//             [-4.5000,  0.2500,     nan]], shape=[2, 3])
//
// One number format for the whole tensor, chosen from its finite values:
// whole numbers print as "3.", values between 1e-4 and 1e6 with just enough
// decimals (at most 4), anything else in scientific notation. Every column has
// the width of the widest entry. An axis longer than 6 in a tensor of more
// than 1000 elements is summarised as its first 3 and last 3 entries around
// "...". The tensor's own shape and numel are checked first, so a broken
// tensor (from a half-written module 01) prints what is wrong instead of
// reading past its data.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "tinytorch/tensor.hpp"

namespace tt {
namespace {

constexpr int64_t kSummariseAbove = 1000;  // elements
constexpr int64_t kEdgeItems = 3;          // kept at each end of a long axis

enum class Style { Whole, Fixed, Scientific };

struct Format {
    Style style = Style::Fixed;
    int decimals = 4;
    size_t width = 1;
};

// Decimals (0..4) needed to show v exactly at 4-decimal precision: 0.5 -> 1.
int decimals_needed(double v) {
    for (int d = 0; d < 4; ++d) {
        double scale = std::pow(10.0, d);
        double r = std::round(v * scale) / scale;
        if (std::fabs(r - v) <= 1e-9 * std::max(1.0, std::fabs(v))) return d;
    }
    return 4;
}

std::string format_one(float value, const Format& f) {
    double v = value;
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    switch (f.style) {
        case Style::Whole: std::snprintf(buf, sizeof buf, "%.0f.", v); break;
        case Style::Fixed: std::snprintf(buf, sizeof buf, "%.*f", f.decimals, v); break;
        case Style::Scientific: std::snprintf(buf, sizeof buf, "%.4e", v); break;
    }
    return buf;
}

// The indices shown along an axis of length n.
std::vector<int64_t> shown(int64_t n, bool summarise) {
    std::vector<int64_t> idx;
    if (summarise && n > 2 * kEdgeItems) {
        for (int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
        idx.push_back(-1);  // the "..." marker
        for (int64_t i = n - kEdgeItems; i < n; ++i) idx.push_back(i);
    } else {
        for (int64_t i = 0; i < n; ++i) idx.push_back(i);
    }
    return idx;
}

Format choose_format(const float* data, const Shape& shape, bool summarise) {
    // Visit the shown elements only (a summarised tensor may be large).
    std::vector<float> values;
    std::vector<int64_t> strides(shape.size(), 1);
    for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d) strides[d] = strides[d + 1] * shape[d + 1];
    auto visit = [&](auto&& self, size_t dim, int64_t offset) -> void {
        if (dim == shape.size()) {
            values.push_back(data[offset]);
            return;
        }
        for (int64_t i : shown(shape[dim], summarise))
            if (i >= 0) self(self, dim + 1, offset + i * strides[dim]);
    };
    visit(visit, 0, 0);

    Format f;
    bool whole = true;
    double largest = 0, smallest = INFINITY;
    int decimals = 0;
    for (float x : values) {
        if (!std::isfinite(x)) continue;
        double a = std::fabs(x);
        if (std::round(x) != x) whole = false;
        largest = std::max(largest, a);
        if (a > 0) smallest = std::min(smallest, a);
        decimals = std::max(decimals, decimals_needed(x));
    }
    if (largest >= 1e6 || (smallest < 1e-4 && !whole)) {
        f.style = Style::Scientific;
    } else if (whole) {
        f.style = Style::Whole;
    } else {
        f.style = Style::Fixed;
        f.decimals = std::max(decimals, 1);
    }
    for (float x : values) f.width = std::max(f.width, format_one(x, f).size());
    return f;
}

void print_block(std::ostream& os, const float* data, const Shape& shape, const std::vector<int64_t>& strides,
                 size_t dim, int64_t offset, const Format& f, bool summarise, size_t indent) {
    if (dim == shape.size()) {
        std::string s = format_one(data[offset], f);
        os << std::string(f.width - std::min(f.width, s.size()), ' ') << s;
        return;
    }
    os << '[';
    std::vector<int64_t> idx = shown(shape[dim], summarise);
    bool innermost = dim + 1 == shape.size();
    // Rows of a matrix are separated by one newline, matrices by two, ...
    std::string between_blocks(1, ',');
    between_blocks.append(shape.size() - dim - 1, '\n');
    between_blocks.append(indent + dim + 1, ' ');
    for (size_t k = 0; k < idx.size(); ++k) {
        if (k > 0) os << (innermost ? ", " : between_blocks);
        if (idx[k] < 0) {
            os << "...";
            continue;
        }
        print_block(os, data, shape, strides, dim + 1, offset + idx[k] * strides[dim], f, summarise, indent);
    }
    os << ']';
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
    if (!t.defined()) return os << "tensor(undefined)";
    const tt_tensor* raw = t.raw();
    if (raw == nullptr || raw->ndim < 0 || raw->ndim > TT_MAX_DIMS)
        return os << "tensor(<broken: ndim " << (raw ? raw->ndim : -1) << ">)";
    Shape shape(raw->shape, raw->shape + raw->ndim);
    int64_t numel = 1;
    for (int64_t d : shape) {
        if (d < 0) return os << "tensor(<broken: shape " << shape_str(shape) << ">)";
        numel *= d;
    }
    if (numel != raw->numel)
        return os << "tensor(<broken: shape " << shape_str(shape) << " holds " << numel
                  << " elements but numel is " << raw->numel << ">)";
    if (numel > 0 && raw->data == nullptr) return os << "tensor(<broken: data is NULL>)";

    const std::string prefix = "tensor(";
    if (numel == 0) {
        os << prefix << "[], shape=" << shape_str(shape);
    } else {
        bool summarise = numel > kSummariseAbove;
        std::vector<int64_t> strides(shape.size(), 1);
        for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d) strides[d] = strides[d + 1] * shape[d + 1];
        Format f = choose_format(raw->data, shape, summarise);
        os << prefix;
        print_block(os, raw->data, shape, strides, 0, 0, f, summarise, prefix.size());
        os << ", shape=" << shape_str(shape);
    }
    if (raw->requires_grad) os << ", requires_grad=true";
    return os << ')';
}

}  // namespace tt
