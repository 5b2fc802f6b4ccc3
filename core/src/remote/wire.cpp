// wire.cpp - frame I/O (see wire.hpp).
#include "remote/wire.hpp"

#include <cerrno>

#include <sys/socket.h>
#include <unistd.h>

namespace tt::remote {
namespace {

void write_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) throw PeerGone("the connection to the module worker is closed");
        p += w;
        n -= static_cast<size_t>(w);
    }
}

void read_all(int fd, char* p, size_t n) {
    while (n > 0) {
        ssize_t r = ::read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) throw PeerGone("the connection to the module worker is closed");
        p += r;
        n -= static_cast<size_t>(r);
    }
}

}  // namespace

void send_frame(int fd, Frame kind, const std::string& payload) {
    char header[16];
    uint32_t k = static_cast<uint32_t>(kind), zero = 0;
    uint64_t n = payload.size();
    std::memcpy(header, &k, 4);
    std::memcpy(header + 4, &zero, 4);
    std::memcpy(header + 8, &n, 8);
    write_all(fd, header, sizeof header);
    write_all(fd, payload.data(), payload.size());
}

Frame recv_frame(int fd, std::string& payload) {
    char header[16];
    read_all(fd, header, sizeof header);
    uint32_t k;
    uint64_t n;
    std::memcpy(&k, header, 4);
    std::memcpy(&n, header + 8, 8);
    if (k < 1 || k > 5) throw ProtocolError("an unknown frame kind " + std::to_string(k));
    if (n > kMaxFrame) throw ProtocolError("a frame of " + std::to_string(n) + " bytes");
    payload.resize(static_cast<size_t>(n));
    read_all(fd, payload.data(), payload.size());
    return static_cast<Frame>(k);
}

}  // namespace tt::remote
