// module_support.hpp - what every module implementation includes.
// Contributors: read docs/DEVELOPING.md and docs/solution-markers.md first.
//
// It gives a module: the host table it was initialised with (ttm::host()),
// error reporting (ttm::fail, TT_NOT_IMPLEMENTED_YET), the exception guard that
// keeps C++ exceptions from crossing the C ABI, and TT_DEFINE_MODULE, which
// writes the descriptor and the one exported entry point.
//
// Compile definitions set by cmake/TinyTorchModule.cmake for each library:
//   TT_MODULE_NUMBER  1..9
//   TT_MODULE_VARIANT TT_VARIANT_STUDENT, TT_VARIANT_REFERENCE or TT_VARIANT_FAST
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "tinytorch/abi/tt_common.h"
#include "tinytorch/abi/tt_01_tensor.h"

#ifndef TT_MODULE_NUMBER
#error "TT_MODULE_NUMBER must be defined by the build (see cmake/TinyTorchModule.cmake)"
#endif

namespace ttm {

// The host table handed to init(). Constant-initialised (no global
// constructor); set once by the loader before any table function runs.
inline const tt_host* g_host = nullptr;

inline const tt_host* host() { return g_host; }

// The last error this thread reported through fail(): parallel_range uses it
// to carry an error from a worker thread back to the calling thread (the
// host's error slot is per thread).
struct ReportedError {
    tt_status status = TT_OK;
    std::string function, message;
};
inline thread_local ReportedError t_reported;

// Report an error through the host and return its status:
//     return ttm::fail(TT_SHAPE_MISMATCH, __func__, "a has 3 columns, b has 4 rows");
inline tt_status fail(tt_status status, const char* function, const std::string& message) {
    t_reported = {status, function, message};
    if (g_host == nullptr) return status;
    return g_host->set_error(TT_MODULE_NUMBER, status, function, message.c_str());
}

// What a student stub returns: names the function, the file to edit, a hint.
inline tt_status not_implemented(const char* function, const char* file, const char* hint) {
    std::string msg = std::string(function) + " is not implemented yet: edit " + file +
                      " (look for the TODO in " + function + "). Hint: " + hint;
    return fail(TT_NOT_IMPLEMENTED, function, msg);
}

// Thrown inside a module to bail out with a status; the guard turns it back
// into a return value (it never crosses the ABI).
struct StatusError {
    tt_status status;
};

// Run f(begin, end) over the items [0, n): on the core's thread pool
// (host->parallel_for) when there are at least two chunks of `grain` items,
// else in one call right here (waking the pool costs microseconds, more than
// a small loop). Use it for loops whose items are independent, e.g.
//     ttm::parallel_range(n, 1 << 16, [&](int64_t begin, int64_t end) {
//         for (int64_t i = begin; i < end; ++i) y[i] = ...;
//     });
// Each chunk must write only its own items. f may throw (StatusError from
// throw_error or a stub, bad_alloc): the first exception is caught on its
// thread, the chunks not yet started are skipped, and once the pool is done
// it is rethrown here, with its error report moved to this thread.
template <class F>
void parallel_range(int64_t n, int64_t grain, F&& f) {
    if (n <= 0) return;
    if (g_host == nullptr || g_host->parallel_for == nullptr || n < 2 * grain) {
        f(int64_t{0}, n);
        return;
    }
    struct Job {
        explicit Job(std::remove_reference_t<F>& body) : f(body) {}
        std::remove_reference_t<F>& f;
        bool failed = false;  // set by the first chunk that throws
        std::exception_ptr error;
        ReportedError reported;
    } job(f);
    tt_parallel_body body = [](void* ctx, int64_t begin, int64_t end) {
        Job& j = *static_cast<Job*>(ctx);
        if (__atomic_load_n(&j.failed, __ATOMIC_ACQUIRE)) return;  // another chunk failed: stop early
        t_reported.status = TT_OK;
        try {
            j.f(begin, end);
        } catch (...) {
            if (!__atomic_exchange_n(&j.failed, true, __ATOMIC_ACQ_REL)) {
                j.error = std::current_exception();
                j.reported = t_reported;
            }
        }
    };
    g_host->parallel_for(n, grain, body, &job);
    if (job.error) {
        if (job.reported.status != TT_OK)  // say it again on this thread, where the caller looks
            fail(job.reported.status, job.reported.function.c_str(), job.reported.message);
        std::rethrow_exception(job.error);
    }
}

// ---- The error style of module code ------------------------------------
// A table function's body sits between TT_GUARD_BEGIN and TT_GUARD_END. Inside
// it, helpers report a problem and THROW (throw_error, require, ok); the guard
// turns the exception back into the status. Every message names the argument
// and what was expected, with the shapes actually received:
//     ttm::require(x, __func__, "x");
//     if (!ttm::same_shape(a, b))
//         ttm::throw_error(TT_SHAPE_MISMATCH, __func__, "a is " + ttm::shape_str(a) +
//                                                       " but b is " + ttm::shape_str(b));
// Code that calls another table function wraps the call in ok(): its status
// is passed on (the callee has already said why).

// Report an error and throw it: the guard returns `s`.
[[noreturn]] inline void throw_error(tt_status s, const char* function, const std::string& msg) {
    throw StatusError{fail(s, function, msg)};
}

// Throw when a call failed; the callee has already reported why.
inline void ok(tt_status s) {
    if (s != TT_OK) throw StatusError{s};
}

// Throw TT_INVALID_ARGUMENT when a required pointer is NULL.
inline void require(const void* p, const char* function, const char* name) {
    if (p == nullptr) throw_error(TT_INVALID_ARGUMENT, function, std::string(name) + " is NULL");
}

// "[2, 3, 4, 4]"
inline std::string shape_str(const int64_t* shape, int32_t ndim) {
    std::string s = "[";
    for (int32_t d = 0; d < ndim; ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
    return s + "]";
}
inline std::string shape_str(const tt_tensor* t) { return shape_str(t->shape, t->ndim); }

// Same number of dimensions and the same size along each.
inline bool same_shape(const tt_tensor* a, const tt_tensor* b) {
    if (a->ndim != b->ndim) return false;
    for (int32_t d = 0; d < a->ndim; ++d)
        if (a->shape[d] != b->shape[d]) return false;
    return true;
}

// A tensor owned by module code: freed through module 01's free on scope exit.
// (Module 01 itself frees directly; every later module reaches 01 via the host.)
struct TensorDeleter {
    void operator()(tt_tensor* t) const;
};
using OwnedTensor = std::unique_ptr<tt_tensor, TensorDeleter>;

}  // namespace ttm

// Return early when a call fails (the callee has already reported why).
#define TT_CHECK(expr)                              \
    do {                                            \
        tt_status tt_check_status_ = (expr);        \
        if (tt_check_status_ != TT_OK) return tt_check_status_; \
    } while (0)

// What a generated stub returns (the status TT_NOT_IMPLEMENTED plus a message
// naming the function, the file to edit and the hint).
#define TT_NOT_IMPLEMENTED_YET(hint) ::ttm::not_implemented(__func__, __FILE__, hint)

// Wrap the body of every table function: no exception may escape into C.
#define TT_GUARD_BEGIN try {
#define TT_GUARD_END                                                                 \
    }                                                                                \
    catch (const ::ttm::StatusError& e) { return e.status; }                         \
    catch (const std::bad_alloc&) {                                                  \
        return ::ttm::fail(TT_OUT_OF_MEMORY, __func__, "out of memory");             \
    }                                                                                \
    catch (const std::exception& e) {                                                \
        return ::ttm::fail(TT_INTERNAL_ERROR, __func__,                              \
                           std::string("unexpected C++ exception: ") + e.what());    \
    }                                                                                \
    catch (...) {                                                                    \
        return ::ttm::fail(TT_INTERNAL_ERROR, __func__, "unknown C++ exception");    \
    }

