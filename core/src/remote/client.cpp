// client.cpp - the trusted side of a module worker: the proxy tables' call,
// the calls that come back (graph nodes, training callbacks), the tripwire.
//
// Anything wrong with the worker ends this process the way a crash of the
// code under test would have: the worker's own signal or exit, re-raised
// here, so the grader reports "crashed with SIGSEGV" or "timed out" for the
// case, and never a verdict built on a half-finished exchange.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include "remote/peer.hpp"
#include "remote/remote.hpp"
#include "remote/slot_fn.hpp"
#include "remote/spawn.hpp"
#include "runtime/host_services.hpp"
#include "tinytorch/error.hpp"
#include "tinytorch/runtime.hpp"

namespace tt::remote {
namespace {

struct Client {
    pid_t pid = -1;
    Peer* peer = nullptr;
    std::set<uint64_t> loaded;
    std::map<uint64_t, const tt_node*> nodes;
    std::map<uint64_t, const tt_train_callbacks*> callbacks;
    std::set<const uint64_t*> handles;  // the fake handle pointers given out
    uint64_t next_handle = 1, next_node = 1, next_callbacks = 1;
    std::vector<std::pair<dev_t, ino_t>> forbidden;
    std::vector<std::string> forbidden_names;
};

Client& client() {
    static Client* c = new Client;  // never destroyed: the worker ends with us
    return *c;
}

const char* env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, sep))
        if (!item.empty()) out.push_back(item);
    return out;
}

// The worker is gone: end this process as the worker ended.
[[noreturn]] void worker_gone(const char* what) {
    Client& c = client();
    int status = 0;
    pid_t w = c.pid > 0 ? waitpid(c.pid, &status, 0) : -1;
    // In namespaces the worker's signal comes as 128 + signal from the
    // namespace's first process (spawn.cpp).
    bool namespaced = std::string(env_or("TITO_WORKER_ISOLATE", "none")) == "namespaces";
    int code = w == c.pid && WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    if (w == c.pid && (WIFSIGNALED(status) || (namespaced && code > 128 && code < 128 + 65))) {
        int sig = WIFSIGNALED(status) ? WTERMSIG(status) : code - 128;
        std::fprintf(stderr, "tt: the module under test was killed by signal %d (%s) during a call\n", sig,
                     strsignal(sig));
        std::fflush(stderr);
        std::signal(sig, SIG_DFL);
        raise(sig);
        _exit(128 + sig);
    }
    if (w == c.pid && WIFEXITED(status)) {
        std::fprintf(stderr,
                     "tt: the module under test ended its process (exit code %d) in the middle of a "
                     "call: module code must return a status, never call exit()\n",
                     WEXITSTATUS(status));
        std::fflush(stderr);
        _exit(70);
    }
    std::fprintf(stderr, "tt: lost the module worker (%s)\n", what);
    std::fflush(stderr);
    _exit(70);
}

[[noreturn]] void protocol_failure(const std::string& what) {
    std::fprintf(stderr, "tt: the module worker sent a malformed message (%s): the case fails\n", what.c_str());
    std::fflush(stderr);
    if (client().pid > 0) kill(client().pid, SIGKILL);
    _exit(71);
}

// The tripwire: no library the worker must not have may be mapped by it.
void check_maps() {
    Client& c = client();
    if (c.forbidden.empty() && c.forbidden_names.empty()) return;
    std::ifstream maps("/proc/" + std::to_string(c.pid) + "/maps");
    if (!maps) return;  // gone already: the next exchange reports it
    std::string line;
    while (std::getline(maps, line)) {
        // address perms offset dev inode path
        std::istringstream in(line);
        std::string addr, perms, offset, dev, path;
        unsigned long inode = 0;
        in >> addr >> perms >> offset >> dev >> inode;
        std::getline(in, path);
        bool bad = false;
        if (inode != 0) {
            unsigned major = 0, minor = 0;
            if (std::sscanf(dev.c_str(), "%x:%x", &major, &minor) == 2)
                for (auto& [d, i] : c.forbidden)
                    if (i == inode && d == makedev(major, minor)) bad = true;
        }
        for (const std::string& name : c.forbidden_names)
            if (path.find(name) != std::string::npos) bad = true;
        if (bad) {
            std::fprintf(stderr,
                         "tt: INTEGRITY: the module under test mapped a reference library it must not "
                         "use:%s\n",
                         path.c_str());
            std::fflush(stderr);
            kill(c.pid, SIGKILL);
            _exit(86);
        }
    }
}

