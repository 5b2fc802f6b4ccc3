// Grading suite for module 07 Training: the order of a training step, the
// epoch loop with schedules and on_batch, evaluation, accuracy, gradient
// clipping, learning-rate schedules and checkpoints.
//
// The model, loss and optimizer are fake callbacks that record what module 07
// calls, in which order and with which arguments. Expected numbers (norms,
// schedules, the checkpoint bytes and their CRC) are computed here.
#include "common/grading.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include <zlib.h>

#include "tinytorch/runtime.hpp"

namespace {

namespace fs = std::filesystem;
using tt::Tensor;

const tt_training_api& api() { return tt::runtime().training(); }

const float kNaN = std::numeric_limits<float>::quiet_NaN();

// Give p exactly this gradient (creating p's grad tensor when it has none).
void set_grad(Tensor& p, const std::vector<float>& g) {
    tt_tensor* raw = p.raw();
    if (raw->grad == nullptr) {
        tt_tensor* gt = nullptr;
        TT_CALL(1, tt::runtime().tensor(), from_data, g.data(), raw->shape, raw->ndim, &gt);
        raw->grad = gt;
    } else {
        for (size_t i = 0; i < g.size(); ++i) raw->grad->data[i] = g[i];
    }
}

std::vector<float> grad_of(const Tensor& p) {
    const tt_tensor* g = p.raw()->grad;
    return g ? std::vector<float>(g->data, g->data + g->numel) : std::vector<float>{};
}

bool grad_enabled_now() {
    int32_t on = -1;
    TT_CALL(5, tt::runtime().autograd(), is_grad_enabled, &on);
    return on != 0;
}

// ---------------------------------------------------------------- fake callbacks

// A batch: x [N, 1] and targets y [N]. The fake model's logits for row i are
// [x_i, 0], so it predicts class 0 when x_i > 0 and class 1 otherwise.
struct Batch {
    Tensor x, y;
};

Batch make_batch(const std::vector<float>& x, const std::vector<float>& y) {
    return {Tensor::from(x, {static_cast<int64_t>(x.size()), 1}), Tensor::from(y, {static_cast<int64_t>(y.size())})};
}

int64_t expected_correct(const Batch& b) {
    int64_t c = 0;
    for (int64_t i = 0; i < b.x.numel(); ++i) c += (b.x.data()[i] > 0 ? 0 : 1) == static_cast<int>(b.y.data()[i]);
    return c;
}

struct Fake {
    std::vector<std::string> log;
    std::vector<Batch> batches;
    size_t next = 0;
    std::vector<float> losses;  // loss value of the k-th loss call (cycled)
    size_t loss_calls = 0;
    Tensor logits, loss;        // what forward / loss returned last (kept alive here)
    const tt_tensor* last_x = nullptr;
    const tt_tensor* last_y = nullptr;
    bool x_matches = true, y_matches = true, logits_match = true, loss_matches = true;
    std::vector<int32_t> training_flags;
    std::vector<bool> grad_mode_in_forward;
    // parameters and the grads backward gives them
    Tensor w1 = Tensor::from({1.0f, 2.0f}, {2});
    Tensor w2 = Tensor::from({3.0f}, {1});
    Tensor w3 = Tensor::from({4.0f}, {1});  // never gets a grad
    std::vector<float> g1 = {3.0f, 4.0f}, g2 = {12.0f};
    std::vector<tt_tensor*> params;
    std::vector<std::vector<float>> grads_at_step;  // w1's and w2's grads when step ran
    std::vector<float> lrs;
    struct OnBatch {
        int64_t index;
        float loss, lr;
    };
    std::vector<OnBatch> on_batches;
    int64_t fail_on_batch_at = -1;  // on_batch returns TT_IO_ERROR at this index

    Fake() { params = {w1.raw(), w2.raw(), w3.raw()}; }

    static Fake& of(void* ctx) { return *static_cast<Fake*>(ctx); }

