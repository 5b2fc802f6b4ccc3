// artifacts.hpp - files a person would rather look at than a log: training
// curves (SVG), learned filters (PNG, encoded with zlib), metrics (JSON).
// Every file is written atomically (temporary file, then rename).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace milestone {

// Write `content` to path via path.tmp + rename; throws std::runtime_error.
void write_file_atomic(const std::string& path, const std::string& content);

// 8-bit grayscale PNG, rows top to bottom.
void write_png_gray(const std::string& path, int width, int height, const std::vector<uint8_t>& pixels);
// 8-bit RGB PNG (pixels r,g,b interleaved).
void write_png_rgb(const std::string& path, int width, int height, const std::vector<uint8_t>& pixels);

// Filters [O, C, K, K] tiled into one image (each filter min-max scaled,
// magnified `scale` times, 1-pixel gaps). C == 3 gives colour, else the mean
// over input channels in gray.
void write_filter_grid(const std::string& path, const float* weights, int out_ch, int in_ch, int k,
                       int scale = 8);

struct Series {
    std::string name;
    std::string color;         // CSS colour
    std::vector<double> values;  // one per epoch
};
// Line chart with one or more series over epochs 1..n.
void write_svg_chart(const std::string& path, const std::string& title, const std::string& y_label,
                     const std::vector<Series>& series);

}  // namespace milestone
