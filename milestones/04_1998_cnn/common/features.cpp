#include "common/features.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "common/artifacts.hpp"

namespace milestone {

ReceptiveField receptive_field(const std::vector<LayerGeometry>& layers) {
    ReceptiveField rf;
    for (const auto& l : layers) {
        rf.size += (l.kernel - 1) * rf.jump;
        rf.offset -= l.padding * rf.jump;
        rf.jump *= l.stride;
    }
    return rf;
}

tt::Tensor activations_through(tt::nn::Sequential& model, const tt::Tensor& x, size_t last) {
    if (last >= model.layers().size()) throw std::invalid_argument("activations_through: no layer " + std::to_string(last));
    tt::NoGradGuard no_grad;
    model.eval();
    tt::Tensor h = x;
    for (size_t i = 0; i <= last; ++i) h = model.layers()[i]->forward(h);
    model.train();
    return h;
}

namespace {

// An RGB canvas, filled with a dark background.
struct Canvas {
    int width, height;
    std::vector<uint8_t> rgb;
    Canvas(int w, int h) : width(w), height(h), rgb(static_cast<size_t>(w) * h * 3, 32) {}
    void put(int x, int y, uint8_t r, uint8_t g, uint8_t b) {
        if (x < 0 || y < 0 || x >= width || y >= height) return;
        size_t at = (static_cast<size_t>(y) * width + x) * 3;
        rgb[at] = r, rgb[at + 1] = g, rgb[at + 2] = b;
    }
};

uint8_t to_byte(float v) { return static_cast<uint8_t>(std::clamp(v, 0.0f, 1.0f) * 255.0f + 0.5f); }

// Draw image i of display (C = 1 or 3) into a side x side box at (ox, oy),
// nearest-neighbour, min-max scaled over the image.
void draw_input(Canvas& c, const ImageView& display, int64_t i, int ox, int oy, int side) {
    const int64_t ch = display.channels, h = display.height, w = display.width;
    const float* p = display.image(i);
    float lo = *std::min_element(p, p + ch * h * w), hi = *std::max_element(p, p + ch * h * w);
    const float span = hi > lo ? hi - lo : 1.0f;
    for (int y = 0; y < side; ++y)
        for (int x = 0; x < side; ++x) {
            const int64_t sy = y * h / side, sx = x * w / side;
            auto v = [&](int64_t k) { return to_byte((p[(k * h + sy) * w + sx] - lo) / span); };
            if (ch == 3) c.put(ox + x, oy + y, v(0), v(1), v(2));
            else c.put(ox + x, oy + y, v(0), v(0), v(0));
        }
}

}  // namespace

tt::Tensor gather(const tt::Tensor& images, const std::vector<int64_t>& indices) {
    tt::Shape shape = images.shape();
    const int64_t per = images.numel() / std::max<int64_t>(shape[0], 1);
    shape[0] = static_cast<int64_t>(indices.size());
    tt::Tensor out = tt::Tensor::zeros(shape);
    for (size_t j = 0; j < indices.size(); ++j)
        std::copy(images.data() + indices[j] * per, images.data() + (indices[j] + 1) * per,
                  out.data() + static_cast<int64_t>(j) * per);
    return out;
}

tt::Tensor write_feature_maps(const std::string& path, tt::nn::Sequential& model, const tt::Tensor& images,
                              const ImageView& display, const std::vector<int64_t>& indices, size_t last,
                              int scale) {
    tt::Tensor a = activations_through(model, gather(images, indices), last);  // [n, K, h, w], >= 0 after ReLU
    const int64_t n = a.size(0), k = a.size(1), h = a.size(2), w = a.size(3);
    const int cols = k >= 32 ? 16 : 8, gap = 2;
    const int cell_w = static_cast<int>(w) * scale + gap, cell_h = static_cast<int>(h) * scale + gap;
    const int rows = static_cast<int>((k + cols - 1) / cols);
    const int input_side = std::max(cell_w, cell_h) - gap;
    const int block_h = std::max(rows * cell_h, input_side + gap) + 6;  // 6 px between images
    const int width = input_side + 2 * gap + cols * cell_w;
    Canvas c(width, static_cast<int>(n) * block_h);
    for (int64_t i = 0; i < n; ++i) {
        const int oy = static_cast<int>(i) * block_h + gap;
        draw_input(c, display, indices[static_cast<size_t>(i)], gap, oy, input_side);
        const float* m = a.data() + i * k * h * w;
        const float hi = std::max(*std::max_element(m, m + k * h * w), 1e-12f);
        for (int64_t ch = 0; ch < k; ++ch) {
            const int ox = input_side + 2 * gap + static_cast<int>(ch % cols) * cell_w;
            const int cy = oy + static_cast<int>(ch / cols) * cell_h;
            for (int y = 0; y < h * scale; ++y)
                for (int x = 0; x < w * scale; ++x) {
                    uint8_t v = to_byte(m[(ch * h + y / scale) * w + x / scale] / hi);
                    c.put(ox + x, cy + y, v, v, v);
                }
        }
    }
    write_png_rgb(path, c.width, c.height, c.rgb);
    return a;
}

std::vector<std::vector<TopPatch>> top_patches(tt::nn::Sequential& model, const tt::Tensor& images, size_t last,
                                               int k, int64_t batch_size) {
    const int64_t n = images.size(0), per = images.numel() / std::max<int64_t>(n, 1);
    std::vector<std::vector<TopPatch>> best;  // per channel: every image's strongest unit
    tt::Shape shape = images.shape();
    for (int64_t start = 0; start < n; start += batch_size) {
        const int64_t b = std::min(batch_size, n - start);
        shape[0] = b;
        tt::Tensor x = tt::Tensor::zeros(shape);
        std::copy(images.data() + start * per, images.data() + (start + b) * per, x.data());
        tt::Tensor a = activations_through(model, x, last);
        const int64_t ch = a.size(1), h = a.size(2), w = a.size(3);
        if (best.empty()) best.resize(static_cast<size_t>(ch));
        for (int64_t i = 0; i < b; ++i)
            for (int64_t c = 0; c < ch; ++c) {
                const float* m = a.data() + (i * ch + c) * h * w;
                const int64_t at = std::max_element(m, m + h * w) - m;
                best[static_cast<size_t>(c)].push_back(
                    {m[at], start + i, static_cast<int>(at / w), static_cast<int>(at % w)});
            }
    }
    for (auto& v : best) {
        const size_t keep = std::min<size_t>(static_cast<size_t>(k), v.size());
        std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(keep), v.end(),
                          [](const TopPatch& a, const TopPatch& b) { return a.value > b.value; });
        v.resize(keep);
    }
    return best;
}