    static tt_status forward(void* ctx, const tt_tensor* x, int32_t training, tt_tensor** out) {
        Fake& f = of(ctx);
        f.log.push_back("forward");
        f.training_flags.push_back(training);
        f.grad_mode_in_forward.push_back(grad_enabled_now());
        if (f.last_x != nullptr && x != f.last_x) f.x_matches = false;
        std::vector<float> v;
        for (int64_t i = 0; i < x->shape[0]; ++i) v.insert(v.end(), {x->data[i], 0.0f});
        f.logits = Tensor::from(v, {x->shape[0], 2});
        *out = f.logits.raw();
        return TT_OK;
    }
    static tt_status loss_cb(void* ctx, const tt_tensor* logits, const tt_tensor* y, tt_tensor** out) {
        Fake& f = of(ctx);
        f.log.push_back("loss");
        if (logits != f.logits.raw()) f.logits_match = false;
        if (f.last_y != nullptr && y != f.last_y) f.y_matches = false;
        float value = f.losses.empty() ? 0.5f : f.losses[f.loss_calls % f.losses.size()];
        ++f.loss_calls;
        f.loss = Tensor::scalar(value);
        *out = f.loss.raw();
        return TT_OK;
    }
    static tt_status backward(void* ctx, tt_tensor* loss) {
        Fake& f = of(ctx);
        f.log.push_back("backward");
        if (loss != f.loss.raw()) f.loss_matches = false;
        set_grad(f.w1, f.g1);
        set_grad(f.w2, f.g2);
        return TT_OK;
    }
    static tt_status zero_grad(void* ctx) {
        of(ctx).log.push_back("zero_grad");
        return TT_OK;
    }
    static tt_status step(void* ctx) {
        Fake& f = of(ctx);
        f.log.push_back("step");
        f.grads_at_step.push_back(grad_of(f.w1));
        f.grads_at_step.push_back(grad_of(f.w2));
        return TT_OK;
    }
    static tt_status set_lr(void* ctx, float lr) {
        Fake& f = of(ctx);
        f.log.push_back("set_lr");
        f.lrs.push_back(lr);
        return TT_OK;
    }
    static tt_status next_batch(void* ctx, tt_tensor** x, tt_tensor** y, int32_t* has) {
        Fake& f = of(ctx);
        f.log.push_back("next_batch");
        if (f.next >= f.batches.size()) {
            *x = *y = nullptr;
            *has = 0;
            return TT_OK;
        }
        Batch& b = f.batches[f.next++];
        *x = b.x.raw();
        *y = b.y.raw();
        f.last_x = *x;
        f.last_y = *y;
        *has = 1;
        return TT_OK;
    }
    static tt_status on_batch(void* ctx, int64_t index, float loss, float lr) {
        Fake& f = of(ctx);
        f.log.push_back("on_batch");
        f.on_batches.push_back({index, loss, lr});
        return index == f.fail_on_batch_at ? TT_IO_ERROR : TT_OK;
    }

    tt_train_callbacks callbacks() {
        tt_train_callbacks cb{};
        cb.ctx = this;
        cb.forward = forward;
        cb.loss = loss_cb;
        cb.backward = backward;
        cb.zero_grad = zero_grad;
        cb.optimizer_step = step;
        cb.set_lr = set_lr;
        cb.next_batch = next_batch;
        cb.on_batch = on_batch;
        cb.params = params.data();
        cb.n_params = static_cast<int32_t>(params.size());
        return cb;
    }
};

std::string joined(const std::vector<std::string>& log) {
    std::string s;
    for (const auto& e : log) s += (s.empty() ? "" : " ") + e;
    return s;
}

// The three batches of the epoch tests: 4 + 4 + 2 samples.
std::vector<Batch> three_batches() {
    return {make_batch({1, -1, 2, -2}, {0, 1, 1, 1}), make_batch({0.5f, 0.5f, -3, 3}, {0, 0, 0, 0}),
            make_batch({-1, 1}, {1, 0})};
}

// ---------------------------------------------------------------- checkpoints

// A fresh directory for checkpoint files, removed afterwards. Under $TMPDIR:
// tito gives every case a folder that the module's worker process sees too
// (its /tmp is private), and the worker may run as another user, so the
// directory is writable by all (its parent is the case's own, mode 0700).
struct TempDir {
    fs::path path;
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/tt_grade_07_XXXXXX";
        REQUIRE(mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
        fs::permissions(path, fs::perms::all);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
    size_t entries() const {
        return static_cast<size_t>(std::distance(fs::directory_iterator(path), fs::directory_iterator()));
    }
};

std::vector<unsigned char> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void save(const std::string& path, const std::vector<std::string>& names, const std::vector<Tensor>& tensors) {
    std::vector<const char*> n;
    std::vector<const tt_tensor*> t;
    for (const auto& s : names) n.push_back(s.c_str());
    for (const auto& x : tensors) t.push_back(x.raw());
    TT_CALL(7, api(), checkpoint_save, path.c_str(), static_cast<int32_t>(n.size()), n.data(), t.data());
}

void load(const std::string& path, const std::vector<std::string>& names, const std::vector<Tensor>& tensors) {
    std::vector<const char*> n;
    std::vector<tt_tensor*> t;
    for (const auto& s : names) n.push_back(s.c_str());
    for (const auto& x : tensors) t.push_back(x.raw());
    TT_CALL(7, api(), checkpoint_load, path.c_str(), static_cast<int32_t>(n.size()), n.data(), t.data());
}

// Little-endian writers for building checkpoint bytes on the test side.
void put_u32(std::vector<unsigned char>& b, uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<unsigned char>(v >> (8 * i)));
}
void put_i64(std::vector<unsigned char>& b, int64_t v) {
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<unsigned char>(static_cast<uint64_t>(v) >> (8 * i)));
}
void put_f32(std::vector<unsigned char>& b, float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    put_u32(b, u);
}
void put_crc(std::vector<unsigned char>& b) {
    put_u32(b, static_cast<uint32_t>(crc32(0L, b.data(), static_cast<uInt>(b.size()))));
}

