// fuzz_readers.cpp - a mutation fuzzer for what reads untrusted files: the
// IDX and CIFAR-10 readers (raw, gzip, batch directory, tar, tar.gz) and the
// progress store with its gate.
//
// Inputs come from a generator with a fixed seed: small valid files (a few
// IDX images, a few CIFAR records, a tar with a long name, a signed store)
// mutated by bit flips, interesting bytes and 32-bit values, big octal sizes,
// inserted, deleted and duplicated runs, truncation, and for gzip either the
// content before compression or the compressed bytes. Every input must end
// in success or a tt::data::DatasetError (readers), or load without throwing
// and never unlock the gate with a record that differs from the one tito
// signed (store). Any other exception is a failure; memory errors and
// undefined behaviour are the sanitizers' to find (the `asan` preset).
//
//   tt_fuzz_readers [--runs N] [--seed S] [--out DIR]   generate and run
//   tt_fuzz_readers --replay TARGET FILE                one saved input again
//
// A failing input is saved as DIR/fail-<run>-<target> (DIR: --out, else the
// current directory) with the command that replays it.
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "common/temp_dir.hpp"
#include "tinytorch/datasets.hpp"
#include "tinytorch/progress.hpp"

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

namespace {

// ---------------------------------------------------------------- randomness
// splitmix64: the same sequence on every platform and standard library.
struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
    bool chance(int percent) { return below(100) < static_cast<size_t>(percent); }
};

// ---------------------------------------------------------------- seeds

void put_be32(Bytes& b, uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

Bytes idx_images(uint32_t n, uint32_t h, uint32_t w) {
    Bytes b;
    put_be32(b, 0x803);
    put_be32(b, n);
    put_be32(b, h);
    put_be32(b, w);
    for (uint32_t i = 0; i < n * h * w; ++i) b.push_back(static_cast<uint8_t>(i * 37 % 256));
    return b;
}

Bytes idx_labels(uint32_t n) {
    Bytes b;
    put_be32(b, 0x801);
    put_be32(b, n);
    for (uint32_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(i % 10));
    return b;
}

Bytes cifar_batch(int records) {
    Bytes b;
    for (int i = 0; i < records; ++i) {
        b.push_back(static_cast<uint8_t>(i % 10));
        for (int j = 0; j < 3072; ++j) b.push_back(static_cast<uint8_t>((i * 13 + j) % 256));
    }
    return b;
}

Bytes tar_header(const std::string& name, uint64_t size, char type) {
    Bytes h(512, 0);
    std::memcpy(h.data(), name.data(), std::min<size_t>(name.size(), 100));
    std::snprintf(reinterpret_cast<char*>(h.data() + 100), 8, "%07o", 0644);
    std::snprintf(reinterpret_cast<char*>(h.data() + 124), 12, "%011llo", static_cast<unsigned long long>(size));
    h[156] = static_cast<uint8_t>(type);
    std::memcpy(h.data() + 257, "ustar", 6);
    std::memset(h.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (uint8_t c : h) sum += c;
    std::snprintf(reinterpret_cast<char*>(h.data() + 148), 8, "%06o", sum);
    return h;
}

void add_entry(Bytes& t, const std::string& name, const Bytes& data, char type = '0') {
    Bytes h = tar_header(name, data.size(), type);
    t.insert(t.end(), h.begin(), h.end());
    t.insert(t.end(), data.begin(), data.end());
    t.resize((t.size() + 511) / 512 * 512, 0);
}

Bytes cifar_tar() {
    Bytes t;
    add_entry(t, "cifar-10-batches-bin/readme.html", Bytes(300, 'r'));
    std::string long_name = "cifar-10-batches-bin/" + std::string(120, 'd') + "/test_batch.bin";
    add_entry(t, "././@LongLink", Bytes(long_name.begin(), long_name.end()), 'L');
    add_entry(t, "x", cifar_batch(1));
    add_entry(t, "cifar-10-batches-bin/test_batch.bin", cifar_batch(2));
    t.resize(t.size() + 1024, 0);
    return t;
}

Bytes gzip(const Bytes& data, int level) {
    z_stream z{};
    deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    Bytes out(deflateBound(&z, static_cast<uLong>(data.size())) + 64);
    z.next_in = const_cast<uint8_t*>(data.data());
    z.avail_in = static_cast<unsigned>(data.size());
    z.next_out = out.data();
    z.avail_out = static_cast<unsigned>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    return out;
}

// ---------------------------------------------------------------- mutations

void mutate_once(Bytes& b, Rng& r) {
    static const uint32_t kInteresting32[] = {0, 1, 2, 3, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x10000,
                                              0x40000000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x801, 0x803,
                                              3073, 10000, 60000};
    static const char* kOctal[] = {"77777777777", "17777777777", "00000000000", "00000001000",
                                   "20000000000", "00000000001", "7777777777777"};
    if (b.empty()) {
        b.push_back(static_cast<uint8_t>(r.next()));
        return;
    }
    const size_t at = r.below(b.size());
    switch (r.below(9)) {
        case 0: b[at] ^= static_cast<uint8_t>(1u << r.below(8)); break;
        case 1: b[at] = static_cast<uint8_t>(r.chance(50) ? (r.chance(50) ? 0 : 0xFF) : r.next()); break;
        case 2: {  // a big-endian 32-bit field
            uint32_t v = kInteresting32[r.below(std::size(kInteresting32))];
            for (int k = 0; k < 4 && at + static_cast<size_t>(k) < b.size(); ++k)
                b[at + static_cast<size_t>(k)] = static_cast<uint8_t>(v >> (24 - 8 * k));
            break;
        }
        case 3: {  // a tar size field: at a header's size offset when one is near
            size_t where = at / 512 * 512 + 124;
            const char* o = kOctal[r.below(std::size(kOctal))];
            for (size_t k = 0; o[k] && where + k < b.size(); ++k) b[where + k] = static_cast<uint8_t>(o[k]);
            break;
        }
        case 4: b.insert(b.begin() + static_cast<long>(at), r.below(16) + 1, static_cast<uint8_t>(r.next())); break;
        case 5: b.erase(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(std::min(b.size(), at + r.below(64) + 1))); break;
        case 6: b.resize(at); break;  // truncate
        case 7: {  // duplicate a run
            size_t len = std::min(b.size() - at, r.below(600) + 1);
            Bytes run(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + len));
            b.insert(b.begin() + static_cast<long>(r.below(b.size())), run.begin(), run.end());
            break;
        }
        default: {  // a digit in text (octal fields, JSON numbers)
            b[at] = static_cast<uint8_t>('0' + r.below(10));
            break;
        }
    }
}

Bytes mutated(Bytes b, Rng& r) {
    size_t n = 1 + r.below(4);
    for (size_t i = 0; i < n; ++i) mutate_once(b, r);
    return b;
}

// Mutate the content, then maybe compress it; or compress, then mutate the
// compressed bytes.
Bytes mutated_maybe_gz(const Bytes& seed, Rng& r) {
    switch (r.below(3)) {
        case 0: return mutated(seed, r);
        case 1: return gzip(mutated(seed, r), 1 + static_cast<int>(r.below(9)));
        default: return mutated(gzip(seed, 6), r);
    }
}

void write_file(const fs::path& p, const Bytes& b) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

Bytes read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), {});
}

