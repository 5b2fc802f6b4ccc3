// datasets.hpp - readers for the image data sets the milestone trains on.
//
// Formats (core plumbing, not student work):
//   IDX (MNIST, Fashion-MNIST, TinyDigits): big-endian int32 magic
//     (0x00000803 images, 0x00000801 labels), one int32 per dimension, then
//     unsigned bytes; gzip-compressed or raw (zlib reads both).
//   CIFAR-10 binary release: data_batch_1..5.bin and test_batch.bin, each a
//     run of 3073-byte records (1 label byte, then 1024 R, 1024 G, 1024 B
//     bytes, 32x32 row-major), either extracted (cifar-10-batches-bin/) or
//     read straight from cifar-10-binary.tar.gz.
//
// Every reader returns images as float CHW in [0, 1] and labels as class
// indices (stored as float, like every other tensor). Any problem throws
// tt::data::DatasetError with a message that names the file, what is wrong,
// and what to do about it: a damaged or hostile file, a path that cannot be
// looked at (a symlink loop, a folder without permission) or a decompression
// bomb included. No size a file claims is trusted: it is checked against the
// format, against what the file can hold and against the bounds below before
// anything is allocated, and decompression stops as soon as the data passes
// what the data set can be.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace tt::data {

class DatasetError : public std::runtime_error {
public:
    explicit DatasetError(const std::string& what) : std::runtime_error(what) {}
};

// The most data an IDX file may hold: 256 MiB, over five times MNIST's
// 47,040,000 bytes of training images (read as floats, four times that).
inline constexpr uint64_t kMaxIdxBytes = uint64_t{1} << 28;
// A CIFAR-10 batch holds at most 10,000 records of 3073 bytes; the whole
// cifar-10-binary.tar.gz inflates to 184 MB (6 batches, a readme, the
// class names): a tar stream is read up to 256 MiB, no further.
inline constexpr uint64_t kMaxCifarBatchBytes = 10000 * 3073;
inline constexpr uint64_t kMaxCifarTarBytes = uint64_t{1} << 28;

struct ImageDataset {
    std::vector<float> images;  // count * channels * height * width, CHW per image, in [0, 1]
    std::vector<float> labels;  // count class indices 0 .. num_classes-1
    int64_t count = 0;
    int64_t channels = 0;
    int64_t height = 0;
    int64_t width = 0;
    int num_classes = 0;
    std::vector<std::string> class_names;  // num_classes entries
    std::string name;                      // "TinyDigits (train)", "CIFAR-10 (test)", ...

    int64_t image_size() const { return channels * height * width; }
    // Pointer to image i (image_size() floats).
    const float* image(int64_t i) const { return images.data() + i * image_size(); }
};

// Read an IDX image file (magic 0x803, dims N x H x W) and its IDX label file
// (magic 0x801, dim N), gzip-compressed or raw. Pixels are divided by
// pixel_max (16 for TinyDigits, 255 for MNIST-style files); a byte above
// pixel_max or a label >= num_classes is an error. The data must fill each
// file exactly (a truncated or over-long file is an error naming expected and
// actual byte counts).
ImageDataset read_idx_images_labels(const std::string& images_path, const std::string& labels_path,
                                    float pixel_max, int num_classes = 10);

// TinyDigits, 8x8 digits (1000 train / 200 test): dir holds
// {train,test}-{images-idx3,labels-idx1}-ubyte.gz. An empty dir means the copy
// that ships with the repository (default_tinydigits_dir()).
ImageDataset load_tinydigits(const std::string& dir, bool train);
std::string default_tinydigits_dir();

// Fashion-MNIST / MNIST, 28x28 (60000 train / 10000 test): dir holds
// {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. For Fashion-MNIST an empty
// dir means /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).
ImageDataset load_fashion_mnist(const std::string& dir, bool train);
ImageDataset load_mnist(const std::string& dir, bool train);

// CIFAR-10, 3x32x32 (50000 train / 10000 test). path is the extracted
// cifar-10-batches-bin/ directory, a directory holding it (or holding
// cifar-10-binary.tar.gz), or the cifar-10-binary.tar.gz file itself.
ImageDataset load_cifar10(const std::string& path, bool train);

// Where CIFAR-10 is looked for, in order: cli_path (when given, it is the only
// candidate: an explicit path is never silently replaced), else
// $TINYTORCH_DATA/cifar10, $TINYTORCH_DATA, else <repo>/datasets/cifar10.
std::vector<std::string> cifar10_candidates(const std::string& cli_path);
// The first candidate that exists (for an explicit cli_path) or that holds
// CIFAR-10 in a form load_cifar10 accepts; empty when there is none.
std::string find_cifar10(const std::string& cli_path);

// What to tell a user who has no CIFAR-10 yet: the official URL and where to
// put the file.
std::string cifar10_instructions();

inline constexpr const char* kCifar10Url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";

}  // namespace tt::data
