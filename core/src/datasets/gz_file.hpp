// gz_file.hpp - internal to the dataset readers: buffered reading of a file
// through zlib, which decompresses gzip and passes plain files through
// unchanged, so every reader accepts both; and filesystem probes that never
// throw std::filesystem errors.
//
// Sizes are never trusted: a header that claims N bytes is checked against
// what the file can hold before anything is allocated (max_data_bytes()), and
// a reader caps how much it decompresses (set_limit()), so a decompression
// bomb stops as soon as its output exceeds what the data set can be.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tt::data::detail {

// Deflate's best case is 258 bytes from 2 bits per literal-length code, a
// little over 1032:1; every gzip member also has an 18-byte frame. So a gzip
// file of C bytes decompresses to at most about 1032 * C bytes.
inline constexpr uint64_t kMaxDeflateRatio = 1033;

class GzFile {
public:
    // Opens path for reading; throws DatasetError when it cannot (missing,
    // unreadable, not a regular file).
    explicit GzFile(const std::string& path);
    ~GzFile();
    GzFile(const GzFile&) = delete;
    GzFile& operator=(const GzFile&) = delete;

    // Reads up to n bytes into dst; returns how many were read (fewer only at
    // the end of the data). Throws DatasetError on a corrupt or cut gzip
    // stream, or when the data passes the limit.
    size_t read(void* dst, size_t n);
    // Skips n bytes; returns how many were skipped (fewer only at the end).
    size_t skip(uint64_t n);
    // Everything from the current position to the end, growing as data
    // arrives (never presized from a claim); throws once it passes max_bytes.
    std::vector<uint8_t> read_all(uint64_t max_bytes, const std::string& too_long);
    // Bytes of (decompressed) data consumed so far.
    uint64_t position() const { return pos_; }
    const std::string& path() const { return path_; }

    // Size of the file on disk, and whether it is gzip (false: read as is).
    uint64_t file_size() const { return file_size_; }
    bool compressed();
    // The most (decompressed) data the file can hold: its size when plain,
    // kMaxDeflateRatio times its size when gzip.
    uint64_t max_data_bytes();

    // Reading past max_bytes of data throws DatasetError("<path>: " + why).
    void set_limit(uint64_t max_bytes, std::string why);

private:
    [[noreturn]] void fail_stream(const char* what) const;
    gzFile f_ = nullptr;
    std::string path_;
    uint64_t pos_ = 0;
    uint64_t file_size_ = 0;
    uint64_t limit_ = UINT64_MAX;
    std::string limit_why_;
};

// "1,234,567"
std::string with_commas(uint64_t n);

// What is at a path, following symbolic links, without throwing: a symlink
// loop, a folder that cannot be searched and the like give kind == error and
// why == the system's message ("Too many levels of symbolic links").
struct PathProbe {
    enum Kind { missing, file, directory, other, error } kind = missing;
    std::string why;
};
PathProbe probe(const std::string& path);

}  // namespace tt::data::detail
