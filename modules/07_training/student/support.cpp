// support.cpp - plumbing for the rest of module 07: message formatting, and
// bytes and files for checkpoints (little-endian encoding, bounds-checked
// reading, atomic writing). Nothing to implement here.
//
// Atomic writing: the bytes go to a temporary file in the same directory,
// which is flushed to disk (fsync) and then renamed over the target. A rename
// within one file system replaces the target in one step, so a crash leaves
// either the old checkpoint or the new one, never half of one.
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "training_internal.hpp"

namespace train {

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

std::string shape_str(int32_t ndim, const int64_t* shape) {
    std::string s = "[";
    for (int32_t i = 0; i < ndim; ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

const char k_checkpoint_magic[8] = {'T', 'T', 'C', 'K', 'P', 'T', '\0', '\0'};

void ByteWriter::raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes.insert(bytes.end(), b, b + n);
}

void ByteWriter::u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void ByteWriter::i64(int64_t v) {
    const auto u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(u >> (8 * i)));
}

void ByteWriter::f32s(const float* data, int64_t n) {
    if constexpr (std::endian::native == std::endian::little) {
        if (n > 0) raw(data, static_cast<size_t>(n) * sizeof(float));
    } else {
        for (int64_t k = 0; k < n; ++k) u32(std::bit_cast<uint32_t>(data[k]));
    }
}

bool ByteReader::u32(uint32_t* v) {
    if (left() < 4) return false;
    uint32_t u = 0;
    for (int i = 0; i < 4; ++i) u |= static_cast<uint32_t>(data[pos + i]) << (8 * i);
    *v = u;
    pos += 4;
    return true;
}

bool ByteReader::i64(int64_t* v) {
    if (left() < 8) return false;
    uint64_t u = 0;
    for (int i = 0; i < 8; ++i) u |= static_cast<uint64_t>(data[pos + i]) << (8 * i);
    *v = static_cast<int64_t>(u);
    pos += 8;
    return true;
}

bool ByteReader::skip(size_t n, const uint8_t** at) {
    if (left() < n) return false;
    *at = data + pos;
    pos += n;
    return true;
}

void read_f32s(const uint8_t* src, int64_t n, float* dst) {
    if constexpr (std::endian::native == std::endian::little) {
        if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
    } else {
        for (int64_t k = 0; k < n; ++k) {
            uint32_t u = 0;
            for (int i = 0; i < 4; ++i) u |= static_cast<uint32_t>(src[4 * k + i]) << (8 * i);
            dst[k] = std::bit_cast<float>(u);
        }
    }
}

namespace {

std::string io_error(const std::string& what, const std::string& path) {
    return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

tt_status write_file_atomic(const char* fn, const std::string& path, const std::vector<uint8_t>& bytes) {
    std::string tmpl = path + ".tmp-XXXXXX";
    std::vector<char> tmp(tmpl.begin(), tmpl.end());
    tmp.push_back('\0');
    int fd = ::mkstemp(tmp.data());
    if (fd < 0) return ttm::fail(TT_IO_ERROR, fn, io_error("cannot create a temporary file next to", path));
    auto give_up = [&](const std::string& what) {
        std::string msg = io_error(what, path);  // before close/unlink change errno
        if (fd >= 0) ::close(fd);
        ::unlink(tmp.data());
        return ttm::fail(TT_IO_ERROR, fn, msg);
    };
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            return give_up("cannot write checkpoint");
        }
        done += static_cast<size_t>(w);
    }
    ::fchmod(fd, 0644);  // mkstemp creates the file 0600; a checkpoint is an ordinary file
    if (::fsync(fd) != 0) return give_up("cannot flush checkpoint");
    const int rc = ::close(fd);
    fd = -1;
    if (rc != 0) return give_up("cannot close checkpoint");
    if (std::rename(tmp.data(), path.c_str()) != 0) return give_up("cannot rename the temporary file onto");
    // Make the rename itself durable (best effort: some file systems refuse).
    const size_t slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return TT_OK;
}

tt_status read_file(const char* fn, const std::string& path, std::vector<uint8_t>* out) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return ttm::fail(TT_IO_ERROR, fn, io_error("cannot open checkpoint", path));
    out->clear();
    std::vector<uint8_t> buf(1 << 16);
    for (;;) {
        const ssize_t r = ::read(fd, buf.data(), buf.size());
        if (r < 0) {
            if (errno == EINTR) continue;
            std::string msg = io_error("cannot read checkpoint", path);
            ::close(fd);
            return ttm::fail(TT_IO_ERROR, fn, msg);
        }
        if (r == 0) break;
        out->insert(out->end(), buf.begin(), buf.begin() + r);
    }
    ::close(fd);
    return TT_OK;
}

}  // namespace train
