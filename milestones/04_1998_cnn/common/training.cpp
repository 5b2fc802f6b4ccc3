#include "common/training.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
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

// "45 s", "3 min 20 s", "1 h 05 min"
std::string duration_words(double seconds) {
    const long long s = static_cast<long long>(seconds + 0.5);
    char buf[48];
    if (s < 60) std::snprintf(buf, sizeof buf, "%lld s", s);
    else if (s < 3600) std::snprintf(buf, sizeof buf, "%lld min %02lld s", s / 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%lld h %02lld min", s / 3600, (s % 3600) / 60);
    return buf;
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


// ---- checkpoints: validated before anything is loaded ------------------------------

// A checkpoint whose CRC is right can still hold values no run of this program
// writes (a hand edit, another program's file, a model that had diverged).
// Everything is read into staging tensors, checked, and only then copied into
// the model and the optimizer; a bad file changes nothing.
std::string checkpoint_problem(const std::string& path, const std::string& what) {
    return "checkpoint " + path + ": " + what +
           ".\n  It was not written by a finished epoch of this program, or it was edited or damaged. Delete it "
           "(or pass another --out) and train without --resume.";
}

bool is_whole(float v) { return std::isfinite(v) && v == std::floor(v); }

// Staging copies: same names and shapes, zeros.
std::vector<tt::nn::NamedTensor> staging_like(const std::vector<tt::nn::NamedTensor>& entries) {
    std::vector<tt::nn::NamedTensor> out;
    for (auto& e : entries) out.push_back({e.name, tt::Tensor::zeros(e.tensor.shape())});
    return out;
}

// Every value finite; variances (Adam's v: slot 1, BatchNorm's running_var) >= 0.
void check_values(const std::vector<tt::nn::NamedTensor>& staged, const std::string& path) {
    for (auto& e : staged) {
        const float* d = e.tensor.data();
        const bool variance = e.name.find("running_var") != std::string::npos ||
                              (e.name.rfind("optimizer.state.", 0) == 0 && e.name.size() > 2 &&
                               e.name.compare(e.name.size() - 2, 2, ".1") == 0);
        for (int64_t i = 0; i < e.tensor.numel(); ++i) {
            if (!std::isfinite(d[i]))
                throw std::runtime_error(checkpoint_problem(path, "'" + e.name + "' holds a NaN or infinite value"));
            if (variance && d[i] < 0)
                throw std::runtime_error(checkpoint_problem(path, "'" + e.name + "' holds a negative variance"));
        }
    }
}

void copy_into(const std::vector<tt::nn::NamedTensor>& from, std::vector<tt::nn::NamedTensor>& to) {
    for (size_t i = 0; i < from.size(); ++i)
        std::copy(from[i].tensor.data(), from[i].tensor.data() + from[i].tensor.numel(), to[i].tensor.data());
}

struct Resumed {
    int epochs_done = 0;
    int64_t global_step = 0;
};

Resumed load_resume_checkpoint(tt::nn::Module& model, tt::Optimizer& adam, const TrainConfig& cfg, int64_t batches) {
    const std::string& path = cfg.checkpoint_path;
    auto model_state = model.state();
    auto optimizer_state = adam.state_dict();  // creates the moments (zeros) so their shapes are known
    tt::Tensor progress = tt::Tensor::zeros({2});
    auto live = checkpoint_entries(model, optimizer_state, progress);
    auto staged = staging_like(live);
    tt::load_checkpoint(path, staged);  // module 07: format, CRC, names, shapes
    check_values(staged, path);

    // run.progress = {epochs done, global step}; an interrupted epoch is not
    // counted as done but its steps are.
    const float* p = staged.back().tensor.data();
    char buf[200];
    if (!is_whole(p[0]) || p[0] < 0 || p[0] > 1e6f || !is_whole(p[1]) || p[1] < 0 || p[1] > 1e12f) {
        std::snprintf(buf, sizeof buf, "run.progress is {%g, %g}, not {epochs done, steps done} (whole numbers, 0 .. 1e6 epochs)",
                      p[0], p[1]);
        throw std::runtime_error(checkpoint_problem(path, buf));
    }
    Resumed r;
    if (p[0] > static_cast<float>(cfg.epochs))
        throw UsageError("checkpoint " + path + " already holds " + std::to_string(static_cast<int64_t>(p[0])) +
                         " epochs, more than --epochs " + std::to_string(cfg.epochs) +
                         ": pass --epochs " + std::to_string(static_cast<int64_t>(p[0])) +
                         " or more to continue it, or --eval-only to evaluate it");
    r.epochs_done = static_cast<int>(p[0]);
    r.global_step = static_cast<int64_t>(p[1]);
    const int64_t lo = r.epochs_done * batches, hi = lo + batches - 1;
    if (r.global_step < lo || r.global_step > hi)
        throw UsageError("checkpoint " + path + " holds " + std::to_string(r.global_step) + " steps after " +
                         std::to_string(r.epochs_done) + " epochs, but this run has " + std::to_string(batches) +
                         " batches per epoch: it was made with another --batch-size or training set (--limit); "
                         "resume with the same options, or start again without --resume");
    // The optimizer's step count (Adam's t) advances once per batch.
    std::vector<tt::nn::NamedTensor> staged_optimizer(staged.begin() + static_cast<std::ptrdiff_t>(model_state.size()),
                                                      staged.end() - 1);
    for (auto& e : staged_optimizer)
        if (e.name == "optimizer.step") {
            const float* s = e.tensor.data();
            const double t = static_cast<double>(s[0]) + static_cast<double>(s[1]) * 16777216.0;
            if (!is_whole(s[0]) || !is_whole(s[1]) || t != static_cast<double>(r.global_step)) {
                std::snprintf(buf, sizeof buf, "the optimizer's step count (%.0f) does not match the %lld steps "
                              "of run.progress", t, static_cast<long long>(r.global_step));
                throw std::runtime_error(checkpoint_problem(path, buf));
            }
        }
    try {
        adam.load_state_dict(staged_optimizer);  // moments, step count and lr (checked there too)
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(checkpoint_problem(path, e.what()));
    }
    copy_into(std::vector<tt::nn::NamedTensor>(staged.begin(), staged.begin() + static_cast<std::ptrdiff_t>(model_state.size())),
              model_state);
    return r;
}

// kill -9 during a save leaves module 07's temporary file (<name>.tmp-XXXXXX)
// behind. The program holds the lock on --out (OutDirLock), so no other run
// is writing there: every such file is a leftover.
void remove_stale_temporaries(const std::string& checkpoint_path) {
    namespace fs = std::filesystem;
    const fs::path ckpt(checkpoint_path);
    const std::string prefix = ckpt.filename().string() + ".tmp-";
    std::error_code ec;
    fs::path dir = ckpt.parent_path().empty() ? fs::path(".") : ckpt.parent_path();
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        std::error_code ec2;
        if (name.size() == prefix.size() + 6 && name.compare(0, prefix.size(), prefix) == 0 &&
            it->is_regular_file(ec2) && !it->is_symlink(ec2)) {
            fs::remove(it->path(), ec2);
            if (!ec2)
                std::fprintf(stderr, "note: removed %s, left by an interrupted save\n", it->path().c_str());
        }
    }
}

// ---- divergence -------------------------------------------------------------------
// NaN/Inf is the loud failure; the quiet ones are a loss that grows far above
// where it started (--lr 1e6 reaches 1e20 without a NaN) and a model stuck at
// chance. Both stop the run (exit 7) before a useless checkpoint is saved.
[[noreturn]] void diverged(const TrainConfig& cfg, const std::string& what) {
    char hint[256];
    std::snprintf(hint, sizeof hint,
                  "\n  hint: lower --lr (the peak is %.3g; try %.2g), or add gradient clipping; check the backward "
                  "rules of your modules with ./tito test 05 and ./tito test 09",
                  static_cast<double>(cfg.lr), static_cast<double>(cfg.lr) / 10);
    throw NumericFailure("the training of " + cfg.label + " " + what + hint);
}

constexpr double kBatchBlowUp = 100;  // one batch's loss this many times the start: diverged
constexpr double kEpochBlowUp = 2;    // an epoch's mean loss this many times the start: diverged
constexpr int64_t kChanceSteps = 200;  // the chance check waits this many steps (and 2 epochs) of this run

// After an epoch: its mean loss far above the start, or a model stuck at
// chance after warmup and a fair number of steps: train and test accuracy
// below 1.5/K and the loss still at ln K (uniform guessing). The loss test
// keeps a slow starter (lr 0.03 on TinyDigits: 14% after 10 epochs, loss
// already falling, 84% at the end) from being stopped.
void check_progress(const TrainConfig& cfg, int epoch, const EpochLog& log, double start_loss, int64_t classes,
                    int64_t steps_this_run, int64_t global_step, int64_t warmup_steps, int epochs_this_run) {
    char buf[256];
    if (start_loss > 0 && log.train_loss > kEpochBlowUp * start_loss) {
        std::snprintf(buf, sizeof buf, "diverged: the mean loss of epoch %d is %.3g, more than %.0fx the %.3g it started from",
                      epoch + 1, log.train_loss, kEpochBlowUp, start_loss);
        diverged(cfg, buf);
    }
    const double chance = 1.0 / static_cast<double>(classes);
    if (epochs_this_run >= 2 && steps_this_run >= kChanceSteps && global_step > warmup_steps &&
        log.train_acc < 1.5 * chance && log.test_acc < 1.5 * chance &&
        log.train_loss > 0.98 * std::log(static_cast<double>(classes))) {
        std::snprintf(buf, sizeof buf, "is stuck at chance: after epoch %d train accuracy is %.1f%% and test accuracy %.1f%%, chance "
                      "level for %lld classes (%.1f%%), and the loss %.3f is still that of guessing",
                      epoch + 1, 100 * log.train_acc, 100 * log.test_acc, static_cast<long long>(classes), 100 * chance,
                      log.train_loss);
        diverged(cfg, buf);
    }
}

}  // namespace

