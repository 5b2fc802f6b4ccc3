// The dataset readers: the shipped TinyDigits, IDX files and CIFAR-10 batches
// generated here (raw, gzip, directory and .tar.gz), and every error path:
// sizes claimed beyond what the file holds, decompression bombs (made here,
// bounded: each case runs in about a second), paths that cannot be looked at.
#include <catch2/catch.hpp>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "common/temp_dir.hpp"
#include "tinytorch/datasets.hpp"

namespace fs = std::filesystem;
using tt::data::DatasetError;
using tt::data::ImageDataset;
using Bytes = std::vector<uint8_t>;
using tt_test::TempDir;

namespace {

// A fresh directory under the system temp dir, removed at scope exit.
void write_raw(const std::string& path, const Bytes& data) {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    REQUIRE(f.good());
}

void write_gz(const std::string& path, const Bytes& data) {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    if (!data.empty()) REQUIRE(gzwrite(f, data.data(), static_cast<unsigned>(data.size())) == static_cast<int>(data.size()));
    REQUIRE(gzclose(f) == Z_OK);
}

void put_be32(Bytes& b, uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

Bytes idx_images(uint32_t n, uint32_t h, uint32_t w, const Bytes& pixels) {
    Bytes b;
    put_be32(b, 0x803);
    put_be32(b, n);
    put_be32(b, h);
    put_be32(b, w);
    b.insert(b.end(), pixels.begin(), pixels.end());
    return b;
}

Bytes idx_labels(const Bytes& labels) {
    Bytes b;
    put_be32(b, 0x801);
    put_be32(b, static_cast<uint32_t>(labels.size()));
    b.insert(b.end(), labels.begin(), labels.end());
    return b;
}

// One gzip member holding data (gzip files may be a run of members: zlib
// reads them as one stream).
Bytes gz_member(const Bytes& data) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);  // +16: gzip
    Bytes out(deflateBound(&z, static_cast<uLong>(data.size())));
    z.next_in = const_cast<uint8_t*>(data.data());
    z.avail_in = static_cast<unsigned>(data.size());
    z.next_out = out.data();
    z.avail_out = static_cast<unsigned>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    return out;
}

// A gzip file of pieces, each some bytes then some zero bytes: a bomb of
// hundreds of megabytes from a file about 1000 times smaller, written fast
// by repeating one compressed member of 1 MiB of zeros.
struct Piece {
    Bytes bytes;
    uint64_t zeros = 0;
};
void write_gz_pieces(const std::string& path, const std::vector<Piece>& pieces) {
    static const Bytes mib_of_zeros = gz_member(Bytes(1u << 20, 0));
    std::ofstream f(path, std::ios::binary);
    bool any = false;
    auto put = [&](const Bytes& b) {
        f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
        any = true;
    };
    for (const Piece& p : pieces) {
        if (!p.bytes.empty()) put(gz_member(p.bytes));
        for (uint64_t i = 0; i < p.zeros >> 20; ++i) put(mib_of_zeros);
        if (p.zeros % (1u << 20) != 0) put(gz_member(Bytes(static_cast<size_t>(p.zeros % (1u << 20)), 0)));
    }
    if (!any) put(gz_member({}));  // an empty gzip stream, not an empty file
    REQUIRE(f.good());
}
void write_gz_zeros(const std::string& path, const Bytes& prefix, uint64_t zeros) {
    write_gz_pieces(path, {{prefix, zeros}});
}

// Run f, require a DatasetError whose message mentions every one of words.
template <class F>
void require_dataset_error(F f, const std::vector<std::string>& words) {
    try {
        f();
    } catch (const DatasetError& e) {
        std::string msg = e.what();
        INFO("message: " << msg);
        for (const std::string& w : words) {
            INFO("should mention: " << w);
            CHECK(msg.find(w) != std::string::npos);
        }
        return;
    }
    FAIL("expected a DatasetError");
}

// ---- CIFAR-10 generation ------------------------------------------------------

// `records` CIFAR records whose label is (seed + i) % 10 and whose pixel j of
// record i is (seed * 7 + i * 13 + j) % 256.
Bytes cifar_batch(int records, int seed) {
    Bytes b;
    for (int i = 0; i < records; ++i) {
        b.push_back(static_cast<uint8_t>((seed + i) % 10));
        for (int j = 0; j < 3072; ++j) b.push_back(static_cast<uint8_t>((seed * 7 + i * 13 + j) % 256));
    }
    return b;
}

