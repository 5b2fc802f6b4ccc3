// IDX readers: TinyDigits, MNIST, Fashion-MNIST.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "datasets/gz_file.hpp"
#include "tinytorch/datasets.hpp"

namespace fs = std::filesystem;

namespace tt::data {
namespace {

using detail::GzFile;
using detail::with_commas;

constexpr uint32_t kIdxImages = 0x00000803;  // unsigned bytes, 3 dims
constexpr uint32_t kIdxLabels = 0x00000801;  // unsigned bytes, 1 dim

std::string hex32(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", v);
    return buf;
}

uint32_t be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

struct IdxFile {
    std::vector<int64_t> dims;
    std::vector<uint8_t> data;  // prod(dims) bytes
};

// Reads one IDX file whole and checks magic, dims and the exact length.
IdxFile read_idx(const std::string& path, uint32_t magic, const char* kind) {
    if (!fs::exists(path)) throw DatasetError("IDX " + std::string(kind) + " file not found: " + path);
    GzFile f(path);
    const size_t ndim = magic & 0xFF;
    uint8_t header[4 + 4 * 3];
    const size_t header_bytes = 4 + 4 * ndim;
    size_t got = f.read(header, 4);
    if (got < 4)
        throw DatasetError(path + ": truncated IDX file: expected at least " +
                           std::to_string(header_bytes) + " bytes of header, got " +
                           std::to_string(got) + ".");
    uint32_t m = be32(header);
    if (m != magic) {
        std::string hint;
        if (m == kIdxImages || m == kIdxLabels)
            hint = m == kIdxImages ? " It is an IDX image file: are the image and label paths swapped?"
                                   : " It is an IDX label file: are the image and label paths swapped?";
        else if ((m >> 16) == 0x1F8B)
            hint = " It starts like gzip data: the file was compressed twice; gunzip it once.";
        else
            hint = " Not an IDX file of unsigned bytes: check the path.";
        throw DatasetError(path + ": bad magic number " + hex32(m) + ", expected " + hex32(magic) +
                           " (IDX " + kind + ")." + hint);
    }
    got = f.read(header + 4, 4 * ndim);
    if (got < 4 * ndim)
        throw DatasetError(path + ": truncated IDX file: expected " + std::to_string(header_bytes) +
                           " bytes of header, got " + std::to_string(4 + got) + ".");
    IdxFile out;
    uint64_t payload = 1;
    for (size_t d = 0; d < ndim; ++d) {
        uint32_t size = be32(header + 4 + 4 * d);
        if (size == 0 || size > (1u << 30))
            throw DatasetError(path + ": IDX dimension " + std::to_string(d) + " is " +
                               std::to_string(size) + ", which is not a plausible size: the header is corrupt.");
        out.dims.push_back(size);
        payload *= size;
        if (payload > (uint64_t{1} << 40))
            throw DatasetError(path + ": IDX header claims more than 1 TB of data: the header is corrupt.");
    }
    out.data.resize(payload);
    got = f.read(out.data.data(), payload);
    const uint64_t expected = header_bytes + payload;
    if (got < payload)
        throw DatasetError(path + ": truncated IDX file: expected " + with_commas(expected) +
                           " bytes (header " + std::to_string(header_bytes) + " + data " +
                           with_commas(payload) + "), got " + with_commas(header_bytes + got) +
                           ". Download the file again.");
    uint8_t extra[4096];
    size_t more = f.read(extra, sizeof extra);
    if (more > 0) {
        uint64_t actual = expected + more + f.skip(UINT64_MAX);
        throw DatasetError(path + ": IDX file is longer than its header says: expected " +
                           with_commas(expected) + " bytes, got " + with_commas(actual) +
                           ". The header or the file is wrong.");
    }
    return out;
}

// dir/<base>.gz, else dir/<base>; empty when neither exists.
std::string find_idx(const std::string& dir, const std::string& base) {
    for (const std::string& name : {base + ".gz", base}) {
        fs::path p = fs::path(dir) / name;
        if (fs::is_regular_file(p)) return p.string();
    }
    return {};
}

struct IdxSpec {
    const char* name;           // "Fashion-MNIST"
    const char* train_prefix;   // "train"
    const char* test_prefix;    // "t10k"
    float pixel_max;
    std::vector<std::string> class_names;
    std::string where_to_get;   // appended to a missing-file error
};

ImageDataset load_idx_dataset(const std::string& dir, bool train, const IdxSpec& spec) {
    const std::string prefix = train ? spec.train_prefix : spec.test_prefix;
    const std::string img_base = prefix + "-images-idx3-ubyte";
    const std::string lbl_base = prefix + "-labels-idx1-ubyte";
    std::string img = find_idx(dir, img_base), lbl = find_idx(dir, lbl_base);
    for (const auto& [found, base] : {std::pair{img, img_base}, std::pair{lbl, lbl_base}}) {
        if (!found.empty()) continue;
        std::string where = fs::is_directory(dir) ? "the directory " + dir + " has no " + base + ".gz (nor " +
                                                        base + ")"
                                                  : "the directory " + dir + " does not exist";
        throw DatasetError(std::string(spec.name) + " not found: " + where + ". " + spec.where_to_get);
    }
    ImageDataset ds = read_idx_images_labels(img, lbl, spec.pixel_max,
                                             static_cast<int>(spec.class_names.size()));
    ds.class_names = spec.class_names;
    ds.name = std::string(spec.name) + (train ? " (train)" : " (test)");
    return ds;
}

std::vector<std::string> digit_names() {
    return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
}

}  // namespace

ImageDataset read_idx_images_labels(const std::string& images_path, const std::string& labels_path,
                                    float pixel_max, int num_classes) {
    if (!(pixel_max > 0.0f) || pixel_max > 255.0f)
        throw DatasetError("read_idx_images_labels: pixel_max must be in (0, 255], got " +
                           std::to_string(pixel_max));
    if (num_classes < 1 || num_classes > 256)
        throw DatasetError("read_idx_images_labels: num_classes must be in [1, 256], got " +
                           std::to_string(num_classes));
    IdxFile images = read_idx(images_path, kIdxImages, "images");
    IdxFile labels = read_idx(labels_path, kIdxLabels, "labels");
    if (images.dims[0] != labels.dims[0])
        throw DatasetError("image and label counts differ: " + images_path + " holds " +
                           std::to_string(images.dims[0]) + " images, " + labels_path + " holds " +
                           std::to_string(labels.dims[0]) + " labels. Are they from the same split?");

    ImageDataset ds;
    ds.count = images.dims[0];
    ds.channels = 1;
    ds.height = images.dims[1];
    ds.width = images.dims[2];
    ds.num_classes = num_classes;
    for (int c = 0; c < num_classes; ++c) ds.class_names.push_back(std::to_string(c));
    ds.name = fs::path(images_path).filename().string();

    const uint8_t max_byte = *std::max_element(images.data.begin(), images.data.end());
    if (static_cast<float>(max_byte) > pixel_max)
        throw DatasetError(images_path + ": pixel value " + std::to_string(max_byte) +
                           " exceeds the maximum " + std::to_string(static_cast<int>(pixel_max)) +
                           " this data set uses: is it the right file for this data set?");
    // A table of the 256 possible values keeps the conversion one load per pixel.
    float lut[256];
    for (int v = 0; v < 256; ++v) lut[v] = static_cast<float>(v) / pixel_max;
    ds.images.resize(images.data.size());
    for (size_t i = 0; i < images.data.size(); ++i) ds.images[i] = lut[images.data[i]];

    ds.labels.resize(labels.data.size());
    for (size_t i = 0; i < labels.data.size(); ++i) {
        if (labels.data[i] >= num_classes)
            throw DatasetError(labels_path + ": label " + std::to_string(labels.data[i]) + " at index " +
                               std::to_string(i) + " is out of range: expected 0.." +
                               std::to_string(num_classes - 1) + ". The file is corrupt or not a label file.");
        ds.labels[i] = static_cast<float>(labels.data[i]);
    }
    return ds;
}

std::string default_tinydigits_dir() { return (fs::path(TT_SOURCE_DIR) / "datasets" / "tinydigits").string(); }

ImageDataset load_tinydigits(const std::string& dir, bool train) {
    std::string d = dir.empty() ? default_tinydigits_dir() : dir;
    return load_idx_dataset(d, train,
                            {"TinyDigits", "train", "test", 16.0f, digit_names(),
                             "TinyDigits ships with the repository in datasets/tinydigits/ "
                             "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                             "test-images-idx3-ubyte.gz, test-labels-idx1-ubyte.gz): restore it with "
                             "`git checkout -- datasets/tinydigits` or pass the directory that holds them."});
}

