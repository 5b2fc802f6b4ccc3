// train.cpp - clipping, schedules, accuracy, checkpoints and tt::Trainer over
// module 07.
//
// The Trainer hands module 07 a tt_train_callbacks whose functions call back
// into C++ (the model's forward, the loss, the optimizer, the loader). No C++
// exception may cross the module: each callback catches, keeps the exception
// and returns a status, which the module passes on; the Trainer then rethrows
// the kept exception, so the caller sees the original tt::Error.
#include "tinytorch/train.hpp"

#include <cmath>
#include <exception>
#include <limits>
#include <optional>
#include <stdexcept>

#include "tinytorch/runtime.hpp"

namespace tt {

namespace {

std::vector<tt_tensor*> raw_tensors(const std::vector<Tensor>& tensors) {
    if (tensors.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
        throw std::invalid_argument("too many tensors");
    std::vector<tt_tensor*> raw;
    raw.reserve(tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
        if (!tensors[i].defined()) throw std::invalid_argument("tensor " + std::to_string(i) + " is undefined");
        raw.push_back(tensors[i].raw());
    }
    return raw;
}

}  // namespace

float clip_grad_norm(const std::vector<Tensor>& params, float max_norm) {
    std::vector<tt_tensor*> raw = raw_tensors(params);
    float norm = 0.0f;
    TT_CALL(7, runtime().training(), clip_grad_norm, raw.data(), static_cast<int32_t>(raw.size()), max_norm, &norm);
    return norm;
}

int64_t accuracy(const Tensor& logits, const Tensor& targets) {
    int64_t correct = 0;
    TT_CALL(7, runtime().training(), accuracy, logits.raw(), targets.raw(), &correct);
    return correct;
}

// ---------------------------------------------------------------- schedules

LrSchedule LrSchedule::constant(float lr) {
    tt_lr_schedule s{};
    s.kind = TT_SCHEDULE_CONSTANT;
    s.base_lr = lr;
    return LrSchedule(s);
}

LrSchedule LrSchedule::step(float base_lr, float gamma, int64_t step_size) {
    tt_lr_schedule s{};
    s.kind = TT_SCHEDULE_STEP;
    s.base_lr = base_lr;
    s.gamma = gamma;
    s.step_size = step_size;
    return LrSchedule(s);
}

LrSchedule LrSchedule::cosine(float base_lr, int64_t total_steps, int64_t warmup_steps, float min_lr) {
    tt_lr_schedule s{};
    s.kind = TT_SCHEDULE_COSINE;
    s.base_lr = base_lr;
    s.total_steps = total_steps;
    s.warmup_steps = warmup_steps;
    s.min_lr = min_lr;
    return LrSchedule(s);
}

float LrSchedule::lr_at(int64_t step) const {
    float lr = 0.0f;
    TT_CALL(7, runtime().training(), schedule_lr, &raw_, step, &lr);
    return lr;
}

// -------------------------------------------------------------- checkpoints

namespace {

struct NamedRaw {
    std::vector<const char*> names;
    std::vector<tt_tensor*> tensors;
};

NamedRaw named_raw(const std::vector<nn::NamedTensor>& tensors) {
    if (tensors.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
        throw std::invalid_argument("checkpoint: too many tensors");
    NamedRaw r;
    for (const auto& t : tensors) {
        if (!t.tensor.defined()) throw std::invalid_argument("checkpoint: tensor '" + t.name + "' is undefined");
        r.names.push_back(t.name.c_str());
        r.tensors.push_back(t.tensor.raw());
    }
    return r;
}

}  // namespace

void save_checkpoint(const std::string& path, const std::vector<nn::NamedTensor>& tensors) {
    NamedRaw r = named_raw(tensors);
    std::vector<const tt_tensor*> in(r.tensors.begin(), r.tensors.end());
    TT_CALL(7, runtime().training(), checkpoint_save, path.c_str(), static_cast<int32_t>(in.size()), r.names.data(),
            in.data());
}

void load_checkpoint(const std::string& path, const std::vector<nn::NamedTensor>& tensors) {
    NamedRaw r = named_raw(tensors);
    TT_CALL(7, runtime().training(), checkpoint_load, path.c_str(), static_cast<int32_t>(r.tensors.size()),
            r.names.data(), r.tensors.data());
}

std::vector<nn::NamedTensor> join(std::vector<nn::NamedTensor> a, const std::vector<nn::NamedTensor>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// ------------------------------------------------------------------ Trainer

// The callback side of one Trainer. The tensors handed to module 07 live in
// the members below until the same callback replaces them.
struct Trainer::State {
    Trainer* owner = nullptr;
    LossFn loss_fn;
    Transform transform;
    std::optional<LrSchedule> schedule;
    float max_grad_norm = 0.0f;

    // The epoch being run.
    DataLoader* loader = nullptr;
    bool training = false;
    bool stopped = false;
    int64_t epoch = 0;
    int64_t num_batches = 0;

    // What the module was given, kept alive.
    std::vector<Tensor> params;
    std::vector<tt_tensor*> raw_params;
    Tensor x, y, logits, loss;

    std::exception_ptr error;  // the first exception a callback caught

    // Run f for a callback: any exception is kept and becomes a status.
    template <class F>
    static tt_status guarded(void* ctx, F&& f) {
        auto* s = static_cast<State*>(ctx);
        try {
            f(*s);
            return TT_OK;
        } catch (const Error& e) {
            if (!s->error) s->error = std::current_exception();
            return e.status() != TT_OK ? e.status() : TT_INTERNAL_ERROR;
        } catch (const std::bad_alloc&) {
            if (!s->error) s->error = std::current_exception();
            return TT_OUT_OF_MEMORY;
        } catch (...) {
            if (!s->error) s->error = std::current_exception();
            return TT_INTERNAL_ERROR;
        }
    }

    // A tensor the module passes back: ours (the usual case) or a borrowed view.
    static Tensor same_or_borrow(const Tensor& ours, const tt_tensor* given) {
        if (ours.defined() && ours.raw() == given) return ours;
        return Tensor::borrow(const_cast<tt_tensor*>(given));
    }

    static tt_status forward(void* ctx, const tt_tensor* x, int32_t training, tt_tensor** out_logits) {
        *out_logits = nullptr;
        return guarded(ctx, [&](State& s) {
            nn::Module& model = s.owner->model_;
            if (model.is_training() != (training != 0)) model.train(training != 0);
            s.logits = model.forward(same_or_borrow(s.x, x));
            *out_logits = s.logits.raw();
        });
    }

    static tt_status loss_cb(void* ctx, const tt_tensor* logits, const tt_tensor* y, tt_tensor** out_loss) {
        *out_loss = nullptr;
        return guarded(ctx, [&](State& s) {
            s.loss = s.loss_fn(same_or_borrow(s.logits, logits), same_or_borrow(s.y, y));
            *out_loss = s.loss.raw();
        });
    }

    static tt_status backward(void* ctx, tt_tensor* loss) {
        return guarded(ctx, [&](State& s) {
            same_or_borrow(s.loss, loss).backward();  // releases the graph; s.loss stays readable
        });
    }

    static tt_status zero_grad(void* ctx) {
        return guarded(ctx, [](State& s) { s.owner->optimizer_.zero_grad(); });
    }

    static tt_status optimizer_step(void* ctx) {
        return guarded(ctx, [](State& s) { s.owner->optimizer_.step(); });
    }

    static tt_status set_lr(void* ctx, float lr) {
        return guarded(ctx, [&](State& s) { s.owner->optimizer_.set_lr(lr); });
    }

    static tt_status next_batch(void* ctx, tt_tensor** out_x, tt_tensor** out_y, int32_t* has_batch) {
        *out_x = nullptr;
        *out_y = nullptr;
        *has_batch = 0;
        return guarded(ctx, [&](State& s) {
            if (s.owner->stop_requested()) {
                s.stopped = true;
                return;
            }
            Tensor x, y;
            if (!s.loader->next(x, y)) return;
            if (s.training && s.transform) x = s.transform(x);
            s.x = std::move(x);
            s.y = std::move(y);
            *out_x = s.x.raw();
            *out_y = s.y.raw();
            *has_batch = 1;
        });
    }

    static tt_status on_batch(void* ctx, int64_t batch_index, float loss, float lr) {
        return guarded(ctx, [&](State& s) {
            Trainer& t = *s.owner;
            if (!t.on_batch) return;
            BatchInfo info;
            info.epoch = s.epoch;
            info.batch = batch_index;
            info.num_batches = s.num_batches;
            info.loss = loss;
            info.lr = std::isnan(lr) ? t.optimizer_.lr() : lr;
            info.global_step = t.global_step_;
            t.on_batch(info);
        });
    }

    tt_train_callbacks callbacks() {
        params = tensors_of(owner->model_.parameters());
        raw_params = raw_tensors(params);
        tt_train_callbacks cb{};
        cb.ctx = this;
        cb.forward = forward;
        cb.loss = loss_cb;
        cb.backward = backward;
        cb.zero_grad = zero_grad;
        cb.optimizer_step = optimizer_step;
        cb.set_lr = set_lr;
        cb.next_batch = next_batch;
        cb.on_batch = on_batch;
        cb.params = raw_params.data();
        cb.n_params = static_cast<int32_t>(raw_params.size());
        return cb;
    }

    // Before a run: bind the loader, forget the last run's leftovers.
    void begin(DataLoader& l, bool train, int64_t e) {
        loader = &l;
        training = train;
        stopped = false;
        epoch = e;
        num_batches = l.num_batches();
        error = nullptr;
    }

    // After a run: drop the batch tensors, then report a kept exception (it
    // says more than the status the module passed on) or the module's status.
    void finish(tt_status status, const char* function) {
        x = y = logits = loss = Tensor();
        loader = nullptr;
        if (error) {
            std::exception_ptr e = error;
            error = nullptr;
            std::rethrow_exception(e);
        }
        runtime().check(status, 7, function);
    }
};

namespace {

EpochResult to_result(const tt_epoch_result& r, bool stopped) {
    EpochResult out;
    out.mean_loss = r.mean_loss;
    out.correct = r.correct;
    out.count = r.count;
    out.batches = r.batches;
    out.stopped = stopped;
    return out;
}

}  // namespace

Trainer::Trainer(nn::Module& model, Optimizer& optimizer, LossFn loss)
    : model_(model), optimizer_(optimizer), state_(std::make_unique<State>()) {
    if (!loss) throw std::invalid_argument("Trainer: the loss function is empty");
    state_->owner = this;
    state_->loss_fn = std::move(loss);
}

Trainer::~Trainer() = default;

Trainer& Trainer::set_schedule(const LrSchedule& schedule) {
    schedule.lr_at(0);  // a bad schedule fails here, with the module's message
    state_->schedule = schedule;
    return *this;
}

Trainer& Trainer::clear_schedule() {
    state_->schedule.reset();
    return *this;
}

Trainer& Trainer::set_max_grad_norm(float max_norm) {
    if (!(max_norm >= 0.0f)) throw std::invalid_argument("Trainer::set_max_grad_norm: max_norm must be >= 0 (0: off)");
    state_->max_grad_norm = max_norm;
    return *this;
}

Trainer& Trainer::set_transform(Transform transform) {
    state_->transform = std::move(transform);
    return *this;
}

EpochResult Trainer::train_epoch(DataLoader& loader, int64_t epoch) {
    State& s = *state_;
    loader.begin_epoch(epoch);
    s.begin(loader, true, epoch);
    model_.train();
    tt_train_callbacks cb = s.callbacks();
    tt_epoch_result r{};
    const tt_lr_schedule* schedule = s.schedule ? &s.schedule->raw() : nullptr;
    tt_status st = runtime().training().train_epoch(&cb, schedule, s.max_grad_norm, &global_step_, &r);
    s.finish(st, "train_epoch");
    last_train_ = to_result(r, s.stopped);
    return last_train_;
}

EpochResult Trainer::evaluate(DataLoader& loader) {
    State& s = *state_;
    loader.begin_epoch(0);
    s.begin(loader, false, 0);
    const bool was_training = model_.is_training();
    model_.eval();
    tt_train_callbacks cb = s.callbacks();
    tt_epoch_result r{};
    tt_status st = TT_OK;
    {
        NoGradGuard no_grad;  // module 07 switches grad off too; this keeps our side honest
        st = runtime().training().evaluate(&cb, &r);
    }
    model_.train(was_training);
    s.finish(st, "evaluate");
    last_eval_ = to_result(r, s.stopped);
    return last_eval_;
}

}  // namespace tt
