// training.cpp - module 07 Training: the training step and epoch, evaluation,
// accuracy, gradient clipping by global norm, learning-rate schedules and
// checkpoints.
//
// The contract is core/include/tinytorch/abi/tt_07_training.h. The model, the
// loss and the optimizer arrive as callbacks (tt_train_callbacks): this module
// owns the ORDER of the work, the caller owns the pieces. A tensor a callback
// returns belongs to the caller and stays valid until that callback is called
// again; this module never frees one.
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tinytorch/abi/tt_05_autograd.h"
#include "tinytorch/abi/tt_07_training.h"
#include "tinytorch/module/module_support.hpp"

namespace {

const tt_host* host() { return ttm::host(); }

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

std::string shape_str(int32_t ndim, const int64_t* shape) {
    std::string s = "[";
    for (int32_t i = 0; i < ndim; ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// The callbacks every function needs, checked up front so a missing one is a
// clear TT_INVALID_ARGUMENT and never a NULL call.
tt_status check_callbacks(const tt_train_callbacks* cb, const char* fn, bool training, bool batches) {
    if (cb == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, fn, "cb is NULL");
    const char* missing = nullptr;
    if (cb->forward == nullptr) missing = "forward";
    else if (cb->loss == nullptr) missing = "loss";
    else if (batches && cb->next_batch == nullptr) missing = "next_batch";
    else if (training && cb->zero_grad == nullptr) missing = "zero_grad";
    else if (training && cb->backward == nullptr) missing = "backward";
    else if (training && cb->optimizer_step == nullptr) missing = "optimizer_step";
    if (missing != nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, fn, std::string("callback ") + missing + " is NULL");
    if (cb->n_params < 0 || (cb->n_params > 0 && cb->params == nullptr))
        return ttm::fail(TT_INVALID_ARGUMENT, fn, "params is NULL or n_params < 0");
    return TT_OK;
}

// Samples in a batch: the size of the first axis (a scalar counts as one).
int64_t batch_count(const tt_tensor* x) { return x->ndim >= 1 ? x->shape[0] : 1; }

// The value of the scalar a loss callback returned.
tt_status loss_value(const tt_tensor* loss, const char* fn, float* out) {
    if (loss == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, fn, "the loss callback returned no tensor");
    if (loss->numel != 1)
        return ttm::fail(TT_SHAPE_MISMATCH, fn,
                         "the loss must be a scalar, the loss callback returned " +
                             shape_str(loss->ndim, loss->shape));
    *out = loss->data[0];
    return TT_OK;
}

tt_status accuracy(const tt_tensor* logits, const tt_tensor* targets, int64_t* out_correct);

// Correct predictions of a batch when it looks like classification (logits
// [N, C], targets [N]); 0 for anything else (regression targets).
tt_status batch_correct(const tt_tensor* logits, const tt_tensor* y, int64_t* out) {
    *out = 0;
    if (logits->ndim == 2 && y->ndim == 1 && y->shape[0] == logits->shape[0])
        return accuracy(logits, y, out);
    return TT_OK;
}

// Global L2 norm over the grads of params (NULL grads skipped), in double.
tt_status grad_norm(tt_tensor* const* params, int32_t n_params, double* out) {
    // BEGIN SOLUTION
    // TODO: sqrt of the sum of g^2 over every element of every grad; a
    //   parameter whose grad is NULL contributes nothing.
    // HINT: accumulate in double: float loses digits over millions of squares.
    double sum = 0.0;
    for (int32_t i = 0; i < n_params; ++i) {
        const tt_tensor* g = params[i] != nullptr ? params[i]->grad : nullptr;
        if (g == nullptr) continue;
        for (int64_t k = 0; k < g->numel; ++k) sum += static_cast<double>(g->data[k]) * g->data[k];
    }
    *out = std::sqrt(sum);
    return TT_OK;
    // END SOLUTION
}

// If norm exceeds max_norm, scale every grad by max_norm / (norm + 1e-6).
tt_status clip_to(tt_tensor* const* params, int32_t n_params, double norm, float max_norm) {
    // BEGIN SOLUTION
    // TODO: when norm > max_norm, multiply every element of every (non-NULL)
    //   grad by max_norm / (norm + 1e-6); otherwise leave the grads alone.
    // HINT: the 1e-6 keeps the division finite; compute the factor once.
    if (!(norm > max_norm)) return TT_OK;
    const float scale = static_cast<float>(max_norm / (norm + 1e-6));
    for (int32_t i = 0; i < n_params; ++i) {
        tt_tensor* g = params[i] != nullptr ? params[i]->grad : nullptr;
        if (g == nullptr) continue;
        for (int64_t k = 0; k < g->numel; ++k) g->data[k] *= scale;
    }
    return TT_OK;
    // END SOLUTION
}

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

// Grad mode off for a scope; the previous mode comes back on every exit path.
class NoGradScope {
public:
    tt_status enter() {
        if (host()->autograd == nullptr)
            return ttm::fail(TT_MISSING_DEPENDENCY, "evaluate", "module 05 (autograd) is not loaded");
        TT_CHECK(host()->autograd->set_grad_enabled(0, &previous_));
        active_ = true;
        return TT_OK;
    }
    ~NoGradScope() {
        if (active_) host()->autograd->set_grad_enabled(previous_, nullptr);
    }

private:
    int32_t previous_ = 1;
    bool active_ = false;
};

// ------------------------------------------------------- checkpoint bytes
// Little-endian encoding, whatever the host's byte order.

struct ByteWriter {
    std::vector<uint8_t> bytes;
    void raw(const void* p, size_t n) {
        const auto* b = static_cast<const uint8_t*>(p);
        bytes.insert(bytes.end(), b, b + n);
    }
    void u32(uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
    void i64(int64_t v) {
        const auto u = static_cast<uint64_t>(v);
        for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(u >> (8 * i)));
    }
    void f32s(const float* data, int64_t n) {
        if constexpr (std::endian::native == std::endian::little) {
            raw(data, static_cast<size_t>(n) * sizeof(float));
        } else {
            for (int64_t k = 0; k < n; ++k) u32(std::bit_cast<uint32_t>(data[k]));
        }
    }
};

// Reads from [data, data + size); every read says whether the bytes were there.
struct ByteReader {
    const uint8_t* data;
    size_t size;
    size_t pos = 0;
    size_t left() const { return size - pos; }
    bool u32(uint32_t* v) {
        if (left() < 4) return false;
        *v = 0;
        for (int i = 0; i < 4; ++i) *v |= static_cast<uint32_t>(data[pos + i]) << (8 * i);
        pos += 4;
        return true;
    }
    bool i64(int64_t* v) {
        if (left() < 8) return false;
        uint64_t u = 0;
        for (int i = 0; i < 8; ++i) u |= static_cast<uint64_t>(data[pos + i]) << (8 * i);
        *v = static_cast<int64_t>(u);
        pos += 8;
        return true;
    }
    bool skip(size_t n, const uint8_t** at) {
        if (left() < n) return false;
        *at = data + pos;
        pos += n;
        return true;
    }
};

// Copy n little-endian floats from a checkpoint into dst.
void read_f32s(const uint8_t* src, int64_t n, float* dst) {
    if constexpr (std::endian::native == std::endian::little) {
        if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
    } else {
        for (int64_t k = 0; k < n; ++k) {
            uint32_t u = 0;
            for (int i = 0; i < 4; ++i) u |= static_cast<uint32_t>(src[4 * k + i]) << (8 * i);
            dst[k] = std::bit_cast<float>(u);
        }
    }
}

const char k_magic[8] = {'T', 'T', 'C', 'K', 'P', 'T', '\0', '\0'};

// One tensor as found in a checkpoint file (data points into the file bytes).
struct CheckpointEntry {
    std::string name;
    int32_t ndim = 0;
    int64_t shape[TT_MAX_DIMS] = {};
    int64_t numel = 1;
    const uint8_t* data = nullptr;
};

std::string io_error(const std::string& what, const std::string& path) {
    return what + " " + path + ": " + std::strerror(errno);
}

// Write bytes to `path` atomically: a temporary file in the same directory,
// flushed to disk, then renamed over the target. On failure the target is
// untouched and the temporary file removed.
tt_status write_file_atomic(const char* fn, const std::string& path, const std::vector<uint8_t>& bytes) {
    std::string tmpl = path + ".tmp-XXXXXX";
    std::vector<char> tmp(tmpl.begin(), tmpl.end());
    tmp.push_back('\0');
    int fd = ::mkstemp(tmp.data());
    if (fd < 0) return ttm::fail(TT_IO_ERROR, fn, io_error("cannot create a temporary file next to", path));
    auto give_up = [&](const std::string& what) {
        std::string msg = io_error(what, path);
        if (fd >= 0) ::close(fd);
        ::unlink(tmp.data());
        return ttm::fail(TT_IO_ERROR, fn, msg);
    };
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            return give_up("cannot write checkpoint");
        }
        done += static_cast<size_t>(w);
    }
    ::fchmod(fd, 0644);  // mkstemp creates 0600; a checkpoint is an ordinary file
    if (::fsync(fd) != 0) return give_up("cannot flush checkpoint");
    int rc = ::close(fd);
    fd = -1;
    if (rc != 0) return give_up("cannot close checkpoint");
    if (std::rename(tmp.data(), path.c_str()) != 0) return give_up("cannot rename the temporary file onto");
    // Make the rename itself durable (best effort).
    size_t slash = path.find_last_of('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return TT_OK;
}

tt_status read_file(const char* fn, const std::string& path, std::vector<uint8_t>* out) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return ttm::fail(TT_IO_ERROR, fn, io_error("cannot open checkpoint", path));
    out->clear();
    uint8_t buf[1 << 16];
    for (;;) {
        ssize_t r = ::read(fd, buf, sizeof buf);
        if (r < 0) {
            if (errno == EINTR) continue;
            std::string msg = io_error("cannot read checkpoint", path);
            ::close(fd);
            return ttm::fail(TT_IO_ERROR, fn, msg);
        }
        if (r == 0) break;
        out->insert(out->end(), buf, buf + r);
    }
    ::close(fd);
    return TT_OK;
}

// Parse and validate a whole checkpoint file (magic, version, every entry in
// bounds, nothing left over, CRC). On success `entries` describes every tensor.
tt_status parse_checkpoint(const std::vector<uint8_t>& bytes, const std::string& path,
                           std::vector<CheckpointEntry>* entries) {
    const char* fn = "checkpoint_load";
    // BEGIN SOLUTION
    // TODO: check, in this order, each failure being TT_CORRUPT_DATA with a
    //   message that names the file and the problem:
    //   - at least 8 (magic) + 4 (version) + 4 (count) + 4 (CRC) bytes;
    //   - the magic "TTCKPT\0\0", then version == TT_CHECKPOINT_VERSION;
    //   - `count` entries, each: u32 name length, the name, u32 ndim
    //     (<= TT_MAX_DIMS), ndim i64 sizes (>= 0), numel floats - every read
    //     inside the bytes before the CRC (else the file is truncated);
    //   - no bytes left between the last entry and the CRC;
    //   - the stored CRC (last 4 bytes) == host()->crc32(0, bytes, size - 4);
    //   - no name twice.
    // HINT: ByteReader does bounds-checked little-endian reads for you; guard
    //   numel * 4 against overflow by comparing numel with reader.left() / 4.
    auto corrupt = [&](const std::string& what) {
        return ttm::fail(TT_CORRUPT_DATA, fn, "checkpoint " + path + " is damaged: " + what);
    };
    if (bytes.size() < 20)
        return corrupt("only " + std::to_string(bytes.size()) +
                       " bytes, shorter than the smallest checkpoint (20 bytes); the file is truncated "
                       "or not a checkpoint");
    if (std::memcmp(bytes.data(), k_magic, 8) != 0)
        return ttm::fail(TT_CORRUPT_DATA, fn,
                         path + " is not a TinyTorch checkpoint (it does not start with TTCKPT)");
    ByteReader r{bytes.data(), bytes.size() - 4, 8};
    uint32_t version = 0, count = 0;
    r.u32(&version);
    if (version != TT_CHECKPOINT_VERSION)
        return ttm::fail(TT_CORRUPT_DATA, fn,
                         "checkpoint " + path + " has format version " + std::to_string(version) +
                             "; this build reads version " + std::to_string(TT_CHECKPOINT_VERSION));
    r.u32(&count);
    entries->clear();
    for (uint32_t i = 0; i < count; ++i) {
        const std::string which = "tensor #" + std::to_string(i);
        CheckpointEntry e;
        uint32_t name_len = 0, ndim = 0;
        const uint8_t* name = nullptr;
        if (!r.u32(&name_len) || !r.skip(name_len, &name))
            return corrupt(which + ": its name runs past the end (truncated file?)");
        e.name.assign(reinterpret_cast<const char*>(name), name_len);
        if (!r.u32(&ndim)) return corrupt(which + " '" + e.name + "': truncated before its ndim");
        if (ndim > TT_MAX_DIMS)
            return corrupt(which + " '" + e.name + "': ndim " + std::to_string(ndim) + " > " +
                           std::to_string(TT_MAX_DIMS));
        e.ndim = static_cast<int32_t>(ndim);
        for (int32_t d = 0; d < e.ndim; ++d) {
            if (!r.i64(&e.shape[d])) return corrupt(which + " '" + e.name + "': truncated inside its shape");
            if (e.shape[d] < 0)
                return corrupt(which + " '" + e.name + "': negative size " + std::to_string(e.shape[d]));
            if (e.shape[d] > 0 && e.numel > static_cast<int64_t>(r.size / 4) / e.shape[d])
                return corrupt(which + " '" + e.name + "': shape " + shape_str(e.ndim, e.shape) +
                               " is larger than the file");
            e.numel *= e.shape[d];
        }
        if (static_cast<uint64_t>(e.numel) > r.left() / 4)
            return corrupt(which + " '" + e.name + "' " + shape_str(e.ndim, e.shape) + " needs " +
                           std::to_string(e.numel * 4) + " bytes of data, only " +
                           std::to_string(r.left()) + " remain (truncated file?)");
        r.skip(static_cast<size_t>(e.numel) * 4, &e.data);
        for (const CheckpointEntry& other : *entries)
            if (other.name == e.name) return corrupt("the name '" + e.name + "' appears twice");
        entries->push_back(std::move(e));
    }
    if (r.left() != 0)
        return corrupt(std::to_string(r.left()) + " unexpected bytes after the last tensor");
    ByteReader tail{bytes.data(), bytes.size(), bytes.size() - 4};
    uint32_t stored = 0;
    tail.u32(&stored);
    const uint32_t computed = host()->crc32(0, bytes.data(), bytes.size() - 4);
    if (stored != computed) {
        char msg[128];
        std::snprintf(msg, sizeof msg, "CRC mismatch (stored 0x%08x, computed 0x%08x)", stored, computed);
        return corrupt(msg);
    }
    return TT_OK;
    // END SOLUTION
}

// ------------------------------------------------------------ the table

tt_status train_step(const tt_train_callbacks* cb, const tt_tensor* x, const tt_tensor* y,
                     float max_grad_norm, tt_step_result* out) {
    TT_GUARD_BEGIN
    TT_CHECK(check_callbacks(cb, __func__, true, false));
    if (x == nullptr || y == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "x or y is NULL");
    if (std::isnan(max_grad_norm))
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "max_grad_norm is NaN (use 0 for no clipping)");
    // BEGIN SOLUTION
    // TODO: one training step, in exactly this order:
    //   cb->zero_grad -> cb->forward(x, training = 1) -> cb->loss(logits, y)
    //   -> if the loss is NaN/Inf: TT_NUMERIC_ERROR, nothing else called
    //   -> cb->backward(loss) -> grad_norm (a non-finite norm is TT_NUMERIC_ERROR
    //   too) -> clip_to when max_grad_norm > 0 -> cb->optimizer_step.
    //   Then fill *out (if not NULL): loss, correct (batch_correct on the
    //   logits), count (batch_count(x)) and grad_norm (before clipping).
    // HINT: every callback takes cb->ctx first; pass a failing status on with
    //   TT_CHECK. Read what you need from logits right after forward.
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
                             ": nothing was updated. Lower the learning rate, clip gradients "
                             "(max_grad_norm > 0) or check the batch for NaN/Inf values.");
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

