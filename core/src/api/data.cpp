// data.cpp - tt::DataLoader and the transforms over module 08.
#include "tinytorch/data.hpp"

#include <limits>
#include <stdexcept>

#include "tinytorch/runtime.hpp"

namespace tt {

DataLoader::DataLoader(const Tensor& x, const Tensor& y, int64_t batch_size, bool shuffle, bool drop_last,
                       uint64_t seed)
    : x_(x), y_(y), batch_size_(batch_size) {
    if (!x_.defined() || !y_.defined()) throw std::invalid_argument("DataLoader: x or y is an undefined tt::Tensor");
    TT_CALL(8, runtime().dataloader(), loader_create, x_.raw(), y_.raw(), batch_size, shuffle ? 1 : 0,
            drop_last ? 1 : 0, seed, &loader_);
}

DataLoader::~DataLoader() {
    if (loader_ != nullptr) runtime().dataloader().loader_free(loader_);
}

DataLoader::DataLoader(DataLoader&& other) noexcept
    : x_(std::move(other.x_)), y_(std::move(other.y_)), batch_size_(other.batch_size_), loader_(other.loader_) {
    other.loader_ = nullptr;
}

DataLoader& DataLoader::operator=(DataLoader&& other) noexcept {
    if (this != &other) {
        if (loader_ != nullptr) runtime().dataloader().loader_free(loader_);
        x_ = std::move(other.x_);
        y_ = std::move(other.y_);
        batch_size_ = other.batch_size_;
        loader_ = other.loader_;
        other.loader_ = nullptr;
    }
    return *this;
}

tt_dataloader* DataLoader::need() const {
    if (loader_ == nullptr) throw std::logic_error("tt::DataLoader used after it was moved from");
    return loader_;
}

void DataLoader::begin_epoch(int64_t epoch) { TT_CALL(8, runtime().dataloader(), loader_start_epoch, need(), epoch); }

bool DataLoader::next(Tensor& x, Tensor& y) {
    tt_tensor *bx = nullptr, *by = nullptr;
    int32_t has_batch = 0;
    tt_status st = runtime().dataloader().loader_next(need(), &bx, &by, &has_batch);
    // Own whatever came back before anything can throw.
    Tensor tx = bx != nullptr ? Tensor::adopt(bx) : Tensor();
    Tensor ty = by != nullptr ? Tensor::adopt(by) : Tensor();
    runtime().check(st, 8, "loader_next");
    if (has_batch == 0) return false;
    if (!tx.defined() || !ty.defined())
        throw Error(TT_INTERNAL_ERROR, 8, "loader_next", "reported a batch but returned no tensor");
    x = std::move(tx);
    y = std::move(ty);
    return true;
}

int64_t DataLoader::num_batches() const {
    int64_t n = 0;
    TT_CALL(8, runtime().dataloader(), loader_num_batches, need(), &n);
    return n;
}

int64_t DataLoader::size() const { return x_.size(0); }

std::vector<int64_t> shuffle_indices(int64_t n, uint64_t seed) {
    if (n < 0) throw std::invalid_argument("shuffle_indices: n must be >= 0");
    std::vector<int64_t> out(static_cast<size_t>(n));
    TT_CALL(8, runtime().dataloader(), shuffle_indices, n, seed, out.data());
    return out;
}

// rng nullptr reaches the module as NULL: it draws from the global RNG.
Tensor random_hflip(const Tensor& x, float p, tt_rng* rng) {
    tt_tensor* out = nullptr;
    TT_CALL(8, runtime().dataloader(), random_hflip, x.raw(), p, rng, &out);
    return Tensor::adopt(out);
}

Tensor random_crop(const Tensor& x, int32_t padding, tt_rng* rng) {
    tt_tensor* out = nullptr;
    TT_CALL(8, runtime().dataloader(), random_crop, x.raw(), padding, rng, &out);
    return Tensor::adopt(out);
}

Tensor normalize(const Tensor& x, const std::vector<float>& mean, const std::vector<float>& std) {
    if (mean.size() != std.size())
        throw std::invalid_argument("normalize: " + std::to_string(mean.size()) + " means but " +
                                    std::to_string(std.size()) + " standard deviations");
    if (mean.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
        throw std::invalid_argument("normalize: too many channels");
    tt_tensor* out = nullptr;
    TT_CALL(8, runtime().dataloader(), normalize, x.raw(), mean.data(), std.data(),
            static_cast<int32_t>(mean.size()), &out);
    return Tensor::adopt(out);
}

}  // namespace tt
