// Milestone 04, part 2: the same ideas on natural images.
//
// Conv(3->32,3) BN ReLU MaxPool2 - Conv(32->64,3) BN ReLU MaxPool2 -
// Linear(2304->256) ReLU - Linear(256->10), trained with Adam, a cosine
// schedule, random flips and random crops (padding 4) on all 50,000 CIFAR-10
// training images, evaluated on all 10,000 test images. Beside it, unless
// --no-mlp, an MLP 3072->512->256->10 trains on the same data with the same
// optimizer, schedule, augmentation and epochs; both are tested on the clean
// test images and on the same images shifted by up to 4 pixels. Then what the
// CNN's layers respond to: feature maps of sample images and, per conv2
// channel, the test patches that excite it most. --dataset fashion-mnist|mnist
// runs the same program on 28x28 IDX data. Every figure printed is measured by
// this run.
#include <boost/program_options.hpp>

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

std::shared_ptr<tt::nn::Sequential> make_cnn(int64_t channels, int64_t height, int64_t width) {
    auto m = std::make_shared<tt::nn::Sequential>();
    m->add<tt::nn::Conv2d>(channels, 32, 3);
    m->add<tt::nn::BatchNorm2d>(32);
    m->add<tt::nn::ReLU>();
    m->add<tt::nn::MaxPool2d>(2);
    m->add<tt::nn::Conv2d>(32, 64, 3);
    m->add<tt::nn::BatchNorm2d>(64);
    m->add<tt::nn::ReLU>();
    m->add<tt::nn::MaxPool2d>(2);
    m->add<tt::nn::Flatten>();
    // 32x32 -> 30 -> 15 -> 13 -> 6 (CIFAR: 64*6*6 = 2304); 28x28 -> 26 -> 13 -> 11 -> 5.
    int64_t h = ((height - 2) / 2 - 2) / 2, w = ((width - 2) / 2 - 2) / 2;
    m->add<tt::nn::Linear>(64 * h * w, 256);
    m->add<tt::nn::ReLU>();
    m->add<tt::nn::Linear>(256, 10);
    return m;
}

// The MLP sees the C*H*W pixels as one vector: no shared weights, no pooling.
std::shared_ptr<tt::nn::Sequential> make_mlp(int64_t inputs) {
    auto m = std::make_shared<tt::nn::Sequential>();
    m->add<tt::nn::Flatten>();
    m->add<tt::nn::Linear>(inputs, 512);
    m->add<tt::nn::ReLU>();
    m->add<tt::nn::Linear>(512, 256);
    m->add<tt::nn::ReLU>();
    m->add<tt::nn::Linear>(256, 10);
    return m;
}

// The test images, each shifted by a seeded random offset of up to `pixels`
// (module 08's random_crop, zero padding): the same copy for both models.
Split shifted_copy(const Split& s, int32_t pixels, uint64_t seed) {
    tt_rng rng;
    tt::runtime().host().rng_seed(&rng, seed);
    tt_tensor* out = nullptr;
    TT_CALL(8, tt::runtime().dataloader(), random_crop, s.x.raw(), pixels, &rng, &out);
    return Split{tt::Tensor::adopt(out), s.y};
}

// Per-channel normalisation of a whole split (module 08's normalize).
void normalize_split(Split& s, const std::vector<float>& mean, const std::vector<float>& std) {
    tt_tensor* out = nullptr;
    TT_CALL(8, tt::runtime().dataloader(), normalize, s.x.raw(), mean.data(), std.data(),
            static_cast<int32_t>(mean.size()), &out);
    s.x = tt::Tensor::adopt(out);
}

}  // namespace