// ---------------------------------------------------------------- targets

const char* const kTargets[] = {"idx-images", "idx-labels", "cifar-batch", "cifar-tar", "store"};

std::string g_dataset_error;  // the message of the last DatasetError (for --replay)

// What a target does with one input (already in `input`), in dir. Returns ""
// when the outcome is allowed, else what went wrong.
std::string run_target(const std::string& target, const Bytes& input, const fs::path& dir) {
    try {
        if (target == "idx-images" || target == "idx-labels") {
            const bool images = target == "idx-images";
            write_file(dir / "img", images ? input : gzip(idx_images(5, 4, 3), 6));
            write_file(dir / "lbl", images ? idx_labels(5) : input);
            tt::data::ImageDataset ds = tt::data::read_idx_images_labels((dir / "img").string(), (dir / "lbl").string(), 255.0f);
            if (ds.images.size() != static_cast<size_t>(ds.count * ds.image_size()) ||
                ds.labels.size() != static_cast<size_t>(ds.count))
                return "a dataset whose sizes disagree";
        } else if (target == "cifar-batch") {
            fs::create_directories(dir / "cifar-10-batches-bin");
            write_file(dir / "cifar-10-batches-bin" / "test_batch.bin", input);
            tt::data::ImageDataset ds = tt::data::load_cifar10((dir / "cifar-10-batches-bin").string(), false);
            if (ds.images.size() != static_cast<size_t>(ds.count * 3072)) return "a dataset whose sizes disagree";
        } else if (target == "cifar-tar") {
            write_file(dir / "cifar-10-binary.tar.gz", input);
            tt::data::ImageDataset ds = tt::data::load_cifar10((dir / "cifar-10-binary.tar.gz").string(), false);
            if (ds.images.size() != static_cast<size_t>(ds.count * 3072)) return "a dataset whose sizes disagree";
        } else {
            // The store: `dir` holds progress.json signed by tito and its key;
            // the input replaces the store's text.
            namespace progress = tt::progress;
            const std::string path = (dir / "progress.json").string();
            auto signed_record = progress::load(path).find(9, progress::Mode::integrated);
            if (!signed_record || !signed_record->unverified.empty()) return "the seed store does not verify";
            write_file(path, input);
            std::streambuf* old = std::cerr.rdbuf(nullptr);  // warnings about corrupt stores
            progress::Store s = progress::load(path);
            progress::GateStatus g = progress::gate_status(9, s, (dir / "lib").string());
            std::cerr.rdbuf(old);
            if (g.unlocked) {
                // Only a record equal to the signed one may unlock.
                const progress::GradeRecord& a = *g.record;
                const progress::GradeRecord& b = *signed_record;
                bool same = a.score == b.score && a.max_score == b.max_score && a.passed_all == b.passed_all &&
                            a.cases == b.cases && a.passed == b.passed && a.time == b.time &&
                            a.timestamp == b.timestamp && a.impl == b.impl && a.libraries.size() == b.libraries.size();
                for (size_t i = 0; same && i < a.libraries.size(); ++i)
                    same = a.libraries[i].hash == b.libraries[i].hash && a.libraries[i].module == b.libraries[i].module;
                if (!same) return "an edited record unlocked the gate";
            }
        }
    } catch (const tt::data::DatasetError& e) {
        g_dataset_error = e.what();
        if (target == "store") return "a DatasetError from the store";
    } catch (const std::exception& e) {
        return std::string("an exception other than DatasetError: ") + e.what();
    } catch (...) {
        return "a non-standard exception";
    }
    return "";
}