// One ustar header block for a regular file (or type given).
Bytes tar_header(const std::string& name, uint64_t size, char type = '0') {
    Bytes h(512, 0);
    std::memcpy(h.data(), name.data(), std::min<size_t>(name.size(), 100));
    std::snprintf(reinterpret_cast<char*>(h.data() + 100), 8, "%07o", 0644);
    std::snprintf(reinterpret_cast<char*>(h.data() + 108), 8, "%07o", 0);
    std::snprintf(reinterpret_cast<char*>(h.data() + 116), 8, "%07o", 0);
    std::snprintf(reinterpret_cast<char*>(h.data() + 124), 12, "%011llo", static_cast<unsigned long long>(size));
    std::snprintf(reinterpret_cast<char*>(h.data() + 136), 12, "%011o", 0);
    h[156] = static_cast<uint8_t>(type);
    std::memcpy(h.data() + 257, "ustar", 6);  // "ustar\0"
    h[263] = '0';
    h[264] = '0';
    std::memset(h.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (uint8_t c : h) sum += c;
    std::snprintf(reinterpret_cast<char*>(h.data() + 148), 8, "%06o", sum);
    h[155] = ' ';
    return h;
}

struct TarEntry {
    std::string name;
    Bytes data;
    char type = '0';
};

Bytes make_tar(const std::vector<TarEntry>& entries) {
    Bytes t;
    for (const TarEntry& e : entries) {
        Bytes h = tar_header(e.name, e.data.size(), e.type);
        t.insert(t.end(), h.begin(), h.end());
        t.insert(t.end(), e.data.begin(), e.data.end());
        t.resize((t.size() + 511) / 512 * 512, 0);
    }
    t.resize(t.size() + 1024, 0);  // two zero blocks end the archive
    return t;
}

// Check image r of ds against record r of cifar_batch(_, seed) (r local to that batch).
void check_cifar_record(const ImageDataset& ds, int64_t index, int r, int seed) {
    INFO("image " << index);
    REQUIRE(ds.labels[static_cast<size_t>(index)] == static_cast<float>((seed + r) % 10));
    const float* img = ds.image(index);
    for (int j : {0, 1, 1023, 1024, 2048, 3071}) {
        float expected = static_cast<float>((seed * 7 + r * 13 + j) % 256) / 255.0f;
        REQUIRE(img[j] == Approx(expected).margin(1e-7));
    }
}

// A cifar-10-batches-bin directory of small batches: data_batch_k has k+1
// records (seed k), test_batch 3 records (seed 50).
void write_cifar_dir(const fs::path& dir) {
    fs::create_directories(dir);
    for (int k = 1; k <= 5; ++k) write_raw((dir / ("data_batch_" + std::to_string(k) + ".bin")).string(), cifar_batch(k + 1, k));
    write_raw((dir / "test_batch.bin").string(), cifar_batch(3, 50));
    write_raw((dir / "batches.meta.txt").string(), Bytes{'a', '\n'});
}

void check_cifar_train(const ImageDataset& ds) {
    REQUIRE(ds.count == 2 + 3 + 4 + 5 + 6);
    REQUIRE(ds.channels == 3);
    REQUIRE(ds.height == 32);
    REQUIRE(ds.width == 32);
    REQUIRE(ds.num_classes == 10);
    REQUIRE(ds.class_names.size() == 10);
    CHECK(ds.class_names[0] == "airplane");
    CHECK(ds.class_names[9] == "truck");
    REQUIRE(ds.images.size() == static_cast<size_t>(ds.count * 3072));
    REQUIRE(ds.labels.size() == static_cast<size_t>(ds.count));
    // batches in order 1..5, records in file order
    int64_t index = 0;
    for (int k = 1; k <= 5; ++k)
        for (int r = 0; r <= k; ++r) check_cifar_record(ds, index++, r, k);
}

void check_cifar_test(const ImageDataset& ds) {
    REQUIRE(ds.count == 3);
    for (int r = 0; r < 3; ++r) check_cifar_record(ds, r, r, 50);
}

}  // namespace

// ---------------------------------------------------------------- TinyDigits

TEST_CASE("the shipped TinyDigits has 1000 train and 200 test images, balanced, in [0, 1]") {
    for (bool train : {true, false}) {
        ImageDataset ds = tt::data::load_tinydigits("", train);
        const int64_t n = train ? 1000 : 200;
        INFO(ds.name);
        REQUIRE(ds.count == n);
        REQUIRE(ds.channels == 1);
        REQUIRE(ds.height == 8);
        REQUIRE(ds.width == 8);
        REQUIRE(ds.num_classes == 10);
        REQUIRE(ds.images.size() == static_cast<size_t>(n * 64));
        REQUIRE(ds.labels.size() == static_cast<size_t>(n));
        CHECK(ds.name.find("TinyDigits") != std::string::npos);
        int per_class[10] = {0};
        for (float l : ds.labels) {
            REQUIRE(l == std::floor(l));
            REQUIRE(l >= 0.0f);
            REQUIRE(l <= 9.0f);
            per_class[static_cast<int>(l)]++;
        }
        for (int c = 0; c < 10; ++c) CHECK(per_class[c] == (train ? 100 : 20));
        float lo = *std::min_element(ds.images.begin(), ds.images.end());
        float hi = *std::max_element(ds.images.begin(), ds.images.end());
        CHECK(lo == 0.0f);
        CHECK(hi == 1.0f);  // 16 / 16 occurs
        // pixel values are multiples of 1/16
        for (float v : ds.images) REQUIRE(v * 16.0f == std::round(v * 16.0f));
    }
    // the explicit directory gives the same data
    ImageDataset a = tt::data::load_tinydigits(tt::data::default_tinydigits_dir(), false);
    ImageDataset b = tt::data::load_tinydigits(TT_TEST_SOURCE_DIR "/datasets/tinydigits", false);
    CHECK(a.images == b.images);
    CHECK(a.labels == b.labels);
}