tt_status schedule_lr(const tt_lr_schedule* schedule, int64_t step, float* out_lr);

tt_status train_epoch(const tt_train_callbacks* cb, const tt_lr_schedule* schedule,
                      float max_grad_norm, int64_t* global_step, tt_epoch_result* out) {
    TT_GUARD_BEGIN
    TT_CHECK(check_callbacks(cb, __func__, true, true));
    if (schedule != nullptr) {
        TT_CHECK(check_schedule(schedule));
        if (cb->set_lr == nullptr)
            return ttm::fail(TT_INVALID_ARGUMENT, __func__, "a schedule needs the set_lr callback");
    }
    int64_t local_step = 0;
    int64_t* gs = global_step != nullptr ? global_step : &local_step;
    tt_epoch_result r = {0.0, 0, 0, 0};
    tt_status status = TT_OK;
    // BEGIN SOLUTION
    // TODO: for batch_index = 0, 1, ...: cb->next_batch (stop when has_batch
    //   is 0) -> with a schedule, lr = schedule_lr(schedule, *gs) and
    //   cb->set_lr(lr) -> train_step -> cb->on_batch(batch_index, loss, lr) if
    //   it is not NULL (lr is NaN without a schedule) -> ++*gs.
    //   Sum loss * count, correct, count and batches into r; at the end
    //   r.mean_loss = loss sum / count (0 for no samples).
    //   On a failing status stop, but still report what was done in *out.
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
            status = schedule_lr(schedule, *gs, &lr);
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
        ++*gs;
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
    // TODO: switch grad mode off (no_grad.enter(): it comes back on by itself
    //   when no_grad goes out of scope), then for every batch of
    //   cb->next_batch: cb->forward(x, training = 0), count the correct
    //   predictions (batch_correct), cb->loss, and sum into r as train_epoch
    //   does. No zero_grad, backward or optimizer_step.
    // HINT: a NaN loss is not an error here: it just shows in mean_loss.
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
        if (status != TT_OK) break;
        int64_t correct = 0;
        status = batch_correct(logits, y, &correct);
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

tt_status accuracy(const tt_tensor* logits, const tt_tensor* targets, int64_t* out_correct) {
    TT_GUARD_BEGIN
    if (logits == nullptr || targets == nullptr || out_correct == nullptr)
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "logits, targets or out_correct is NULL");
    *out_correct = 0;
    if (logits->ndim != 2 || targets->ndim != 1 || targets->shape[0] != logits->shape[0])
        return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                         "need logits [N, C] and targets [N], got " + shape_str(logits->ndim, logits->shape) +
                             " and " + shape_str(targets->ndim, targets->shape));
    // BEGIN SOLUTION
    // TODO: for every row n: the index of the FIRST largest logit; count it
    //   when it equals targets[n]. A target that is not a whole number in
    //   [0, C) is TT_INVALID_ARGUMENT (say which row and which value).
    // HINT: start the running maximum at the row's first element and replace
    //   it only on a strictly greater value.
    const int64_t n = logits->shape[0], c = logits->shape[1];
    if (c == 0 && n > 0) return ttm::fail(TT_SHAPE_MISMATCH, __func__, "logits have 0 classes");
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