void write_top_patches(const std::string& path, const std::vector<std::vector<TopPatch>>& top,
                       const ImageView& display, const ReceptiveField& rf, int scale) {
    if (top.empty()) return;
    const int k = static_cast<int>(top[0].size());
    const int64_t ch = display.channels, h = display.height, w = display.width;
    const int gap = 2, group_rows = 16, group_gap = 10;
    const int cell = rf.size * scale + gap;
    const int groups = static_cast<int>((top.size() + group_rows - 1) / group_rows);
    const int rows = static_cast<int>(std::min<size_t>(top.size(), group_rows));
    Canvas c(groups * (k * cell + group_gap), rows * cell + gap);
    for (size_t channel = 0; channel < top.size(); ++channel) {
        const int gx = static_cast<int>(channel / group_rows) * (k * cell + group_gap);
        const int oy = static_cast<int>(channel % group_rows) * cell + gap;
        for (int j = 0; j < static_cast<int>(top[channel].size()); ++j) {
            const TopPatch& p = top[channel][static_cast<size_t>(j)];
            const float* img = display.image(p.image);
            // One min-max scale per source image, as write_feature_maps draws inputs.
            float lo = *std::min_element(img, img + ch * h * w), hi = *std::max_element(img, img + ch * h * w);
            const float span = hi > lo ? hi - lo : 1.0f;
            const int y0 = rf.offset + p.y * rf.jump, x0 = rf.offset + p.x * rf.jump;
            const int ox = gx + j * cell + gap;
            for (int y = 0; y < rf.size * scale; ++y)
                for (int x = 0; x < rf.size * scale; ++x) {
                    const int sy = y0 + y / scale, sx = x0 + x / scale;
                    if (sy < 0 || sx < 0 || sy >= h || sx >= w) {
                        c.put(ox + x, oy + y, 128, 128, 128);
                        continue;
                    }
                    auto v = [&](int64_t cc) { return to_byte((img[(cc * h + sy) * w + sx] - lo) / span); };
                    if (ch == 3) c.put(ox + x, oy + y, v(0), v(1), v(2));
                    else c.put(ox + x, oy + y, v(0), v(0), v(0));
                }
        }
    }
    write_png_rgb(path, c.width, c.height, c.rgb);
}