// The bytes tt_07_training.h specifies for "w" [2, 3] = 1..6 and "s" (a scalar) = -0.5.
std::vector<unsigned char> expected_file(uint32_t version = 1) {
    std::vector<unsigned char> b = {'T', 'T', 'C', 'K', 'P', 'T', 0, 0};
    put_u32(b, version);
    put_u32(b, 2);
    put_u32(b, 1);
    b.push_back('w');
    put_u32(b, 2);
    put_i64(b, 2);
    put_i64(b, 3);
    for (int i = 1; i <= 6; ++i) put_f32(b, static_cast<float>(i));
    put_u32(b, 1);
    b.push_back('s');
    put_u32(b, 0);
    put_f32(b, -0.5f);
    put_crc(b);
    return b;
}

}  // namespace

// ------------------------------------------------------------------ train_step

TEST_CASE("train_step calls zero_grad, forward, loss, backward, step in this order", "[points:3]") {
    Fake f;
    tt_train_callbacks cb = f.callbacks();
    Batch b = make_batch({1, -1, 2}, {0, 1, 1});
    f.last_x = b.x.raw();
    f.last_y = b.y.raw();
    f.losses = {0.75f};
    tt_step_result r{};
    TT_CALL(7, api(), train_step, &cb, b.x.raw(), b.y.raw(), 0.0f, &r);
    CHECK(joined(f.log) == "zero_grad forward loss backward step");
    CHECK(f.training_flags == std::vector<int32_t>{1});
    CHECK(f.x_matches);       // forward got the batch's x
    CHECK(f.y_matches);       // loss got the batch's y
    CHECK(f.logits_match);    // loss got forward's logits
    CHECK(f.loss_matches);    // backward got loss's tensor
    CHECK(r.loss == 0.75f);
    CHECK(r.count == 3);
    CHECK(r.correct == expected_correct(b));  // predictions 0, 1, 0: rows 0 and 1 right
    CHECK(r.correct == 2);
    CHECK(r.grad_norm == Approx(13.0).epsilon(1e-6));  // sqrt(3^2 + 4^2 + 12^2)
}

TEST_CASE("train_step: a NaN or Inf loss is NUMERIC_ERROR before backward and step", "[points:2]") {
    for (float bad : {kNaN, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()}) {
        INFO("loss " << bad);
        Fake f;
        tt_train_callbacks cb = f.callbacks();
        Batch b = make_batch({1, -1}, {0, 1});
        f.losses = {bad};
        grade::require_status(TT_NUMERIC_ERROR,
                              [&] { TT_CALL(7, api(), train_step, &cb, b.x.raw(), b.y.raw(), 1.0f, nullptr); });
        CHECK(joined(f.log) == "zero_grad forward loss");
        CHECK(f.w1.raw()->grad == nullptr);
    }
}

TEST_CASE("train_step clips the global norm before the optimizer step", "[points:2]") {
    Fake f;
    tt_train_callbacks cb = f.callbacks();
    Batch b = make_batch({1}, {0});
    tt_step_result r{};
    TT_CALL(7, api(), train_step, &cb, b.x.raw(), b.y.raw(), 6.5f, &r);
    REQUIRE(f.grads_at_step.size() == 2);
    const double scale = 6.5 / (13.0 + 1e-6);
    grade::require_close(Tensor::from(f.grads_at_step[0], {2}), std::vector<double>{3 * scale, 4 * scale}, {2}, 1e-6,
                         1e-6);
    grade::require_close(Tensor::from(f.grads_at_step[1], {1}), std::vector<double>{12 * scale}, {1}, 1e-6, 1e-6);
    CHECK(r.grad_norm == Approx(13.0).epsilon(1e-6));  // the norm before clipping
}

TEST_CASE("train_step without clipping (max_grad_norm 0) or under the limit leaves the grads", "[points:1]") {
    for (float max_norm : {0.0f, 100.0f}) {
        INFO("max_grad_norm " << max_norm);
        Fake f;
        tt_train_callbacks cb = f.callbacks();
        Batch b = make_batch({1}, {0});
        TT_CALL(7, api(), train_step, &cb, b.x.raw(), b.y.raw(), max_norm, nullptr);
        REQUIRE(f.grads_at_step.size() == 2);
        CHECK(f.grads_at_step[0] == f.g1);
        CHECK(f.grads_at_step[1] == f.g2);
    }
}

TEST_CASE("train_step rejects missing callbacks with INVALID_ARGUMENT and calls nothing", "[points:1]") {
    Fake f;
    tt_train_callbacks cb = f.callbacks();
    cb.backward = nullptr;
    Batch b = make_batch({1}, {0});
    grade::require_status(TT_INVALID_ARGUMENT,
                          [&] { TT_CALL(7, api(), train_step, &cb, b.x.raw(), b.y.raw(), 0.0f, nullptr); });
    grade::require_status(TT_INVALID_ARGUMENT,
                          [&] { TT_CALL(7, api(), train_step, nullptr, b.x.raw(), b.y.raw(), 0.0f, nullptr); });
    CHECK(f.log.empty());
    // With every callback present the same call trains (out may be NULL).
    cb = f.callbacks();
    TT_CALL(7, api(), train_step, &cb, b.x.raw(), b.y.raw(), 0.0f, nullptr);
    CHECK(joined(f.log) == "zero_grad forward loss backward step");
}