std::string wait_reply();

// ------------------------------------------------------------ calls back

tt_status run_callback(const tt_train_callbacks* cb, uint32_t kind, Peer& p, Reader& in, Writer& out_values) {
    switch (kind) {
        case cb_forward: {
            const tt_tensor* x = p.get_arg(in);
            int32_t training = in.get<int32_t>();
            tt_tensor* logits = nullptr;
            tt_status st = cb->forward ? cb->forward(cb->ctx, x, training, &logits) : TT_INVALID_ARGUMENT;
            p.put_new_mirror(out_values, st == TT_OK ? logits : nullptr, Mode::readonly, 0, false);
            return st;
        }
        case cb_loss: {
            const tt_tensor* logits = p.get_arg(in);
            const tt_tensor* y = p.get_arg(in);
            tt_tensor* loss = nullptr;
            tt_status st = cb->loss ? cb->loss(cb->ctx, logits, y, &loss) : TT_INVALID_ARGUMENT;
            p.put_new_mirror(out_values, st == TT_OK ? loss : nullptr, Mode::readonly, 0, false);
            return st;
        }
        case cb_backward: {
            tt_tensor* loss = p.get_arg(in);
            return cb->backward ? cb->backward(cb->ctx, loss) : TT_INVALID_ARGUMENT;
        }
        case cb_zero_grad: return cb->zero_grad ? cb->zero_grad(cb->ctx) : TT_INVALID_ARGUMENT;
        case cb_step: return cb->optimizer_step ? cb->optimizer_step(cb->ctx) : TT_INVALID_ARGUMENT;
        case cb_set_lr: {
            float lr = in.get<float>();
            return cb->set_lr ? cb->set_lr(cb->ctx, lr) : TT_INVALID_ARGUMENT;
        }
        case cb_next: {
            tt_tensor *x = nullptr, *y = nullptr;
            int32_t has = 0;
            tt_status st = cb->next_batch ? cb->next_batch(cb->ctx, &x, &y, &has) : TT_INVALID_ARGUMENT;
            p.put_new_mirror(out_values, st == TT_OK ? x : nullptr, Mode::readonly, 0, false);
            p.put_new_mirror(out_values, st == TT_OK ? y : nullptr, Mode::readonly, 0, false);
            out_values.put<int32_t>(has);
            return st;
        }
        case cb_on_batch: {
            int64_t index = in.get<int64_t>();
            float loss = in.get<float>(), lr = in.get<float>();
            return cb->on_batch ? cb->on_batch(cb->ctx, index, loss, lr) : TT_OK;
        }
        default: throw ProtocolError("an unknown callback " + std::to_string(kind));
    }
}

