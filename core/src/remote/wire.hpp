// wire.hpp - the byte format between a trusted process and a module worker.
//
// One stream socket, synchronous: a side that sends a CALL (or CALLBACK)
// waits for its REPLY and serves the other side's calls in the meantime, so
// calls may nest (worker -> engine -> node backward in the trusted process ->
// module 05 rule in the worker ...). Every frame is
//
//     u32 kind | u32 zero | u64 payload bytes | payload
//
// and a payload is read through Reader, which checks every length against
// what is left: the worker runs student code, so nothing it sends is trusted
// to be well formed (a bad frame is a ProtocolError, never a wild read).
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace tt::remote {

enum class Frame : uint32_t { load = 1, call = 2, callback = 3, reply = 4, bye = 5 };

// Frames larger than this are refused (a case's memory limit is far below).
constexpr uint64_t kMaxFrame = uint64_t{1} << 31;

struct ProtocolError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// The other side closed the socket (the worker died, or the trusted side).
struct PeerGone : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Writer {
public:
    template <class T>
    void put(T v) {
        static_assert(std::is_trivially_copyable_v<T>);
        buf_.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
    void bytes(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
    void str(const std::string& s) {
        put<uint64_t>(s.size());
        buf_.append(s);
    }
    std::string& buffer() { return buf_; }

private:
    std::string buf_;
};

class Reader {
public:
    Reader(const char* p, size_t n) : p_(p), end_(p + n) {}
    template <class T>
    T get() {
        T v;
        need(sizeof v);
        std::memcpy(&v, p_, sizeof v);
        p_ += sizeof v;
        return v;
    }
    const char* bytes(uint64_t n) {
        need(n);
        const char* at = p_;
        p_ += n;
        return at;
    }
    std::string str(uint64_t max = 1 << 20) {
        uint64_t n = get<uint64_t>();
        if (n > max) throw ProtocolError("a string of " + std::to_string(n) + " bytes");
        return std::string(bytes(n), n);
    }
    size_t left() const { return static_cast<size_t>(end_ - p_); }

private:
    void need(uint64_t n) const {
        if (n > static_cast<uint64_t>(end_ - p_)) throw ProtocolError("a truncated message");
    }
    const char* p_;
    const char* end_;
};

// Blocking frame I/O on a socket; EINTR is retried. send_frame/recv_frame
// throw PeerGone when the other side is gone.
void send_frame(int fd, Frame kind, const std::string& payload);
Frame recv_frame(int fd, std::string& payload);

}  // namespace tt::remote
