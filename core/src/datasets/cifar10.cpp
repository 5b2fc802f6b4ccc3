// CIFAR-10 binary release: extracted batches or the .tar.gz read as a stream.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

#include "datasets/gz_file.hpp"
#include "tinytorch/datasets.hpp"

namespace fs = std::filesystem;

namespace tt::data {
namespace {

using detail::GzFile;
using detail::with_commas;

constexpr int64_t kSide = 32;
constexpr int64_t kPixels = 3 * kSide * kSide;  // R plane, G plane, B plane
constexpr int64_t kRecord = 1 + kPixels;        // label byte + pixels
constexpr int64_t kFullBatch = 10000 * kRecord;
constexpr const char* kDirName = "cifar-10-batches-bin";
constexpr const char* kTarName = "cifar-10-binary.tar.gz";

std::vector<std::string> batch_names(bool train) {
    if (!train) return {"test_batch.bin"};
    return {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
            "data_batch_5.bin"};
}

// What is at p: missing, a file, a directory, ... A path that cannot be
// looked at (a symlink loop, a folder without permission) is the data-missing
// error, naming the path and the system's reason.
detail::PathProbe::Kind kind_of(const fs::path& p) {
    detail::PathProbe at = detail::probe(p.string());
    if (at.kind == detail::PathProbe::error)
        throw DatasetError("CIFAR-10 not found: cannot access " + p.string() + " (" + at.why +
                           "). Fix the path or its permissions. " + cifar10_instructions());
    return at.kind;
}
bool is_file(const fs::path& p) { return kind_of(p) == detail::PathProbe::file; }
bool is_dir(const fs::path& p) { return kind_of(p) == detail::PathProbe::directory; }

bool holds_batches(const fs::path& dir) {
    return is_file(dir / "test_batch.bin") || is_file(dir / "data_batch_1.bin");
}

// Appends the records of one batch file (already in memory) to ds.
void append_batch(ImageDataset& ds, const std::vector<uint8_t>& bytes, const std::string& source) {
    const int64_t n = static_cast<int64_t>(bytes.size());
    if (n == 0 || n % kRecord != 0)
        throw DatasetError(source + ": truncated or not a CIFAR-10 batch: " + with_commas(bytes.size()) +
                           " bytes is not a whole number of " + std::to_string(kRecord) +
                           "-byte records (a full batch is " + with_commas(kFullBatch) +
                           " bytes). Download " + kTarName + " again from " + kCifar10Url + ".");
    const int64_t records = n / kRecord;
    const size_t base = ds.images.size();
    ds.images.resize(base + static_cast<size_t>(records * kPixels));
    ds.labels.reserve(ds.labels.size() + static_cast<size_t>(records));
    float lut[256];
    for (int v = 0; v < 256; ++v) lut[v] = static_cast<float>(v) / 255.0f;
    for (int64_t r = 0; r < records; ++r) {
        const uint8_t* rec = bytes.data() + r * kRecord;
        if (rec[0] >= 10)
            throw DatasetError(source + ": label " + std::to_string(rec[0]) + " of record " +
                               std::to_string(r) + " is out of range 0..9: the file is corrupt or is "
                               "not from the CIFAR-10 binary version (CIFAR-100 has 2 label bytes).");
        ds.labels.push_back(static_cast<float>(rec[0]));
        // The file already stores each image as CHW planes: a straight conversion.
        float* dst = ds.images.data() + base + static_cast<size_t>(r * kPixels);
        for (int64_t i = 0; i < kPixels; ++i) dst[i] = lut[rec[1 + i]];
    }
    ds.count += records;
}

ImageDataset empty_dataset(bool train) {
    ImageDataset ds;
    ds.channels = 3;
    ds.height = kSide;
    ds.width = kSide;
    ds.num_classes = 10;
    ds.class_names = {"airplane", "automobile", "bird", "cat", "deer",
                      "dog", "frog", "horse", "ship", "truck"};
    ds.name = std::string("CIFAR-10 (") + (train ? "train" : "test") + ")";
    return ds;
}

// Room for `records` more images at once: growing 614 MB of floats batch by
// batch would copy it several times over.
void reserve_records(ImageDataset& ds, size_t records) {
    ds.images.reserve(ds.images.size() + records * static_cast<size_t>(kPixels));
    ds.labels.reserve(ds.labels.size() + records);
}

ImageDataset read_batch_dir(const fs::path& dir, bool train) {
    ImageDataset ds = empty_dataset(train);
    std::vector<std::pair<std::string, std::vector<uint8_t>>> files;
    for (const std::string& name : batch_names(train)) {
        fs::path p = dir / name;
        if (!is_file(p))
            throw DatasetError("CIFAR-10: " + p.string() + " is missing (the directory " + dir.string() +
                               " should hold data_batch_1.bin .. data_batch_5.bin and test_batch.bin). "
                               "Extract " + kTarName + " again, or pass the .tar.gz itself.");
        GzFile f(p.string());
        // A batch has at most 10,000 records: a longer file (or a gzip bomb)
        // is refused as soon as it passes that, before it fills memory.
        const std::string too_long = "longer than a CIFAR-10 batch can be (at most 10,000 records = " +
                                     with_commas(kMaxCifarBatchBytes) + " bytes): not a CIFAR-10 batch. " +
                                     "Extract " + kTarName + " again, or pass the .tar.gz itself.";
        if (!f.compressed() && f.file_size() > kMaxCifarBatchBytes)
            throw DatasetError(p.string() + ": " + with_commas(f.file_size()) + " bytes is " + too_long);
        files.emplace_back(p.string(), f.read_all(kMaxCifarBatchBytes, too_long));
    }
    size_t records = 0;
    for (const auto& [source, bytes] : files) records += bytes.size() / kRecord;
    reserve_records(ds, records);
    for (auto& [source, bytes] : files) {
        append_batch(ds, bytes, source);
        std::vector<uint8_t>().swap(bytes);  // release as we go
    }
    return ds;
}

uint64_t parse_octal(const uint8_t* field, size_t len, const std::string& where) {
    uint64_t v = 0;
    size_t i = 0;
    while (i < len && field[i] == ' ') ++i;
    bool any = false;
    for (; i < len && field[i] >= '0' && field[i] <= '7'; ++i) {
        v = v * 8 + static_cast<uint64_t>(field[i] - '0');
        any = true;
    }
    for (; i < len; ++i)
        if (field[i] != ' ' && field[i] != '\0') any = false;
    if (!any) throw DatasetError(where + ": not a tar archive (bad header field): is it " + kTarName + "?");
    return v;
}

// A NUL-terminated name field; control bytes become '?' (names end up in
// messages printed to a terminal).
std::string field_string(const uint8_t* field, size_t len) {
    size_t n = 0;
    while (n < len && field[n] != '\0') ++n;
    std::string s(reinterpret_cast<const char*>(field), n);
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
    return s;
}

// Reads the wanted batch files out of a (gzip-compressed) ustar archive as a
// stream: headers of 512 bytes, each followed by the file padded to 512.
ImageDataset read_tar(const std::string& path, bool train) {
    const std::vector<std::string> wanted = batch_names(train);
    std::map<std::string, std::vector<uint8_t>> found;
    GzFile f(path);
    // The real archive inflates to 184 MB: stop decompressing well before a
    // bomb could fill memory or take minutes.
    f.set_limit(kMaxCifarTarBytes, "the archive inflates to more than " + with_commas(kMaxCifarTarBytes) +
                                       " bytes, far more than " + kTarName + " (184 MB): it is not CIFAR-10 "
                                       "or it is damaged. Download it again from " + kCifar10Url + ".");
    uint8_t hdr[512];
    std::string long_name;  // from a GNU 'L' entry, names the next entry
    bool any_header = false;
    while (found.size() < wanted.size()) {
        size_t got = f.read(hdr, sizeof hdr);
        if (got == 0) break;  // end of stream without the two zero blocks: accept
        if (got < sizeof hdr)
            throw DatasetError(path + ": truncated tar archive (a header is cut after " +
                               std::to_string(got) + " of 512 bytes). Download it again from " +
                               kCifar10Url + ".");
        bool zero = std::all_of(hdr, hdr + 512, [](uint8_t b) { return b == 0; });
        if (zero) break;  // end-of-archive marker
        // The checksum (header bytes summed with the checksum field as spaces)
        // tells a tar header from anything else.
        uint64_t sum = 0;
        for (int i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? uint64_t{' '} : hdr[i];
        if (parse_octal(hdr + 148, 8, path) != sum)
            throw DatasetError(path + (any_header ? ": corrupt tar header after " + with_commas(f.position()) +
                                                        " bytes. Download it again from " + kCifar10Url + "."
                                                  : std::string(": not a tar archive. Expected ") + kTarName +
                                                        " from " + kCifar10Url + "."));
        any_header = true;
        const uint64_t size = parse_octal(hdr + 124, 12, path);  // <= 12 octal digits: < 2^36
        const uint64_t padded = (size + 511) / 512 * 512;
        const char type = static_cast<char>(hdr[156]);
        std::string name = field_string(hdr, 100);
        // The size a header claims must fit in what the file can still hold
        // and in what the archive can be, before any of it is read.
        const uint64_t end = f.position() + padded;
        if (end > f.max_data_bytes() || end > kMaxCifarTarBytes)
            throw DatasetError(path + ": tar entry " + name + " claims " + with_commas(size) + " bytes, but " +
                               (end > f.max_data_bytes()
                                    ? "a " + std::string(f.compressed() ? "gzip " : "") + "file of " +
                                          with_commas(f.file_size()) + " bytes cannot hold that"
                                    : "the CIFAR-10 archive is " + with_commas(kMaxCifarTarBytes) +
                                          " bytes at most") +
                               ": the archive is corrupt or not CIFAR-10. Download it again from " + kCifar10Url +
                               ".");
        if (!long_name.empty()) {
            name = long_name;
            long_name.clear();
        } else if (std::memcmp(hdr + 257, "ustar", 5) == 0 && hdr[345] != 0) {
            name = field_string(hdr + 345, 155) + "/" + name;
        }
        if (type == 'L') {
            if (size > 4096)  // PATH_MAX: a longer name is no file name
                throw DatasetError(path + ": corrupt tar archive: a GNU long name of " + with_commas(size) +
                                   " bytes (a path is at most 4096). Download it again from " + kCifar10Url + ".");
            std::vector<uint8_t> data(padded);
            if (f.read(data.data(), padded) < padded)
                throw DatasetError(path + ": truncated tar archive. Download it again from " + kCifar10Url + ".");
            long_name = field_string(data.data(), static_cast<size_t>(size));
            continue;
        }
        std::string base = fs::path(name).filename().string();
        bool want = (type == '0' || type == '\0') &&
                    std::find(wanted.begin(), wanted.end(), base) != wanted.end() && !found.count(base);
        if (want && (size == 0 || size > kMaxCifarBatchBytes || size % kRecord != 0))
            throw DatasetError(path + ":" + name + ": truncated or not a CIFAR-10 batch: " + with_commas(size) +
                               " bytes is not a whole number of " + std::to_string(kRecord) +
                               "-byte records from 1 to 10,000 (a full batch is " + with_commas(kFullBatch) +
                               " bytes). Download " + kTarName + " again from " + kCifar10Url + ".");
        if (want) {
            std::vector<uint8_t> data(static_cast<size_t>(size));
            size_t n = f.read(data.data(), data.size());
            if (n < size)
                throw DatasetError(path + ": truncated tar archive: " + name + " should have " +
                                   with_commas(size) + " bytes, got " + with_commas(n) +
                                   ". Download it again from " + kCifar10Url + ".");
            f.skip(padded - size);
            found.emplace(base, std::move(data));
        } else if (f.skip(padded) < padded) {
            throw DatasetError(path + ": truncated tar archive: " + name + " is cut short. Download it again from " +
                               kCifar10Url + ".");
        }
    }
    ImageDataset ds = empty_dataset(train);
    size_t records = 0;
    for (const auto& [name, bytes] : found) records += bytes.size() / kRecord;
    reserve_records(ds, records);
    for (const std::string& name : wanted) {
        auto it = found.find(name);
        if (it == found.end())
            throw DatasetError(path + ": the archive has no " + kDirName + "/" + name +
                               ". Is it the binary version (" + kTarName + ", not the python or matlab one)? "
                               "Get it from " + kCifar10Url + ".");
        append_batch(ds, it->second, path + ":" + name);
        std::vector<uint8_t>().swap(it->second);  // release as we go
    }
    return ds;
}

// A candidate that cannot be looked at counts as found: load_cifar10 then
// says why it cannot be read, instead of a bare "not found".
bool looks_like_cifar10(const fs::path& p) {
    try {
        if (is_file(p)) return true;
        if (!is_dir(p)) return false;
        return holds_batches(p) || holds_batches(p / kDirName) || is_file(p / kTarName);
    } catch (const DatasetError&) {
        return true;
    }
}

}  // namespace

std::string cifar10_instructions() {
    const std::string repo_dir = (fs::path(TT_SOURCE_DIR) / "datasets" / "cifar10").string();
    return std::string("CIFAR-10 does not ship with TinyTorch (163 MB). Download the binary version from ") +
           kCifar10Url + " and either put " + kTarName + " (no need to extract it) in " + repo_dir +
           "/, or pass its path with --data PATH (the .tar.gz, the extracted " + kDirName +
           "/ directory, or a directory holding either), or set TINYTORCH_DATA to such a directory.";
}

ImageDataset load_cifar10(const std::string& path, bool train) {
    fs::path p(path);
    if (path.empty() || kind_of(p) == detail::PathProbe::missing)
        throw DatasetError("CIFAR-10 not found" + (path.empty() ? std::string() : " at " + path) + ". " +
                           cifar10_instructions());
    if (!is_dir(p)) return read_tar(p.string(), train);
    if (holds_batches(p)) return read_batch_dir(p, train);
    if (holds_batches(p / kDirName)) return read_batch_dir(p / kDirName, train);
    if (is_file(p / kTarName)) return read_tar((p / kTarName).string(), train);
    throw DatasetError("CIFAR-10 not found in " + path + ": it holds neither data_batch_*.bin/test_batch.bin, nor " +
                       kDirName + "/, nor " + kTarName + ". " + cifar10_instructions());
}

std::vector<std::string> cifar10_candidates(const std::string& cli_path) {
    if (!cli_path.empty()) return {cli_path};
    std::vector<std::string> out;
    if (const char* env = std::getenv("TINYTORCH_DATA"); env != nullptr && *env != '\0') {
        out.push_back((fs::path(env) / "cifar10").string());
        out.push_back(env);
    }
    out.push_back((fs::path(TT_SOURCE_DIR) / "datasets" / "cifar10").string());
    return out;
}

std::string find_cifar10(const std::string& cli_path) {
    // An explicit path that exists, or that cannot be looked at (the loader
    // then says why), is the answer; only a missing one is "not found".
    if (!cli_path.empty()) return detail::probe(cli_path).kind == detail::PathProbe::missing ? std::string() : cli_path;
    for (const std::string& c : cifar10_candidates(cli_path))
        if (looks_like_cifar10(c)) return c;
    return {};
}

}  // namespace tt::data
