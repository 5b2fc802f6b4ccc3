// Tests of the C++ training API (optim.hpp, data.hpp, train.hpp) on the
// reference modules: RAII and move semantics, errors as tt::Error, the
// Trainer's adaptation of a tt::nn::Module to module 07's callbacks, and
// optimizer state surviving a checkpoint.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/temp_dir.hpp"
#include "tinytorch/data.hpp"
#include "tinytorch/nn.hpp"
#include "tinytorch/optim.hpp"
#include "tinytorch/runtime.hpp"
#include "tinytorch/tensor.hpp"
#include "tinytorch/train.hpp"

namespace {

namespace fs = std::filesystem;
using tt::Tensor;
using tt_test::TempDir;

// configure() may only run before the first module loads: once per process.
void use_reference() {
    static const bool once = [] {
        tt::runtime().configure(tt::parse_impl_spec("reference"));
        return true;
    }();
    (void)once;
}

// Two Gaussian-ish blobs in 2-D, labels 0 / 1, from the global RNG.
struct Blobs {
    Tensor x, y;
    explicit Blobs(int64_t n, uint64_t seed) {
        tt::runtime().seed(seed);
        Tensor noise = Tensor::randn({n, 2});
        std::vector<float> xv(static_cast<size_t>(2 * n)), yv(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) {
            const int label = static_cast<int>(i % 2);
            const float cx = label ? 1.5f : -1.5f;
            xv[2 * i] = cx + 0.5f * noise.data()[2 * i];
            xv[2 * i + 1] = -cx + 0.5f * noise.data()[2 * i + 1];
            yv[i] = static_cast<float>(label);
        }
        x = Tensor::from(xv, {n, 2});
        y = Tensor::from(yv, {n});
    }
};

std::shared_ptr<tt::nn::Sequential> mlp() {
    auto m = std::make_shared<tt::nn::Sequential>();
    m->add<tt::nn::Linear>(2, 8);
    m->add<tt::nn::ReLU>();
    m->add<tt::nn::Linear>(8, 2);
    return m;
}

std::vector<std::vector<float>> snapshot(tt::nn::Module& m) {
    std::vector<std::vector<float>> out;
    for (auto& p : m.parameters()) out.push_back(p.tensor.to_vector());
    return out;
}

}  // namespace

// ------------------------------------------------------------------ Optimizer

TEST_CASE("Optimizer::sgd steps and zero_grad clears; lr is readable and settable", "[api_training]") {
    use_reference();
    Tensor w = Tensor::from({1.0f, 2.0f}, {2}).set_requires_grad();
    auto opt = tt::Optimizer::sgd({w}, 0.1f);
    (w * w).sum().backward();  // grad 2w = [2, 4]
    opt.step();
    CHECK(w.to_vector()[0] == Approx(0.8));
    CHECK(w.to_vector()[1] == Approx(1.6));
    opt.zero_grad();
    CHECK(w.grad().to_vector() == std::vector<float>{0.0f, 0.0f});
    CHECK(opt.lr() == Approx(0.1));
    opt.set_lr(0.5f);
    CHECK(opt.lr() == Approx(0.5));
    CHECK(opt.step_count() == 1);
}

TEST_CASE("Optimizer keeps its parameters alive and moves without double frees", "[api_training]") {
    use_reference();
    tt::Optimizer moved = [] {
        Tensor w = Tensor::from({3.0f}, {1}).set_requires_grad();
        auto opt = tt::Optimizer::adam({w}, 0.1f);
        tt::Optimizer other = std::move(opt);
        CHECK(opt.raw() == nullptr);
        CHECK_THROWS_AS(opt.step(), std::logic_error);
        return other;
    }();
    // The only handle on w now lives in the optimizer.
    Tensor w = moved.params().at(0);
    (w * 2.0f).sum().backward();
    moved.step();
    CHECK(w.to_vector()[0] == Approx(2.9).epsilon(1e-4));  // Adam's first step is about lr
    tt::Optimizer assigned = tt::Optimizer::sgd({w}, 1.0f);
    assigned = std::move(moved);
    CHECK(assigned.step_count() == 1);
}