TEST_CASE("a missing TinyDigits directory says where the files belong") {
    TempDir tmp("datasets");
    require_dataset_error([&] { tt::data::load_tinydigits(tmp.str("nowhere"), true); },
                          {"TinyDigits", "nowhere", "datasets/tinydigits"});
    require_dataset_error([&] { tt::data::load_tinydigits(tmp.path.string(), false); },
                          {"test-images-idx3-ubyte.gz", tmp.path.string()});
}

// ---------------------------------------------------------------- IDX

TEST_CASE("IDX files are read gzip-compressed and raw, scaled by pixel_max") {
    TempDir tmp("datasets");
    Bytes pixels;
    for (int i = 0; i < 3 * 2 * 4; ++i) pixels.push_back(static_cast<uint8_t>(i * 10));
    Bytes images = idx_images(3, 2, 4, pixels);
    Bytes labels = idx_labels({2, 0, 9});
    write_gz(tmp.str("img.gz"), images);
    write_gz(tmp.str("lbl.gz"), labels);
    write_raw(tmp.str("img.raw"), images);
    write_raw(tmp.str("lbl.raw"), labels);
    for (auto [img, lbl] : {std::pair{"img.gz", "lbl.gz"}, std::pair{"img.raw", "lbl.raw"}, std::pair{"img.gz", "lbl.raw"}}) {
        INFO(img << " + " << lbl);
        ImageDataset ds = tt::data::read_idx_images_labels(tmp.str(img), tmp.str(lbl), 255.0f);
        REQUIRE(ds.count == 3);
        REQUIRE(ds.channels == 1);
        REQUIRE(ds.height == 2);
        REQUIRE(ds.width == 4);
        REQUIRE(ds.images.size() == 24);
        for (int i = 0; i < 24; ++i) REQUIRE(ds.images[static_cast<size_t>(i)] == Approx(i * 10 / 255.0).margin(1e-7));
        REQUIRE(ds.labels == std::vector<float>{2, 0, 9});
    }
}

TEST_CASE("MNIST and Fashion-MNIST loaders use the standard file names") {
    TempDir tmp("datasets");
    Bytes px(2 * 28 * 28, 255);
    px[0] = 0;
    write_gz(tmp.str("train-images-idx3-ubyte.gz"), idx_images(2, 28, 28, px));
    write_gz(tmp.str("train-labels-idx1-ubyte.gz"), idx_labels({7, 3}));
    // the test split uncompressed: accepted too
    write_raw(tmp.str("t10k-images-idx3-ubyte"), idx_images(2, 28, 28, px));
    write_raw(tmp.str("t10k-labels-idx1-ubyte"), idx_labels({1, 1}));
    ImageDataset tr = tt::data::load_fashion_mnist(tmp.path.string(), true);
    CHECK(tr.count == 2);
    CHECK(tr.height == 28);
    CHECK(tr.images[0] == 0.0f);
    CHECK(tr.images[1] == 1.0f);
    CHECK(tr.labels == std::vector<float>{7, 3});
    CHECK(tr.class_names.at(9) == "Ankle boot");
    CHECK(tr.name.find("Fashion-MNIST") != std::string::npos);
    ImageDataset te = tt::data::load_mnist(tmp.path.string(), false);
    CHECK(te.count == 2);
    CHECK(te.labels == std::vector<float>{1, 1});
    CHECK(te.class_names.at(3) == "3");

    TempDir empty("datasets");
    require_dataset_error([&] { tt::data::load_fashion_mnist(empty.path.string(), true); },
                          {"Fashion-MNIST", "train-images-idx3-ubyte.gz", "dataset-fashion-mnist"});
    require_dataset_error([&] { tt::data::load_mnist(empty.path.string(), false); },
                          {"MNIST", "t10k-images-idx3-ubyte.gz"});
}