void serve_callback(const std::string& payload) {
    Client& c = client();
    Peer& p = *c.peer;
    Reader in(payload.data(), payload.size());
    uint32_t kind = in.get<uint32_t>();
    uint64_t target = in.get<uint64_t>();
    p.get_state(in);
    Writer values;
    tt_status st;
    if (kind == cb_node) {
        auto it = c.nodes.find(target);
        if (it == c.nodes.end()) throw ProtocolError("a call back to an unknown graph node");
        const tt_node* node = it->second;
        const tt_tensor* grad = p.get_arg(in);
        tt_tensor* outs[TT_NODE_MAX_INPUTS] = {kSentinel, kSentinel, kSentinel, kSentinel};
        st = node->backward(node, grad, outs);
        values.put<int32_t>(node->n_inputs);
        for (int i = 0; i < node->n_inputs; ++i) {
            if (outs[i] == kSentinel) {
                values.put<uint8_t>(kUntouched);
            } else if (!outs[i]) {
                values.put<uint8_t>(kNull);
            } else {
                values.put<uint8_t>(kValue);
                put_tensor(values, outs[i]);
                release_tensor(outs[i]);  // the rule's result, ours to free
            }
        }
    } else {
        auto it = c.callbacks.find(target);
        if (it == c.callbacks.end()) throw ProtocolError("a call back to unknown callbacks");
        st = run_callback(it->second, kind, p, in, values);
    }
    Writer w;
    put_error(w, st);
    p.put_state(w);
    w.buffer() += values.buffer();
    send_frame(p.fd(), Frame::reply, w.buffer());
}

std::string wait_reply() {
    Client& c = client();
    std::string payload;
    for (;;) {
        Frame f = recv_frame(c.peer->fd(), payload);
        if (f == Frame::reply) return payload;
        if (f != Frame::callback) throw ProtocolError("an unexpected frame");
        serve_callback(payload);
    }
}

// ------------------------------------------------------------ arguments

int32_t count_of(const uint64_t* words, const ArgSpec& a, int64_t max) {
    int64_t n = static_cast<int64_t>(static_cast<int32_t>(words[a.count_arg]));
    return static_cast<int32_t>(std::clamp<int64_t>(n, 0, max));
}

// Elements of a shape argument as the caller gave it (at most 9 are read:
// one more than TT_MAX_DIMS, so a module can still see an over-long shape).
int32_t shape_count(const uint64_t* words, const SlotSpec& spec, int shape_arg) {
    return count_of(words, spec.args[static_cast<size_t>(shape_arg)], TT_MAX_DIMS + 1);
}

void put_graph(Writer& w, Client& c, tt_tensor* root) {
    Peer& p = *c.peer;
    if (!root) {
        w.put<uint8_t>(0);
        return;
    }
    w.put<uint8_t>(1);
    std::vector<tt_tensor*> tensors{root};
    std::map<const tt_tensor*, int32_t> tensor_index{{root, 0}};
    std::vector<const tt_node*> nodes;
    std::map<const tt_node*, int32_t> node_index;
    for (size_t i = 0; i < tensors.size(); ++i) {
        const tt_node* n = tensors[i]->grad_fn;
        if (!n || node_index.count(n)) continue;
        node_index[n] = static_cast<int32_t>(nodes.size());
        nodes.push_back(n);
        for (int k = 0; k < n->n_inputs && k < TT_NODE_MAX_INPUTS; ++k) {
            tt_tensor* in = n->inputs[k];
            if (in && !tensor_index.count(in)) {
                tensor_index[in] = static_cast<int32_t>(tensors.size());
                tensors.push_back(in);
            }
        }
    }
    w.put<uint32_t>(static_cast<uint32_t>(tensors.size()));
    for (tt_tensor* t : tensors) {
        p.put_new_mirror(w, t, Mode::grad, 0, false);
        w.put<int32_t>(t->grad_fn ? node_index[t->grad_fn] : -1);
    }
    w.put<uint32_t>(static_cast<uint32_t>(nodes.size()));
    for (const tt_node* n : nodes) {
        uint64_t id = c.next_node++;
        c.nodes[id] = n;
        w.put<uint64_t>(id);
        w.str(n->op_name ? n->op_name : "");
        int32_t k = std::min<int32_t>(n->n_inputs, TT_NODE_MAX_INPUTS);
        w.put<int32_t>(k);
        for (int i = 0; i < k; ++i) w.put<int32_t>(n->inputs[i] ? tensor_index[n->inputs[i]] : -1);
    }
}

