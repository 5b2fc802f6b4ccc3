// report.hpp - what the milestone prints and records: the results table,
// per-class accuracy, the confusion matrix, digits drawn in the terminal,
// first-layer filters, metrics.json.
#pragma once

#include <string>
#include <vector>

#include "common/training.hpp"
#include "tinytorch/nn.hpp"

namespace milestone {

struct ComparisonRow {
    std::string model;
    int64_t parameters = 0;
    int64_t macs = 0;             // multiply-adds per image (convolutions and linear layers)
    double acc_a = 0, acc_b = 0;  // e.g. clean and shifted accuracy
    double train_seconds = 0;     // the whole fit, per-epoch test runs included
    double images_per_second = 0; // training images per second of training loop
    double test_loss = 0;         // mean cross-entropy on the clean test set
};
struct Comparison {
    std::vector<ComparisonRow> rows;
};

// The results table; with two rows, a closing sentence that states what this
// run showed (which model led on each test set, by how much, at what cost).
void print_comparison(const Comparison& c, const std::string& a_name, const std::string& b_name);
void print_per_class(const std::vector<std::string>& classes, const tt::Tensor& labels,
                     const std::vector<int>& predictions, const std::string& title);
void print_confusion(const std::vector<std::string>& classes, const tt::Tensor& labels,
                     const std::vector<int>& predictions, const std::string& title);
// Draw `count` images [N,1,H,W] in shades, with the label and both models' guesses.
void print_digit_samples(const tt::Tensor& images, const tt::Tensor& labels, const std::vector<int>& pred_a,
                         const std::vector<int>& pred_b, int count);
void print_filters_ascii(const std::shared_ptr<tt::nn::Module>& conv_layer);

// metrics.json: per model its parameters, MACs, accuracies, timings and
// per-epoch curves (empty for a model that was only evaluated).
struct MetricsInfo {
    std::string dataset;
    bool reference = false;
    std::string a_name, b_name;  // what acc_a and acc_b measured ("clean test", "shifted test")
    int shift_pixels = 0;
    bool evaluated_only = false;
};
void write_metrics(const std::string& path, const MetricsInfo& info, const Comparison& c,
                   const std::vector<const FitResult*>& fits);

// Images per second over the epochs of a fit (0 when nothing trained).
double training_images_per_second(const FitResult& fit);

}  // namespace milestone
