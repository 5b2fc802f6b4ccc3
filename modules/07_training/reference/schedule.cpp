// schedule.cpp - learning-rate schedules: the learning rate as a function of
// the global step (0-based, one step per batch).
//
//   constant: base_lr
//   step:     base_lr * gamma^floor(step / step_size)         (decay in stairs)
//   cosine:   step < warmup:  base_lr * step / warmup          (linear warmup from 0)
//             step >= total:  min_lr
//             otherwise:      min_lr + (base_lr - min_lr) * (1 + cos(pi * p)) / 2
//                             with p = (step - warmup) / (total - warmup)
#include <cmath>

#include "training_internal.hpp"

namespace train {

tt_status check_schedule(const tt_lr_schedule* s) {
    const char* fn = "schedule_lr";
    if (s == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, fn, "schedule is NULL");
    if (!(s->base_lr >= 0.0f) || std::isinf(s->base_lr))
        return ttm::fail(TT_INVALID_ARGUMENT, fn, "base_lr must be a finite number >= 0, got " + num(s->base_lr));
    switch (s->kind) {
        case TT_SCHEDULE_CONSTANT:
            return TT_OK;
        case TT_SCHEDULE_STEP:
            if (s->step_size <= 0)
                return ttm::fail(TT_INVALID_ARGUMENT, fn,
                                 "step schedule: step_size must be > 0, got " + std::to_string(s->step_size));
            if (!(s->gamma >= 0.0f) || std::isinf(s->gamma))
                return ttm::fail(TT_INVALID_ARGUMENT, fn,
                                 "step schedule: gamma must be a finite number >= 0, got " + num(s->gamma));
            return TT_OK;
        case TT_SCHEDULE_COSINE:
            if (s->total_steps <= 0)
                return ttm::fail(TT_INVALID_ARGUMENT, fn,
                                 "cosine schedule: total_steps must be > 0, got " + std::to_string(s->total_steps));
            if (s->warmup_steps < 0 || s->warmup_steps > s->total_steps)
                return ttm::fail(TT_INVALID_ARGUMENT, fn,
                                 "cosine schedule: warmup_steps must be in [0, total_steps = " +
                                     std::to_string(s->total_steps) + "], got " + std::to_string(s->warmup_steps));
            if (!(s->min_lr >= 0.0f) || std::isinf(s->min_lr))
                return ttm::fail(TT_INVALID_ARGUMENT, fn,
                                 "cosine schedule: min_lr must be a finite number >= 0, got " + num(s->min_lr));
            return TT_OK;
        default:
            return ttm::fail(TT_INVALID_ARGUMENT, fn,
                             "unknown schedule kind " + std::to_string(s->kind) +
                                 " (use TT_SCHEDULE_CONSTANT, TT_SCHEDULE_STEP or TT_SCHEDULE_COSINE)");
    }
}

tt_status schedule_lr(const tt_lr_schedule* schedule, int64_t step, float* out_lr) {
    TT_GUARD_BEGIN
    if (out_lr == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "out_lr is NULL");
    TT_CHECK(check_schedule(schedule));
    if (step < 0) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "step must be >= 0, got " + std::to_string(step));
    const tt_lr_schedule& s = *schedule;
    // BEGIN SOLUTION
    // TODO: the learning rate at 0-based `step`, by the formulas at the top of
    //   this file (s.kind picks which); compute in double, store as float.
    // HINT: for step >= 0 the integer division step / step_size is the floor;
    //   pi is std::acos(-1.0).
    double lr = s.base_lr;
    if (s.kind == TT_SCHEDULE_STEP) {
        lr = s.base_lr * std::pow(static_cast<double>(s.gamma), static_cast<double>(step / s.step_size));
    } else if (s.kind == TT_SCHEDULE_COSINE) {
        if (step < s.warmup_steps) {
            lr = static_cast<double>(s.base_lr) * static_cast<double>(step) / static_cast<double>(s.warmup_steps);
        } else if (step >= s.total_steps) {
            lr = s.min_lr;
        } else {
            const double p =
                static_cast<double>(step - s.warmup_steps) / static_cast<double>(s.total_steps - s.warmup_steps);
            lr = s.min_lr + (static_cast<double>(s.base_lr) - s.min_lr) * 0.5 * (1.0 + std::cos(std::acos(-1.0) * p));
        }
    }
    *out_lr = static_cast<float>(lr);
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

}  // namespace train