TEST_CASE("Debian's Fashion-MNIST reads when installed", "[.system]") {
    // Hidden by default (needs `apt-get install dataset-fashion-mnist`); run with [.system].
    if (!fs::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")) return;
    ImageDataset te = tt::data::load_fashion_mnist("", false);
    CHECK(te.count == 10000);
    CHECK(te.height == 28);
    ImageDataset tr = tt::data::load_fashion_mnist("", true);
    CHECK(tr.count == 60000);
}

TEST_CASE("IDX errors: bad magic, truncated, over-long, label out of range, count mismatch, pixel range") {
    TempDir tmp("datasets");
    Bytes pixels(2 * 3 * 3, 5);
    write_gz(tmp.str("img.gz"), idx_images(2, 3, 3, pixels));
    write_gz(tmp.str("lbl.gz"), idx_labels({1, 2}));
    REQUIRE(tt::data::read_idx_images_labels(tmp.str("img.gz"), tmp.str("lbl.gz"), 16.0f).count == 2);

    SECTION("bad magic") {
        Bytes bad = idx_images(2, 3, 3, pixels);
        bad[3] = 0x04;  // 0x804
        write_gz(tmp.str("bad.gz"), bad);
        require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("bad.gz"), tmp.str("lbl.gz"), 16.0f); },
                              {"bad.gz", "magic", "0x00000804", "0x00000803"});
        // image and label paths swapped
        require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("lbl.gz"), tmp.str("img.gz"), 16.0f); },
                              {"magic", "swapped"});
        // compressed twice
        Bytes gz;
        {
            write_gz(tmp.str("once.gz"), idx_images(2, 3, 3, pixels));
            std::ifstream f(tmp.str("once.gz"), std::ios::binary);
            gz.assign(std::istreambuf_iterator<char>(f), {});
        }
        write_gz(tmp.str("twice.gz"), gz);
        require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("twice.gz"), tmp.str("lbl.gz"), 16.0f); },
                              {"compressed twice"});
    }
    SECTION("truncated data names expected and actual bytes") {
        Bytes cut = idx_images(2, 3, 3, pixels);
        cut.resize(cut.size() - 5);  // 16 + 18 = 34 expected, 29 present
        write_raw(tmp.str("cut.raw"), cut);
        require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("cut.raw"), tmp.str("lbl.gz"), 16.0f); },
                              {"cut.raw", "truncated", "expected 34", "got 29"});
        write_raw(tmp.str("hdr.raw"), Bytes{0, 0, 8, 3, 0, 0});
        require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("hdr.raw"), tmp.str("lbl.gz"), 16.0f); },
                              {"truncated"});
        write_gz(tmp.str("cut.gz"), cut);
        require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("cut.gz"), tmp.str("lbl.gz"), 16.0f); },
                              {"expected 34", "got 29"});
    }
    SECTION("a gzip stream cut short is reported") {
        std::ifstream f(tmp.str("img.gz"), std::ios::binary);
        Bytes gz(std::istreambuf_iterator<char>(f), {});
        gz.resize(gz.size() - 12);  // drop part of the deflate data and the trailer
        write_raw(tmp.str("cutgz.gz"), gz);
        require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("cutgz.gz"), tmp.str("lbl.gz"), 16.0f); },
                              {"cutgz.gz"});
    }
    SECTION("over-long file") {
        Bytes longer = idx_labels({1, 2});
        longer.push_back(3);
        write_raw(tmp.str("long.raw"), longer);
        require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("img.gz"), tmp.str("long.raw"), 16.0f); },
                              {"long.raw", "longer", "expected 10", "got 11"});
    }
    SECTION("label out of range") {
        write_gz(tmp.str("lbl10.gz"), idx_labels({1, 10}));
        require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("img.gz"), tmp.str("lbl10.gz"), 16.0f); },
                              {"lbl10.gz", "label 10", "index 1", "0..9"});
    }
    SECTION("image and label counts differ") {
        write_gz(tmp.str("lbl3.gz"), idx_labels({1, 2, 3}));
        require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("img.gz"), tmp.str("lbl3.gz"), 16.0f); },
                              {"2 images", "3 labels"});
    }
    SECTION("pixel above pixel_max") {
        Bytes hot = pixels;
        hot[4] = 17;
        write_gz(tmp.str("hot.gz"), idx_images(2, 3, 3, hot));
        require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("hot.gz"), tmp.str("lbl.gz"), 16.0f); },
                              {"pixel value 17", "16"});
    }
    SECTION("missing file") {
        require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("none.gz"), tmp.str("lbl.gz"), 16.0f); },
                              {"none.gz", "not found"});
    }
}