// ------------------------------------------------------------------ train_epoch

TEST_CASE("train_epoch: per batch set_lr(schedule at global step), the step, on_batch, ++global_step",
          "[points:3]") {
    Fake f;
    f.batches = three_batches();
    f.losses = {0.5f, 0.25f, 1.0f};
    tt_train_callbacks cb = f.callbacks();
    tt_lr_schedule s{};
    s.kind = TT_SCHEDULE_STEP;
    s.base_lr = 0.1f;
    s.gamma = 0.5f;
    s.step_size = 2;
    int64_t global_step = 1;
    tt_epoch_result r{};
    TT_CALL(7, api(), train_epoch, &cb, &s, 0.0f, &global_step, &r);
    const std::string one = "next_batch set_lr zero_grad forward loss backward step on_batch";
    CHECK(joined(f.log) == one + " " + one + " " + one + " next_batch");
    CHECK(global_step == 4);
    // lr at global steps 1, 2, 3: 0.1 * 0.5^floor(step / 2)
    REQUIRE(f.lrs.size() == 3);
    CHECK(f.lrs[0] == Approx(0.1));
    CHECK(f.lrs[1] == Approx(0.05));
    CHECK(f.lrs[2] == Approx(0.05));
    REQUIRE(f.on_batches.size() == 3);
    for (int64_t i = 0; i < 3; ++i) {
        CHECK(f.on_batches[i].index == i);
        CHECK(f.on_batches[i].loss == f.losses[i]);
        CHECK(f.on_batches[i].lr == Approx(f.lrs[i]));
    }
    CHECK(r.batches == 3);
    CHECK(r.count == 10);
    int64_t correct = 0;
    for (const Batch& b : f.batches) correct += expected_correct(b);
    CHECK(r.correct == correct);
    // sample-weighted: (4 * 0.5 + 4 * 0.25 + 2 * 1.0) / 10 = 0.5 (the plain mean of batches would be 0.583)
    CHECK(r.mean_loss == Approx(0.5).epsilon(1e-6));
}

TEST_CASE("train_epoch without a schedule never calls set_lr; global_step may start anywhere", "[points:1]") {
    Fake f;
    f.batches = three_batches();
    tt_train_callbacks cb = f.callbacks();
    int64_t global_step = 41;
    tt_epoch_result r{};
    TT_CALL(7, api(), train_epoch, &cb, nullptr, 0.0f, &global_step, &r);
    CHECK(f.lrs.empty());
    CHECK(global_step == 44);
    CHECK(r.batches == 3);
    CHECK(f.on_batches.size() == 3);
}

TEST_CASE("train_epoch: a failing on_batch stops the epoch and its status comes out", "[points:1]") {
    Fake f;
    f.batches = three_batches();
    f.fail_on_batch_at = 1;
    tt_train_callbacks cb = f.callbacks();
    int64_t global_step = 0;
    tt_epoch_result r{};
    tt_status st = api().train_epoch(&cb, nullptr, 0.0f, &global_step, &r);
    CHECK(std::string(tt::status_name(st)) == "IO_ERROR");
    CHECK(f.on_batches.size() == 2);
    CHECK(f.next == 2);  // the third batch was never asked for
}

TEST_CASE("train_epoch: a NaN loss mid-epoch is NUMERIC_ERROR and that batch takes no step", "[points:1]") {
    Fake f;
    f.batches = three_batches();
    f.losses = {0.5f, kNaN, 0.5f};
    tt_train_callbacks cb = f.callbacks();
    int64_t global_step = 0;
    tt_epoch_result r{};
    grade::require_status(TT_NUMERIC_ERROR,
                          [&] { TT_CALL(7, api(), train_epoch, &cb, nullptr, 0.0f, &global_step, &r); });
    CHECK(f.grads_at_step.size() == 2);  // one step: w1's and w2's grads recorded once
    CHECK(f.next == 2);
}

// ------------------------------------------------------------------ evaluate

TEST_CASE("evaluate: forward with training 0 and grad mode off, loss, and nothing else", "[points:2]") {
    Fake f;
    f.batches = three_batches();
    f.losses = {0.5f, 0.25f, 1.0f};
    tt_train_callbacks cb = f.callbacks();
    REQUIRE(grad_enabled_now());
    tt_epoch_result r{};
    TT_CALL(7, api(), evaluate, &cb, &r);
    CHECK(joined(f.log) == "next_batch forward loss next_batch forward loss next_batch forward loss next_batch");
    CHECK(f.training_flags == std::vector<int32_t>{0, 0, 0});
    CHECK(f.grad_mode_in_forward == std::vector<bool>{false, false, false});
    CHECK(grad_enabled_now());  // switched back on afterwards
    CHECK(r.batches == 3);
    CHECK(r.count == 10);
    int64_t correct = 0;
    for (const Batch& b : f.batches) correct += expected_correct(b);
    CHECK(r.correct == correct);
    CHECK(r.mean_loss == Approx(0.5).epsilon(1e-6));
}