int main(int argc, char** argv) {
    CommonOptions common;
    common.session.title = "Milestone 04 - The 1998 CNN revolution - part 2: a CNN on natural images";
    std::string dataset = "cifar10", data_path;
    int64_t limit = 0;
    bool no_mlp = false;
    po::options_description opts("Options");
    add_common_options(opts, common, 10, 64, 2e-3f, "0.002", 0, "milestone04-part2");
    opts.add_options()
        ("dataset", po::value(&dataset)->default_value("cifar10"), "cifar10 | fashion-mnist | mnist")
        ("data", po::value(&data_path), "CIFAR-10: cifar-10-binary.tar.gz or cifar-10-batches-bin/ (else $TINYTORCH_DATA, datasets/cifar10); IDX: the directory")
        ("limit", po::value(&limit)->default_value(0), "use only the first N training images (quick checks)")
        ("no-mlp", po::bool_switch(&no_mlp), "train and evaluate only the CNN (no MLP beside it)");
    if (int code = parse_command_line(argc, argv, opts, "milestone_04_part2", common); code >= 0) return code;
    if (dataset != "cifar10" && dataset != "fashion-mnist" && dataset != "mnist") {
        std::fprintf(stderr, "error: --dataset must be cifar10, fashion-mnist or mnist (got '%s')\n", dataset.c_str());
        return kExitUsage;
    }
    if (limit < 0) {
        std::fprintf(stderr, "error: --limit must be >= 0\n");
        return kExitUsage;
    }
    SessionOptions& session = common.session;
    TrainConfig& cfg = common.train;
    const std::string& out_dir = common.out_dir;
    const bool eval_only = common.eval_only;
    return run_guarded([&]() -> int {
        // Find the data before anything else: a missing download is the most
        // common problem and deserves the clearest message.
        tt::data::ImageDataset train_set, test_set;
        if (dataset == "cifar10") {
            std::string path = tt::data::find_cifar10(data_path);
            if (path.empty()) {
                std::fprintf(stderr, "CIFAR-10 was not found.\n%s\n", tt::data::cifar10_instructions().c_str());
                return kExitDataMissing;
            }
            train_set = tt::data::load_cifar10(path, true);
            test_set = tt::data::load_cifar10(path, false);
        } else if (dataset == "fashion-mnist") {
            train_set = tt::data::load_fashion_mnist(data_path, true);
            test_set = tt::data::load_fashion_mnist(data_path, false);
        } else {
            if (data_path.empty()) {
                std::fprintf(stderr, "error: --dataset mnist needs --data DIR with the four MNIST IDX files\n");
                return kExitDataMissing;
            }
            train_set = tt::data::load_mnist(data_path, true);
            test_set = tt::data::load_mnist(data_path, false);
        }
        if (dataset == "cifar10")
            require_image_shape(train_set, test_set, 3, 32, 32, "CIFAR-10's 3x32x32 images",
                                "Point --data at cifar-10-binary.tar.gz or cifar-10-batches-bin/.");
        else
            require_image_shape(train_set, test_set, 1, 10, 64,
                                "square 1-channel images of 10x10 to 64x64 pixels (two 3x3 convolutions and two "
                                "2x2 poolings need at least 10; the first Linear layer grows with the image)",
                                "MNIST and Fashion-MNIST are 1x28x28: check the files in --data.");
        if (int code = open_session(session); code != kExitOk) return code;
        install_interrupt_handler();
        if (limit > 0 && limit < train_set.count) {
            train_set.count = limit;
            train_set.images.resize(static_cast<size_t>(limit * train_set.image_size()));
            train_set.labels.resize(static_cast<size_t>(limit));
        }
        cfg.batch_size = fit_batch_size(cfg.batch_size, train_set.count);
        Split train = to_split(train_set), test = to_split(test_set);
        std::vector<float>().swap(train_set.images);  // copied into train.x (614 MB for CIFAR-10)
        // test_set.images stay: the raw pixels the feature-map images draw.
        std::vector<float> mean, stdev;
        if (dataset == "cifar10") {
            mean = {0.4914f, 0.4822f, 0.4465f}, stdev = {0.2470f, 0.2435f, 0.2616f};
            cfg.hflip = true;
            cfg.crop_padding = 4;
        } else {
            mean = {0.2860f}, stdev = {0.3530f};  // Fashion-MNIST statistics; fine for MNIST too
            cfg.hflip = dataset == "fashion-mnist";
            cfg.crop_padding = 2;
        }
        normalize_split(train, mean, stdev);
        normalize_split(test, mean, stdev);
        make_dir(out_dir);
        OutDirLock lock(out_dir);
        if (cfg.resume && !eval_only && !std::filesystem::exists(out_dir + "/cnn.ckpt"))
            throw UsageError("--resume: no checkpoint in " + out_dir +
                             " (cnn.ckpt): nothing to continue; run without --resume to start from scratch");
        if (!session.quiet)
            std::printf("Data: %s, %lld training and %lld test images of %lldx%lldx%lld.\n\n", dataset.c_str(),
                        static_cast<long long>(train.size()), static_cast<long long>(test.size()),
                        static_cast<long long>(train_set.channels), static_cast<long long>(train_set.height),
                        static_cast<long long>(train_set.width));

        const tt::Shape image_shape{train_set.channels, train_set.height, train_set.width};
        struct Entry {
            const char* label;
            const char* file;
            std::shared_ptr<tt::nn::Sequential> model;
            FitResult fit;
            EvalResult clean, shifted;
            bool evaluated = false;
        };
        std::vector<Entry> models;
        models.push_back({"CNN", "cnn.ckpt", make_cnn(train_set.channels, train_set.height, train_set.width), {}, {}, {}});
        if (!no_mlp)
            models.push_back({"MLP", "mlp.ckpt", make_mlp(train_set.image_size()), {}, {}, {}});
        if (!session.quiet) {
            for (auto& m : models) {
                std::printf("%s:\n", m.label);
                print_architecture(*m.model, image_shape);
                std::printf("\n");
            }
            std::printf("Training %s with Adam (peak lr %g, warmup + cosine), batch %lld, %d epochs, %s.\n",
                        models.size() > 1 ? "both" : "the CNN", cfg.lr, static_cast<long long>(cfg.batch_size),
                        cfg.epochs, cfg.hflip ? "random flips + random crops" : "random crops");
        }
        cfg.quiet = session.quiet;
        cfg.seed = session.seed;
        cfg.warmup_fraction = 0.03f;
        // Shifted by up to the augmentation's padding: 4 pixels on CIFAR-10, 2 on 28x28.
        Split test_shifted = shifted_copy(test, cfg.crop_padding, session.seed + 1000);
        for (auto& m : models) {
            TrainConfig c = cfg;
            c.label = m.label;
            c.checkpoint_path = out_dir + "/" + m.file;
            if (eval_only) {
                if (m.label != std::string("CNN") && !std::filesystem::exists(c.checkpoint_path)) {
                    std::printf("No %s in %s (trained with --no-mlp?): evaluating the CNN only.\n", m.file,
                                out_dir.c_str());
                    continue;
                }
                load_model(*m.model, c.checkpoint_path);
            } else {
                m.fit = fit(*m.model, train, test, c);
                if (m.fit.interrupted) {
                    std::printf("\nInterrupted: checkpoint saved to %s; continue with --resume.\n",
                                c.checkpoint_path.c_str());
                    return kExitInterrupted;
                }
            }
            // The test run after the last epoch saw this model on these images.
            m.clean = m.fit.last_test ? *m.fit.last_test : evaluate(*m.model, test);
            m.shifted = evaluate(*m.model, test_shifted);
            m.evaluated = true;
        }
        std::erase_if(models, [](const Entry& m) { return !m.evaluated; });

        Comparison cmp;
        for (auto& m : models)
            cmp.rows.push_back({m.label, m.model->parameter_count(), multiply_adds(*m.model, image_shape),
                                m.clean.accuracy, m.shifted.accuracy, m.fit.train_seconds,
                                training_images_per_second(m.fit), m.clean.loss});
        const std::string shifted_name = "shifted " + std::to_string(cfg.crop_padding) + "px";
        print_comparison(cmp, "clean test", shifted_name);
        if (!session.quiet) {
            std::printf("  (%lld test images; shifted: the same images moved by up to %d pixels, zero-filled; train "
                        "time includes the test run after every epoch)\n",
                        static_cast<long long>(test.size()), cfg.crop_padding);
            for (auto& m : models) {
                std::printf("  %s test loss %.4f", m.label, m.clean.loss);
                if (!m.fit.epochs.empty()) {
                    std::printf("; test accuracy after epoch");
                    for (size_t i = 0; i < m.fit.epochs.size(); ++i)
                        std::printf("%s %zu: %.1f%% (%.0f s)", i ? "," : "", i + 1, 100 * m.fit.epochs[i].test_acc,
                                    m.fit.epochs[i].elapsed);
                }
                std::printf("\n");
            }
            print_per_class(test_set.class_names, test.y, models[0].clean.predictions, "CNN, test set");
            print_confusion(test_set.class_names, test.y, models[0].clean.predictions, "CNN, test set");
        }
        if (!eval_only) {
            std::vector<Series> acc, loss;
            const char* colors[] = {"#d62728", "#1f77b4"};
            for (size_t i = 0; i < models.size(); ++i) {
                Series a{std::string(models[i].label) + " test acc", colors[i], {}};
                Series l{std::string(models[i].label) + " train loss", colors[i], {}};
                for (auto& e : models[i].fit.epochs) a.values.push_back(e.test_acc), l.values.push_back(e.train_loss);
                acc.push_back(a), loss.push_back(l);
            }
            write_svg_chart(out_dir + "/accuracy.svg", dataset + ": test accuracy per epoch", "accuracy", acc);
            write_svg_chart(out_dir + "/loss.svg", dataset + ": training loss per epoch", "cross-entropy", loss);
        }
        auto& cnn = *models[0].model;
        auto& conv1 = dynamic_cast<tt::nn::Conv2d&>(*cnn.layers()[0]);
        write_filter_grid(out_dir + "/filters_conv1.png", conv1.weight.data(), 32,
                          static_cast<int>(train_set.channels), 3, 10);
        // What the CNN's layers respond to: 0 Conv 1 BN 2 ReLU 3 MaxPool 4 Conv 5 BN 6 ReLU (no padding).
        // A conv2 unit sees 8x8 input pixels from (2y, 2x): 3 + 1 (pool) + 2*2 (conv2 on the pooled grid).
        explain_layers(cnn, test,
                       ImageView{test_set.images.data(), test_set.count, test_set.channels, test_set.height,
                                 test_set.width},
                       test_set.class_names, LayerTaps{2, 6, {{3, 1, 0}, {2, 2, 0}, {3, 1, 0}}}, out_dir,
                       session.quiet);
        const std::string metrics = eval_only ? "metrics-eval.json" : "metrics.json";
        std::vector<const FitResult*> fits;
        for (auto& m : models) fits.push_back(&m.fit);
        write_metrics(out_dir + "/" + metrics,
                      MetricsInfo{dataset, session.reference, "clean test", shifted_name, cfg.crop_padding, eval_only},
                      cmp, fits);
        if (!session.quiet)
            std::printf("\nFiles: %s/{%sfilters_conv1.png, feature_maps_conv1.png, feature_maps_conv2.png, "
                        "top_patches_conv2.png, %s, cnn.ckpt%s}\n",
                        out_dir.c_str(), eval_only ? "" : "accuracy.svg, loss.svg, ", metrics.c_str(),
                        models.size() > 1 ? ", mlp.ckpt" : "");
        return kExitOk;
    });
}
