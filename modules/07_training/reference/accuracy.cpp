// accuracy.cpp - how many predictions of a batch are right: the predicted
// class is the argmax of each row of logits.
#include <cmath>

#include "training_internal.hpp"

namespace train {

tt_status accuracy(const tt_tensor* logits, const tt_tensor* targets, int64_t* out_correct) {
    TT_GUARD_BEGIN
    if (logits == nullptr || targets == nullptr || out_correct == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "logits, targets or out_correct is NULL");
    *out_correct = 0;
    if (logits->ndim != 2 || targets->ndim != 1 || targets->shape[0] != logits->shape[0])
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "need logits [N, C] and targets [N], got " + shape_str(logits->ndim, logits->shape) +
                             " and " + shape_str(targets->ndim, targets->shape));
    const int64_t n = logits->shape[0], c = logits->shape[1];
    if (c == 0 && n > 0) return ttm::fail(TT_SHAPE_MISMATCH, __func__, "logits have 0 classes");
    // BEGIN SOLUTION
    // TODO: for every row i: the index of the FIRST largest logit; count the
    //   row when that index equals targets[i]. A target that is not a whole
    //   number in [0, C) is TT_INVALID_ARGUMENT (say which row and which value).
    // HINT: start the running best at column 0 and replace it only on a
    //   strictly greater value, so ties go to the first.
    int64_t correct = 0;
    for (int64_t i = 0; i < n; ++i) {
        const float t = targets->data[i];
        if (!(t >= 0.0f && t < static_cast<float>(c)) || t != std::floor(t))
            return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                             "targets[" + std::to_string(i) + "] = " + num(t) + " is not a class index in [0, " +
                                 std::to_string(c) + ")");
        const float* row = logits->data + i * c;
        int64_t best = 0;
        for (int64_t j = 1; j < c; ++j)
            if (row[j] > row[best]) best = j;
        if (best == static_cast<int64_t>(t)) ++correct;
    }
    *out_correct = correct;
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

}  // namespace train