tt_status clip_grad_norm(tt_tensor* const* params, int32_t n_params, float max_norm, float* out_total_norm) {
    TT_GUARD_BEGIN
    if (n_params < 0 || (n_params > 0 && params == nullptr))
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "params is NULL or n_params < 0");
    if (!(max_norm > 0.0f))
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "max_norm must be > 0, got " + num(max_norm));
    double norm = 0.0;
    TT_CHECK(grad_norm(params, n_params, &norm));
    TT_CHECK(clip_to(params, n_params, norm, max_norm));
    if (out_total_norm != nullptr) *out_total_norm = static_cast<float>(norm);
    return TT_OK;
    TT_GUARD_END
}

tt_status schedule_lr(const tt_lr_schedule* schedule, int64_t step, float* out_lr) {
    TT_GUARD_BEGIN
    if (out_lr == nullptr) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "out_lr is NULL");
    TT_CHECK(check_schedule(schedule));
    if (step < 0) return ttm::fail(TT_INVALID_ARGUMENT, __func__, "step must be >= 0, got " + std::to_string(step));
    const tt_lr_schedule& s = *schedule;
    // BEGIN SOLUTION
    // TODO: the learning rate at 0-based `step`, computed in double:
    //   constant: base_lr
    //   step:     base_lr * gamma^floor(step / step_size)
    //   cosine:   step < warmup_steps: base_lr * step / warmup_steps;
    //             step >= total_steps: min_lr; otherwise, with
    //             p = (step - warmup_steps) / (total_steps - warmup_steps):
    //             min_lr + (base_lr - min_lr) * (1 + cos(pi * p)) / 2
    // HINT: integer division gives the floor for step >= 0; use M_PI or std::acos(-1.0).
    double lr = s.base_lr;
    if (s.kind == TT_SCHEDULE_STEP) {
        lr = s.base_lr * std::pow(static_cast<double>(s.gamma), static_cast<double>(step / s.step_size));
    } else if (s.kind == TT_SCHEDULE_COSINE) {
        if (step < s.warmup_steps) {
            lr = static_cast<double>(s.base_lr) * static_cast<double>(step) / static_cast<double>(s.warmup_steps);
        } else if (step >= s.total_steps) {
            lr = s.min_lr;
        } else {
            const double p = static_cast<double>(step - s.warmup_steps) /
                             static_cast<double>(s.total_steps - s.warmup_steps);
            lr = s.min_lr + (static_cast<double>(s.base_lr) - s.min_lr) * 0.5 * (1.0 + std::cos(std::acos(-1.0) * p));
        }
    }
    *out_lr = static_cast<float>(lr);
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