void put_callbacks(Writer& w, Client& c, const tt_train_callbacks* cb) {
    if (!cb) {
        w.put<uint8_t>(0);
        return;
    }
    w.put<uint8_t>(1);
    uint64_t id = c.next_callbacks++;
    c.callbacks[id] = cb;
    w.put<uint64_t>(id);
    uint8_t mask = (cb->forward ? 1 : 0) | (cb->loss ? 2 : 0) | (cb->backward ? 4 : 0) |
                   (cb->zero_grad ? 8 : 0) | (cb->optimizer_step ? 16 : 0) | (cb->set_lr ? 32 : 0) |
                   (cb->next_batch ? 64 : 0) | (cb->on_batch ? 128 : 0);
    w.put<uint8_t>(mask);
    int32_t n = cb->params ? std::clamp<int32_t>(cb->n_params, 0, 1 << 16) : 0;
    w.put<int32_t>(cb->n_params);
    w.put<int32_t>(n);
    for (int32_t i = 0; i < n; ++i) c.peer->put_new_mirror(w, cb->params[i], Mode::full, 0, false);
}

uint64_t handle_id(Client& c, uint64_t word) {
    auto* h = reinterpret_cast<const uint64_t*>(static_cast<uintptr_t>(word));
    return h && c.handles.count(h) ? *h : 0;
}

