#include "datasets/gz_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tinytorch/datasets.hpp"

namespace tt::data::detail {

GzFile::GzFile(const std::string& path) : path_(path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        std::string hint = err == EACCES ? " Check its permissions (it must be readable by you)."
                           : err == ELOOP ? " Fix or remove the symbolic link."
                                          : "";
        throw DatasetError("cannot open " + path + ": " + std::strerror(err) + "." + hint);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        bool dir = S_ISDIR(st.st_mode);
        ::close(fd);
        throw DatasetError("cannot read " + path + ": " +
                           (dir ? "it is a directory, not a data file." : "it is not a regular file."));
    }
    file_size_ = static_cast<uint64_t>(st.st_size);
    f_ = gzdopen(fd, "rb");
    if (f_ == nullptr) {
        ::close(fd);
        throw DatasetError("cannot open " + path + ": zlib could not open it (out of memory?)");
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

bool GzFile::compressed() { return gzdirect(f_) == 0; }

uint64_t GzFile::max_data_bytes() {
    if (!compressed()) return file_size_;
    return file_size_ > UINT64_MAX / kMaxDeflateRatio ? UINT64_MAX : file_size_ * kMaxDeflateRatio;
}

void GzFile::set_limit(uint64_t max_bytes, std::string why) {
    limit_ = max_bytes;
    limit_why_ = std::move(why);
}

size_t GzFile::read(void* dst, size_t n) {
    auto* out = static_cast<unsigned char*>(dst);
    size_t total = 0;
    while (total < n) {
        // Never decompress more than one byte past the limit: that byte is
        // what tells "exactly at the limit" from "over it".
        if (pos_ > limit_) throw DatasetError(path_ + ": " + limit_why_);
        uint64_t room = limit_ == UINT64_MAX ? UINT64_MAX : limit_ - pos_ + 1;
        unsigned chunk = static_cast<unsigned>(std::min<uint64_t>({n - total, 1u << 30, room}));
        int got = gzread(f_, out + total, chunk);
        if (got < 0) fail_stream("corrupt gzip stream");
        total += static_cast<size_t>(got);
        pos_ += static_cast<uint64_t>(got);
        if (pos_ > limit_) throw DatasetError(path_ + ": " + limit_why_);
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

std::vector<uint8_t> GzFile::read_all(uint64_t max_bytes, const std::string& too_long) {
    // Grow by doubling as the data arrives, starting small: memory follows
    // what the file really holds, and stops one byte past max_bytes.
    std::vector<uint8_t> buf(1u << 16);
    size_t used = 0;
    for (;;) {
        size_t got = read(buf.data() + used, buf.size() - used);
        used += got;
        if (used > max_bytes) throw DatasetError(path_ + ": " + too_long);
        if (used < buf.size()) break;
        buf.resize(static_cast<size_t>(std::min<uint64_t>(buf.size() * 2, max_bytes + 1)));
    }
    buf.resize(used);
    return buf;
}

std::string with_commas(uint64_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
    return s;
}

PathProbe probe(const std::string& path) {
    PathProbe p;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        int err = errno;
        if (err == ENOENT || err == ENOTDIR) return p;  // missing (a dangling link too)
        p.kind = PathProbe::error;
        p.why = std::strerror(err);
        return p;
    }
    p.kind = S_ISREG(st.st_mode) ? PathProbe::file : S_ISDIR(st.st_mode) ? PathProbe::directory : PathProbe::other;
    return p;
}

}  // namespace tt::data::detail
