// step.cpp - the training loop: one step, one epoch, and evaluation.
//
// The model, the loss and the optimizer arrive as callbacks
// (tt_train_callbacks): this file owns the ORDER of the work, the caller owns
// the pieces. A tensor a callback returns belongs to the caller and stays
// valid until that same callback is called again; never free one.
#include <cmath>
#include <limits>

#include "training_internal.hpp"

namespace train {

namespace {

// The callbacks a function needs, checked up front so that a missing one is a
// clear TT_INVALID_ARGUMENT and never a call through NULL.
tt_status check_callbacks(const tt_train_callbacks* cb, const char* fn, bool training, bool batches) {
    if (cb == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, fn, "cb is NULL");
    const char* missing = nullptr;
    if (cb->forward == nullptr) missing = "forward";
    else if (cb->loss == nullptr) missing = "loss";
    else if (batches && cb->next_batch == nullptr) missing = "next_batch";
    else if (training && cb->zero_grad == nullptr) missing = "zero_grad";
    else if (training && cb->backward == nullptr) missing = "backward";
    else if (training && cb->optimizer_step == nullptr) missing = "optimizer_step";
    if (missing != nullptr) return ttm::fail(TT_INVALID_ARGUMENT, fn, std::string("the callback ") + missing + " is NULL");
    if (cb->n_params < 0 || (cb->n_params > 0 && cb->params == nullptr))
        return ttm::fail(TT_INVALID_ARGUMENT, fn, "cb->params is NULL or cb->n_params < 0");
    return TT_OK;
}

// Samples in a batch: the size of the first axis (a scalar counts as one).
int64_t batch_count(const tt_tensor* x) { return x->ndim >= 1 ? x->shape[0] : 1; }

// The value of the scalar tensor a loss callback returned.
tt_status loss_value(const tt_tensor* loss, const char* fn, float* out) {
    if (loss == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, fn, "the loss callback returned no tensor");
    if (loss->numel != 1)
        return ttm::fail(TT_SHAPE_MISMATCH, fn,
                         "the loss must be a scalar, the loss callback returned shape " +
                             shape_str(loss->ndim, loss->shape));
    *out = loss->data[0];
    return TT_OK;
}

// Correct predictions of a batch when it looks like classification (logits
// [N, C] and targets [N]); 0 for anything else (regression targets).
tt_status batch_correct(const tt_tensor* logits, const tt_tensor* y, int64_t* out) {
    *out = 0;
    if (logits->ndim == 2 && y->ndim == 1 && y->shape[0] == logits->shape[0]) return accuracy(logits, y, out);
    return TT_OK;
}

// Grad mode off for a scope: enter() switches it off, the destructor puts
// the previous mode back on every way out.
class NoGradScope {
public:
    NoGradScope() = default;
    NoGradScope(const NoGradScope&) = delete;
    NoGradScope& operator=(const NoGradScope&) = delete;
    tt_status enter() {
        if (ttm::host()->autograd == nullptr)
            return ttm::fail(TT_MISSING_DEPENDENCY, "evaluate", "module 05 (autograd) is not loaded");
        TT_CHECK(ttm::host()->autograd->set_grad_enabled(0, &previous_));
        active_ = true;
        return TT_OK;
    }
    ~NoGradScope() {
        if (active_) ttm::host()->autograd->set_grad_enabled(previous_, nullptr);
    }

private:
    int32_t previous_ = 1;
    bool active_ = false;
};

}  // namespace

tt_status train_step(const tt_train_callbacks* cb, const tt_tensor* x, const tt_tensor* y, float max_grad_norm,
                     tt_step_result* out) {
    TT_GUARD_BEGIN
    TT_CHECK(check_callbacks(cb, __func__, true, false));
    if (x == nullptr || y == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "x or y is NULL");
    if (std::isnan(max_grad_norm))
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "max_grad_norm is NaN (pass 0 for no clipping)");
    // BEGIN SOLUTION
    // TODO: one training step, in exactly this order:
    //   cb->zero_grad -> cb->forward(x, training = 1) -> cb->loss(logits, y)
    //   -> a NaN/Inf loss is TT_NUMERIC_ERROR (nothing else is called)
    //   -> cb->backward(loss) -> grad_norm over cb->params (a NaN/Inf norm is
    //   TT_NUMERIC_ERROR too, before any update) -> clip_to when
    //   max_grad_norm > 0 -> cb->optimizer_step.
    //   Then, if out is not NULL: loss, correct (batch_correct on the logits),
    //   count (batch_count(x)) and grad_norm (the norm before clipping).
    // HINT: every callback takes cb->ctx first; pass a failing status on with
    //   TT_CHECK. Count the correct predictions right after forward, while the
    //   logits are fresh. loss_value reads the loss tensor for you.
    TT_CHECK(cb->zero_grad(cb->ctx));
    tt_tensor* logits = nullptr;
    TT_CHECK(cb->forward(cb->ctx, x, 1, &logits));
    if (logits == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "the forward callback returned no tensor");
    int64_t correct = 0;
    TT_CHECK(batch_correct(logits, y, &correct));
    tt_tensor* loss = nullptr;
    TT_CHECK(cb->loss(cb->ctx, logits, y, &loss));
    float value = 0.0f;
    TT_CHECK(loss_value(loss, __func__, &value));
    if (!std::isfinite(value))
        return ttm::fail(TT_NUMERIC_ERROR, __func__,
                         "the loss is " + num(value) +
                             ": nothing was updated. Lower the learning rate, clip gradients (max_grad_norm > 0) "
                             "or check the batch for NaN/Inf values.");
    TT_CHECK(cb->backward(cb->ctx, loss));
    double norm = 0.0;
    TT_CHECK(grad_norm(cb->params, cb->n_params, &norm));
    if (!std::isfinite(norm))
        return ttm::fail(TT_NUMERIC_ERROR, __func__,
                         "the gradient norm is " + num(norm) +
                             ": nothing was updated. Lower the learning rate or clip gradients.");
    if (max_grad_norm > 0.0f) TT_CHECK(clip_to(cb->params, cb->n_params, norm, max_grad_norm));
    TT_CHECK(cb->optimizer_step(cb->ctx));
    if (out != nullptr) {
        out->loss = value;
        out->correct = correct;
        out->count = batch_count(x);
        out->grad_norm = static_cast<float>(norm);
    }
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status train_epoch(const tt_train_callbacks* cb, const tt_lr_schedule* schedule, float max_grad_norm,
                      int64_t* global_step, tt_epoch_result* out) {
    TT_GUARD_BEGIN
    TT_CHECK(check_callbacks(cb, __func__, true, true));
    if (schedule != nullptr) {
        TT_CHECK(check_schedule(schedule));
        if (cb->set_lr == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "a schedule needs the set_lr callback");
    }
    int64_t local_step = 0;  // when the caller does not keep a global step
    int64_t* step = global_step != nullptr ? global_step : &local_step;
    tt_epoch_result r = {0.0, 0, 0, 0};
    tt_status status = TT_OK;
    // BEGIN SOLUTION
    // TODO: for batch_index = 0, 1, ...:
    //   cb->next_batch (stop when has_batch == 0)
    //   -> with a schedule: lr = schedule_lr(schedule, *step), cb->set_lr(lr)
    //   -> train_step -> cb->on_batch(batch_index, loss, lr) if it is not NULL
    //      (lr is NaN without a schedule) -> ++*step.
    //   Add loss * count, correct, count and 1 batch to r; at the end
    //   r.mean_loss = (sum of loss * count) / count (0 when there were no samples).
    //   On a failing status stop, yet still report what was done in *out.
    // HINT: keep the status in `status` and `break` instead of returning, so
    //   the code after the loop fills *out on every path.
    double loss_sum = 0.0;
    for (int64_t batch = 0;; ++batch) {
        tt_tensor *x = nullptr, *y = nullptr;
        int32_t has_batch = 0;
        status = cb->next_batch(cb->ctx, &x, &y, &has_batch);
        if (status != TT_OK || has_batch == 0) break;
        float lr = std::numeric_limits<float>::quiet_NaN();
        if (schedule != nullptr) {
            status = schedule_lr(schedule, *step, &lr);
            if (status == TT_OK) status = cb->set_lr(cb->ctx, lr);
            if (status != TT_OK) break;
        }
        tt_step_result sr = {0.0f, 0, 0, 0.0f};
        status = train_step(cb, x, y, max_grad_norm, &sr);
        if (status != TT_OK) break;
        loss_sum += static_cast<double>(sr.loss) * static_cast<double>(sr.count);
        r.correct += sr.correct;
        r.count += sr.count;
        r.batches += 1;
        if (cb->on_batch != nullptr) status = cb->on_batch(cb->ctx, batch, sr.loss, lr);
        ++*step;  // the optimizer step was taken, even if on_batch asks to stop
        if (status != TT_OK) break;
    }
    r.mean_loss = r.count > 0 ? loss_sum / static_cast<double>(r.count) : 0.0;
    // END SOLUTION
    if (out != nullptr) *out = r;
    return status;
    TT_GUARD_END
}

tt_status evaluate(const tt_train_callbacks* cb, tt_epoch_result* out) {
    TT_GUARD_BEGIN
    TT_CHECK(check_callbacks(cb, __func__, false, true));
    tt_epoch_result r = {0.0, 0, 0, 0};
    tt_status status = TT_OK;
    NoGradScope no_grad;
    // BEGIN SOLUTION
    // TODO: switch grad mode off with no_grad.enter() (it switches back by
    //   itself when no_grad goes out of scope), then for every batch of
    //   cb->next_batch: cb->forward(x, training = 0), batch_correct, cb->loss,
    //   and add up r as train_epoch does. Never zero_grad, backward or
    //   optimizer_step: evaluation touches no parameter.
    // HINT: a NaN loss is no error here: it simply shows in mean_loss.
    TT_CHECK(no_grad.enter());
    double loss_sum = 0.0;
    for (;;) {
        tt_tensor *x = nullptr, *y = nullptr, *logits = nullptr, *loss = nullptr;
        int32_t has_batch = 0;
        status = cb->next_batch(cb->ctx, &x, &y, &has_batch);
        if (status != TT_OK || has_batch == 0) break;
        status = cb->forward(cb->ctx, x, 0, &logits);
        if (status == TT_OK && logits == nullptr)
            status = ttm::fail(TT_INVALID_ARGUMENT, __func__, "the forward callback returned no tensor");
        int64_t correct = 0;
        if (status == TT_OK) status = batch_correct(logits, y, &correct);
        if (status == TT_OK) status = cb->loss(cb->ctx, logits, y, &loss);
        float value = 0.0f;
        if (status == TT_OK) status = loss_value(loss, __func__, &value);
        if (status != TT_OK) break;
        const int64_t count = batch_count(x);
        loss_sum += static_cast<double>(value) * static_cast<double>(count);
        r.correct += correct;
        r.count += count;
        r.batches += 1;
    }
    r.mean_loss = r.count > 0 ? loss_sum / static_cast<double>(r.count) : 0.0;
    // END SOLUTION
    if (out != nullptr) *out = r;
    return status;
    TT_GUARD_END
}

}  // namespace train