TEST_CASE("evaluate restores the grad mode it found, also when it was off", "[points:1]") {
    Fake f;
    f.batches = three_batches();
    tt_train_callbacks cb = f.callbacks();
    int32_t previous = 1;
    TT_CALL(5, tt::runtime().autograd(), set_grad_enabled, 0, &previous);
    tt_epoch_result r{};
    tt_status st = api().evaluate(&cb, &r);
    bool after = grad_enabled_now();
    TT_CALL(5, tt::runtime().autograd(), set_grad_enabled, 1, nullptr);
    tt::runtime().check(st, 7, "evaluate");
    CHECK_FALSE(after);
}

// ------------------------------------------------------------------ accuracy

TEST_CASE("accuracy counts argmax == target; a tie goes to the first maximum", "[points:1]") {
    Tensor logits = Tensor::from({0.1f, 0.9f, 0.0f,    // 1
                                  2.0f, 2.0f, -1.0f,   // tie: 0
                                  -5.0f, -6.0f, -4.0f, // 2
                                  1.0f, 0.0f, 0.0f},   // 0
                                 {4, 3});
    Tensor targets = Tensor::from({1, 1, 2, 2}, {4});
    int64_t correct = -1;
    TT_CALL(7, api(), accuracy, logits.raw(), targets.raw(), &correct);
    CHECK(correct == 2);
    Tensor all = Tensor::from({1, 0, 2, 0}, {4});
    TT_CALL(7, api(), accuracy, logits.raw(), all.raw(), &correct);
    CHECK(correct == 4);
}

TEST_CASE("accuracy rejects targets that are not class indices and mismatched shapes", "[points:1]") {
    Tensor logits = Tensor::from({0.1f, 0.9f, 0.3f, 0.2f}, {2, 2});
    int64_t correct = 0;
    for (std::vector<float> bad : {std::vector<float>{0, 2}, {-1, 0}, {0.5f, 1}}) {
        Tensor t = Tensor::from(bad, {2});
        INFO("targets " << t.str());
        grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(7, api(), accuracy, logits.raw(), t.raw(), &correct); });
    }
    Tensor three = Tensor::from({0, 1, 1}, {3});
    grade::require_status(TT_SHAPE_MISMATCH, [&] { TT_CALL(7, api(), accuracy, logits.raw(), three.raw(), &correct); });
}

// ------------------------------------------------------------------ clipping

TEST_CASE("clip_grad_norm: global L2 norm over every grad, scaled by max / (norm + 1e-6)", "[points:2]") {
    Tensor a = Tensor::from({0, 0}, {2});
    Tensor b = Tensor::from({0}, {1});
    Tensor c = Tensor::from({7}, {1});  // no grad: skipped
    set_grad(a, {3, 4});
    set_grad(b, {12});
    std::vector<tt_tensor*> params = {a.raw(), c.raw(), b.raw()};
    float norm = 0;
    TT_CALL(7, api(), clip_grad_norm, params.data(), 3, 6.5f, &norm);
    CHECK(norm == Approx(13.0).epsilon(1e-6));
    const double s = 6.5 / (13.0 + 1e-6);
    grade::require_close(a.grad(), std::vector<double>{3 * s, 4 * s}, {2}, 1e-6, 1e-6);
    grade::require_close(b.grad(), std::vector<double>{12 * s}, {1}, 1e-6, 1e-6);
    CHECK(c.raw()->grad == nullptr);
    // Now the norm is 6.5 (just under the limit 6.5 + a hair): untouched.
    std::vector<float> before = grad_of(a);
    TT_CALL(7, api(), clip_grad_norm, params.data(), 3, 20.0f, &norm);
    CHECK(norm == Approx(6.5).epsilon(1e-5));
    CHECK(grad_of(a) == before);
}

TEST_CASE("clip_grad_norm matches a double computation on random gradients", "[points:1]") {
    std::vector<float> ga = grade::random_values(50, 701, -2, 2), gb = grade::random_values(7, 702, -2, 2);
    Tensor a = Tensor::zeros({5, 10}), b = Tensor::zeros({7});
    set_grad(a, ga);
    set_grad(b, gb);
    double sq = 0;
    for (float g : ga) sq += double(g) * g;
    for (float g : gb) sq += double(g) * g;
    const double norm = std::sqrt(sq), s = 1.0 / (norm + 1e-6);
    std::vector<tt_tensor*> params = {a.raw(), b.raw()};
    float got = 0;
    TT_CALL(7, api(), clip_grad_norm, params.data(), 2, 1.0f, &got);
    CHECK(got == Approx(norm).epsilon(1e-6));
    std::vector<double> ea, eb;
    for (float g : ga) ea.push_back(g * s);
    for (float g : gb) eb.push_back(g * s);
    grade::require_close(a.grad(), ea, {5, 10}, 1e-6, 1e-5);
    grade::require_close(b.grad(), eb, {7}, 1e-6, 1e-5);
}

