// IDX readers: TinyDigits, MNIST, Fashion-MNIST.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

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

// One IDX file, opened and its header checked; the data is read later, once
// both files' headers agree.
struct IdxFile {
    std::unique_ptr<GzFile> f;
    std::vector<int64_t> dims;
    size_t header_bytes = 0;
    uint64_t payload = 0;       // prod(dims) bytes, as the header claims
    std::vector<uint8_t> data;  // payload bytes, once read
};

std::string dims_text(const std::vector<int64_t>& dims) {
    std::string s;
    for (size_t d = 0; d < dims.size(); ++d) s += (d ? " x " : "") + std::to_string(dims[d]);
    return s;
}

// Opens an IDX file and checks its magic and dimensions, and that the data
// the header claims fits both what this reader accepts (kMaxIdxBytes) and
// what the file can hold: exactly its size when raw, at most
// kMaxDeflateRatio times its size when gzip. Nothing is allocated from the
// claim.
IdxFile open_idx(const std::string& path, uint32_t magic, const char* kind) {
    detail::PathProbe where = detail::probe(path);
    if (where.kind == detail::PathProbe::missing)
        throw DatasetError("IDX " + std::string(kind) + " file not found: " + path);
    if (where.kind == detail::PathProbe::error)
        throw DatasetError("IDX " + std::string(kind) + " file not readable: cannot access " + path + " (" +
                           where.why + "). Fix the path or its permissions.");
    IdxFile out;
    out.f = std::make_unique<GzFile>(path);
    GzFile& f = *out.f;
    const size_t ndim = magic & 0xFF;
    uint8_t header[4 + 4 * 3];
    const size_t header_bytes = 4 + 4 * ndim;
    out.header_bytes = header_bytes;
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
    uint64_t payload = 1;
    for (size_t d = 0; d < ndim; ++d) {
        uint32_t size = be32(header + 4 + 4 * d);
        if (size == 0 || size > (1u << 30))
            throw DatasetError(path + ": IDX dimension " + std::to_string(d) + " is " +
                               std::to_string(size) + ", which is not a plausible size: the header is corrupt.");
        out.dims.push_back(size);
        payload *= size;  // <= 2^30 * 2^30 * 2^30 would overflow: stop early
        if (payload > kMaxIdxBytes) break;
    }
    if (payload > kMaxIdxBytes || out.dims.size() < ndim)
        throw DatasetError(path + ": the IDX header claims " + dims_text(out.dims) +
                           (out.dims.size() < ndim ? " x ..." : "") + " = more than " +
                           with_commas(kMaxIdxBytes) + " bytes of data, more than any data set this reader "
                           "takes (MNIST's 60,000 training images are 47,040,000 bytes): the header is corrupt.");
    out.payload = payload;
    const uint64_t expected = header_bytes + payload;
    if (!f.compressed()) {
        // A plain file holds exactly what it holds: check before reading.
        const uint64_t actual = f.file_size();
        if (actual < expected)
            throw DatasetError(path + ": truncated IDX file: expected " + with_commas(expected) +
                               " bytes (header " + std::to_string(header_bytes) + " + data " +
                               with_commas(payload) + " for " + dims_text(out.dims) + "), got " +
                               with_commas(actual) + ". Download the file again.");
        if (actual > expected)
            throw DatasetError(path + ": IDX file is longer than its header says: expected " +
                               with_commas(expected) + " bytes, got " + with_commas(actual) +
                               ". The header or the file is wrong.");
    } else if (expected > f.max_data_bytes()) {
        throw DatasetError(path + ": the IDX header claims " + dims_text(out.dims) + " = " + with_commas(payload) +
                           " bytes of data, but a gzip file of " + with_commas(f.file_size()) +
                           " bytes cannot hold more than " + with_commas(f.max_data_bytes()) +
                           ": the header is corrupt or the file was cut short. Download it again.");
    }
    return out;
}

