// hash.cpp - FNV-1a 64 of library files, and the stamps a grade records.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tinytorch/progress.hpp"

namespace fs = std::filesystem;

namespace tt::progress {

uint64_t fnv1a64(const void* data, size_t size, uint64_t h) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

std::optional<uint64_t> fnv1a64_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    uint64_t h = 0xcbf29ce484222325ull;
    char buf[1 << 16];
    while (in) {
        in.read(buf, sizeof buf);
        h = fnv1a64(buf, static_cast<size_t>(in.gcount()), h);
    }
    if (in.bad()) return std::nullopt;
    return h;
}

std::string hex64(uint64_t h) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

std::string hash_file(const std::string& path) {
    auto h = fnv1a64_file(path);
    return h ? hex64(*h) : std::string();
}

namespace {
std::string library_path_in(const std::string& lib_dir, int module, Variant v) {
    if (lib_dir.empty()) return module_library_path(module, v);
    return (fs::path(lib_dir) / fs::path(module_library_path(module, v)).filename()).string();
}
}  // namespace

std::vector<LibraryStamp> stamp_libraries(int module, const ImplChoice& choice,
                                          const std::string& lib_dir) {
    std::vector<LibraryStamp> out;
    for (int m = 1; m <= module && m <= kModuleCount; ++m) {
        if (choice[m - 1] != Variant::student) continue;
        std::string path = library_path_in(lib_dir, m, Variant::student);
        out.push_back({m, fs::path(path).filename().string(), hash_file(path)});
    }
    return out;
}

Freshness check_fresh(const GradeRecord& record, const std::string& lib_dir) {
    Freshness f;
    if (!record.unverified.empty()) {
        f.fresh = false;
        f.reasons.push_back(record.unverified);
    }
    for (const LibraryStamp& s : record.libraries) {
        std::string path = library_path_in(lib_dir, s.module, Variant::student);
        std::string now = hash_file(path);
        const ModuleInfo& info = module_info(s.module);
        std::string who = "module " + two_digits(s.module) + " (" + info.name + ")";
        if (s.hash.empty()) {
            f.fresh = false;
            f.reasons.push_back(who + ": its student library did not exist when graded");
        } else if (now.empty()) {
            f.fresh = false;
            f.reasons.push_back(who + ": its student library " + path + " no longer exists");
        } else if (now != s.hash) {
            f.fresh = false;
            f.reasons.push_back(who + ": its student library was rebuilt with different code since " +
                                "the grade of " + record.timestamp);
        }
    }
    return f;
}

}  // namespace tt::progress
