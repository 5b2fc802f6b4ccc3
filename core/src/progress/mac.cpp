// mac.cpp - what binds a recorded grade to the grader: SHA-256 (FIPS 180-4),
// HMAC-SHA256 (RFC 2104) and the per-checkout secret key it is keyed with.
//
// tito signs every record it writes with HMAC-SHA256(key, record) and checks
// the signature whenever it reads one. The key is 32 random bytes from the
// kernel (getrandom), stored as hex in <store>.key, a file of mode 0600 that
// only tito's user can read: the grading children (another user when tito
// runs as root) and a hand edit of progress.json cannot produce a valid
// signature without it.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tinytorch/progress.hpp"

namespace fs = std::filesystem;

namespace tt::progress {

// ---------------------------------------------------------------- SHA-256
//
// The message is padded to a multiple of 64 bytes (a 1 bit, zeros, the bit
// length as a big-endian 64-bit number) and each 64-byte block updates the
// eight 32-bit words of state with 64 rounds:
//   W[t] = block word t (t < 16), else s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]
//   T1 = h + S1(e) + Ch(e,f,g) + K[t] + W[t];  T2 = S0(a) + Maj(a,b,c)
//   (a..h) = (T1+T2, a, b, c, d+T1, e, f, g)
namespace {

constexpr uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

struct Sha256 {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    uint8_t block[64] = {};
    size_t used = 0;      // bytes in block
    uint64_t total = 0;   // bytes hashed

