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
    double acc_a = 0, acc_b = 0;  // e.g. clean and shifted accuracy
    double train_seconds = 0;
};
struct Comparison {
    std::vector<ComparisonRow> rows;
};

void print_comparison(const Comparison& c, const std::string& a_name, const std::string& b_name);
void print_per_class(const std::vector<std::string>& classes, const tt::Tensor& labels,
                     const std::vector<int>& predictions, const std::string& title);
void print_confusion(const std::vector<std::string>& classes, const tt::Tensor& labels,
                     const std::vector<int>& predictions, const std::string& title);
// Draw `count` images [N,1,H,W] in shades, with the label and both models' guesses.
void print_digit_samples(const tt::Tensor& images, const tt::Tensor& labels, const std::vector<int>& pred_a,
                         const std::vector<int>& pred_b, int count);
void print_filters_ascii(const std::shared_ptr<tt::nn::Module>& conv_layer);

void write_metrics(const std::string& path, const std::string& dataset, bool reference, const Comparison& c,
                   const FitResult& a, const FitResult& b);

}  // namespace milestone