TEST_CASE("IDX sizes a header claims are checked before anything is allocated or read") {
    TempDir tmp("datasets");
    write_gz(tmp.str("lbl.gz"), idx_labels({1, 2}));
    // 1 GB, 16 GB, 1 TB: over the reader's bound, refused from the header alone.
    for (auto [n, h, w] : {std::tuple{1000000u, 1000u, 1u}, std::tuple{16000000u, 1000u, 1u},
                           std::tuple{1u << 30, 1u << 30, 1u << 30}}) {
        INFO(n << " x " << h << " x " << w);
        write_raw(tmp.str("big.raw"), idx_images(n, h, w, Bytes(10, 0)));
        require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("big.raw"), tmp.str("lbl.gz"), 255.0f); },
                              {"big.raw", "claims", "268,435,456", "corrupt"});
    }
    // 100 MB: allowed by the bound, but a plain file of 26 bytes holds 10.
    write_raw(tmp.str("short.raw"), idx_images(100000, 1000, 1, Bytes(10, 0)));
    require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("short.raw"), tmp.str("lbl.gz"), 255.0f); },
                          {"truncated", "expected 100,000,016", "got 26"});
    // The same in gzip: a file of a few dozen bytes inflates to at most 1033
    // times its size (deflate's best ratio), far below 100 MB.
    write_gz(tmp.str("short.gz"), idx_images(100000, 1000, 1, Bytes(10, 0)));
    require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("short.gz"), tmp.str("lbl.gz"), 255.0f); },
                          {"short.gz", "100,000,000", "gzip file of", "cannot hold"});
    // Counts that differ are found from the headers, before the data: the
    // labels here are cut short (gzip: not known until read), but the
    // mismatch is what is reported.
    write_gz(tmp.str("img.gz"), idx_images(3, 2, 2, Bytes(12, 0)));
    Bytes cut = idx_labels({1, 2});
    cut.pop_back();
    write_gz(tmp.str("cut.gz"), cut);
    require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("img.gz"), tmp.str("cut.gz"), 255.0f); },
                          {"3 images", "2 labels"});
}

TEST_CASE("IDX decompression bombs stop soon after the data the header announces") {
    TempDir tmp("datasets");
    write_gz(tmp.str("img.gz"), idx_images(2, 2, 2, Bytes(8, 0)));
    // Two labels, then 64 MiB of zeros (a file of about 64 KB): reported as
    // over-long after counting at most 1 MiB of the excess, not all of it.
    write_gz_zeros(tmp.str("bomb.gz"), idx_labels({1, 2}), uint64_t{64} << 20);
    require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("img.gz"), tmp.str("bomb.gz"), 255.0f); },
                          {"bomb.gz", "longer than its header says", "expected 10", "more than 1,048,586"});
    // An excess under 1 MiB is counted exactly.
    write_gz_zeros(tmp.str("little.gz"), idx_labels({1, 2}), 1000);
    require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("img.gz"), tmp.str("little.gz"), 255.0f); },
                          {"expected 10", "got 1,010"});
    // Images: a header announcing 1 x 1024 x 1024 (1 MiB), then 1 MiB of
    // pixels and 64 MiB more zeros. The claim fits the file's ratio bound, the
    // pixels are read, and the excess is counted up to 1 MiB only.
    Bytes head = idx_images(1, 1024, 1024, {});
    write_gz_zeros(tmp.str("imgbomb.gz"), head, (uint64_t{1} << 20) + (uint64_t{64} << 20));
    write_gz(tmp.str("one.gz"), idx_labels({3}));
    require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("imgbomb.gz"), tmp.str("one.gz"), 255.0f); },
                          {"imgbomb.gz", "longer than its header says", "expected 1,048,592", "more than 2,097,168"});
}

TEST_CASE("dataset paths that cannot be looked at are data-missing errors, never filesystem exceptions") {
    TempDir tmp("datasets");
    // A symbolic link loop: the directory, a file in it, the CIFAR path.
    fs::create_symlink(tmp.path / "loop-b", tmp.path / "loop-a");
    fs::create_symlink(tmp.path / "loop-a", tmp.path / "loop-b");
    require_dataset_error([&] { tt::data::load_fashion_mnist(tmp.str("loop-a"), true); },
                          {"Fashion-MNIST not found", "loop-a", "symbolic links"});
    fs::create_directories(tmp.path / "idx");
    fs::create_symlink(tmp.path / "idx" / "train-images-idx3-ubyte.gz", tmp.path / "idx" / "train-images-idx3-ubyte.gz");
    require_dataset_error([&] { tt::data::load_mnist(tmp.str("idx"), true); },
                          {"MNIST not found", "train-images-idx3-ubyte.gz", "symbolic links"});
    require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("loop-a"), tmp.str("loop-b"), 255.0f); },
                          {"loop-a", "symbolic links"});
    require_dataset_error([&] { tt::data::load_cifar10(tmp.str("loop-a"), true); },
                          {"CIFAR-10 not found", "loop-a", "symbolic links", tt::data::kCifar10Url});
    // find_cifar10 hands a path it cannot look at to the loader (which says why).
    CHECK(tt::data::find_cifar10(tmp.str("loop-a")) == tmp.str("loop-a"));
    fs::create_directories(tmp.path / "c");
    fs::create_symlink(tmp.path / "c" / "test_batch.bin", tmp.path / "c" / "test_batch.bin");
    require_dataset_error([&] { tt::data::load_cifar10(tmp.str("c"), false); }, {"test_batch.bin", "symbolic links"});
    // A directory where a data file should be.
    fs::create_directories(tmp.path / "d" / "t10k-images-idx3-ubyte.gz");
    require_dataset_error([&] { tt::data::read_idx_images_labels(tmp.str("d/t10k-images-idx3-ubyte.gz"), tmp.str("x"), 255.0f); },
                          {"t10k-images-idx3-ubyte.gz", "directory"});
}

