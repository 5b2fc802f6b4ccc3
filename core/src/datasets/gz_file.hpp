// gz_file.hpp - internal to the dataset readers: buffered reading of a file
// through zlib, which decompresses gzip and passes plain files through
// unchanged, so every reader accepts both.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tt::data::detail {

class GzFile {
public:
    // Opens path for reading; throws DatasetError when it cannot.
    explicit GzFile(const std::string& path);
    ~GzFile();
    GzFile(const GzFile&) = delete;
    GzFile& operator=(const GzFile&) = delete;

    // Reads up to n bytes into dst; returns how many were read (fewer only at
    // the end of the data). Throws DatasetError on a corrupt or cut gzip stream.
    size_t read(void* dst, size_t n);
    // Skips n bytes; returns how many were skipped (fewer only at the end).
    size_t skip(uint64_t n);
    // Everything from the current position to the end; size_hint presizes.
    std::vector<uint8_t> read_all(size_t size_hint = 0);
    // Bytes of (decompressed) data consumed so far.
    uint64_t position() const { return pos_; }
    const std::string& path() const { return path_; }

private:
    [[noreturn]] void fail_stream(const char* what) const;
    gzFile f_ = nullptr;
    std::string path_;
    uint64_t pos_ = 0;
};

// "1,234,567"
std::string with_commas(uint64_t n);

}  // namespace tt::data::detail