TEST_CASE("clip_grad_norm rejects max_norm <= 0 or NaN", "[points:1]") {
    Tensor a = Tensor::from({0}, {1});
    set_grad(a, {1});
    tt_tensor* p = a.raw();
    float norm = 0;
    for (float bad : {0.0f, -1.0f, kNaN}) {
        INFO("max_norm " << bad);
        grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(7, api(), clip_grad_norm, &p, 1, bad, &norm); });
    }
    CHECK(a.grad().item() == 1.0f);
    TT_CALL(7, api(), clip_grad_norm, &p, 1, 0.5f, &norm);  // a valid call still clips
    CHECK(norm == Approx(1.0));
    CHECK(a.grad().item() == Approx(0.5).epsilon(1e-5));
}

// ------------------------------------------------------------------ schedules

namespace {

double lr_of(const tt_lr_schedule& s, int64_t step) {
    float lr = kNaN;
    TT_CALL(7, api(), schedule_lr, &s, step, &lr);
    return lr;
}

}  // namespace

TEST_CASE("schedule_lr: constant, and step = base * gamma^floor(step / step_size)", "[points:1]") {
    tt_lr_schedule c{};
    c.kind = TT_SCHEDULE_CONSTANT;
    c.base_lr = 0.3f;
    for (int64_t step : {0, 1, 100, 100000}) CHECK(lr_of(c, step) == Approx(0.3));
    tt_lr_schedule s{};
    s.kind = TT_SCHEDULE_STEP;
    s.base_lr = 0.2f;
    s.gamma = 0.1f;
    s.step_size = 3;
    for (int64_t step = 0; step < 12; ++step) {
        INFO("step " << step);
        CHECK(lr_of(s, step) == Approx(0.2 * std::pow(double(0.1f), double(step / 3))).epsilon(1e-6));
    }
}

TEST_CASE("schedule_lr: cosine with linear warmup at known steps", "[points:2]") {
    tt_lr_schedule s{};
    s.kind = TT_SCHEDULE_COSINE;
    s.base_lr = 0.1f;
    s.min_lr = 0.001f;
    s.warmup_steps = 5;
    s.total_steps = 25;
    const double base = s.base_lr, lo = s.min_lr;
    auto expected = [&](int64_t t) {
        if (t < 5) return base * t / 5.0;
        if (t >= 25) return lo;
        return lo + (base - lo) * 0.5 * (1 + std::cos(std::numbers::pi * (t - 5) / 20.0));
    };
    for (int64_t t = 0; t <= 30; ++t) {
        INFO("step " << t);
        CHECK(lr_of(s, t) == Approx(expected(t)).epsilon(1e-5).margin(1e-9));
    }
    // Landmarks: 0 at step 0, base at the end of warmup, the midpoint halfway, min_lr at the end.
    CHECK(lr_of(s, 0) == 0.0);
    CHECK(lr_of(s, 5) == Approx(0.1));
    CHECK(lr_of(s, 15) == Approx((0.1 + 0.001) / 2));
    CHECK(lr_of(s, 25) == Approx(0.001));
    s.warmup_steps = 0;
    CHECK(lr_of(s, 0) == Approx(0.1));  // no warmup: starts at base
}

TEST_CASE("schedule_lr rejects schedules that make no sense", "[points:1]") {
    float lr = 0;
    tt_lr_schedule step{};
    step.kind = TT_SCHEDULE_STEP;
    step.base_lr = 0.1f;
    step.gamma = 0.5f;
    step.step_size = 0;
    grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(7, api(), schedule_lr, &step, 0, &lr); });
    tt_lr_schedule cos{};
    cos.kind = TT_SCHEDULE_COSINE;
    cos.base_lr = 0.1f;
    cos.total_steps = 0;
    grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(7, api(), schedule_lr, &cos, 0, &lr); });
    cos.total_steps = 10;
    cos.warmup_steps = 11;
    grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(7, api(), schedule_lr, &cos, 0, &lr); });
    cos.warmup_steps = 2;
    grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(7, api(), schedule_lr, &cos, -1, &lr); });
    tt_lr_schedule unknown{};
    unknown.kind = 9;
    unknown.base_lr = 0.1f;
    grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(7, api(), schedule_lr, &unknown, 0, &lr); });
    grade::require_status(TT_INVALID_ARGUMENT, [&] { TT_CALL(7, api(), schedule_lr, nullptr, 0, &lr); });
    // The edges that are valid: step_size 1 decays every step; warmup == total
    // warms up over the whole run and then sits at min_lr.
    step.step_size = 1;
    CHECK(lr_of(step, 3) == Approx(0.1 * 0.125));
    cos.warmup_steps = 10;
    cos.min_lr = 0.01f;
    CHECK(lr_of(cos, 5) == Approx(0.05));
    CHECK(lr_of(cos, 10) == Approx(0.01));
}