TEST_CASE("Optimizer: an invalid configuration is a tt::Error naming module 06", "[api_training]") {
    use_reference();
    Tensor w = Tensor::from({1.0f}, {1});
    try {
        tt::Optimizer::sgd({w}, -1.0f);
        FAIL("no error");
    } catch (const tt::Error& e) {
        CHECK(e.status() == TT_INVALID_ARGUMENT);
        CHECK(e.module_number() == 6);
        CHECK(e.message().find("lr") != std::string::npos);
    }
    CHECK_THROWS_AS(tt::Optimizer::sgd({w}, 0.1f, 0.0f, 0.0f, true), tt::Error);  // nesterov without momentum
    CHECK_THROWS_AS(tt::Optimizer::adam({Tensor()}, 0.1f), std::invalid_argument);
}

TEST_CASE("Optimizer::state is a live view; SGD without momentum has none", "[api_training]") {
    use_reference();
    Tensor w = Tensor::from({1.0f, -1.0f}, {2}).set_requires_grad();
    auto opt = tt::Optimizer::sgd({w}, 0.1f, 0.9f);
    (w * 3.0f).sum().backward();
    opt.step();
    Tensor v = opt.state(0, 0);
    REQUIRE(v.defined());
    CHECK(v.to_vector() == std::vector<float>{3.0f, 3.0f});
    CHECK_FALSE(opt.state(0, 1).defined());
    auto plain = tt::Optimizer::sgd({w}, 0.1f);
    CHECK_FALSE(plain.state(0, 0).defined());
}

TEST_CASE("Optimizer state survives a checkpoint: the resumed run matches the uninterrupted one", "[api_training]") {
    use_reference();
    TempDir dir;
    auto grad_step = [](tt::Optimizer& opt, Tensor& w, float k) {
        opt.zero_grad();
        (w * w * k).sum().backward();
        opt.step();
    };
    Tensor a = Tensor::from({1.0f, -2.0f, 0.5f}, {3}).set_requires_grad();
    auto oa = tt::Optimizer::adamw({a}, 0.05f);
    grad_step(oa, a, 1.0f);
    grad_step(oa, a, 2.0f);
    oa.set_lr(0.02f);
    tt::save_checkpoint(dir.str("ck.bin"), tt::join({{"w", a}}, oa.state_dict()));

    Tensor b = Tensor::zeros({3}).set_requires_grad();
    auto ob = tt::Optimizer::adamw({b}, 0.05f);
    auto st = ob.state_dict();
    tt::load_checkpoint(dir.str("ck.bin"), tt::join({{"w", b}}, st));
    ob.load_state_dict(st);
    CHECK(b.to_vector() == a.to_vector());
    CHECK(ob.step_count() == 2);
    CHECK(ob.lr() == Approx(0.02));

    grad_step(oa, a, 3.0f);
    grad_step(ob, b, 3.0f);
    CHECK(b.to_vector() == a.to_vector());  // bit for bit: same moments, same t
}

TEST_CASE("load_state_dict copies foreign tensors and rejects wrong shapes without changing anything",
          "[api_training]") {
    use_reference();
    Tensor w = Tensor::from({1.0f, 2.0f}, {2});
    auto opt = tt::Optimizer::sgd({w}, 0.1f, 0.9f);
    std::vector<tt::nn::NamedTensor> good = {{"optimizer.state.0.0", Tensor::from({7.0f, 8.0f}, {2})},
                                             {"optimizer.step", Tensor::from({5.0f, 1.0f}, {2})},
                                             {"other", Tensor::scalar(1)}};
    opt.load_state_dict(good);
    CHECK(opt.state(0, 0).to_vector() == std::vector<float>{7.0f, 8.0f});
    CHECK(opt.step_count() == 5 + (int64_t{1} << 24));
    std::vector<tt::nn::NamedTensor> bad = {{"optimizer.step", Tensor::from({1.0f, 0.0f}, {2})},
                                            {"optimizer.state.0.0", Tensor::from({1.0f, 2.0f, 3.0f}, {3})}};
    CHECK_THROWS_AS(opt.load_state_dict(bad), std::invalid_argument);
    CHECK(opt.step_count() == 5 + (int64_t{1} << 24));
    CHECK(opt.state(0, 0).to_vector() == std::vector<float>{7.0f, 8.0f});
}