// The seed of a target (for the store: also sets up dir with a signed store).
Bytes seed_for(const std::string& target, const fs::path& dir) {
    if (target == "idx-images") return idx_images(5, 4, 3);
    if (target == "idx-labels") return idx_labels(5);
    if (target == "cifar-batch") return cifar_batch(3);
    if (target == "cifar-tar") return cifar_tar();
    namespace progress = tt::progress;
    tt::ImplChoice student;
    student.fill(tt::Variant::student);
    fs::create_directories(dir / "lib");
    for (int m = 1; m <= 9; ++m)
        write_file(dir / "lib" / ("tt_" + std::string(tt::module_info(m).dir) + "_student.so"), Bytes(10, static_cast<uint8_t>(m)));
    progress::GradeRecord r;
    r.module = 9;
    r.mode = progress::Mode::integrated;
    r.score = r.max_score = 30;
    r.cases = r.passed = 10;
    r.passed_all = true;
    r.timestamp = progress::now_iso8601(&r.time);
    r.impl = "student";
    r.libraries = progress::stamp_libraries(9, student, (dir / "lib").string());
    progress::record_grade(r, (dir / "progress.json").string());
    return read_file(dir / "progress.json");
}

int usage() {
    std::fprintf(stderr,
                 "usage: tt_fuzz_readers [--runs N] [--seed S] [--out DIR]\n"
                 "       tt_fuzz_readers --replay TARGET FILE   (TARGET: idx-images idx-labels cifar-batch cifar-tar store)\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    long runs = 300;
    uint64_t seed = 14;
    std::string out_dir = ".", replay_target, replay_file;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--runs") runs = std::atol(value().c_str());
        else if (a == "--seed") seed = std::strtoull(value().c_str(), nullptr, 10);
        else if (a == "--out") out_dir = value();
        else if (a == "--replay") {
            replay_target = value();
            replay_file = value();
        } else return usage();
    }
    if (runs < 1 && replay_target.empty()) return usage();

    tt_test::TempDir tmp("fuzz");
    if (!replay_target.empty()) {
        if (std::find(std::begin(kTargets), std::end(kTargets), replay_target) == std::end(kTargets)) return usage();
        fs::path dir = tmp.path / "replay";
        fs::create_directories(dir);
        seed_for(replay_target, dir);
        std::string bad = run_target(replay_target, read_file(replay_file), dir);
        std::printf("%s: %s\n", replay_file.c_str(),
                    !bad.empty() ? bad.c_str()
                    : g_dataset_error.empty() ? "fine (read)"
                                              : ("fine (DatasetError: " + g_dataset_error + ")").c_str());
        return bad.empty() ? 0 : 1;
    }

    Rng rng{seed};
    int failures = 0;
    std::map<std::string, std::map<std::string, int>> outcomes;  // target -> "read"/"refused" -> count
    double slowest = 0;
    std::string slowest_what;
    for (long run = 0; run < runs; ++run) {
        const std::string target = kTargets[run % std::size(kTargets)];
        fs::path dir = tmp.path / ("run-" + std::to_string(run));
        fs::create_directories(dir);
        Bytes input = target == "store" ? mutated(seed_for(target, dir), rng) : mutated_maybe_gz(seed_for(target, dir), rng);
        auto t0 = std::chrono::steady_clock::now();
        g_dataset_error.clear();
        std::string bad = run_target(target, input, dir);
        outcomes[target][!bad.empty() ? "failed" : g_dataset_error.empty() ? "read" : "refused"]++;
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (seconds > slowest) slowest = seconds, slowest_what = target + " run " + std::to_string(run);
        if (!bad.empty()) {
            ++failures;
            fs::path saved = fs::path(out_dir) / ("fail-" + std::to_string(run) + "-" + target);
            write_file(saved, input);
            std::printf("FAIL run %ld (%s): %s\n  input saved: %s\n  replay: tt_fuzz_readers --replay %s %s\n", run,
                        target.c_str(), bad.c_str(), saved.c_str(), target.c_str(), saved.c_str());
        }
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    for (const auto& [target, counts] : outcomes) {
        std::printf("  %-12s", target.c_str());
        for (const auto& [what, n] : counts) std::printf(" %s %d", what.c_str(), n);
        std::printf("\n");
    }
    std::printf("%ld inputs (seed %llu), %d failures; slowest %.3f s (%s)\n", runs,
                static_cast<unsigned long long>(seed), failures, slowest, slowest_what.c_str());
    return failures == 0 ? 0 : 1;
}