#define TT_MODULE_CAT_(a, b) a##b
#define TT_MODULE_CAT(a, b) TT_MODULE_CAT_(a, b)

// Define the descriptor and the exported entry point of a module:
//   TT_DEFINE_MODULE(tt_entry_01_tensor, "tensor", TT_TENSOR_DEPS, tt_tensor_api, k_api)
// `api` must be a constant-initialised table of that type.
#define TT_DEFINE_MODULE(entry_name, name_str, deps, api_type, api)                  \
    static tt_status tt_module_init_(const tt_host* host) {                          \
        ::ttm::g_host = host;                                                        \
        return TT_OK;                                                                \
    }                                                                                \
    static const tt_module_descriptor tt_module_descriptor_ = {                      \
        TT_ABI_VERSION, TT_MODULE_NUMBER, name_str, TT_MODULE_VARIANT, deps,         \
        tt_module_init_, sizeof(api_type), &api};                                    \
    extern "C" __attribute__((visibility("default"))) const tt_module_descriptor*    \
    entry_name(void) {                                                               \
        return &tt_module_descriptor_;                                               \
    }

// Needs a definition of TensorDeleter: modules after 01 free through the host.
#if TT_MODULE_NUMBER != 1
inline void ttm::TensorDeleter::operator()(tt_tensor* t) const {
    if (t != nullptr && g_host != nullptr && g_host->tensor != nullptr) g_host->tensor->free(t);
}
#endif
