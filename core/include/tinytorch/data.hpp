// data.hpp - tt::DataLoader, the RAII handle over a module-08 loader, and the
// image transforms of module 08 as free functions.
//
//   tt::DataLoader train(x, y, 64, /*shuffle=*/true, /*drop_last=*/false, /*seed=*/1);
//   for (int64_t epoch = 0; epoch < 10; ++epoch) {
//       train.begin_epoch(epoch);
//       tt::Tensor xb, yb;
//       while (train.next(xb, yb)) { ... }
//   }
//
// Every call goes to the loaded module 08 and throws tt::Error on failure.
#pragma once

#include <cstdint>
#include <vector>

#include "tinytorch/abi/tt_08_dataloader.h"
#include "tinytorch/tensor.hpp"

namespace tt {

class DataLoader {
public:
    // Batches of batch_size samples of x [N, ...] and y [N, ...]. The loader
    // keeps its own handles on x and y (no deep copy: a data set can be
    // large), so they stay alive as long as the loader does; do not change
    // their data while iterating. With shuffle the order of epoch e is the
    // permutation of seed + e. Starts at epoch 0.
    DataLoader(const Tensor& x, const Tensor& y, int64_t batch_size, bool shuffle = true, bool drop_last = false,
               uint64_t seed = 0);
    ~DataLoader();
    DataLoader(DataLoader&& other) noexcept;
    DataLoader& operator=(DataLoader&& other) noexcept;
    DataLoader(const DataLoader&) = delete;
    DataLoader& operator=(const DataLoader&) = delete;

    // Rewind to the start of `epoch` (reshuffled with seed + epoch).
    void begin_epoch(int64_t epoch);
    // The next batch into x and y (new tensors); false at the end of the epoch.
    bool next(Tensor& x, Tensor& y);
    // Batches per epoch: ceil(N / batch_size), or floor with drop_last.
    int64_t num_batches() const;

    int64_t size() const;  // N, the number of samples
    int64_t batch_size() const { return batch_size_; }
    const Tensor& x() const { return x_; }
    const Tensor& y() const { return y_; }
    tt_dataloader* raw() const { return loader_; }  // borrowed

private:
    tt_dataloader* need() const;
    Tensor x_, y_;
    int64_t batch_size_ = 0;
    tt_dataloader* loader_ = nullptr;
};

// The permutation of 0..n-1 that a shuffling loader uses for `seed`.
std::vector<int64_t> shuffle_indices(int64_t n, uint64_t seed);

// ---- transforms on NCHW batches; rng nullptr: the runtime's global RNG ----------
// Each image mirrored left-right with probability p.
Tensor random_hflip(const Tensor& x, float p = 0.5f, tt_rng* rng = nullptr);
// Each image zero-padded by `padding`, then an HxW window cut at a random offset.
Tensor random_crop(const Tensor& x, int32_t padding, tt_rng* rng = nullptr);
// (x[:, c] - mean[c]) / std[c]; mean and std hold one value per channel.
Tensor normalize(const Tensor& x, const std::vector<float>& mean, const std::vector<float>& std);

}  // namespace tt
