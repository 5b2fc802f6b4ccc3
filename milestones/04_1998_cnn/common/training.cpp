#include "common/training.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

#include "common/progress_bar.hpp"
#include "tinytorch/optim.hpp"
#include "tinytorch/runtime.hpp"
#include "tinytorch/train.hpp"

namespace milestone {

namespace {

std::atomic<int> g_interrupts{0};

void on_sigint(int) {
    if (g_interrupts.fetch_add(1) >= 1) std::_Exit(130);  // second Ctrl-C: stop now
}

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// --- module 07 callbacks: the model, loss and optimizer as the loop sees them ------
struct StepContext {
    tt::nn::Module* model;
    tt::Optimizer* optimizer;
    std::vector<tt_tensor*> params;
    tt::Tensor x, y, logits, loss;  // alive until the next step
};

tt_status cb_forward(void* ctx, const tt_tensor*, int32_t training, tt_tensor** out) {
    auto* c = static_cast<StepContext*>(ctx);
    try {
        c->model->train(training != 0);
        c->logits = c->model->forward(c->x);
        *out = c->logits.raw();
        return TT_OK;
    } catch (const tt::Error& e) {
        return tt::runtime().host().set_error(e.module_number(), e.status(), e.function().c_str(), e.message().c_str());
    } catch (const std::exception& e) {
        return tt::runtime().host().set_error(0, TT_INTERNAL_ERROR, "forward", e.what());
    }
}

tt_status cb_loss(void* ctx, const tt_tensor*, const tt_tensor*, tt_tensor** out) {
    auto* c = static_cast<StepContext*>(ctx);
    try {
        c->loss = tt::cross_entropy(c->logits, c->y);
        *out = c->loss.raw();
        return TT_OK;
    } catch (const tt::Error& e) {
        return tt::runtime().host().set_error(e.module_number(), e.status(), e.function().c_str(), e.message().c_str());
    }
}

tt_status cb_backward(void* ctx, tt_tensor*) {
    auto* c = static_cast<StepContext*>(ctx);
    try {
        c->loss.backward();
        return TT_OK;
    } catch (const tt::Error& e) {
        return tt::runtime().host().set_error(e.module_number(), e.status(), e.function().c_str(), e.message().c_str());
    }
}

tt_status cb_zero_grad(void* ctx) {
    return tt::runtime().optimizers().optimizer_zero_grad(static_cast<StepContext*>(ctx)->optimizer->raw());
}
tt_status cb_step(void* ctx) {
    return tt::runtime().optimizers().optimizer_step(static_cast<StepContext*>(ctx)->optimizer->raw());
}
tt_status cb_set_lr(void* ctx, float lr) {
    return tt::runtime().optimizers().optimizer_set_lr(static_cast<StepContext*>(ctx)->optimizer->raw(), lr);
}

// What a checkpoint holds: the model's state, the optimizer's (Adam's moments,
// step count and lr) and the run's progress {epochs done, global step}.
std::vector<tt::nn::NamedTensor> checkpoint_entries(tt::nn::Module& model,
                                                    const std::vector<tt::nn::NamedTensor>& optimizer_state,
                                                    const tt::Tensor& progress) {
    return tt::join(tt::join(model.state(), optimizer_state), {{"run.progress", progress}});
}

// One augmented copy of the batch (module 08 transforms).
tt::Tensor augment(const tt::Tensor& x, const TrainConfig& cfg, tt_rng* rng) {
    tt::Tensor out = x;
    auto& dl = tt::runtime().dataloader();
    if (cfg.crop_padding > 0) {
        tt_tensor* o = nullptr;
        TT_CALL(8, dl, random_crop, out.raw(), cfg.crop_padding, rng, &o);
        out = tt::Tensor::adopt(o);
    }
    if (cfg.hflip) {
        tt_tensor* o = nullptr;
        TT_CALL(8, dl, random_hflip, out.raw(), 0.5f, rng, &o);
        out = tt::Tensor::adopt(o);
    }
    return out;
}

}  // namespace

void install_interrupt_handler() { std::signal(SIGINT, on_sigint); }
bool interrupted() { return g_interrupts.load() > 0; }

EvalResult evaluate(tt::nn::Module& model, const Split& data, int64_t batch_size) {
    EvalResult r;
    tt::NoGradGuard no_grad;
    model.eval();
    const int64_t n = data.size();
    const int64_t per = data.x.numel() / std::max<int64_t>(n, 1);
    tt::Shape shape = data.x.shape();
    double loss_sum = 0;
    int64_t correct = 0;
    for (int64_t start = 0; start < n; start += batch_size) {
        int64_t b = std::min(batch_size, n - start);
        shape[0] = b;
        tt::Tensor x = tt::Tensor::zeros(shape);
        std::copy(data.x.data() + start * per, data.x.data() + (start + b) * per, x.data());
        tt::Tensor y = tt::Tensor::from(std::vector<float>(data.y.data() + start, data.y.data() + start + b), {b});
        tt::Tensor logits = model.forward(x);
        loss_sum += tt::cross_entropy(logits, y).item() * static_cast<double>(b);
        int64_t c = 0;
        TT_CALL(7, tt::runtime().training(), accuracy, logits.raw(), y.raw(), &c);
        correct += c;
        tt::Tensor pred = logits.argmax(1);
        for (int64_t i = 0; i < b; ++i) r.predictions.push_back(static_cast<int>(pred.data()[i]));
    }
    r.accuracy = n ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
    r.loss = n ? loss_sum / static_cast<double>(n) : 0.0;
    model.train();
    return r;
}

FitResult fit(tt::nn::Module& model, const Split& train, const Split& test, const TrainConfig& cfg) {
    auto& rt = tt::runtime();
    FitResult result;
    auto named = model.parameters();
    std::vector<tt::Tensor> params;
    for (auto& p : named) params.push_back(p.tensor);
    tt::Optimizer adam = cfg.weight_decay > 0
                             ? tt::Optimizer::adamw(params, cfg.lr, 0.9f, 0.999f, 1e-8f, cfg.weight_decay)
                             : tt::Optimizer::adam(params, cfg.lr);

    // Batching over the whole training set: module 08's loader (seeded shuffle).
    tt_dataloader* loader = nullptr;
    TT_CALL(8, rt.dataloader(), loader_create, train.x.raw(), train.y.raw(), cfg.batch_size, 1, 1, cfg.seed, &loader);
    std::unique_ptr<tt_dataloader, void (*)(tt_dataloader*)> loader_guard(
        loader, [](tt_dataloader* l) { tt::runtime().dataloader().loader_free(l); });
    int64_t batches = 0;
    TT_CALL(8, rt.dataloader(), loader_num_batches, loader, &batches);

    tt_lr_schedule schedule{};
    schedule.kind = TT_SCHEDULE_COSINE;
    schedule.base_lr = cfg.lr;
    schedule.min_lr = cfg.lr * cfg.min_lr_ratio;
    schedule.total_steps = batches * cfg.epochs;
    schedule.warmup_steps = static_cast<int64_t>(cfg.warmup_fraction * static_cast<float>(schedule.total_steps));

    // progress = {epochs done, global step}: saved with the checkpoint.
    tt::Tensor progress = tt::Tensor::zeros({2});
    int first_epoch = 0;
    int64_t global_step = 0;
    if (cfg.resume && !cfg.checkpoint_path.empty() && std::filesystem::exists(cfg.checkpoint_path)) {
        auto optimizer_state = adam.state_dict();  // creates the moments (zeros) to load into
        tt::load_checkpoint(cfg.checkpoint_path, checkpoint_entries(model, optimizer_state, progress));
        adam.load_state_dict(optimizer_state);     // step count and lr
        first_epoch = static_cast<int>(progress.data()[0]);
        global_step = static_cast<int64_t>(progress.data()[1]);
        if (!cfg.quiet)
            std::printf("  resumed %s from %s after epoch %d\n", cfg.label.c_str(), cfg.checkpoint_path.c_str(), first_epoch);
    }

    StepContext ctx{&model, &adam, {}, {}, {}, {}, {}};
    for (auto& p : params) ctx.params.push_back(p.raw());
    tt_train_callbacks cb{};
    cb.ctx = &ctx;
    cb.forward = cb_forward;
    cb.loss = cb_loss;
    cb.backward = cb_backward;
    cb.zero_grad = cb_zero_grad;
    cb.optimizer_step = cb_step;
    cb.set_lr = cb_set_lr;
    cb.params = ctx.params.data();
    cb.n_params = static_cast<int32_t>(ctx.params.size());

    tt_rng aug_rng;
    rt.host().rng_seed(&aug_rng, cfg.seed ^ 0xA5A5A5A5ull);
    ProgressBar bar(cfg.quiet);
    auto t_all = Clock::now();
    model.train();
    for (int epoch = first_epoch; epoch < cfg.epochs; ++epoch) {
        TT_CALL(8, rt.dataloader(), loader_start_epoch, loader, epoch);
        auto t0 = Clock::now();
        double loss_sum = 0;
        int64_t seen = 0, correct = 0;
        bar.start(cfg.label, epoch + 1, cfg.epochs, batches);
        for (int64_t b = 0;; ++b) {
            tt_tensor *bx = nullptr, *by = nullptr;
            int32_t has = 0;
            TT_CALL(8, rt.dataloader(), loader_next, loader, &bx, &by, &has);
            if (!has) break;
            tt::Tensor x = tt::Tensor::adopt(bx), y = tt::Tensor::adopt(by);
            ctx.x = augment(x, cfg, &aug_rng);
            ctx.y = y;
            float lr = cfg.lr;
            TT_CALL(7, rt.training(), schedule_lr, &schedule, global_step, &lr);
            adam.set_lr(lr);
            tt_step_result step{};
            tt_status st = rt.training().train_step(&cb, ctx.x.raw(), y.raw(), cfg.max_grad_norm, &step);
            if (st == TT_NUMERIC_ERROR) {
                char buf[512];
                std::snprintf(buf, sizeof buf,
                              "the loss of %s became NaN/Inf at epoch %d, batch %lld (lr %.3g).\n"
                              "  hint: lower --lr (try %.2g), or add gradient clipping; check the backward "
                              "rules of your modules with ./tito test 05 and ./tito test 09",
                              cfg.label.c_str(), epoch + 1, static_cast<long long>(b + 1), lr, lr / 10);
                throw NumericFailure(buf);
            }
            rt.check(st, 7, "train_step");
            ++global_step;
            loss_sum += step.loss * static_cast<double>(step.count);
            seen += step.count;
            correct += step.correct;
            bar.update(b + 1, loss_sum / seen, static_cast<double>(correct) / seen, seen / seconds_since(t0));
            if (interrupted()) break;
        }
        EpochLog log;
        log.seconds = seconds_since(t0);
        log.train_loss = seen ? loss_sum / seen : 0;
        log.train_acc = seen ? static_cast<double>(correct) / seen : 0;
        log.images_per_second = log.seconds > 0 ? seen / log.seconds : 0;
        if (interrupted()) {
            result.interrupted = true;
            bar.finish("interrupted");
        } else {
            log.test_acc = evaluate(model, test).accuracy;
            char msg[160];
            std::snprintf(msg, sizeof msg, "test acc %.1f%%  (%.2f s)", 100 * log.test_acc, log.seconds);
            bar.finish(msg);
            log.elapsed = seconds_since(t_all);
            result.epochs.push_back(log);
        }
        progress.data()[0] = static_cast<float>(result.interrupted ? epoch : epoch + 1);
        progress.data()[1] = static_cast<float>(global_step);
        if (!cfg.checkpoint_path.empty())
            tt::save_checkpoint(cfg.checkpoint_path, checkpoint_entries(model, adam.state_dict(), progress));
        if (result.interrupted) break;
    }
    result.train_seconds = seconds_since(t_all);
    return result;
}

void print_architecture(tt::nn::Sequential& model, const tt::Shape& input_shape) {
    tt::NoGradGuard no_grad;
    model.eval();
    tt::Shape s = input_shape;
    s.insert(s.begin(), 1);
    tt::Tensor h = tt::Tensor::zeros(s);
    std::printf("    %-34s %-16s %10s\n", "layer", "output shape", "params");
    std::printf("    %-34s %-16s %10s\n", "input", tt::shape_str(input_shape).c_str(), "");
    int64_t total = 0;
    for (auto& layer : model.layers()) {
        h = layer->forward(h);
        tt::Shape out = h.shape();
        out.erase(out.begin());
        int64_t n = layer->parameter_count();
        total += n;
        std::printf("    %-34s %-16s %10lld\n", layer->describe().c_str(), tt::shape_str(out).c_str(),
                    static_cast<long long>(n));
    }
    std::printf("    %-34s %-16s %10lld\n", "total", "", static_cast<long long>(total));
    model.train();
}

}  // namespace milestone