    void compress(const uint8_t* p) {
        uint32_t w[64];
        for (int t = 0; t < 16; ++t)
            w[t] = (uint32_t{p[4 * t]} << 24) | (uint32_t{p[4 * t + 1]} << 16) | (uint32_t{p[4 * t + 2]} << 8) |
                   uint32_t{p[4 * t + 3]};
        for (int t = 16; t < 64; ++t) {
            uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (int t = 0; t < 64; ++t) {
            uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
            uint32_t ch = (e & f) ^ (~e & g);
            uint32_t t1 = hh + S1 + ch + kK[t] + w[t];
            uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
            uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
            uint32_t t2 = S0 + maj;
            hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
    }

    void update(const void* data, size_t n) {
        const auto* p = static_cast<const uint8_t*>(data);
        total += n;
        while (n > 0) {
            size_t take = std::min(n, sizeof block - used);
            std::memcpy(block + used, p, take);
            used += take, p += take, n -= take;
            if (used == sizeof block) {
                compress(block);
                used = 0;
            }
        }
    }

    Digest finish() {
        const uint64_t bits = total * 8;
        const uint8_t one = 0x80, zero = 0;
        update(&one, 1);
        while (used != 56) update(&zero, 1);
        uint8_t len[8];
        for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
        update(len, 8);
        Digest out;
        for (int i = 0; i < 8; ++i)
            for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<uint8_t>(h[i] >> (24 - 8 * j));
        return out;
    }
};

}  // namespace

Digest sha256(const void* data, size_t size) {
    Sha256 s;
    s.update(data, size);
    return s.finish();
}

// HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)), K' = K zero-padded to
// the 64-byte block (or H(K) when K is longer than a block).
Digest hmac_sha256(const void* key, size_t key_size, const void* data, size_t size) {
    uint8_t k[64] = {};
    if (key_size > sizeof k) {
        Digest hk = sha256(key, key_size);
        std::memcpy(k, hk.data(), hk.size());
    } else if (key_size > 0) {
        std::memcpy(k, key, key_size);
    }
    uint8_t pad[64];
    for (int i = 0; i < 64; ++i) pad[i] = k[i] ^ 0x36;
    Sha256 inner;
    inner.update(pad, sizeof pad);
    inner.update(data, size);
    Digest ih = inner.finish();
    for (int i = 0; i < 64; ++i) pad[i] = k[i] ^ 0x5c;
    Sha256 outer;
    outer.update(pad, sizeof pad);
    outer.update(ih.data(), ih.size());
    return outer.finish();
}

std::string hex_bytes(const void* data, size_t size) {
    static const char* digits = "0123456789abcdef";
    const auto* p = static_cast<const uint8_t*>(data);
    std::string s;
    for (size_t i = 0; i < size; ++i) {
        s += digits[p[i] >> 4];
        s += digits[p[i] & 15];
    }
    return s;
}

bool equal_in_constant_time(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    unsigned diff = 0;
    for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

// ---------------------------------------------------------------- the key

std::string key_path(const std::string& store_path) { return store_path + ".key"; }

namespace {

constexpr size_t kKeyBytes = 32;

void random_bytes(uint8_t* out, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t got = ::getrandom(out + done, n - done, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            break;  // no getrandom (very old kernel): /dev/urandom below
        }
        done += static_cast<size_t>(got);
    }
    if (done == n) return;
    int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    while (fd >= 0 && done < n) {
        ssize_t got = ::read(fd, out + done, n - done);
        if (got <= 0 && errno != EINTR) break;
        if (got > 0) done += static_cast<size_t>(got);
    }
    if (fd >= 0) ::close(fd);
    if (done < n) throw std::runtime_error("cannot get random bytes for the progress key: " + std::string(std::strerror(errno)));
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// Writes a fresh key as a whole: a private temporary file (O_EXCL |
// O_NOFOLLOW, mode 0600) linked into place, so no reader ever sees a partial
// key, and of two tito runs creating it at once one wins and both use it.
void create_key(const std::string& path) {
    fs::path dir = fs::path(path).parent_path();
    std::error_code ec;
    if (!dir.empty()) fs::create_directories(dir, ec);
    uint8_t key[kKeyBytes], tag[4];
    random_bytes(key, sizeof key);
    random_bytes(tag, sizeof tag);
    const std::string text = hex_bytes(key, sizeof key) + "\n";
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + hex_bytes(tag, sizeof tag);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        throw std::runtime_error("cannot create the progress key " + tmp + ": " + std::strerror(errno));
    bool ok = ::fchmod(fd, 0600) == 0;  // whatever the umask
    for (size_t done = 0; ok && done < text.size();) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) done += static_cast<size_t>(n);
    }
    ok = ok && ::fsync(fd) == 0;
    int err = errno;
    ::close(fd);
    if (ok && ::link(tmp.c_str(), path.c_str()) != 0) {
        err = errno;
        ok = err == EEXIST;  // another tito made it first: use theirs
    }
    ::unlink(tmp.c_str());
    if (!ok) throw std::runtime_error("cannot create the progress key " + path + ": " + std::strerror(err));
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

}  // namespace

Secret load_secret(const std::string& store_path, bool create) {
    Secret s;
    s.store_path = store_path;
    const std::string path = key_path(store_path);
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        create_key(path);
        fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
        int err = errno;
        s.problem = err == ENOENT ? "its key file " + path + " is missing"
                    : err == ELOOP ? "its key file " + path + " is a symbolic link, which is refused"
                                   : "cannot read its key file " + path + " (" + std::strerror(err) + ")";
        return s;
    }
    struct stat st {};
    char buf[2 * kKeyBytes + 2];
    ssize_t n = -1;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        s.problem = "its key file " + path + " is not a regular file";
    } else if (st.st_uid != ::geteuid() && ::geteuid() != 0) {
        s.problem = "its key file " + path + " belongs to another user";
    } else if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        s.problem = "its key file " + path + " has mode " + mode + ": readable or writable by others, it "
                    "proves nothing (remove it; the next grade creates a private one)";
    } else {
        n = ::read(fd, buf, sizeof buf);
        if (n != static_cast<ssize_t>(2 * kKeyBytes + 1) || buf[2 * kKeyBytes] != '\n')
            s.problem = "its key file " + path + " is damaged (expected 64 hex digits)";
    }
    ::close(fd);
    if (!s.problem.empty()) return s;
    for (size_t i = 0; i < kKeyBytes; ++i) {
        int hi = hex_value(buf[2 * i]), lo = hex_value(buf[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            s.problem = "its key file " + path + " is damaged (expected 64 hex digits)";
            s.key.clear();
            return s;
        }
        s.key += static_cast<char>(hi * 16 + lo);
    }
    return s;
}

}  // namespace tt::progress
