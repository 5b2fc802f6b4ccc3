#include "common/report.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "common/artifacts.hpp"
#include "tinytorch/progress.hpp"
#include "tinytorch/runtime.hpp"
#include "tinytorch/train.hpp"

namespace milestone {

void print_comparison(const Comparison& c, const std::string& a_name, const std::string& b_name) {
    std::printf("\nResults (measured in this run)\n");
    std::printf("  %-6s %12s %12s %14s %14s %12s %10s\n", "model", "parameters", "MACs/image", a_name.c_str(),
                b_name.c_str(), "train time", "images/s");
    for (auto& r : c.rows)
        std::printf("  %-6s %12lld %12lld %13.1f%% %13.1f%% %11.2fs %10.0f\n", r.model.c_str(),
                    static_cast<long long>(r.parameters), static_cast<long long>(r.macs), 100 * r.acc_a,
                    100 * r.acc_b, r.train_seconds, r.images_per_second);
    if (c.rows.size() == 2) {
        const auto &x = c.rows[0], &y = c.rows[1];
        // "3.5 points ahead of the MLP", "1.0 points behind the MLP", "level with the MLP"
        auto standing = [](double ax, double ay, const std::string& other) {
            const double gap = 100 * (ax - ay);
            char buf[96];
            if (gap > 0) std::snprintf(buf, sizeof buf, "%.1f points ahead%s", gap, other.empty() ? "" : (" of " + other).c_str());
            else if (gap < 0) std::snprintf(buf, sizeof buf, "%.1f points behind%s", -gap, other.empty() ? "" : (" " + other).c_str());
            else std::snprintf(buf, sizeof buf, "level%s", other.empty() ? "" : (" with " + other).c_str());
            return std::string(buf);
        };
        auto times = [](int64_t a, int64_t b, const char* more, const char* fewer) {
            char buf[80];
            if (a == 0 || b == 0) return std::string("?");
            if (a <= b) std::snprintf(buf, sizeof buf, "%.2fx %s", static_cast<double>(b) / a, fewer);
            else std::snprintf(buf, sizeof buf, "%.2fx %s", static_cast<double>(a) / b, more);
            return std::string(buf);
        };
        std::printf("\n  In this run the %s is %s on %s and %s on %s,\n  with %s parameters and %s "
                    "multiply-adds per image.\n",
                    x.model.c_str(), standing(x.acc_a, y.acc_a, "the " + y.model).c_str(), a_name.c_str(),
                    standing(x.acc_b, y.acc_b, "").c_str(), b_name.c_str(),
                    times(x.parameters, y.parameters, "more", "fewer").c_str(),
                    times(x.macs, y.macs, "more", "fewer").c_str());
    }
}

void print_per_class(const std::vector<std::string>& classes, const tt::Tensor& labels,
                     const std::vector<int>& predictions, const std::string& title) {
    std::vector<int> total(classes.size()), right(classes.size());
    for (size_t i = 0; i < predictions.size(); ++i) {
        int y = static_cast<int>(labels.data()[i]);
        total[y]++;
        right[y] += predictions[i] == y;
    }
    std::printf("\nPer-class accuracy, %s\n", title.c_str());
    for (size_t c = 0; c < classes.size(); ++c) {
        double acc = total[c] ? static_cast<double>(right[c]) / total[c] : 0;
        int bar = static_cast<int>(acc * 30 + 0.5);
        std::printf("  %-12s %5.1f%%  %s\n", classes[c].c_str(), 100 * acc, std::string(bar, '#').c_str());
    }
}

void print_confusion(const std::vector<std::string>& classes, const tt::Tensor& labels,
                     const std::vector<int>& predictions, const std::string& title) {
    size_t k = classes.size();
    std::vector<int> m(k * k);
    for (size_t i = 0; i < predictions.size(); ++i) m[static_cast<int>(labels.data()[i]) * k + predictions[i]]++;
    std::printf("\nConfusion matrix, %s (rows: true class, columns: predicted)\n      ", title.c_str());
    for (size_t c = 0; c < k; ++c) std::printf(" %5.5s", classes[c].c_str());
    std::printf("\n");
    for (size_t r = 0; r < k; ++r) {
        std::printf("  %-4.4s", classes[r].c_str());
        for (size_t c = 0; c < k; ++c) {
            int v = m[r * k + c];
            if (v == 0) std::printf(" %5s", ".");
            else std::printf(" %5d", v);
        }
        std::printf("\n");
    }
}

void print_digit_samples(const tt::Tensor& images, const tt::Tensor& labels, const std::vector<int>& pred_a,
                         const std::vector<int>& pred_b, int count) {
    const char* shades = " .:-=+*#%@";
    int64_t n = std::min<int64_t>(count, images.size(0));
    int64_t h = images.size(2), w = images.size(3);
    std::printf("\nSample shifted test digits (label / CNN guess / MLP guess)\n");
    for (int64_t row = 0; row < h; ++row) {
        std::printf("  ");
        for (int64_t i = 0; i < n; ++i) {
            const float* img = images.data() + i * h * w;
            for (int64_t col = 0; col < w; ++col) {
                float v = std::clamp(img[row * w + col], 0.0f, 1.0f);
                char ch = shades[static_cast<int>(v * 9.0f + 0.5f)];
                std::printf("%c%c", ch, ch);
            }
            std::printf("   ");
        }
        std::printf("\n");
    }
    std::printf("  ");
    for (int64_t i = 0; i < n; ++i) {
        char buf[32];
        int y = static_cast<int>(labels.data()[i]);
        std::snprintf(buf, sizeof buf, "%d/%d%s/%d%s", y, pred_a[i], pred_a[i] == y ? "" : "x", pred_b[i],
                      pred_b[i] == y ? "" : "x");
        std::printf("%-*s", static_cast<int>(2 * w + 3), buf);
    }
    std::printf("\n");
}

void print_filters_ascii(const std::shared_ptr<tt::nn::Module>& layer) {
    auto* conv = dynamic_cast<tt::nn::Conv2d*>(layer.get());
    if (!conv) return;
    const tt::Tensor& w = conv->weight;
    int64_t o = w.size(0), k = w.size(2), per = w.numel() / o;
    const char* shades = " .:-=+*#%@";
    std::printf("\nLearned first-layer filters (%lld of %lldx%lld; dark = negative, bright = positive)\n",
                static_cast<long long>(o), static_cast<long long>(k), static_cast<long long>(k));
    for (int64_t row = 0; row < k; ++row) {
        std::printf("  ");
        for (int64_t f = 0; f < o; ++f) {
            const float* p = w.data() + f * per;
            float lo = *std::min_element(p, p + per), hi = *std::max_element(p, p + per);
            float span = hi > lo ? hi - lo : 1.0f;
            for (int64_t col = 0; col < k; ++col) {
                char ch = shades[static_cast<int>((p[row * k + col] - lo) / span * 9.0f + 0.5f)];
                std::printf("%c%c", ch, ch);
            }
            std::printf(" ");
        }
        std::printf("\n");
    }
}

double training_images_per_second(const FitResult& fit) {
    double seconds = 0, images = 0;
    for (auto& e : fit.epochs) seconds += e.seconds, images += e.seconds * e.images_per_second;
    return seconds > 0 ? images / seconds : 0.0;
}

void write_metrics(const std::string& path, const MetricsInfo& info, const Comparison& c,
                   const std::vector<const FitResult*>& fits) {
    using tt::progress::Json;
    Json doc = Json::object();
    doc.set("dataset", info.dataset);
    // what ran, e.g. "reference,09=fast" for --reference (the fastest built)
    doc.set("libraries", tt::format_impl_choice(tt::runtime().choice()));
    doc.set("evaluated_only", info.evaluated_only);
    doc.set("accuracy_a", info.a_name);
    doc.set("accuracy_b", info.b_name);
    doc.set("shift_pixels", static_cast<int64_t>(info.shift_pixels));
    Json models = Json::array();
    for (size_t i = 0; i < c.rows.size(); ++i) {
        const auto& r = c.rows[i];
        Json loss = Json::array(), train_acc = Json::array(), acc = Json::array(), secs = Json::array();
        if (i < fits.size() && fits[i])
            for (auto& e : fits[i]->epochs) {
                loss.push_back(e.train_loss), train_acc.push_back(e.train_acc);
                acc.push_back(e.test_acc), secs.push_back(e.seconds);
            }
        Json m = Json::object();
        m.set("name", r.model);
        m.set("parameters", r.parameters);
        m.set("macs_per_image", r.macs);
        m.set("accuracy_a", r.acc_a);
        m.set("accuracy_b", r.acc_b);
        m.set("test_loss", r.test_loss);
        m.set("train_seconds", r.train_seconds);
        m.set("images_per_second", r.images_per_second);
        m.set("epoch_train_loss", std::move(loss));
        m.set("epoch_train_accuracy", std::move(train_acc));
        m.set("epoch_test_accuracy", std::move(acc));
        m.set("epoch_seconds", std::move(secs));
        models.push_back(std::move(m));
    }
    doc.set("models", std::move(models));
    write_file_atomic(path, doc.dump(2) + "\n");
}

}  // namespace milestone