tt_status checkpoint_save(const char* path, int32_t count, const char* const* names,
                          const tt_tensor* const* tensors) {
    TT_GUARD_BEGIN
    if (path == nullptr || path[0] == '\0') return ttm::fail(TT_INVALID_ARGUMENT, __func__, "path is NULL or empty");
    if (count < 0 || (count > 0 && (names == nullptr || tensors == nullptr)))
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "names or tensors is NULL, or count < 0");
    for (int32_t i = 0; i < count; ++i) {
        const std::string at = "entry " + std::to_string(i);
        if (names[i] == nullptr || names[i][0] == '\0')
            return ttm::fail(TT_INVALID_ARGUMENT, __func__, at + ": the name is NULL or empty");
        if (tensors[i] == nullptr)
            return ttm::fail(TT_INVALID_ARGUMENT, __func__, at + " '" + names[i] + "': the tensor is NULL");
        if (tensors[i]->ndim < 0 || tensors[i]->ndim > TT_MAX_DIMS)
            return ttm::fail(TT_INVALID_ARGUMENT, __func__, at + " '" + names[i] + "': bad ndim");
        for (int32_t j = 0; j < i; ++j)
            if (std::strcmp(names[i], names[j]) == 0)
                return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                                 std::string("the name '") + names[i] + "' is given twice");
    }
    ByteWriter w;
    // BEGIN SOLUTION
    // TODO: serialise into w, little-endian, exactly as tt_07_training.h says:
    //   magic "TTCKPT\0\0" (k_magic), u32 TT_CHECKPOINT_VERSION, u32 count,
    //   per tensor: u32 name length, the name bytes (no '\0'), u32 ndim,
    //   ndim i64 sizes, numel f32 values; then the u32 CRC-32 of every byte
    //   written so far (host()->crc32(0, w.bytes.data(), w.bytes.size())).
    // HINT: ByteWriter has raw, u32, i64 and f32s.
    w.raw(k_magic, sizeof k_magic);
    w.u32(TT_CHECKPOINT_VERSION);
    w.u32(static_cast<uint32_t>(count));
    for (int32_t i = 0; i < count; ++i) {
        const tt_tensor* t = tensors[i];
        const size_t len = std::strlen(names[i]);
        w.u32(static_cast<uint32_t>(len));
        w.raw(names[i], len);
        w.u32(static_cast<uint32_t>(t->ndim));
        for (int32_t d = 0; d < t->ndim; ++d) w.i64(t->shape[d]);
        w.f32s(t->data, t->numel);
    }
    w.u32(host()->crc32(0, w.bytes.data(), w.bytes.size()));
    // END SOLUTION
    return write_file_atomic(__func__, path, w.bytes);
    TT_GUARD_END
}