ImageDataset load_fashion_mnist(const std::string& dir, bool train) {
    std::string d = dir.empty() ? std::string("/usr/share/datasets/fashion-mnist") : dir;
    return load_idx_dataset(
        d, train,
        {"Fashion-MNIST", "train", "t10k", 255.0f,
         {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
          "Ankle boot"},
         "On Debian, `sudo apt-get install dataset-fashion-mnist` puts the four files in "
         "/usr/share/datasets/fashion-mnist/; or download train-images-idx3-ubyte.gz, "
         "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from "
         "https://github.com/zalandoresearch/fashion-mnist into one directory and pass it."});
}

ImageDataset load_mnist(const std::string& dir, bool train) {
    if (dir.empty())
        throw DatasetError("MNIST: no directory given. Download train-images-idx3-ubyte.gz, "
                           "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
                           "t10k-labels-idx1-ubyte.gz (e.g. from https://ossci-datasets.s3.amazonaws.com/mnist/) "
                           "into one directory and pass it.");
    return load_idx_dataset(dir, train,
                            {"MNIST", "train", "t10k", 255.0f, digit_names(),
                             "Download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                             "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (e.g. from "
                             "https://ossci-datasets.s3.amazonaws.com/mnist/) into " + dir + "."});
}

}  // namespace tt::data