// ------------------------------------------------------------------ checkpoints

TEST_CASE("checkpoint round trip: every tensor comes back exactly, in any order", "[points:2]") {
    TempDir dir;
    std::vector<float> big = grade::random_values(2 * 3 * 4, 707, -100, 100);
    Tensor a = Tensor::from(big, {2, 3, 4});
    Tensor b = Tensor::from({1.5f, -2.25f, 1e-30f, -0.0f, 3e30f}, {5});
    Tensor s = Tensor::scalar(42.0f);
    save(dir.file("ck.bin"), {"layer.0.weight", "bias", "scalar"}, {a, b, s});
    Tensor a2 = Tensor::zeros({2, 3, 4}), b2 = Tensor::zeros({5}), s2 = Tensor::scalar(0);
    load(dir.file("ck.bin"), {"scalar", "layer.0.weight", "bias"}, {s2, a2, b2});
    CHECK(a2.to_vector() == a.to_vector());
    CHECK(b2.to_vector() == b.to_vector());
    CHECK(s2.item() == 42.0f);
    // A subset loads too.
    Tensor b3 = Tensor::zeros({5});
    load(dir.file("ck.bin"), {"bias"}, {b3});
    CHECK(b3.to_vector() == b.to_vector());
    CHECK(dir.entries() == 1);  // no temporary file left behind
}

TEST_CASE("checkpoint_save writes exactly the format of the header (little-endian, CRC-32)", "[points:2]") {
    TempDir dir;
    save(dir.file("ck.bin"), {"w", "s"}, {Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3}), Tensor::scalar(-0.5f)});
    std::vector<unsigned char> got = read_bytes(dir.file("ck.bin")), want = expected_file();
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        INFO("byte " << i);
        REQUIRE(int(got[i]) == int(want[i]));
    }
}

TEST_CASE("checkpoint_load reads a file written by hand in the header's format", "[points:1]") {
    TempDir dir;
    write_bytes(dir.file("ck.bin"), expected_file());
    Tensor w = Tensor::zeros({2, 3}), s = Tensor::scalar(0);
    load(dir.file("ck.bin"), {"w", "s"}, {w, s});
    CHECK(w.to_vector() == std::vector<float>{1, 2, 3, 4, 5, 6});
    CHECK(s.item() == -0.5f);
}

TEST_CASE("a truncated checkpoint is CORRUPT_DATA and the targets stay untouched", "[points:2]") {
    TempDir dir;
    std::vector<unsigned char> full = expected_file();
    for (size_t len = 0; len < full.size(); ++len) {
        INFO("file cut to " << len << " of " << full.size() << " bytes");
        write_bytes(dir.file("ck.bin"), std::vector<unsigned char>(full.begin(), full.begin() + len));
        Tensor w = Tensor::full({2, 3}, 9), s = Tensor::scalar(9);
        grade::require_status(TT_CORRUPT_DATA, [&] { load(dir.file("ck.bin"), {"w", "s"}, {w, s}); });
        REQUIRE(w.to_vector() == std::vector<float>(6, 9.0f));
        REQUIRE(s.item() == 9.0f);
    }
}

TEST_CASE("any flipped bit in a checkpoint is CORRUPT_DATA and the targets stay untouched", "[points:3]") {
    TempDir dir;
    std::vector<unsigned char> full = expected_file();
    for (size_t i = 0; i < full.size(); ++i)
        for (int bit = 0; bit < 8; ++bit) {
            INFO("byte " << i << ", bit " << bit);
            std::vector<unsigned char> bad = full;
            bad[i] ^= static_cast<unsigned char>(1u << bit);
            write_bytes(dir.file("ck.bin"), bad);
            Tensor w = Tensor::full({2, 3}, 9), s = Tensor::scalar(9);
            grade::require_status(TT_CORRUPT_DATA, [&] { load(dir.file("ck.bin"), {"w", "s"}, {w, s}); });
            REQUIRE(w.to_vector() == std::vector<float>(6, 9.0f));
            REQUIRE(s.item() == 9.0f);
        }
}

