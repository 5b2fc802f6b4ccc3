// Milestone 04, part 1: LeCun's idea on TinyDigits.
//
// A small CNN and an MLP with MORE parameters train on the same 1,000 8x8
// digits. Both are tested on the clean test digits and on the same digits
// shifted by up to one pixel. Convolution shares its weights across positions
// and pooling forgets exact positions, so the CNN should keep more of its
// accuracy under shifts. Every number printed is measured by this run.
#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "common/artifacts.hpp"
#include "common/features.hpp"
#include "common/report.hpp"
#include "common/session.hpp"
#include "common/training.hpp"
#include "tinytorch/nn.hpp"
#include "tinytorch/runtime.hpp"

namespace po = boost::program_options;
using namespace milestone;

namespace {

// LeNet in miniature: 1x8x8 -> 16x4x4 -> 32x2x2 -> 10.
std::shared_ptr<tt::nn::Sequential> make_cnn() {
    auto m = std::make_shared<tt::nn::Sequential>();
    m->add<tt::nn::Conv2d>(1, 16, 3, 1, 1);
    m->add<tt::nn::ReLU>();
    m->add<tt::nn::MaxPool2d>(2);
    m->add<tt::nn::Conv2d>(16, 32, 3, 1, 1);
    m->add<tt::nn::ReLU>();
    m->add<tt::nn::MaxPool2d>(2);
    m->add<tt::nn::Flatten>();
    m->add<tt::nn::Linear>(32 * 2 * 2, 10);
    return m;
}

// The MLP sees the 64 pixels as an unordered vector.
std::shared_ptr<tt::nn::Sequential> make_mlp(int hidden) {
    auto m = std::make_shared<tt::nn::Sequential>();
    m->add<tt::nn::Flatten>();
    m->add<tt::nn::Linear>(64, hidden);
    m->add<tt::nn::ReLU>();
    m->add<tt::nn::Linear>(hidden, 10);
    return m;
}

// The test digits, each shifted by a seeded random offset of up to one pixel
// (module 08's random_crop with padding 1): the same for both models.
Split shifted_copy(const Split& s, uint64_t seed) {
    tt_rng rng;
    tt::runtime().host().rng_seed(&rng, seed);
    tt_tensor* out = nullptr;
    TT_CALL(8, tt::runtime().dataloader(), random_crop, s.x.raw(), 1, &rng, &out);
    return Split{tt::Tensor::adopt(out), s.y};
}

}  // namespace