void put_args(Writer& w, Client& c, const SlotSpec& spec, const uint64_t* words, uint64_t new_handle,
              bool identity) {
    Peer& p = *c.peer;
    for (size_t i = 0; i < spec.args.size(); ++i) {
        const ArgSpec& a = spec.args[i];
        uint64_t word = words[i];
        void* ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(word));
        switch (a.kind) {
            case Kind::tensor_in:
                if (identity) p.put_new_mirror(w, static_cast<tt_tensor*>(ptr), Mode::readonly, 0, false);
                else p.put_arg(w, static_cast<const tt_tensor*>(ptr));
                break;
            case Kind::tensor_inout: p.put_new_mirror(w, static_cast<tt_tensor*>(ptr), Mode::full, 0, false); break;
            case Kind::tensor_freed: p.put_arg(w, static_cast<const tt_tensor*>(ptr)); break;
            case Kind::i32: case Kind::i64: case Kind::u64: case Kind::f32: w.put<uint64_t>(word); break;
            case Kind::tensor_out: case Kind::tensor_borrowed: case Kind::i32_out: case Kind::i64_out:
            case Kind::f32_out: case Kind::handle_new: case Kind::pod_out:
                w.put<uint8_t>(ptr ? 1 : 0);
                break;
            case Kind::i64_inout:
                w.put<uint8_t>(ptr ? 1 : 0);
                if (ptr) w.put<int64_t>(*static_cast<int64_t*>(ptr));
                break;
            case Kind::shape: {
                int32_t n = ptr ? shape_count(words, spec, static_cast<int>(i)) : 0;
                w.put<uint8_t>(ptr ? 1 : 0);
                w.put<int32_t>(n);
                if (n) w.bytes(ptr, static_cast<size_t>(n) * sizeof(int64_t));
                break;
            }
            case Kind::floats_of_shape: {
                // numel of the shape argument, when that shape is a valid one
                const ArgSpec& s = spec.args[static_cast<size_t>(a.count_arg)];
                auto* shape = reinterpret_cast<const int64_t*>(static_cast<uintptr_t>(words[a.count_arg]));
                int64_t ndim = static_cast<int32_t>(words[s.count_arg]);
                int64_t numel = ndim >= 0 && ndim <= TT_MAX_DIMS && (shape || ndim == 0) ? 1 : 0;
                for (int64_t d = 0; numel && d < ndim; ++d) {
                    if (shape[d] < 0 || (shape[d] > 0 && numel > (int64_t{1} << 30) / shape[d])) numel = 0;
                    else numel *= shape[d];
                }
                w.put<uint8_t>(ptr ? 1 : 0);
                w.put<int64_t>(ptr ? numel : 0);
                if (ptr && numel) w.bytes(ptr, static_cast<size_t>(numel) * sizeof(float));
                break;
            }
            case Kind::floats: {
                int32_t n = ptr ? count_of(words, a, 1 << 24) : 0;
                w.put<uint8_t>(ptr ? 1 : 0);
                w.put<int32_t>(n);
                if (n) w.bytes(ptr, static_cast<size_t>(n) * sizeof(float));
                break;
            }
            case Kind::i64s_out: {
                int64_t n = std::clamp<int64_t>(static_cast<int64_t>(words[a.count_arg]), 0, int64_t{1} << 26);
                w.put<uint8_t>(ptr ? 1 : 0);
                w.put<int64_t>(ptr ? n : 0);
                break;
            }
            case Kind::rng:
                w.put<uint8_t>(ptr ? 1 : 0);
                if (ptr) w.bytes(static_cast<tt_rng*>(ptr)->s, sizeof(tt_rng::s));
                break;
            case Kind::handle: case Kind::handle_freed: w.put<uint64_t>(handle_id(c, word)); break;
            case Kind::tensors_kept: case Kind::tensors_inout: case Kind::tensors_in: {
                int32_t n = ptr ? count_of(words, a, 1 << 16) : 0;
                w.put<uint8_t>(ptr ? 1 : 0);
                w.put<int32_t>(n);
                auto* ts = static_cast<tt_tensor* const*>(ptr);
                for (int32_t k = 0; k < n; ++k) {
                    if (a.kind == Kind::tensors_in) p.put_arg(w, ts[k]);
                    else p.put_new_mirror(w, ts[k], Mode::full, a.kind == Kind::tensors_kept ? new_handle : 0, false);
                }
                break;
            }
            case Kind::string:
                w.put<uint8_t>(ptr ? 1 : 0);
                if (ptr) w.str(static_cast<const char*>(ptr));
                break;
            case Kind::strings: {
                int32_t n = ptr ? count_of(words, a, 1 << 16) : 0;
                w.put<uint8_t>(ptr ? 1 : 0);
                w.put<int32_t>(n);
                auto* ss = static_cast<const char* const*>(ptr);
                for (int32_t k = 0; k < n; ++k) {
                    w.put<uint8_t>(ss[k] ? 1 : 0);
                    if (ss[k]) w.str(ss[k]);
                }
                break;
            }
            case Kind::pod_in:
                w.put<uint8_t>(ptr ? 1 : 0);
                if (ptr) w.bytes(ptr, a.pod_size);
                break;
            case Kind::graph: put_graph(w, c, static_cast<tt_tensor*>(ptr)); break;
            case Kind::callbacks: put_callbacks(w, c, static_cast<const tt_train_callbacks*>(ptr)); break;
        }
    }
}