TEST_CASE("bad magic, another version or trailing bytes are CORRUPT_DATA even with a valid CRC", "[points:1]") {
    TempDir dir;
    Tensor w = Tensor::full({2, 3}, 9), s = Tensor::scalar(9);
    // version 2, CRC recomputed
    write_bytes(dir.file("v2.bin"), expected_file(2));
    grade::require_status(TT_CORRUPT_DATA, [&] { load(dir.file("v2.bin"), {"w", "s"}, {w, s}); });
    // magic "TTCKPX", CRC recomputed
    std::vector<unsigned char> magic = expected_file();
    magic.resize(magic.size() - 4);
    magic[5] = 'X';
    put_crc(magic);
    write_bytes(dir.file("magic.bin"), magic);
    grade::require_status(TT_CORRUPT_DATA, [&] { load(dir.file("magic.bin"), {"w", "s"}, {w, s}); });
    // an extra byte before the CRC, CRC recomputed
    std::vector<unsigned char> extra = expected_file();
    extra.resize(extra.size() - 4);
    extra.push_back(0);
    put_crc(extra);
    write_bytes(dir.file("extra.bin"), extra);
    grade::require_status(TT_CORRUPT_DATA, [&] { load(dir.file("extra.bin"), {"w", "s"}, {w, s}); });
    CHECK(w.to_vector() == std::vector<float>(6, 9.0f));
    CHECK(s.item() == 9.0f);
}

TEST_CASE("a shape mismatch is SHAPE_MISMATCH and no tensor is modified, not even earlier ones", "[points:2]") {
    TempDir dir;
    write_bytes(dir.file("ck.bin"), expected_file());
    Tensor s = Tensor::scalar(9), w = Tensor::full({3, 2}, 9);  // the file has w [2, 3]
    grade::require_status(TT_SHAPE_MISMATCH, [&] { load(dir.file("ck.bin"), {"s", "w"}, {s, w}); });
    CHECK(s.item() == 9.0f);
    CHECK(w.to_vector() == std::vector<float>(6, 9.0f));
    Tensor w6 = Tensor::full({6}, 9);  // same count, other rank
    grade::require_status(TT_SHAPE_MISMATCH, [&] { load(dir.file("ck.bin"), {"s", "w"}, {s, w6}); });
    CHECK(s.item() == 9.0f);
}

TEST_CASE("a name missing from the checkpoint is CORRUPT_DATA; a missing file IO_ERROR", "[points:1]") {
    TempDir dir;
    write_bytes(dir.file("ck.bin"), expected_file());
    Tensor w = Tensor::full({2, 3}, 9), x = Tensor::scalar(9);
    grade::require_status(TT_CORRUPT_DATA, [&] { load(dir.file("ck.bin"), {"w", "nope"}, {w, x}); });
    CHECK(w.to_vector() == std::vector<float>(6, 9.0f));
    grade::require_status(TT_IO_ERROR, [&] { load(dir.file("absent.bin"), {"w"}, {w}); });
}

TEST_CASE("checkpoint_save replaces a file whole, and a failed save leaves the old file", "[points:1]") {
    TempDir dir;
    const std::string path = dir.file("ck.bin");
    save(path, {"w"}, {Tensor::from({1, 2}, {2})});
    save(path, {"w"}, {Tensor::from({3, 4}, {2})});
    Tensor w = Tensor::zeros({2});
    load(path, {"w"}, {w});
    CHECK(w.to_vector() == std::vector<float>{3, 4});
    CHECK(dir.entries() == 1);
    std::vector<unsigned char> before = read_bytes(path);
    // An unwritable place: a directory that does not exist.
    grade::require_status(TT_IO_ERROR, [&] { save(dir.file("missing/ck.bin"), {"w"}, {w}); });
    // The same name twice could never be loaded back.
    grade::require_status(TT_INVALID_ARGUMENT, [&] { save(path, {"w", "w"}, {w, w}); });
    CHECK(read_bytes(path) == before);
    CHECK(dir.entries() == 1);
}

TEST_CASE("checkpoint_save writes a new file and renames it over the old one, never into it", "[points:2]") {
    // The header's contract: the bytes go to a temporary file that is renamed
    // over the target, so a crash leaves the old checkpoint or the new one.
    // A rename gives the name a new file; writing into the target changes the
    // old file. A second name (hard link) for the old checkpoint shows which
    // happened: after an atomic save it still holds the old, loadable file.
    TempDir dir;
    const std::string path = dir.file("ck.bin"), second = dir.file("previous.bin");
    save(path, {"w"}, {Tensor::from({1, 2}, {2})});
    const std::vector<unsigned char> old_bytes = read_bytes(path);
    std::error_code ec;
    fs::create_hard_link(path, second, ec);
    INFO("the grader could not make a hard link in " << dir.path << ": " << ec.message());
    REQUIRE(!ec);
    save(path, {"w"}, {Tensor::from({3, 4}, {2})});
    Tensor w = Tensor::zeros({2});
    load(path, {"w"}, {w});
    CHECK(w.to_vector() == std::vector<float>{3, 4});
    {
        INFO("the old checkpoint's file was written into: save must write a temporary file and rename it");
        CHECK(read_bytes(second) == old_bytes);
        Tensor old = Tensor::zeros({2});
        load(second, {"w"}, {old});
        CHECK(old.to_vector() == std::vector<float>{1, 2});
    }
    INFO("a temporary file was left behind");
    CHECK(dir.entries() == 2);  // ck.bin and previous.bin
}