void print_layer_summary(const std::string& name, const tt::Tensor& a) {
    const int64_t n = a.size(0), k = a.size(1), hw = a.size(2) * a.size(3);
    int64_t active = 0, silent = 0;
    for (int64_t c = 0; c < k; ++c) {
        int64_t on = 0;
        for (int64_t i = 0; i < n; ++i) {
            const float* m = a.data() + (i * k + c) * hw;
            on += std::count_if(m, m + hw, [](float v) { return v > 0; });
        }
        active += on;
        silent += on == 0;
    }
    std::printf("  %-22s %3lld maps of %lldx%lld; %4.1f%% of units active on the %lld sample images; "
                "%lld channel%s silent on all of them\n",
                name.c_str(), static_cast<long long>(k), static_cast<long long>(a.size(2)),
                static_cast<long long>(a.size(3)), 100.0 * static_cast<double>(active) / static_cast<double>(n * k * hw),
                static_cast<long long>(n), static_cast<long long>(silent), silent == 1 ? "" : "s");
}

void print_top_patch_classes(const std::string& name, const std::vector<std::vector<TopPatch>>& top,
                             const tt::Tensor& labels, const std::vector<std::string>& class_names, int show) {
    struct Pick {
        size_t channel;
        int cls, count;
    };
    std::vector<Pick> picks;
    for (size_t c = 0; c < top.size(); ++c) {
        std::vector<int> counts(class_names.size());
        for (const auto& p : top[c]) counts[static_cast<size_t>(labels.data()[p.image])]++;
        auto it = std::max_element(counts.begin(), counts.end());
        picks.push_back({c, static_cast<int>(it - counts.begin()), *it});
    }
    std::stable_sort(picks.begin(), picks.end(), [](const Pick& a, const Pick& b) { return a.count > b.count; });
    const size_t k = top.empty() ? 0 : top[0].size();
    std::printf("  %s: the channels whose top %zu test patches are most often one class\n", name.c_str(), k);
    for (int i = 0; i < show && i < static_cast<int>(picks.size()); ++i)
        std::printf("    channel %2zu: %d of %zu from %s\n", picks[static_cast<size_t>(i)].channel,
                    picks[static_cast<size_t>(i)].count, k,
                    class_names[static_cast<size_t>(picks[static_cast<size_t>(i)].cls)].c_str());
}

void explain_layers(tt::nn::Sequential& model, const Split& test, const ImageView& display,
                    const std::vector<std::string>& class_names, const LayerTaps& taps, const std::string& out_dir,
                    bool quiet, int samples, int top_k) {
    // Fixed sample images: the first test image of each of the first classes.
    std::vector<int64_t> picks;
    for (int c = 0; c < samples; ++c)
        for (int64_t i = 0; i < test.size(); ++i)
            if (static_cast<int>(test.y.data()[i]) == c) {
                picks.push_back(i);
                break;
            }
    if (picks.empty()) return;
    // Magnify small maps so that every map is about 48 pixels across.
    auto scale_for = [](int64_t side) { return static_cast<int>(std::max<int64_t>(1, (48 + side - 1) / side)); };
    const int64_t side1 = activations_through(model, gather(test.x, {picks[0]}), taps.conv1_relu).size(2);
    const int64_t side2 = activations_through(model, gather(test.x, {picks[0]}), taps.conv2_relu).size(2);
    tt::Tensor a1 = write_feature_maps(out_dir + "/feature_maps_conv1.png", model, test.x, display, picks,
                                       taps.conv1_relu, scale_for(side1));
    tt::Tensor a2 = write_feature_maps(out_dir + "/feature_maps_conv2.png", model, test.x, display, picks,
                                       taps.conv2_relu, scale_for(side2));
    const ReceptiveField rf = receptive_field(taps.to_conv2);
    auto top = top_patches(model, test.x, taps.conv2_relu, top_k);
    write_top_patches(out_dir + "/top_patches_conv2.png", top, display, rf,
                      static_cast<int>(std::max(1, (32 + rf.size - 1) / rf.size)));
    if (quiet) return;
    std::printf("\nWhat each layer responds to (after its ReLU; feature_maps_conv*.png, top_patches_conv2.png)\n");
    print_layer_summary("conv1", a1);
    print_layer_summary("conv2", a2);
    std::printf("  a conv2 unit sees a %dx%d patch of the input (its receptive field)\n", rf.size, rf.size);
    print_top_patch_classes("conv2", top, test.y, class_names, 6);
}

}  // namespace milestone