// ------------------------------------------------------------------ DataLoader

TEST_CASE("DataLoader batches, reshuffles per epoch and keeps its data alive", "[api_training]") {
    use_reference();
    tt::DataLoader loader = [] {
        std::vector<float> xv, yv;
        for (int i = 0; i < 10; ++i) {
            xv.insert(xv.end(), {float(i), float(10 * i)});
            yv.push_back(float(i));
        }
        return tt::DataLoader(Tensor::from(xv, {10, 2}), Tensor::from(yv, {10}), 4, true, false, 3);
    }();  // the caller's handles are gone: the loader's keep the data
    CHECK(loader.num_batches() == 3);
    CHECK(loader.size() == 10);
    std::vector<std::vector<float>> orders;
    for (int64_t epoch = 0; epoch < 2; ++epoch) {
        loader.begin_epoch(epoch);
        Tensor xb, yb;
        std::vector<float> seen;
        while (loader.next(xb, yb)) {
            for (int64_t r = 0; r < yb.numel(); ++r) {
                CHECK(xb.at({r, 1}) == 10 * yb.data()[r]);
                seen.push_back(yb.data()[r]);
            }
        }
        CHECK(seen.size() == 10);
        orders.push_back(seen);
    }
    CHECK(orders[0] != orders[1]);
    std::vector<int64_t> perm = tt::shuffle_indices(10, 3);
    for (size_t i = 0; i < 10; ++i) CHECK(orders[0][i] == float(perm[i]));
    tt::DataLoader other = std::move(loader);
    CHECK(other.num_batches() == 3);
    CHECK_THROWS_AS(loader.num_batches(), std::logic_error);
}

TEST_CASE("DataLoader errors are tt::Error from module 08", "[api_training]") {
    use_reference();
    try {
        tt::DataLoader bad(Tensor::zeros({4, 2}), Tensor::zeros({3}), 2);
        FAIL("no error");
    } catch (const tt::Error& e) {
        CHECK(e.status() == TT_SHAPE_MISMATCH);
        CHECK(e.module_number() == 8);
    }
}

TEST_CASE("transform helpers: hflip, crop, normalize", "[api_training]") {
    use_reference();
    Tensor x = Tensor::from({1, 2, 3, 4, 5, 6}, {1, 1, 2, 3});
    CHECK(tt::random_hflip(x, 1.0f).to_vector() == std::vector<float>{3, 2, 1, 6, 5, 4});
    CHECK(tt::random_hflip(x, 0.0f).to_vector() == x.to_vector());
    CHECK(tt::random_crop(x, 0).to_vector() == x.to_vector());
    tt_rng rng;
    tt::runtime().host().rng_seed(&rng, 9);
    Tensor c = tt::random_crop(x, 1, &rng);
    CHECK(c.shape() == x.shape());
    Tensor n = tt::normalize(x, {1.0f}, {2.0f});
    CHECK(n.to_vector() == std::vector<float>{0, 0.5f, 1, 1.5f, 2, 2.5f});
    CHECK_THROWS_AS(tt::normalize(x, {1.0f, 2.0f}, {1.0f}), std::invalid_argument);
    CHECK_THROWS_AS(tt::normalize(x, {1.0f, 2.0f}, {1.0f, 1.0f}), tt::Error);
}

// ------------------------------------------------------------------ train.hpp