namespace {

// The DatasetError message of f, run as an unprivileged user when this test
// runs as root (root reads every folder): in a child process that drops to
// uid/gid 65534 ("nobody"). "no error" when f returns; "other: ..." for any
// other exception.
template <class F>
std::string error_as_unprivileged(F f) {
    auto run = [&]() -> std::string {
        try {
            f();
        } catch (const DatasetError& e) {
            return e.what();
        } catch (const std::exception& e) {
            return std::string("other: ") + e.what();
        }
        return "no error";
    };
    if (::geteuid() != 0) return run();
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        std::string msg = (::setgid(65534) == 0 && ::setuid(65534) == 0) ? run() : "cannot drop privileges";
        ssize_t n = ::write(fds[1], msg.data(), msg.size());
        ::_exit(n == static_cast<ssize_t>(msg.size()) ? 0 : 1);
    }
    ::close(fds[1]);
    std::string msg;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) msg.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    return msg;
}

}  // namespace

TEST_CASE("a folder or file without permission is a data-missing error naming it") {
    TempDir tmp("datasets");
    // Searchable by all (mkdtemp makes it 0700), with a folder and files no one
    // but root may read.
    fs::permissions(tmp.path, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    fs::create_directories(tmp.path / "locked");
    fs::permissions(tmp.path / "locked", fs::perms::none);
    write_gz(tmp.str("img.gz"), idx_images(1, 2, 2, Bytes(4, 0)));
    write_gz(tmp.str("lbl.gz"), idx_labels({1}));
    fs::permissions(tmp.path / "img.gz", fs::perms::none);
    fs::permissions(tmp.path / "lbl.gz", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);

    std::string mnist = error_as_unprivileged([&] { tt::data::load_mnist(tmp.str("locked"), true); });
    INFO(mnist);
    CHECK(mnist.find("MNIST not found") == 0);
    CHECK(mnist.find("locked") != std::string::npos);
    CHECK(mnist.find("Permission denied") != std::string::npos);
    std::string cifar = error_as_unprivileged([&] { tt::data::load_cifar10(tmp.str("locked"), true); });
    INFO(cifar);
    CHECK(cifar.find("CIFAR-10 not found") == 0);
    CHECK(cifar.find("Permission denied") != std::string::npos);
    std::string file = error_as_unprivileged(
        [&] { tt::data::read_idx_images_labels(tmp.str("img.gz"), tmp.str("lbl.gz"), 255.0f); });
    INFO(file);
    CHECK(file.find("img.gz") != std::string::npos);
    CHECK(file.find("Permission denied") != std::string::npos);
    CHECK(file.find("permissions") != std::string::npos);
    fs::permissions(tmp.path / "locked", fs::perms::owner_all);
}

// ---------------------------------------------------------------- CIFAR-10

TEST_CASE("CIFAR-10 batches read from cifar-10-batches-bin/ or its parent") {
    TempDir tmp("datasets");
    fs::path dir = tmp.path / "cifar-10-batches-bin";
    write_cifar_dir(dir);
    check_cifar_train(tt::data::load_cifar10(dir.string(), true));
    check_cifar_test(tt::data::load_cifar10(dir.string(), false));
    check_cifar_test(tt::data::load_cifar10(tmp.path.string(), false));  // the parent
    ImageDataset te = tt::data::load_cifar10(dir.string(), false);
    CHECK(te.name == "CIFAR-10 (test)");
    for (float v : te.images) REQUIRE((v >= 0.0f && v <= 1.0f));
}

TEST_CASE("CIFAR-10 reads straight from a .tar.gz, with other entries around") {
    TempDir tmp("datasets");
    std::vector<TarEntry> entries = {{"cifar-10-batches-bin/", {}, '5'},
                                     {"cifar-10-batches-bin/data_batch_4.bin", cifar_batch(5, 4)},
                                     {"cifar-10-batches-bin/readme.html", Bytes(700, 'x')},
                                     {"cifar-10-batches-bin/test_batch.bin", cifar_batch(3, 50)},
                                     {"cifar-10-batches-bin/data_batch_3.bin", cifar_batch(4, 3)},
                                     {"cifar-10-batches-bin/batches.meta.txt", Bytes{'c', 'a', 't', '\n'}},
                                     {"cifar-10-batches-bin/data_batch_2.bin", cifar_batch(3, 2)},
                                     {"cifar-10-batches-bin/data_batch_5.bin", cifar_batch(6, 5)},
                                     {"cifar-10-batches-bin/data_batch_1.bin", cifar_batch(2, 1)}};
    write_gz(tmp.str("cifar-10-binary.tar.gz"), make_tar(entries));
    check_cifar_train(tt::data::load_cifar10(tmp.str("cifar-10-binary.tar.gz"), true));
    check_cifar_test(tt::data::load_cifar10(tmp.str("cifar-10-binary.tar.gz"), false));
    // a directory holding the .tar.gz
    check_cifar_test(tt::data::load_cifar10(tmp.path.string(), false));
    // an uncompressed tar also works (zlib passes it through)
    write_raw(tmp.str("plain.tar"), make_tar(entries));
    check_cifar_test(tt::data::load_cifar10(tmp.str("plain.tar"), false));
}

TEST_CASE("CIFAR-10 errors: missing path with the URL, incomplete, truncated, bad label, not a tar") {
    TempDir tmp("datasets");
    require_dataset_error([&] { tt::data::load_cifar10(tmp.str("nothing-here"), true); },
                          {"nothing-here", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", "--data"});
    require_dataset_error([&] { tt::data::load_cifar10("", true); }, {tt::data::kCifar10Url});
    // a directory without CIFAR
    require_dataset_error([&] { tt::data::load_cifar10(tmp.path.string(), true); },
                          {tmp.path.string(), tt::data::kCifar10Url});

    fs::path dir = tmp.path / "cifar-10-batches-bin";
    write_cifar_dir(dir);
    SECTION("a batch file is missing") {
        fs::remove(dir / "data_batch_3.bin");
        require_dataset_error([&] { tt::data::load_cifar10(dir.string(), true); }, {"data_batch_3.bin", "missing"});
        check_cifar_test(tt::data::load_cifar10(dir.string(), false));  // the test split is still fine
    }
    SECTION("a truncated batch") {
        Bytes b = cifar_batch(3, 50);
        b.resize(b.size() - 100);
        write_raw((dir / "test_batch.bin").string(), b);
        require_dataset_error([&] { tt::data::load_cifar10(dir.string(), false); },
                              {"test_batch.bin", "3073", "truncated"});
    }
    SECTION("a label out of range") {
        Bytes b = cifar_batch(3, 50);
        b[3073] = 12;
        write_raw((dir / "test_batch.bin").string(), b);
        require_dataset_error([&] { tt::data::load_cifar10(dir.string(), false); }, {"label 12", "record 1"});
    }
    SECTION("an archive without the wanted batch") {
        write_gz(tmp.str("partial.tar.gz"), make_tar({{"cifar-10-batches-py/test_batch", cifar_batch(1, 1)}}));
        require_dataset_error([&] { tt::data::load_cifar10(tmp.str("partial.tar.gz"), false); },
                              {"test_batch.bin", "binary version"});
    }
    SECTION("an archive cut short") {
        Bytes tar = make_tar({{"cifar-10-batches-bin/test_batch.bin", cifar_batch(3, 50)}});
        tar.resize(512 + 4000);
        write_gz(tmp.str("cut.tar.gz"), tar);
        require_dataset_error([&] { tt::data::load_cifar10(tmp.str("cut.tar.gz"), false); }, {"truncated"});
    }
    SECTION("a file that is not a tar") {
        write_gz(tmp.str("junk.tar.gz"), Bytes(2000, 'j'));
        require_dataset_error([&] { tt::data::load_cifar10(tmp.str("junk.tar.gz"), false); }, {"not a tar"});
    }
}

TEST_CASE("CIFAR-10 sizes are checked against the format and the file; bombs stop early") {
    TempDir tmp("datasets");
    fs::path dir = tmp.path / "cifar-10-batches-bin";
    write_cifar_dir(dir);
    SECTION("a plain batch larger than 10,000 records is refused from its size") {
        write_raw((dir / "test_batch.bin").string(), {});
        fs::resize_file(dir / "test_batch.bin", uint64_t{40} << 20);  // sparse: nothing written
        require_dataset_error([&] { tt::data::load_cifar10(dir.string(), false); },
                              {"test_batch.bin", "41,943,040 bytes", "longer than a CIFAR-10 batch can be"});
    }
    SECTION("a gzipped batch that inflates without end stops past 10,000 records") {
        write_gz_zeros((dir / "test_batch.bin").string(), {}, uint64_t{64} << 20);  // 64 MiB from ~64 KB
        require_dataset_error([&] { tt::data::load_cifar10(dir.string(), false); },
                              {"test_batch.bin", "longer than a CIFAR-10 batch can be", "30,730,000"});
    }
    const std::string tgz = tmp.str("cifar-10-binary.tar.gz");
    SECTION("a tar entry claiming more than the file can hold") {
        for (uint64_t claim : {uint64_t{2} << 30, uint64_t{8} << 30}) {
            INFO("claim " << claim);
            Bytes tar = tar_header("cifar-10-batches-bin/readme.html", claim);
            tar.resize(tar.size() + 4096, 'x');
            write_gz(tgz, tar);
            require_dataset_error([&] { tt::data::load_cifar10(tgz, false); },
                                  {"readme.html", "claims", "cannot hold that"});
        }
        // A GNU long name of 2 GB, and one merely longer than any path.
        Bytes tar = tar_header("././@LongLink", uint64_t{2} << 30, 'L');
        tar.resize(tar.size() + 4096, 'x');
        write_gz(tgz, tar);
        require_dataset_error([&] { tt::data::load_cifar10(tgz, false); }, {"claims", "cannot hold that"});
        write_gz(tgz, make_tar({{"././@LongLink", Bytes(5000, 'n'), 'L'},
                                {"x", cifar_batch(1, 1)}}));
        require_dataset_error([&] { tt::data::load_cifar10(tgz, false); }, {"long name of 5,000 bytes"});
    }
    SECTION("a tar entry claiming more than the archive can be, in a (sparse) plain file that holds it") {
        Bytes tar = tar_header("cifar-10-batches-bin/filler", uint64_t{300} << 20);
        write_raw(tmp.str("big.tar"), tar);
        fs::resize_file(tmp.path / "big.tar", (uint64_t{301} << 20));
        require_dataset_error([&] { tt::data::load_cifar10(tmp.str("big.tar"), false); },
                              {"filler", "claims 314,572,800", "268,435,456 bytes at most"});
    }
    SECTION("a wanted batch whose size is not whole records is refused before it is read") {
        Bytes tar = tar_header("cifar-10-batches-bin/test_batch.bin", 3073 * 2 + 5);
        tar.resize(tar.size() + 7168, 1);
        write_gz(tgz, tar);
        require_dataset_error([&] { tt::data::load_cifar10(tgz, false); },
                              {"test_batch.bin", "6,151 bytes", "3073-byte records"});
    }
    SECTION("a tar.gz bomb: entries of zeros stop at 256 MiB of output") {
        // 40 entries of 8 MiB zeros (320 MiB from a file of about 330 KB):
        // each header is within what the file could hold, but the 32nd would
        // end past what the archive can be, and is refused unread.
        std::vector<Piece> pieces;
        for (int i = 0; i < 40; ++i)
            pieces.push_back({tar_header("cifar-10-batches-bin/f" + std::to_string(i), uint64_t{8} << 20), uint64_t{8} << 20});
        pieces.push_back({cifar_batch(1, 1), 0});
        write_gz_pieces(tgz, pieces);
        require_dataset_error([&] { tt::data::load_cifar10(tgz, false); },
                              {"cifar-10-binary.tar.gz", "f31 claims 8,388,608 bytes", "268,435,456 bytes at most"});
    }
}

TEST_CASE("find_cifar10: an explicit path, then TINYTORCH_DATA, then <repo>/datasets/cifar10") {
    TempDir tmp("datasets");
    // explicit: returned when it exists, never replaced by another candidate
    CHECK(tt::data::find_cifar10(tmp.path.string()) == tmp.path.string());
    CHECK(tt::data::find_cifar10(tmp.str("missing")).empty());
    CHECK(tt::data::cifar10_candidates(tmp.str("x")) == std::vector<std::string>{tmp.str("x")});

    const char* old = std::getenv("TINYTORCH_DATA");
    std::string saved = old ? old : "";
    setenv("TINYTORCH_DATA", tmp.path.c_str(), 1);
    auto cands = tt::data::cifar10_candidates("");
    REQUIRE(cands.size() == 3);
    CHECK(cands[0] == tmp.str("cifar10"));
    CHECK(cands[1] == tmp.path.string());
    CHECK(cands[2] == std::string(TT_TEST_SOURCE_DIR) + "/datasets/cifar10");
    // TINYTORCH_DATA/cifar10 holding the extracted batches is found
    write_cifar_dir(tmp.path / "cifar10" / "cifar-10-batches-bin");
    CHECK(tt::data::find_cifar10("") == tmp.str("cifar10"));
    check_cifar_test(tt::data::load_cifar10(tt::data::find_cifar10(""), false));
    if (old) setenv("TINYTORCH_DATA", saved.c_str(), 1);
    else unsetenv("TINYTORCH_DATA");

    CHECK(tt::data::cifar10_instructions().find(tt::data::kCifar10Url) != std::string::npos);
}