// The results: what the worker wrote through the out-arguments.
void get_results(Reader& r, Client& c, const SlotSpec& spec, const uint64_t* words, uint64_t new_handle) {
    Peer& p = *c.peer;
    for (size_t i = 0; i < spec.args.size(); ++i) {
        const ArgSpec& a = spec.args[i];
        void* ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(words[i]));
        switch (a.kind) {
            case Kind::tensor_out: case Kind::tensor_borrowed: {
                if (!ptr) break;
                uint8_t tag = r.get<uint8_t>();
                if (tag == kUntouched) break;
                if (tag == kNull) {
                    *static_cast<tt_tensor**>(ptr) = nullptr;
                    break;
                }
                if (a.kind == Kind::tensor_out && tag != kValue) throw ProtocolError("an out tensor by reference");
                if (a.kind == Kind::tensor_out) {
                    *static_cast<tt_tensor**>(ptr) = make_tensor(r);
                } else {
                    // A view the handle owns: mirrored for as long as the handle lives.
                    if (tag != kMirrorNew && tag != kMirrorRef) throw ProtocolError("a borrowed tensor by value");
                    *static_cast<tt_tensor**>(ptr) = p.get_tagged(tag, r);
                }
                break;
            }
            case Kind::i32_out: if (ptr && r.get<uint8_t>()) *static_cast<int32_t*>(ptr) = r.get<int32_t>(); break;
            case Kind::i64_out: if (ptr && r.get<uint8_t>()) *static_cast<int64_t*>(ptr) = r.get<int64_t>(); break;
            case Kind::f32_out: if (ptr && r.get<uint8_t>()) *static_cast<float*>(ptr) = r.get<float>(); break;
            case Kind::i64_inout: if (ptr) *static_cast<int64_t*>(ptr) = r.get<int64_t>(); break;
            case Kind::i64s_out: {
                if (!ptr) break;
                int64_t n = r.get<int64_t>();
                int64_t want = std::clamp<int64_t>(static_cast<int64_t>(words[a.count_arg]), 0, int64_t{1} << 26);
                if (n != want) throw ProtocolError("an index array of the wrong length");
                std::memcpy(ptr, r.bytes(static_cast<uint64_t>(n) * sizeof(int64_t)), static_cast<size_t>(n) * sizeof(int64_t));
                break;
            }
            case Kind::rng:
                if (ptr) std::memcpy(static_cast<tt_rng*>(ptr)->s, r.bytes(sizeof(tt_rng::s)), sizeof(tt_rng::s));
                break;
            case Kind::handle_new: {
                if (!ptr) break;
                uint8_t made = r.get<uint8_t>();
                if (made == kUntouched) break;
                if (made) {
                    auto* token = new uint64_t(new_handle);
                    c.handles.insert(token);
                    *static_cast<void**>(ptr) = token;
                } else {
                    *static_cast<void**>(ptr) = nullptr;
                    p.drop_scope(new_handle);
                }
                break;
            }
            case Kind::pod_out:
                if (ptr && r.get<uint8_t>()) std::memcpy(ptr, r.bytes(a.pod_size), a.pod_size);
                break;
            default: break;
        }
    }
}

// At exit: say bye and ask the worker how many host->alloc blocks the
// modules left unreleased (server.cpp, answer_bye); a leak goes to stderr,
// which tito reads with the case's output and turns into a warning. A worker
// that does not answer within 2 s is not waited for.
void say_bye() {
    Client& c = client();
    if (!c.peer) return;
    try {
        send_frame(c.peer->fd(), Frame::bye, std::string());
        pollfd p{c.peer->fd(), POLLIN, 0};
        if (::poll(&p, 1, 2000) <= 0) return;
        std::string payload;
        if (recv_frame(c.peer->fd(), payload) != Frame::reply) return;
        Reader r(payload.data(), payload.size());
        if (!r.get<uint8_t>()) return;
        int64_t blocks = r.get<int64_t>(), bytes = r.get<int64_t>();
        if (blocks <= 0) return;
        std::fprintf(stderr,
                     "tt_worker: memory leak: %lld allocation%s (%lld bytes) made through host->alloc %s never "
                     "released\n",
                     static_cast<long long>(blocks), blocks == 1 ? "" : "s", static_cast<long long>(bytes),
                     blocks == 1 ? "was" : "were");
        std::fflush(stderr);
    } catch (const std::exception&) {
        // the worker is gone or answered nonsense: nothing to report
    }
}