TEST_CASE("clip_grad_norm, accuracy and LrSchedule wrap module 07", "[api_training]") {
    use_reference();
    Tensor w = Tensor::from({0.0f, 0.0f}, {2}).set_requires_grad();
    (w * Tensor::from({3.0f, 4.0f}, {2})).sum().backward();
    CHECK(tt::clip_grad_norm({w}, 1.0f) == Approx(5.0));
    CHECK(w.grad().to_vector()[0] == Approx(0.6).epsilon(1e-5));
    CHECK(tt::accuracy(Tensor::from({1, 0, 0, 1}, {2, 2}), Tensor::from({0, 0}, {2})) == 1);
    CHECK(tt::LrSchedule::step(1.0f, 0.5f, 2).lr_at(5) == Approx(0.25));
    CHECK(tt::LrSchedule::cosine(1.0f, 10, 0, 0.0f).lr_at(5) == Approx(0.5));
    CHECK(tt::LrSchedule::constant(0.3f).lr_at(1000) == Approx(0.3));
    CHECK_THROWS_AS(tt::LrSchedule::step(1.0f, 0.5f, 0).lr_at(0), tt::Error);
}

TEST_CASE("Trainer fits two blobs: loss falls, accuracy rises, evaluate changes nothing", "[api_training]") {
    use_reference();
    Blobs train(256, 1), test(128, 2);
    tt::runtime().seed(5);
    auto model = mlp();
    auto opt = tt::Optimizer::adam(tt::tensors_of(model->parameters()), 0.02f);
    tt::Trainer trainer(*model, opt);
    tt::DataLoader train_loader(train.x, train.y, 32, true, false, 7);
    tt::DataLoader test_loader(test.x, test.y, 50, false, false, 0);

    std::vector<tt::BatchInfo> seen;
    trainer.on_batch = [&](const tt::BatchInfo& b) { seen.push_back(b); };
    tt::EpochResult first = trainer.train_epoch(train_loader, 0);
    REQUIRE(seen.size() == 8);
    for (size_t i = 0; i < seen.size(); ++i) {
        CHECK(seen[i].batch == static_cast<int64_t>(i));
        CHECK(seen[i].global_step == static_cast<int64_t>(i));
        CHECK(seen[i].num_batches == 8);
        CHECK(seen[i].lr == Approx(0.02));  // no schedule: the optimizer's lr
    }
    CHECK(first.count == 256);
    CHECK(first.batches == 8);
    CHECK(trainer.global_step() == 8);
    tt::EpochResult last = first;
    for (int64_t e = 1; e < 6; ++e) last = trainer.train_epoch(train_loader, e);
    CHECK(last.mean_loss < first.mean_loss);
    CHECK(last.accuracy() > 0.95);

    auto before = snapshot(*model);
    tt::EpochResult eval = trainer.evaluate(test_loader);
    CHECK(snapshot(*model) == before);
    CHECK(eval.count == 128);
    CHECK(eval.batches == 3);
    CHECK(eval.accuracy() > 0.95);
    CHECK(model->is_training());  // restored
    CHECK(tt::grad_enabled());
    CHECK(trainer.last_eval().count == 128);
}

TEST_CASE("Trainer: schedule, clipping and a per-batch transform reach the pieces", "[api_training]") {
    use_reference();
    Blobs data(64, 3);
    auto model = mlp();
    auto opt = tt::Optimizer::sgd(tt::tensors_of(model->parameters()), 1.0f, 0.9f);
    tt::Trainer trainer(*model, opt);
    tt::LrSchedule schedule = tt::LrSchedule::cosine(0.1f, 8, 2, 0.01f);
    trainer.set_schedule(schedule).set_max_grad_norm(0.5f);
    int transformed = 0;
    trainer.set_transform([&](const Tensor& x) {
        ++transformed;
        return x * 1.0f;
    });
    std::vector<float> lrs;
    trainer.on_batch = [&](const tt::BatchInfo& b) { lrs.push_back(b.lr); };
    tt::DataLoader loader(data.x, data.y, 16, true, false, 1);
    trainer.train_epoch(loader, 0);
    trainer.train_epoch(loader, 1);
    REQUIRE(lrs.size() == 8);
    for (int64_t s = 0; s < 8; ++s) CHECK(lrs[s] == Approx(schedule.lr_at(s)));
    CHECK(opt.lr() == Approx(schedule.lr_at(7)));
    CHECK(transformed == 8);
    trainer.evaluate(loader);
    CHECK(transformed == 8);  // evaluation is not augmented
}

