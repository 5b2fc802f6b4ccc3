#include "common/artifacts.hpp"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace milestone {

void write_file_atomic(const std::string& path, const std::string& content) {
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw std::runtime_error("cannot write " + tmp + ": check that the directory exists and is writable");
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        out.flush();
        if (!out) throw std::runtime_error("writing " + tmp + " failed (disk full?)");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
        throw std::runtime_error("cannot rename " + tmp + " to " + path);
}

namespace {

void put_u32(std::string& s, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
}

// A PNG chunk: length, type, data, CRC-32 over type + data.
void chunk(std::string& png, const char* type, const std::string& data) {
    put_u32(png, static_cast<uint32_t>(data.size()));
    std::string body = std::string(type, 4) + data;
    png += body;
    put_u32(png, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()),
                                             static_cast<uInt>(body.size()))));
}

void write_png(const std::string& path, int width, int height, int channels, const std::vector<uint8_t>& pixels) {
    // Raw scanlines, each prefixed by filter type 0 (none), deflated by zlib.
    std::string raw;
    raw.reserve(static_cast<size_t>(height) * (width * channels + 1));
    for (int y = 0; y < height; ++y) {
        raw.push_back(0);
        raw.append(reinterpret_cast<const char*>(pixels.data()) + static_cast<size_t>(y) * width * channels,
                   static_cast<size_t>(width) * channels);
    }
    uLongf bound = compressBound(static_cast<uLong>(raw.size()));
    std::string deflated(bound, '\0');
    if (compress2(reinterpret_cast<Bytef*>(deflated.data()), &bound, reinterpret_cast<const Bytef*>(raw.data()),
                  static_cast<uLong>(raw.size()), 9) != Z_OK)
        throw std::runtime_error("zlib failed to compress " + path);
    deflated.resize(bound);

    std::string png = "\x89PNG\r\n\x1a\n";
    std::string ihdr;
    put_u32(ihdr, static_cast<uint32_t>(width));
    put_u32(ihdr, static_cast<uint32_t>(height));
    ihdr += std::string{8, static_cast<char>(channels == 3 ? 2 : 0), 0, 0, 0};  // depth, colour type
    chunk(png, "IHDR", ihdr);
    chunk(png, "IDAT", deflated);
    chunk(png, "IEND", "");
    write_file_atomic(path, png);
}

}  // namespace

void write_png_gray(const std::string& path, int width, int height, const std::vector<uint8_t>& pixels) {
    write_png(path, width, height, 1, pixels);
}
void write_png_rgb(const std::string& path, int width, int height, const std::vector<uint8_t>& pixels) {
    write_png(path, width, height, 3, pixels);
}

void write_filter_grid(const std::string& path, const float* w, int out_ch, int in_ch, int k, int scale) {
    const bool colour = in_ch == 3;
    const int channels = colour ? 3 : 1;
    const int cols = std::min(out_ch, 8), rows = (out_ch + cols - 1) / cols;
    const int cell = k * scale + 2;  // 1-pixel gap on each side
    const int width = cols * cell, height = rows * cell;
    std::vector<uint8_t> img(static_cast<size_t>(width) * height * channels, 40);
    for (int o = 0; o < out_ch; ++o) {
        const float* f = w + static_cast<size_t>(o) * in_ch * k * k;
        // One min-max scale per filter so each shows its own pattern.
        float lo = f[0], hi = f[0];
        for (int i = 0; i < in_ch * k * k; ++i) lo = std::min(lo, f[i]), hi = std::max(hi, f[i]);
        float span = hi > lo ? hi - lo : 1.0f;
        int ox = (o % cols) * cell + 1, oy = (o / cols) * cell + 1;
        for (int y = 0; y < k * scale; ++y)
            for (int x = 0; x < k * scale; ++x) {
                int ky = y / scale, kx = x / scale;
                size_t at = (static_cast<size_t>(oy + y) * width + (ox + x)) * channels;
                if (colour) {
                    for (int c = 0; c < 3; ++c)
                        img[at + c] = static_cast<uint8_t>(255.0f * (f[(c * k + ky) * k + kx] - lo) / span);
                } else {
                    float v = 0;
                    for (int c = 0; c < in_ch; ++c) v += f[(c * k + ky) * k + kx];
                    v /= static_cast<float>(in_ch);
                    img[at] = static_cast<uint8_t>(std::clamp(255.0f * (v - lo) / span, 0.0f, 255.0f));
                }
            }
    }
    write_png(path, width, height, channels, img);
}

void write_svg_chart(const std::string& path, const std::string& title, const std::string& y_label,
                     const std::vector<Series>& series) {
    const double W = 640, H = 400, left = 60, right = 20, top = 60, bottom = 50;
    size_t n = 0;
    double lo = 1e300, hi = -1e300;
    for (const auto& s : series) {
        n = std::max(n, s.values.size());
        for (double v : s.values)
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    if (n == 0 || lo > hi) lo = 0, hi = 1;
    if (hi - lo < 1e-9) hi = lo + 1;
    double pad = (hi - lo) * 0.05;
    lo -= pad, hi += pad;
    auto X = [&](size_t i) { return left + (n <= 1 ? 0.0 : (W - left - right) * i / (n - 1.0)); };
    auto Y = [&](double v) { return top + (H - top - bottom) * (1 - (v - lo) / (hi - lo)); };

    std::ostringstream svg;
    svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
        << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
        << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        << "<text x=\"" << W / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" << title << "</text>\n";
    for (int t = 0; t <= 4; ++t) {  // horizontal grid with labels
        double v = lo + (hi - lo) * t / 4.0;
        svg << "<line x1=\"" << left << "\" x2=\"" << W - right << "\" y1=\"" << Y(v) << "\" y2=\"" << Y(v)
            << "\" stroke=\"#ddd\"/>\n<text x=\"" << left - 6 << "\" y=\"" << Y(v) + 4
            << "\" text-anchor=\"end\">" << std::round(v * 1000) / 1000 << "</text>\n";
    }
    // x ticks: about six epoch numbers
    size_t step = n > 6 ? (n + 5) / 6 : 1;
    for (size_t i = 0; i < n; i += step)
        svg << "<text x=\"" << X(i) << "\" y=\"" << H - bottom + 16 << "\" text-anchor=\"middle\">" << i + 1
            << "</text>\n";
    svg << "<text x=\"" << W / 2 << "\" y=\"" << H - 10 << "\" text-anchor=\"middle\">epoch</text>\n"
        << "<text x=\"14\" y=\"" << H / 2 << "\" transform=\"rotate(-90 14 " << H / 2
        << ")\" text-anchor=\"middle\">" << y_label << "</text>\n";
    // legend in one row under the title, clear of the curves
    double legend_x = left;
    for (const auto& s : series) {
        svg << "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" << s.color << "\" points=\"";
        for (size_t i = 0; i < s.values.size(); ++i) svg << X(i) << "," << Y(s.values[i]) << " ";
        svg << "\"/>\n<line x1=\"" << legend_x << "\" x2=\"" << legend_x + 18 << "\" y1=\"40\" y2=\"40\" stroke=\""
            << s.color << "\" stroke-width=\"3\"/>\n<text x=\"" << legend_x + 24 << "\" y=\"44\">" << s.name
            << "</text>\n";
        legend_x += 40 + 7.0 * static_cast<double>(s.name.size());
    }
    svg << "</svg>\n";
    write_file_atomic(path, svg.str());
}

}  // namespace milestone