// Reads the data the header announced, in pieces (memory grows with what
// really arrives), then checks that nothing follows it. Decompression stops
// soon after the expected length: an over-long gzip stream is not inflated
// to its end.
void read_idx_data(IdxFile& idx) {
    GzFile& f = *idx.f;
    const std::string& path = f.path();
    const uint64_t payload = idx.payload;
    constexpr size_t kPiece = size_t{16} << 20;
    std::vector<uint8_t>& data = idx.data;
    while (data.size() < payload) {
        size_t old = data.size();
        size_t want = static_cast<size_t>(std::min<uint64_t>(payload - old, kPiece));
        data.resize(old + want);
        size_t got = f.read(data.data() + old, want);
        data.resize(old + got);
        if (got < want) break;
    }
    const uint64_t expected = idx.header_bytes + payload;
    if (data.size() < payload)
        throw DatasetError(path + ": truncated IDX file: expected " + with_commas(expected) +
                           " bytes (header " + std::to_string(idx.header_bytes) + " + data " +
                           with_commas(payload) + " for " + dims_text(idx.dims) + "), got " +
                           with_commas(idx.header_bytes + data.size()) + ". Download the file again.");
    // Count what follows, up to 1 MiB: enough to say how wrong the file is
    // without inflating a bomb to its end.
    constexpr uint64_t kCountUpTo = uint64_t{1} << 20;
    uint64_t more = f.skip(kCountUpTo + 1);
    if (more > 0)
        throw DatasetError(path + ": IDX file is longer than its header says: expected " +
                           with_commas(expected) + " bytes, got " +
                           (more > kCountUpTo ? "more than " + with_commas(expected + kCountUpTo)
                                              : with_commas(expected + more)) +
                           ". The header or the file is wrong.");
    idx.f.reset();  // close the file
}

// dir/<base>.gz, else dir/<base>; empty when neither exists. A path that
// cannot be looked at (a symlink loop, a folder without permission) is a
// data-missing error naming the path and the system's reason.
std::string find_idx(const std::string& dir, const std::string& base, const std::string& dataset,
                     const std::string& where_to_get) {
    for (const std::string& name : {base + ".gz", base}) {
        fs::path p = fs::path(dir) / name;
        detail::PathProbe at = detail::probe(p.string());
        if (at.kind == detail::PathProbe::file) return p.string();
        if (at.kind == detail::PathProbe::error)
            throw DatasetError(dataset + " not found: cannot access " + p.string() + " (" + at.why + "). " +
                               where_to_get);
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
    std::string img = find_idx(dir, img_base, spec.name, spec.where_to_get);
    std::string lbl = find_idx(dir, lbl_base, spec.name, spec.where_to_get);
    for (const auto& [found, base] : {std::pair{img, img_base}, std::pair{lbl, lbl_base}}) {
        if (!found.empty()) continue;
        detail::PathProbe d = detail::probe(dir);
        std::string where = d.kind == detail::PathProbe::directory
                                ? "the directory " + dir + " has no " + base + ".gz (nor " + base + ")"
                            : d.kind == detail::PathProbe::error
                                ? "cannot access the directory " + dir + " (" + d.why + ")"
                            : d.kind == detail::PathProbe::missing ? "the directory " + dir + " does not exist"
                                                                   : dir + " is not a directory";
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
    // Both headers first: a count mismatch is found before reading any data.
    IdxFile images = open_idx(images_path, kIdxImages, "images");
    IdxFile labels = open_idx(labels_path, kIdxLabels, "labels");
    if (images.dims[0] != labels.dims[0])
        throw DatasetError("image and label counts differ: " + images_path + " holds " +
                           std::to_string(images.dims[0]) + " images, " + labels_path + " holds " +
                           std::to_string(labels.dims[0]) + " labels. Are they from the same split?");
    read_idx_data(images);
    read_idx_data(labels);

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