TEST_CASE("Trainer: an exception in a callback comes out as itself; a NaN loss as NUMERIC_ERROR",
          "[api_training]") {
    use_reference();
    Blobs data(32, 4);
    auto model = mlp();
    auto opt = tt::Optimizer::sgd(tt::tensors_of(model->parameters()), 0.1f);
    tt::DataLoader loader(data.x, data.y, 8, false, false, 0);
    {
        tt::Trainer trainer(*model, opt, [](const Tensor&, const Tensor&) -> Tensor {
            throw std::runtime_error("custom loss failed");
        });
        CHECK_THROWS_WITH(trainer.train_epoch(loader, 0), "custom loss failed");
    }
    {
        tt::Trainer trainer(*model, opt, [](const Tensor& logits, const Tensor&) {
            return (logits.sum() * 0.0f) + std::nanf("");
        });
        auto before = snapshot(*model);
        try {
            trainer.train_epoch(loader, 0);
            FAIL("no error");
        } catch (const tt::Error& e) {
            CHECK(e.status() == TT_NUMERIC_ERROR);
            CHECK(e.module_number() == 7);
        }
        CHECK(snapshot(*model) == before);
        CHECK(trainer.global_step() == 0);
    }
    {
        // Errors from a module called inside a callback keep their module and message.
        tt::Trainer trainer(*model, opt, [](const Tensor& logits, const Tensor&) {
            return tt::cross_entropy(logits, Tensor::from({7, 7, 7, 7, 7, 7, 7, 7}, {8}));
        });
        try {
            trainer.train_epoch(loader, 0);
            FAIL("no error");
        } catch (const tt::Error& e) {
            CHECK(e.status() == TT_INVALID_ARGUMENT);
            CHECK(e.module_number() == 4);
        }
    }
}

TEST_CASE("Trainer::request_stop ends the epoch early with stopped set", "[api_training]") {
    use_reference();
    Blobs data(64, 6);
    auto model = mlp();
    auto opt = tt::Optimizer::sgd(tt::tensors_of(model->parameters()), 0.1f);
    tt::Trainer trainer(*model, opt);
    tt::DataLoader loader(data.x, data.y, 8, true, false, 2);
    trainer.on_batch = [&](const tt::BatchInfo& b) {
        if (b.batch == 2) trainer.request_stop();
    };
    tt::EpochResult r = trainer.train_epoch(loader, 0);
    CHECK(r.stopped);
    CHECK(r.batches == 3);
    CHECK(r.count == 24);
    CHECK(trainer.train_epoch(loader, 1).batches == 0);  // the request stays
    trainer.reset_stop();
    trainer.on_batch = nullptr;
    tt::EpochResult full = trainer.train_epoch(loader, 1);
    CHECK_FALSE(full.stopped);
    CHECK(full.batches == 8);
}

TEST_CASE("model checkpoints through save_checkpoint / load_checkpoint; damage is CORRUPT_DATA", "[api_training]") {
    use_reference();
    TempDir dir;
    auto a = mlp(), b = mlp();
    tt::save_checkpoint(dir.str("m.ckpt"), a->state());
    REQUIRE(snapshot(*a) != snapshot(*b));
    tt::load_checkpoint(dir.str("m.ckpt"), b->state());
    CHECK(snapshot(*a) == snapshot(*b));
    {
        std::fstream f(dir.str("m.ckpt"), std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(40);
        const char byte = static_cast<char>(f.get() ^ 0x55);
        f.seekp(40);
        f.put(byte);
    }
    auto c = mlp();
    auto before = snapshot(*c);
    try {
        tt::load_checkpoint(dir.str("m.ckpt"), c->state());
        FAIL("no error");
    } catch (const tt::Error& e) {
        CHECK(e.status() == TT_CORRUPT_DATA);
    }
    CHECK(snapshot(*c) == before);
}