void start_worker(Client& c) {
    SpawnPlan plan;
    plan.exe = env_or("TITO_WORKER_EXE", "");
    plan.lib_dir = env_or("TITO_WORKER_LIB_DIR", "");
    plan.tmp_dir = env_or("TITO_WORKER_TMP", "");
    plan.uid = std::atol(env_or("TITO_WORKER_UID", "-1"));
    plan.gid = std::atol(env_or("TITO_WORKER_GID", "-1"));
    plan.nproc = std::atol(env_or("TITO_WORKER_NPROC", "0"));
    plan.namespaces = std::string(env_or("TITO_WORKER_ISOLATE", "none")) == "namespaces";
    plan.hide = split(env_or("TITO_WORKER_HIDE", ""), ':');
    plan.impl = format_impl_choice(runtime().choice());
    for (const std::string& f : split(env_or("TITO_WORKER_FORBID", ""), ':')) {
        struct stat st {};
        if (::stat(f.c_str(), &st) == 0) c.forbidden.push_back({st.st_dev, st.st_ino});
        c.forbidden_names.push_back(f.substr(f.find_last_of('/') + 1));
    }
    Spawned s = spawn_worker(plan);  // throws LoadError
    c.pid = s.pid;
    c.peer = new Peer(s.fd, true);
    std::atexit(say_bye);
}

}  // namespace

bool enabled() {
    const char* exe = std::getenv("TITO_WORKER_EXE");
    return exe && *exe;
}

const void* load(int module) {
    Client& c = client();
    try {
        if (!c.peer) start_worker(c);
        if (!c.loaded.count(static_cast<uint64_t>(module))) {
            Writer w;
            w.put<uint32_t>(static_cast<uint32_t>(module));
            send_frame(c.peer->fd(), Frame::load, w.buffer());
            std::string payload;
            if (recv_frame(c.peer->fd(), payload) != Frame::reply) throw ProtocolError("an unexpected frame");
            Reader r(payload.data(), payload.size());
            if (r.get<uint8_t>() != 1) throw LoadError(r.str(64 << 10));
            c.loaded.insert(static_cast<uint64_t>(module));
            check_maps();
        }
    } catch (const PeerGone& e) {
        worker_gone(e.what());
    } catch (const ProtocolError& e) {
        protocol_failure(e.what());
    }
    return proxy_table(module);
}

tt_status call(int module, size_t slot, const uint64_t* words, size_t count) {
    Client& c = client();
    try {
        const SlotSpec& spec = slot_spec(module, slot);
        if (spec.args.size() != count) throw std::logic_error("slot argument count");
        bool identity = false, makes_handle = false;
        uint64_t freed_handle = 0;
        for (size_t i = 0; i < count; ++i) {
            Kind k = spec.args[i].kind;
            if (k == Kind::callbacks) identity = true;
            if (k == Kind::handle_new) makes_handle = true;
            if (k == Kind::handle_freed) freed_handle = handle_id(c, words[i]);
        }
        uint64_t new_handle = makes_handle ? c.next_handle++ : 0;
        Peer& p = *c.peer;
        p.depth++;
        Writer w;
        w.put<uint32_t>(static_cast<uint32_t>(module));
        w.put<uint32_t>(static_cast<uint32_t>(slot));
        w.put<uint64_t>(new_handle);
        p.put_state(w);
        put_args(w, c, spec, words, new_handle, identity);
        send_frame(p.fd(), Frame::call, w.buffer());
        std::string reply = wait_reply();
        Reader r(reply.data(), reply.size());
        tt_status status = get_error(r);
        p.get_state(r);
        get_results(r, c, spec, words, new_handle);
        if (status == TT_OK) {
            for (size_t i = 0; i < count; ++i)
                if (spec.args[i].kind == Kind::tensor_freed && words[i]) {
                    auto* t = reinterpret_cast<tt_tensor*>(static_cast<uintptr_t>(words[i]));
                    p.forget(t);
                    release_tensor(t);
                }
            if (freed_handle) {
                p.drop_scope(freed_handle);
                for (auto it = c.handles.begin(); it != c.handles.end(); ++it)
                    if (**it == freed_handle) {
                        delete *it;
                        c.handles.erase(it);
                        break;
                    }
            }
        }
        if (--p.depth == 0) {
            p.end_call();
            c.nodes.clear();
            c.callbacks.clear();
            check_maps();
        }
        return status;
    } catch (const PeerGone& e) {
        worker_gone(e.what());
    } catch (const ProtocolError& e) {
        protocol_failure(e.what());
    }
}

}  // namespace tt::remote