void load_model(tt::nn::Module& model, const std::string& path) {
    if (!std::filesystem::exists(path))
        throw UsageError("no checkpoint at " + path + ": train first (without --eval-only) or pass the --out of that run");
    auto live = model.state();
    auto staged = staging_like(live);
    tt::load_checkpoint(path, staged);
    check_values(staged, path);
    copy_into(staged, live);
}

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
    if (cfg.resume && !cfg.checkpoint_path.empty()) {
        if (!std::filesystem::exists(cfg.checkpoint_path)) {
            // The program checked that the run has a checkpoint at all; a later
            // model without one was not reached before the interruption.
            std::printf("  %s: no checkpoint at %s yet, training it from the start\n", cfg.label.c_str(),
                        cfg.checkpoint_path.c_str());
        } else {
            Resumed r = load_resume_checkpoint(model, adam, cfg, batches);
            first_epoch = r.epochs_done;
            global_step = r.global_step;
            const int64_t partial = global_step - static_cast<int64_t>(first_epoch) * batches;
            std::string where = "after epoch " + std::to_string(first_epoch);
            if (partial > 0)
                where += " and " + std::to_string(partial) + " batches of epoch " + std::to_string(first_epoch + 1);
            if (!cfg.quiet || first_epoch >= cfg.epochs)
                std::printf("  resumed %s from %s %s%s\n", cfg.label.c_str(), cfg.checkpoint_path.c_str(),
                            where.c_str(), first_epoch >= cfg.epochs ? " (all epochs done: nothing left to train)" : "");
        }
    }

    double start_loss = -1;  // loss of the first batch of this run (see the divergence checks)
    constexpr int64_t kRateFrom = 5, kRateSteps = 20;  // the speed line: batches 6-25 of this run
    auto t_rate = Clock::now();
    double images_this_run = 0, images_at_rate = 0;
    int64_t classes = 10, steps_this_run = 0;
    bool cleaned = false;    // stale temporary checkpoint files removed before the first save

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
        // A run interrupted inside this epoch saved the steps it had taken:
        // skip those batches of the epoch (same seeded order) so that steps,
        // schedule and Adam's count stay in line with run.progress.
        int64_t skip = epoch == first_epoch ? global_step - static_cast<int64_t>(first_epoch) * batches : 0;
        for (int64_t b = 0;; ++b) {
            tt_tensor *bx = nullptr, *by = nullptr;
            int32_t has = 0;
            TT_CALL(8, rt.dataloader(), loader_next, loader, &bx, &by, &has);
            if (!has) break;
            if (skip > 0) {
                tt::Tensor skipped_x = tt::Tensor::adopt(bx), skipped_y = tt::Tensor::adopt(by);  // freed here
                --skip;
                continue;
            }
            tt::Tensor x = tt::Tensor::adopt(bx), y = tt::Tensor::adopt(by);
            ctx.x = augment(x, cfg, &aug_rng);
            ctx.y = y;
            float lr = cfg.lr;
            TT_CALL(7, rt.training(), schedule_lr, &schedule, global_step, &lr);
            adam.set_lr(lr);
            tt_step_result step{};
            tt_status st = rt.training().train_step(&cb, ctx.x.raw(), y.raw(), cfg.max_grad_norm, &step);
            if (st == TT_NUMERIC_ERROR) {
                char buf[160];
                std::snprintf(buf, sizeof buf, "diverged: the loss became NaN/Inf at epoch %d, batch %lld (lr %.3g)", epoch + 1,
                              static_cast<long long>(b + 1), static_cast<double>(lr));
                diverged(cfg, buf);
            }
            rt.check(st, 7, "train_step");
            if (start_loss < 0) {
                // Where the loss starts: a fresh classifier over K classes
                // sits near ln K; a resumed one lower, so ln K is the floor.
                classes = std::max<int64_t>(2, ctx.logits.size(1));
                start_loss = std::max(std::log(static_cast<double>(classes)), static_cast<double>(step.loss));
            }
            if (step.loss > kBatchBlowUp * start_loss) {
                char buf[200];
                std::snprintf(buf, sizeof buf, "diverged: the loss reached %.3g at epoch %d, batch %lld (lr %.3g), more than "
                              "%.0fx the %.3g it started from", static_cast<double>(step.loss), epoch + 1,
                              static_cast<long long>(b + 1), static_cast<double>(lr), kBatchBlowUp, start_loss);
                diverged(cfg, buf);
            }
            ++global_step;
            ++steps_this_run;
            loss_sum += step.loss * static_cast<double>(step.count);
            seen += step.count;
            correct += step.correct;
            bar.update(b + 1, loss_sum / seen, static_cast<double>(correct) / seen, seen / seconds_since(t0));
            // From the first batches (the 5 warm-up steps left out): the speed of
            // this stack and what the whole run will take at that rate.
            images_this_run += step.count;
            if (steps_this_run == kRateFrom) t_rate = Clock::now(), images_at_rate = images_this_run;
            if (steps_this_run == kRateFrom + kRateSteps && !cfg.quiet) {
                const double ips = (images_this_run - images_at_rate) / seconds_since(t_rate);
                const int64_t steps_left = batches * cfg.epochs - global_step;
                bar.note(cfg.label + ": " + std::to_string(static_cast<long long>(ips + 0.5)) +
                         " images/s over batches " + std::to_string(kRateFrom + 1) + "-" +
                         std::to_string(kRateFrom + kRateSteps) + ": about " +
                         duration_words(static_cast<double>(steps_left * cfg.batch_size) / ips) +
                         " left for its " + std::to_string(cfg.epochs) + " epochs at that rate (test runs not counted)");
            }
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
            result.last_test = evaluate(model, test);
            log.test_acc = result.last_test->accuracy;
            check_progress(cfg, epoch, log, start_loss, classes, steps_this_run, global_step, schedule.warmup_steps,
                           epoch - first_epoch + 1);
            char msg[160];
            std::snprintf(msg, sizeof msg, "test acc %.1f%%  (%.2f s)", 100 * log.test_acc, log.seconds);
            bar.finish(msg);
            log.elapsed = seconds_since(t_all);
            result.epochs.push_back(log);
        }
        progress.data()[0] = static_cast<float>(result.interrupted ? epoch : epoch + 1);
        progress.data()[1] = static_cast<float>(global_step);
        if (!cfg.checkpoint_path.empty() && !cleaned) remove_stale_temporaries(cfg.checkpoint_path), cleaned = true;
        if (!cfg.checkpoint_path.empty())
            tt::save_checkpoint(cfg.checkpoint_path, checkpoint_entries(model, adam.state_dict(), progress));
        if (result.interrupted) break;
    }
    result.train_seconds = seconds_since(t_all);
    return result;
}

