// Milestone 04, part 2: the same ideas on natural images.
//
// Conv(3->32,3) BN ReLU MaxPool2 - Conv(32->64,3) BN ReLU MaxPool2 -
// Linear(2304->256) ReLU - Linear(256->10), trained with Adam, a cosine
// schedule, random flips and random crops (padding 4) on all 50,000 CIFAR-10
// training images, evaluated on all 10,000 test images. --dataset
// fashion-mnist|mnist runs the same program on 28x28 IDX data. Every figure
// printed is measured by this run.
#include <boost/program_options.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "common/artifacts.hpp"
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
    po::options_description opts("Options");
    add_common_options(opts, common, 12, 64, 2e-3f, "0.002", 0, "milestone04-part2");
    opts.add_options()
        ("dataset", po::value(&dataset)->default_value("cifar10"), "cifar10 | fashion-mnist | mnist")
        ("data", po::value(&data_path), "CIFAR-10: cifar-10-binary.tar.gz or cifar-10-batches-bin/ (else $TINYTORCH_DATA, datasets/cifar10); IDX: the directory")
        ("limit", po::value(&limit)->default_value(0), "use only the first N training images (quick checks)");
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

        auto model = make_cnn(train_set.channels, train_set.height, train_set.width);
        if (!session.quiet) {
            std::printf("CNN:\n");
            print_architecture(*model, {train_set.channels, train_set.height, train_set.width});
            std::printf("\nTraining with Adam (peak lr %g, warmup + cosine), batch %lld, %d epochs, %s.\n", cfg.lr,
                        static_cast<long long>(cfg.batch_size), cfg.epochs,
                        cfg.hflip ? "random flips + random crops" : "random crops");
        }
        cfg.label = "CNN";
        cfg.quiet = session.quiet;
        cfg.seed = session.seed;
        cfg.warmup_fraction = 0.03f;
        cfg.checkpoint_path = out_dir + "/cnn.ckpt";
        FitResult result;
        if (eval_only) {
            load_model(*model, cfg.checkpoint_path);
        } else {
            result = fit(*model, train, test, cfg);
            if (result.interrupted) {
                std::printf("\nInterrupted: checkpoint saved to %s; continue with --resume.\n", cfg.checkpoint_path.c_str());
                return kExitInterrupted;
            }
        }
        EvalResult final_eval = evaluate(*model, test);

        Comparison cmp;
        cmp.rows.push_back({"CNN", model->parameter_count(), final_eval.accuracy, 0, result.train_seconds});
        std::printf("\nResults (measured in this run)\n");
        std::printf("  test accuracy  %.2f%% on %lld images\n", 100 * final_eval.accuracy,
                    static_cast<long long>(test.size()));
        std::printf("  test loss      %.4f\n", final_eval.loss);
        std::printf("  parameters     %lld\n", static_cast<long long>(cmp.rows[0].parameters));
        if (!eval_only) {
            double train_s = 0, images = 0;
            for (auto& e : result.epochs) train_s += e.seconds, images += e.seconds * e.images_per_second;
            std::printf("  training time  %.1f s for %d epochs (%.0f images/s); %.1f s with the per-epoch test runs\n",
                        train_s, cfg.epochs, train_s > 0 ? images / train_s : 0.0, result.train_seconds);
            for (size_t i = 0; i < result.epochs.size(); ++i)
                std::printf("    after epoch %2zu: %.1f%% test accuracy, %.0f s since the start\n", i + 1,
                            100 * result.epochs[i].test_acc, result.epochs[i].elapsed);
        }
        if (!session.quiet) {
            print_per_class(test_set.class_names, test.y, final_eval.predictions, "test set");
            print_confusion(test_set.class_names, test.y, final_eval.predictions, "test set");
        }
        if (!eval_only) {
            Series acc{"test accuracy", "#d62728", {}}, loss{"train loss", "#1f77b4", {}};
            for (auto& e : result.epochs) acc.values.push_back(e.test_acc), loss.values.push_back(e.train_loss);
            write_svg_chart(out_dir + "/accuracy.svg", dataset + ": test accuracy per epoch", "accuracy", {acc});
            write_svg_chart(out_dir + "/loss.svg", dataset + ": training loss per epoch", "cross-entropy", {loss});
        }
        auto& conv1 = dynamic_cast<tt::nn::Conv2d&>(*model->layers()[0]);
        write_filter_grid(out_dir + "/filters_conv1.png", conv1.weight.data(), 32,
                          static_cast<int>(train_set.channels), 3, 10);
        write_metrics(out_dir + "/metrics.json", dataset, session.reference, cmp, result, FitResult{});
        if (!session.quiet)
            std::printf("\nFiles: %s/{accuracy.svg, loss.svg, filters_conv1.png, metrics.json, cnn.ckpt}\n", out_dir.c_str());
        return kExitOk;
    });
}