int main(int argc, char** argv) {
    CommonOptions common;
    common.session.title = "Milestone 04 - The 1998 CNN revolution - part 1: LeNet vs MLP on TinyDigits";
    std::string data_dir;
    bool no_shift = false;
    int hidden = 128;
    po::options_description opts("Options");
    add_common_options(opts, common, 40, 32, 3e-3f, "0.003", 0, "milestone04-part1");
    opts.add_options()
        ("hidden", po::value(&hidden)->default_value(128), "hidden units of the MLP")
        ("no-shift", po::bool_switch(&no_shift), "train without random one-pixel shifts")
        ("data", po::value(&data_dir), "TinyDigits directory (default: datasets/tinydigits)");
    if (int code = parse_command_line(argc, argv, opts, "milestone_04_part1", common); code >= 0) return code;
    if (hidden < 1 || hidden > 65536) {
        std::fprintf(stderr, "error: --hidden must be from 1 to 65536 (got %d)\n", hidden);
        return kExitUsage;
    }
    SessionOptions& session = common.session;
    TrainConfig& cfg = common.train;
    const std::string& out_dir = common.out_dir;
    const bool eval_only = common.eval_only;
    return run_guarded([&]() -> int {
        if (int code = open_session(session); code != kExitOk) return code;
        install_interrupt_handler();
        tt::data::ImageDataset train_set = tt::data::load_tinydigits(data_dir, true);
        tt::data::ImageDataset test_set = tt::data::load_tinydigits(data_dir, false);
        require_image_shape(train_set, test_set, 1, 8, 8, "TinyDigits' 1x8x8 digits (the CNN pools 8 -> 4 -> 2)",
                            "Point --data at the TinyDigits files (datasets/tinydigits); 28x28 MNIST-style data "
                            "runs in part 2: milestone_04_part2 --dataset mnist --data DIR");
        cfg.batch_size = fit_batch_size(cfg.batch_size, train_set.count);
        Split train = to_split(train_set), test = to_split(test_set);
        Split test_shifted = shifted_copy(test, session.seed + 1000);
        make_dir(out_dir);
        OutDirLock lock(out_dir);
        if (common.train.resume && !eval_only && !std::filesystem::exists(out_dir + "/cnn.ckpt"))
            throw UsageError("--resume: no checkpoint in " + out_dir +
                             " (cnn.ckpt): nothing to continue; run without --resume to start from scratch");
        if (!session.quiet)
            std::printf("Data: %lld training and %lld test digits, 8x8, 10 classes (%s).\n\n",
                        static_cast<long long>(train.size()), static_cast<long long>(test.size()),
                        tt::data::default_tinydigits_dir().c_str());

        auto cnn = make_cnn();
        auto mlp = make_mlp(hidden);
        if (!session.quiet) {
            std::printf("CNN (LeNet-style):\n");
            print_architecture(*cnn, {1, 8, 8});
            std::printf("\nMLP:\n");
            print_architecture(*mlp, {1, 8, 8});
            std::printf("\n");
        }

        cfg.crop_padding = no_shift ? 0 : 1;
        cfg.quiet = session.quiet;
        cfg.seed = session.seed;
        struct Entry {
            const char* label;
            std::shared_ptr<tt::nn::Sequential> model;
            FitResult fit;
            EvalResult clean, shifted;
        };
        std::vector<Entry> models = {{"CNN", cnn, {}, {}, {}}, {"MLP", mlp, {}, {}, {}}};
        if (!session.quiet)
            std::printf("Training both with Adam (peak lr %g, cosine), batch %lld, %d epochs, %s.\n",
                        cfg.lr, static_cast<long long>(cfg.batch_size), cfg.epochs,
                        no_shift ? "no augmentation" : "random one-pixel shifts");
        for (auto& m : models) {
            TrainConfig c = cfg;
            c.label = m.label;
            c.checkpoint_path = out_dir + "/" + (m.label == std::string("CNN") ? "cnn" : "mlp") + ".ckpt";
            if (eval_only) {
                load_model(*m.model, c.checkpoint_path);
            } else {
                m.fit = fit(*m.model, train, test, c);
                if (m.fit.interrupted) {
                    std::printf("\nInterrupted: checkpoint saved to %s; continue with --resume.\n", c.checkpoint_path.c_str());
                    return kExitInterrupted;
                }
            }
            m.clean = m.fit.last_test ? *m.fit.last_test : evaluate(*m.model, test);  // the last epoch's test run
            m.shifted = evaluate(*m.model, test_shifted);
        }

        Comparison cmp;
        for (auto& m : models)
            cmp.rows.push_back({m.label, m.model->parameter_count(), multiply_adds(*m.model, {1, 8, 8}),
                                m.clean.accuracy, m.shifted.accuracy, m.fit.train_seconds,
                                training_images_per_second(m.fit), m.clean.loss});
        print_comparison(cmp, "clean test", "shifted test");
        if (!session.quiet) {
            print_per_class(test_set.class_names, test.y, models[0].shifted.predictions, "CNN on shifted test digits");
            print_confusion(test_set.class_names, test.y, models[0].shifted.predictions, "CNN, shifted test digits");
            print_digit_samples(test_shifted.x, test.y, models[0].shifted.predictions, models[1].shifted.predictions, 8);
            print_filters_ascii(cnn->layers()[0]);
        }
        // What the CNN's layers respond to: 0 Conv(pad 1) 1 ReLU 2 MaxPool 3 Conv(pad 1) 4 ReLU.
        // A conv2 unit sees 8x8 input pixels: all of a digit, from 3 pixels above-left of 2y, 2x.
        explain_layers(*cnn, test, ImageView{test_set.images.data(), test_set.count, 1, 8, 8},
                       test_set.class_names, LayerTaps{1, 4, {{3, 1, 1}, {2, 2, 0}, {3, 1, 1}}}, out_dir,
                       session.quiet);

        // Artifacts.
        std::vector<Series> acc, loss;
        const char* colors[] = {"#d62728", "#1f77b4"};
        for (size_t i = 0; i < models.size(); ++i) {
            Series a{std::string(models[i].label) + " test acc", colors[i], {}};
            Series l{std::string(models[i].label) + " train loss", colors[i], {}};
            for (auto& e : models[i].fit.epochs) a.values.push_back(e.test_acc), l.values.push_back(e.train_loss);
            acc.push_back(a), loss.push_back(l);
        }
        if (!eval_only) {
            write_svg_chart(out_dir + "/accuracy.svg", "TinyDigits: clean test accuracy per epoch", "accuracy", acc);
            write_svg_chart(out_dir + "/loss.svg", "TinyDigits: training loss per epoch", "cross-entropy", loss);
        }
        auto& conv1 = dynamic_cast<tt::nn::Conv2d&>(*cnn->layers()[0]);
        write_filter_grid(out_dir + "/filters_conv1.png", conv1.weight.data(), 16, 1, 3, 16);
        // --eval-only keeps the training run's metrics.json (its curves) and
        // writes what it measured next to it.
        const std::string metrics = eval_only ? "metrics-eval.json" : "metrics.json";
        write_metrics(out_dir + "/" + metrics,
                      MetricsInfo{"tinydigits", session.reference, "clean test", "shifted test", 1, eval_only}, cmp,
                      {&models[0].fit, &models[1].fit});
        if (!session.quiet)
            std::printf("\nFiles: %s/{%sfilters_conv1.png, feature_maps_conv1.png, feature_maps_conv2.png, "
                        "top_patches_conv2.png, %s, cnn.ckpt, mlp.ckpt}\n",
                        out_dir.c_str(), eval_only ? "" : "accuracy.svg, loss.svg, ", metrics.c_str());
        return kExitOk;
    });
}