tt_status checkpoint_load(const char* path, int32_t count, const char* const* names, tt_tensor* const* tensors) {
    TT_GUARD_BEGIN
    if (path == nullptr || path[0] == '\0') return ttm::fail(TT_INVALID_ARGUMENT, __func__, "path is NULL or empty");
    if (count < 0 || (count > 0 && (names == nullptr || tensors == nullptr)))
        return ttm::fail(TT_INVALID_ARGUMENT, __func__, "names or tensors is NULL, or count < 0");
    for (int32_t i = 0; i < count; ++i)
        if (names[i] == nullptr || tensors[i] == nullptr)
            return ttm::fail(TT_INVALID_ARGUMENT, __func__,
                             "entry " + std::to_string(i) + ": the name or the tensor is NULL");
    std::vector<uint8_t> bytes;
    TT_CHECK(read_file(__func__, path, &bytes));
    std::vector<CheckpointEntry> entries;
    TT_CHECK(parse_checkpoint(bytes, path, &entries));
    // BEGIN SOLUTION
    // TODO: find every names[i] among the entries (missing: TT_CORRUPT_DATA
    //   naming the tensor and the file) and require the same shape as
    //   tensors[i] (else TT_SHAPE_MISMATCH showing both shapes). Only when
    //   EVERY tensor checks out copy the data in: a failure modifies nothing.
    // HINT: collect the matching entry of each tensor in a first loop, copy
    //   with read_f32s in a second one.
    std::vector<const CheckpointEntry*> match(static_cast<size_t>(count), nullptr);
    for (int32_t i = 0; i < count; ++i) {
        for (const CheckpointEntry& e : entries)
            if (e.name == names[i]) match[static_cast<size_t>(i)] = &e;
        const CheckpointEntry* e = match[static_cast<size_t>(i)];
        if (e == nullptr) {
            std::string have;
            for (const CheckpointEntry& other : entries) have += (have.empty() ? "" : ", ") + other.name;
            return ttm::fail(TT_CORRUPT_DATA, __func__,
                             std::string("checkpoint ") + path + " has no tensor named '" + names[i] +
                                 "' (it holds: " + (have.empty() ? "nothing" : have) + ")");
        }
        const tt_tensor* t = tensors[i];
        bool same = e->ndim == t->ndim;
        for (int32_t d = 0; same && d < t->ndim; ++d) same = e->shape[d] == t->shape[d];
        if (!same)
            return ttm::fail(TT_SHAPE_MISMATCH, __func__,
                             std::string("tensor '") + names[i] + "': the checkpoint has shape " +
                                 shape_str(e->ndim, e->shape) + ", the target has " + shape_str(t->ndim, t->shape));
    }
    for (int32_t i = 0; i < count; ++i)
        read_f32s(match[static_cast<size_t>(i)]->data, tensors[i]->numel, tensors[i]->data);
    return TT_OK;
    // END SOLUTION
    TT_GUARD_END
}

constexpr tt_training_api k_api = {
    train_step, train_epoch, evaluate, accuracy, clip_grad_norm, schedule_lr, checkpoint_save, checkpoint_load,
};

}  // namespace

TT_DEFINE_MODULE(tt_entry_07_training, "training", TT_TRAINING_DEPS, tt_training_api, k_api)
