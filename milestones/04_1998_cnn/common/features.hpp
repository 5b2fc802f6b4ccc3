// features.hpp - what each layer of a trained CNN responds to, drawn from the
// model itself: the feature maps of fixed test images after a layer's ReLU,
// and for every channel of a layer the input patches (over the whole test
// set) that activate it most. PNG files plus a compact summary in the terminal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/training.hpp"
#include "tinytorch/nn.hpp"
#include "tinytorch/tensor.hpp"

namespace milestone {

// One spatial layer on the way from the input to a tapped activation.
struct LayerGeometry {
    int kernel = 1, stride = 1, padding = 0;
};

// Which input pixels one unit of a layer sees (its receptive field): unit
// (y, x) covers input rows offset + y*jump ... offset + y*jump + size - 1 (the
// same for columns). Built layer by layer from the input:
//   size' = size + (kernel - 1) * jump,  offset' = offset - padding * jump,  jump' = jump * stride
struct ReceptiveField {
    int size = 1, jump = 1, offset = 0;
};
ReceptiveField receptive_field(const std::vector<LayerGeometry>& layers);

// The output of model.layers()[0..last] (inclusive) for x, in eval mode
// without grad, layer by layer (no fused ops: every intermediate is real).
tt::Tensor activations_through(tt::nn::Sequential& model, const tt::Tensor& x, size_t last);

// Pixels to draw (the raw images, before normalisation): count images of
// channels x height x width floats, CHW, image after image.
struct ImageView {
    const float* data = nullptr;
    int64_t count = 0, channels = 0, height = 0, width = 0;
    const float* image(int64_t i) const { return data + i * channels * height * width; }
};

// The images images[i] for i in `indices`, as one batch [n, C, H, W].
tt::Tensor gather(const tt::Tensor& images, const std::vector<int64_t>& indices);

// The feature maps after `last` for the images `indices` of `images`: one
// block per image, its input (drawn from `display`) on the left, then the
// channel maps in rows of 8 (16 from 32 channels up), each magnified `scale`
// times. Layout: maps of h x w become cells of (w*scale + 2) x (h*scale + 2);
// the input is drawn in a square of side max(cell) - 2; an image's block is
// max(rows * cell_h, input side + 2) + 6 pixels high; the width is input side
// + 4 + columns * cell_w. A shared brightness
// scale per image and layer (0 = black, the image's largest activation =
// white), so a channel that barely fires looks dark. Returns the activations.
tt::Tensor write_feature_maps(const std::string& path, tt::nn::Sequential& model, const tt::Tensor& images,
                              const ImageView& display, const std::vector<int64_t>& indices, size_t last,
                              int scale);

// For every channel of the activation after `last`: the `k` test images whose
// strongest unit of that channel is the largest, with that unit's position.
struct TopPatch {
    float value = 0;
    int64_t image = 0;
    int y = 0, x = 0;
};
std::vector<std::vector<TopPatch>> top_patches(tt::nn::Sequential& model, const tt::Tensor& images, size_t last,
                                               int k, int64_t batch_size = 256);

// One row per channel (in column groups of 16 rows): the k input patches of
// `display` under each unit's receptive field, magnified `scale` times;
// pixels outside the image (padding) drawn mid-gray. Layout: cells of
// rf.size * scale + 2 pixels; width groups * (k * cell + 10), height
// min(channels, 16) * cell + 2.
void write_top_patches(const std::string& path, const std::vector<std::vector<TopPatch>>& top,
                       const ImageView& display, const ReceptiveField& rf, int scale);

// Terminal summary: per tapped layer, how many units fire on the sample
// images and how many channels never do; for the channels whose top patches
// come most from one class, that class.
void print_layer_summary(const std::string& name, const tt::Tensor& sample_activations);
void print_top_patch_classes(const std::string& name, const std::vector<std::vector<TopPatch>>& top,
                             const tt::Tensor& labels, const std::vector<std::string>& class_names, int show);

// All of the above for a two-convolution CNN: feature_maps_conv1.png and
// feature_maps_conv2.png for the first test image of each of the first
// `samples` classes, top_patches_conv2.png (top `top_k` per conv2 channel over
// the whole test set), and unless quiet the terminal summary.
struct LayerTaps {
    size_t conv1_relu = 0, conv2_relu = 0;  // indices of the ReLUs in model.layers()
    std::vector<LayerGeometry> to_conv2;    // conv1, pool, conv2: for the receptive field
};
void explain_layers(tt::nn::Sequential& model, const Split& test, const ImageView& display,
                    const std::vector<std::string>& class_names, const LayerTaps& taps, const std::string& out_dir,
                    bool quiet, int samples = 6, int top_k = 8);

}  // namespace milestone
