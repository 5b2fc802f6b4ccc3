// peer.cpp - signatures, tensors on the wire and mirrors (see peer.hpp).
#include "remote/peer.hpp"

#include <cmath>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "remote/remote.hpp"
#include "remote/slots.hpp"
#include "runtime/host_services.hpp"
#include "tinytorch/runtime.hpp"

namespace tt::remote {

// ---------------------------------------------------------------- signatures

namespace {

size_t pod_size(const std::string& name) {
    if (name == "optimizer_config") return sizeof(tt_optimizer_config);
    if (name == "lr_schedule") return sizeof(tt_lr_schedule);
    if (name == "step_result") return sizeof(tt_step_result);
    if (name == "epoch_result") return sizeof(tt_epoch_result);
    throw std::logic_error("slots.hpp: unknown struct '" + name + "'");
}

ArgSpec parse_token(const std::string& token) {
    std::string word = token;
    int count = -1;
    if (auto at = token.find('@'); at != std::string::npos) {
        word = token.substr(0, at);
        count = std::stoi(token.substr(at + 1));
    }
    if (word.rfind("pod:", 0) == 0) return {Kind::pod_in, -1, pod_size(word.substr(4))};
    if (word.rfind("*pod:", 0) == 0) return {Kind::pod_out, -1, pod_size(word.substr(5))};
    static const std::map<std::string, Kind> kinds = {
        {"t", Kind::tensor_in}, {"m", Kind::tensor_inout}, {"x", Kind::tensor_freed},
        {"o", Kind::tensor_out}, {"b", Kind::tensor_borrowed}, {"i32", Kind::i32},
        {"i64", Kind::i64}, {"u64", Kind::u64}, {"f32", Kind::f32}, {"*i32", Kind::i32_out},
        {"*i64", Kind::i64_out}, {"*f32", Kind::f32_out}, {"&i64", Kind::i64_inout},
        {"shape", Kind::shape}, {"data", Kind::floats_of_shape}, {"f32s", Kind::floats},
        {"*i64s", Kind::i64s_out}, {"rng", Kind::rng}, {"h", Kind::handle},
        {"H", Kind::handle_new}, {"hfree", Kind::handle_freed}, {"params", Kind::tensors_kept},
        {"ms", Kind::tensors_inout}, {"ts", Kind::tensors_in}, {"str", Kind::string},
        {"strs", Kind::strings}, {"graph", Kind::graph}, {"cb", Kind::callbacks}};
    auto it = kinds.find(word);
    if (it == kinds.end()) throw std::logic_error("slots.hpp: unknown token '" + token + "'");
    return {it->second, count, 0};
}

std::vector<SlotSpec> parse_module(std::vector<std::pair<const char*, const char*>> slots) {
    std::vector<SlotSpec> out;
    for (auto& [name, sig] : slots) {
        SlotSpec s{name, sig, {}};
        std::istringstream in(sig);
        std::string token;
        while (in >> token) s.args.push_back(parse_token(token));
        out.push_back(std::move(s));
    }
    return out;
}

#define TT_SLOT_PAIR(api, slot, sig) {#slot, sig},

const std::vector<SlotSpec>& module_specs(int module) {
    static const std::vector<SlotSpec> specs[kModuleCount] = {
        parse_module({TT_SLOTS_01(TT_SLOT_PAIR)}), parse_module({TT_SLOTS_02(TT_SLOT_PAIR)}),
        parse_module({TT_SLOTS_03(TT_SLOT_PAIR)}), parse_module({TT_SLOTS_04(TT_SLOT_PAIR)}),
        parse_module({TT_SLOTS_05(TT_SLOT_PAIR)}), parse_module({TT_SLOTS_06(TT_SLOT_PAIR)}),
        parse_module({TT_SLOTS_07(TT_SLOT_PAIR)}), parse_module({TT_SLOTS_08(TT_SLOT_PAIR)}),
        parse_module({TT_SLOTS_09(TT_SLOT_PAIR)})};
    if (module < 1 || module > kModuleCount) throw std::out_of_range("module number");
    return specs[module - 1];
}

}  // namespace

const SlotSpec& slot_spec(int module, size_t slot) { return module_specs(module).at(slot); }
size_t slot_count(int module) { return module_specs(module).size(); }

// ---------------------------------------------------------------- tensors

namespace {
constexpr int kMaxGradDepth = 4;  // a grad of a grad of ...: deeper is refused
}

tt_tensor* make_tensor(Reader& r, int depth) {
    if (depth > kMaxGradDepth) throw ProtocolError("a grad chain deeper than 4");
    int32_t ndim = r.get<int32_t>();
    if (ndim < 0 || ndim > TT_MAX_DIMS) throw ProtocolError("a tensor with ndim " + std::to_string(ndim));
    int64_t shape[TT_MAX_DIMS] = {};
    int64_t numel = 1;
    for (int i = 0; i < ndim; ++i) {
        shape[i] = r.get<int64_t>();
        if (shape[i] < 0) throw ProtocolError("a tensor with a negative size");
        if (shape[i] > 0 && numel > (int64_t{1} << 40) / shape[i]) throw ProtocolError("a tensor too large");
        numel *= shape[i];
    }
    int32_t requires_grad = r.get<int32_t>();
    int64_t claimed = r.get<int64_t>();
    if (claimed != numel)
        throw ProtocolError("a tensor whose numel " + std::to_string(claimed) +
                            " is not the product of its shape (" + std::to_string(numel) + ")");
    const char* data = r.bytes(static_cast<uint64_t>(numel) * sizeof(float));
    const tt_host& host = runtime().host();
    auto* t = static_cast<tt_tensor*>(host.alloc(sizeof(tt_tensor)));
    if (!t) throw std::bad_alloc();
    std::memset(t, 0, sizeof *t);
    t->data = static_cast<float*>(host.alloc(static_cast<size_t>(std::max<int64_t>(numel, 1)) * sizeof(float)));
    if (!t->data) {
        host.release(t);
        throw std::bad_alloc();
    }
    std::memcpy(t->data, data, static_cast<size_t>(numel) * sizeof(float));
    std::memcpy(t->shape, shape, sizeof shape);
    t->ndim = ndim;
    t->numel = numel;
    t->requires_grad = requires_grad ? 1 : 0;
    if (r.get<uint8_t>()) {
        try {
            t->grad = make_tensor(r, depth + 1);
        } catch (...) {
            release_tensor(t);
            throw;
        }
    }
    return t;
}

void put_tensor(Writer& w, const tt_tensor* t, int depth) {
    int32_t ndim = t->ndim < 0 || t->ndim > TT_MAX_DIMS ? -1 : t->ndim;
    w.put<int32_t>(ndim);
    if (ndim < 0) return;  // the receiver refuses it
    for (int i = 0; i < ndim; ++i) w.put<int64_t>(t->shape[i]);
    w.put<int32_t>(t->requires_grad);
    w.put<int64_t>(t->numel);
    if (t->numel > 0 && t->data) w.bytes(t->data, static_cast<size_t>(t->numel) * sizeof(float));
    bool grad = t->grad != nullptr && depth < kMaxGradDepth;
    w.put<uint8_t>(grad ? 1 : 0);
    if (grad) put_tensor(w, t->grad, depth + 1);
}

void release_tensor(tt_tensor* t) {
    const tt_host& host = runtime().host();
    while (t) {
        tt_tensor* next = t->grad;
        host.release(t->data);
        host.release(t);
        t = next;
    }
}

// Copy `from` (a freshly read value) into the mirror `to`, as far as `mode` allows.
namespace {
void update_in_place(tt_tensor* to, const tt_tensor* from, Mode mode, bool trusted) {
    if (mode == Mode::full && from->numel == to->numel && to->data)
        std::memcpy(to->data, from->data, static_cast<size_t>(from->numel) * sizeof(float));
    if (mode == Mode::readonly) return;
    to->requires_grad = from->requires_grad;
    if (from->grad) {
        if (to->grad && to->grad->numel == from->grad->numel) {
            std::memcpy(to->grad->data, from->grad->data, static_cast<size_t>(from->grad->numel) * sizeof(float));
        } else {
            // A new grad: a copy of the received one (the receiver made it).
            Writer w;
            put_tensor(w, from->grad);
            Reader r(w.buffer().data(), w.buffer().size());
            tt_tensor* g = make_tensor(r);
            if (to->grad && !trusted) release_tensor(to->grad);
            to->grad = g;  // (a replaced grad on the trusted side is left alone: a view may hold it)
        }
    } else if (to->grad && !trusted) {
        release_tensor(to->grad);
        to->grad = nullptr;
    } else if (to->grad) {
        to->grad = nullptr;
    }
}
}  // namespace

void put_error(Writer& w, tt_status status) {
    w.put<int32_t>(status);
    if (status == TT_OK) return;
    detail::LastError e = detail::take_last_error();
    w.put<int32_t>(e.module);
    w.str(e.function);
    w.str(e.message);
}

tt_status get_error(Reader& r) {
    tt_status status = r.get<int32_t>();
    if (status == TT_OK) return status;
    int32_t module = r.get<int32_t>();
    std::string function = r.str(4096), message = r.str(64 << 10);
    runtime().host().set_error(module, status, function.c_str(), message.c_str());
    return status;
}

// ---------------------------------------------------------------- mirrors

uint64_t Peer::add_mirror(uint64_t id, tt_tensor* t, Mode mode, uint64_t scope, bool owned) {
    Mirror& m = mirrors_[id] = Mirror{t, mode, scope, owned};
    by_ptr_[t] = id;
    if (mode != Mode::readonly) synced_[mode == Mode::full ? 1 : 0][id] = &m;
    return id;
}

bool Peer::known(const tt_tensor* t) const { return by_ptr_.count(t) != 0; }

// On the trusted side a read-only mirror of the current call only serves to
// recognise a tensor the worker hands back. The caller may have freed it
// since, and the allocator may have given its address to a new tensor (a
// training loop allocates the same sizes every batch), so it is never sent
// by reference: the new tensor goes by value.
bool Peer::lookup(const tt_tensor* t, uint64_t& id) const {
    auto it = by_ptr_.find(t);
    if (it == by_ptr_.end()) return false;
    const Mirror& m = mirrors_.at(it->second);
    if (trusted_ && m.mode == Mode::readonly && m.scope == 0) return false;
    id = it->second;
    return true;
}

void Peer::put_arg(Writer& w, const tt_tensor* t) {
    if (!t) {
        w.put<uint8_t>(kNull);
        return;
    }
    if (uint64_t id; lookup(t, id)) {
        w.put<uint8_t>(kMirrorRef);
        w.put<uint64_t>(id);
        return;
    }
    w.put<uint8_t>(kValue);
    put_tensor(w, t);
}

void Peer::put_new_mirror(Writer& w, tt_tensor* t, Mode mode, uint64_t scope, bool owned) {
    if (!t) {
        w.put<uint8_t>(kNull);
        return;
    }
    if (uint64_t known_id; lookup(t, known_id)) {
        w.put<uint8_t>(kMirrorRef);
        w.put<uint64_t>(known_id);
        return;
    }
    uint64_t id = next_id_;
    next_id_ += 2;
    add_mirror(id, t, mode, scope, owned);
    w.put<uint8_t>(kMirrorNew);
    w.put<uint64_t>(id);
    w.put<uint8_t>(static_cast<uint8_t>(mode));
    w.put<uint64_t>(scope);
    put_tensor(w, t);
}

tt_tensor* Peer::get_arg(Reader& r, uint64_t keep_scope) { return get_tagged(r.get<uint8_t>(), r, keep_scope); }

tt_tensor* Peer::get_tagged(uint8_t tag, Reader& r, uint64_t keep_scope) {
    switch (tag) {
        case kNull: return nullptr;
        case kValue: {
            tt_tensor* t = make_tensor(r);
            if (keep_scope) {
                uint64_t id = next_id_;
                next_id_ += 2;
                add_mirror(id, t, Mode::readonly, keep_scope, true);
            } else {
                temps_.push_back(t);
            }
            return t;
        }
        case kMirrorRef: {
            uint64_t id = r.get<uint64_t>();
            auto it = mirrors_.find(id);
            if (it == mirrors_.end()) throw ProtocolError("a reference to an unknown tensor");
            return it->second.t;
        }
        case kMirrorNew: {
            uint64_t id = r.get<uint64_t>();
            uint8_t mode = r.get<uint8_t>();
            uint64_t scope = r.get<uint64_t>();
            if (mode > 2) throw ProtocolError("an unknown mirror mode");
            if ((id & 1) == (next_id_ & 1) || mirrors_.count(id))
                throw ProtocolError("a mirror id this side did not expect");
            tt_tensor* t = make_tensor(r);
            add_mirror(id, t, static_cast<Mode>(mode), scope, true);
            return t;
        }
        default: throw ProtocolError("an unknown tensor tag " + std::to_string(tag));
    }
}

// Grad mode is module 05's state: when this side runs a module 05 of its own,
// the other side's 05 must see the same mode (a callback of evaluate() checks it).
namespace {
bool local_autograd(bool trusted) {
    Runtime& rt = runtime();
    return rt.loaded(5) && !(trusted && rt.variant(5) == Variant::student && remote::enabled());
}
}  // namespace

void Peer::put_state(Writer& w, bool with_grads) {
    const tt_rng* rng = detail::global_rng();
    w.bytes(rng->s, sizeof rng->s);
    int32_t grad_mode = -1;
    if (local_autograd(trusted_) && runtime().autograd().is_grad_enabled(&grad_mode) != TT_OK) grad_mode = -1;
    w.put<int32_t>(grad_mode);
    auto sent = [&](const Mirror& m) {
        return m.mode == Mode::full || (m.mode == Mode::grad && with_grads && !trusted_);
    };
    uint64_t n = synced_[1].size();
    bool grads = !synced_[0].empty() && sent(*synced_[0].begin()->second);
    if (grads) n += synced_[0].size();
    w.put<uint64_t>(n);
    for (int k = grads ? 0 : 1; k < 2; ++k)
        for (auto& [id, m] : synced_[k]) {
            w.put<uint64_t>(id);
            put_tensor(w, m->t);
        }
}

void Peer::get_state(Reader& r) {
    tt_rng* rng = detail::global_rng();
    std::memcpy(rng->s, r.bytes(sizeof rng->s), sizeof rng->s);
    int32_t grad_mode = r.get<int32_t>();
    int32_t previous = 0;
    if (grad_mode >= 0 && local_autograd(trusted_))
        runtime().autograd().set_grad_enabled(grad_mode ? 1 : 0, &previous);
    uint64_t n = r.get<uint64_t>();
    for (uint64_t i = 0; i < n; ++i) {
        uint64_t id = r.get<uint64_t>();
        tt_tensor* value = make_tensor(r);
        auto it = mirrors_.find(id);
        if (it != mirrors_.end()) {
            try {
                update_in_place(it->second.t, value, it->second.mode, trusted_);
            } catch (...) {
                release_tensor(value);
                throw;
            }
        }
        release_tensor(value);
    }
}

void Peer::drop_scope(uint64_t scope) {
    for (auto it = mirrors_.begin(); it != mirrors_.end();) {
        if (it->second.scope != scope) {
            ++it;
            continue;
        }
        if (auto p = by_ptr_.find(it->second.t); p != by_ptr_.end() && p->second == it->first) by_ptr_.erase(p);
        synced_[0].erase(it->first);
        synced_[1].erase(it->first);
        if (it->second.owned) release_tensor(it->second.t);
        it = mirrors_.erase(it);
    }
}

void Peer::end_call() {
    drop_scope(0);
    for (tt_tensor* t : temps_) release_tensor(t);
    temps_.clear();
}

void Peer::forget(const tt_tensor* t) {
    auto it = by_ptr_.find(t);
    if (it == by_ptr_.end()) return;
    synced_[0].erase(it->second);
    synced_[1].erase(it->second);
    mirrors_.erase(it->second);
    by_ptr_.erase(it);
}

}  // namespace tt::remote