namespace {

// Runs one zero image through the layers; calls row(layer, output shape,
// params, MACs) for each.
template <class Row>
int64_t walk_layers(tt::nn::Sequential& model, const tt::Shape& input_shape, Row row) {
    tt::NoGradGuard no_grad;
    model.eval();
    tt::Shape s = input_shape;
    s.insert(s.begin(), 1);
    tt::Tensor h = tt::Tensor::zeros(s);
    int64_t total = 0;
    for (auto& layer : model.layers()) {
        h = layer->forward(h);
        tt::Shape out = h.shape();
        out.erase(out.begin());
        int64_t macs = 0;
        if (auto* conv = dynamic_cast<tt::nn::Conv2d*>(layer.get())) {
            // weight [O, C, k, k]; output [O, H', W']: every output value is C*k*k multiply-adds
            const tt::Tensor& w = conv->weight;
            macs = out[0] * out[1] * out[2] * w.size(1) * w.size(2) * w.size(3);
        } else if (auto* fc = dynamic_cast<tt::nn::Linear*>(layer.get())) {
            macs = fc->weight.numel();  // [in, out]: in multiply-adds per output
        }
        total += macs;
        row(*layer, out, layer->parameter_count(), macs);
    }
    model.train();
    return total;
}

}  // namespace

int64_t multiply_adds(tt::nn::Sequential& model, const tt::Shape& input_shape) {
    return walk_layers(model, input_shape, [](tt::nn::Module&, const tt::Shape&, int64_t, int64_t) {});
}

int64_t print_architecture(tt::nn::Sequential& model, const tt::Shape& input_shape) {
    std::printf("    %-34s %-16s %10s %12s\n", "layer", "output shape", "params", "MACs/image");
    std::printf("    %-34s %-16s %10s %12s\n", "input", tt::shape_str(input_shape).c_str(), "", "");
    int64_t params = 0;
    int64_t macs = walk_layers(model, input_shape, [&](tt::nn::Module& layer, const tt::Shape& out, int64_t n,
                                                       int64_t m) {
        params += n;
        std::printf("    %-34s %-16s %10lld %12lld\n", layer.describe().c_str(), tt::shape_str(out).c_str(),
                    static_cast<long long>(n), static_cast<long long>(m));
    });
    std::printf("    %-34s %-16s %10lld %12lld\n", "total", "", static_cast<long long>(params),
                static_cast<long long>(macs));
    return macs;
}

}  // namespace milestone
