#include "datasets/gz_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tinytorch/datasets.hpp"

namespace tt::data::detail {

GzFile::GzFile(const std::string& path) : path_(path) {
    errno = 0;
    f_ = gzopen(path.c_str(), "rb");
    if (f_ == nullptr) {
        std::string why = errno != 0 ? std::strerror(errno) : "zlib could not open it";
        throw DatasetError("cannot open " + path + ": " + why);
    }
    gzbuffer(f_, 1u << 18);  // fewer, larger reads from disk
}

GzFile::~GzFile() {
    if (f_ != nullptr) gzclose(f_);
}

void GzFile::fail_stream(const char* what) const {
    int code = Z_OK;
    const char* msg = gzerror(f_, &code);
    std::string detail = (msg != nullptr && *msg != '\0') ? msg : "unknown zlib error";
    throw DatasetError(path_ + ": " + what + " after " + with_commas(pos_) +
                       " bytes of data (" + detail +
                       "). The file is damaged or was cut short: download it again.");
}

size_t GzFile::read(void* dst, size_t n) {
    auto* out = static_cast<unsigned char*>(dst);
    size_t total = 0;
    while (total < n) {
        unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - total, 1u << 30));
        int got = gzread(f_, out + total, chunk);
        if (got < 0) fail_stream("corrupt gzip stream");
        total += static_cast<size_t>(got);
        pos_ += static_cast<uint64_t>(got);
        if (static_cast<unsigned>(got) < chunk) {
            int code = Z_OK;
            gzerror(f_, &code);
            // Z_BUF_ERROR at the end: the gzip stream stops mid-way.
            if (code != Z_OK) fail_stream("the gzip stream ends early");
            break;
        }
    }
    return total;
}

size_t GzFile::skip(uint64_t n) {
    // gzseek forward decompresses and drops; reading into a scratch buffer
    // does the same and reports a damaged stream the same way as read().
    static thread_local std::vector<uint8_t> scratch(1u << 16);
    uint64_t left = n;
    while (left > 0) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(left, scratch.size()));
        size_t got = read(scratch.data(), want);
        left -= got;
        if (got < want) break;
    }
    return static_cast<size_t>(n - left);
}

std::vector<uint8_t> GzFile::read_all(size_t size_hint) {
    // One spare byte: a file of exactly size_hint bytes ends without a regrow.
    std::vector<uint8_t> buf(std::max<size_t>(size_hint + 1, 1u << 16));
    size_t used = 0;
    for (;;) {
        size_t got = read(buf.data() + used, buf.size() - used);
        used += got;
        if (used < buf.size()) break;
        buf.resize(buf.size() * 2);
    }
    buf.resize(used);
    return buf;
}

std::string with_commas(uint64_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
    return s;
}

}  // namespace tt::data::detail
