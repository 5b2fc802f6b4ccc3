// peer.hpp - what both ends of a module worker connection share: tensors on
// the wire, mirrored tensors, and the signature of each table slot.
//
// Tensors cross by value: the receiver builds its own copy (host->alloc, the
// layout every module-01 free releases). Where identity or later updates
// matter, a tensor is *mirrored*: both sides keep their copy under one id and
// every frame carries the current contents of the mirrors that may change,
// so the two copies agree whenever either side runs. Mirrors live for one
// outermost call (scope 0) or as long as the handle they belong to (an
// optimizer's parameters and state, a loader's data).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "remote/wire.hpp"
#include "tinytorch/abi/tt_common.h"

namespace tt::remote {

// ---------------------------------------------------------------- signatures

enum class Kind : uint8_t {
    tensor_in, tensor_inout, tensor_freed, tensor_out, tensor_borrowed,
    i32, i64, u64, f32, i32_out, i64_out, f32_out, i64_inout,
    shape, floats_of_shape, floats, i64s_out, rng,
    handle, handle_new, handle_freed, tensors_kept, tensors_inout, tensors_in,
    string, strings, pod_in, pod_out, graph, callbacks,
};

struct ArgSpec {
    Kind kind;
    int count_arg = -1;  // the argument holding the element count (arrays)
    size_t pod_size = 0;
};

struct SlotSpec {
    const char* name;
    const char* signature;
    std::vector<ArgSpec> args;
};

// Slot i of module n (parsed from slots.hpp); throws std::out_of_range.
const SlotSpec& slot_spec(int module, size_t slot);
size_t slot_count(int module);

// ---------------------------------------------------------------- tensors

// The calls that come back from the worker to the trusted side.
enum Callback : uint32_t {
    cb_node = 1, cb_forward, cb_loss, cb_backward, cb_zero_grad, cb_step, cb_set_lr, cb_next, cb_on_batch
};

// Set in out-slots before a call: a slot still holding it was not written.
inline tt_tensor* const kSentinel = reinterpret_cast<tt_tensor*>(uintptr_t{1});

// A reply's status, and the module's error message with it (host set_error).
void put_error(Writer& w, tt_status status);
tt_status get_error(Reader& r);

enum Tag : uint8_t { kNull = 0, kValue = 1, kMirrorRef = 2, kMirrorNew = 3, kUntouched = 4 };
enum class Mode : uint8_t { readonly = 0, grad = 1, full = 2 };

// A tensor built by this side (host->alloc for the struct and the data).
tt_tensor* make_tensor(Reader& r, int depth = 0);
void put_tensor(Writer& w, const tt_tensor* t, int depth = 0);
// Release a tensor made here (grad chain, data, struct).
void release_tensor(tt_tensor* t);

struct Mirror {
    tt_tensor* t = nullptr;
    Mode mode = Mode::readonly;
    uint64_t scope = 0;  // 0: the current outermost call; else a handle id
    bool owned = false;  // made here: released when the mirror goes
};

class Peer {
public:
    Peer(int fd, bool trusted) : fd_(fd), trusted_(trusted), next_id_(trusted ? 2 : 3) {}

    int fd() const { return fd_; }
    bool trusted() const { return trusted_; }

    // A tensor argument: a mirror reference when `t` is mirrored, else its value.
    void put_arg(Writer& w, const tt_tensor* t);
    // Mirror `t` (made here or the caller's) and send it as a new mirror.
    void put_new_mirror(Writer& w, tt_tensor* t, Mode mode, uint64_t scope, bool owned);
    // Read a tensor argument. A value becomes a tensor owned by the current
    // call (released when it ends) unless `keep_scope` gives it a handle.
    tt_tensor* get_arg(Reader& r, uint64_t keep_scope = 0);
    // The same, once the tag byte has been read.
    tt_tensor* get_tagged(uint8_t tag, Reader& r, uint64_t keep_scope = 0);

    // The state every frame carries: the global RNG and the mirrors that may change.
    // Graph mirrors (Mode::grad) only change in the worker's engine: the
    // worker sends them with the reply to a call (`with_grads`), not with
    // every call back, which would make a long graph quadratic.
    void put_state(Writer& w, bool with_grads = false);
    void get_state(Reader& r);

    // The current outermost call ended: drop its mirrors and temporaries.
    void end_call();
    // A handle was freed: drop the mirrors that belong to it.
    void drop_scope(uint64_t scope);
    // A tensor is about to be freed by this side: forget any mirror of it.
    void forget(const tt_tensor* t);
    bool known(const tt_tensor* t) const;
    // Keep `t` (made here) until the end of the current call.
    void own_until_call_end(tt_tensor* t) { temps_.push_back(t); }

    int depth = 0;  // nesting of calls in progress

private:
    // The mirror id of `t`, if a reference to it may be sent (see peer.cpp).
    bool lookup(const tt_tensor* t, uint64_t& id) const;
    uint64_t add_mirror(uint64_t id, tt_tensor* t, Mode mode, uint64_t scope, bool owned);

    int fd_;
    bool trusted_;
    uint64_t next_id_;
    std::map<uint64_t, Mirror> mirrors_;
    std::map<uint64_t, Mirror*> synced_[2];  // the Mode::grad and Mode::full mirrors (sent with the state)
    std::unordered_map<const tt_tensor*, uint64_t> by_ptr_;
    std::vector<tt_tensor*> temps_;
};

}  // namespace tt::remote
