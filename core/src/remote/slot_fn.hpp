// slot_fn.hpp - from a table slot's C type to the two functions the remote
// layer needs, without writing either by hand:
//   proxy(args...)            the trusted side's table entry: packs every
//                             argument into a 64-bit word and forwards the call
//   invoke(table, words)      the worker's side: calls the real slot with the
//                             words converted back to the argument types
// and `classes`, one letter per argument type, checked against the slot's
// signature in slots.hpp (p pointer, i int32, l int64, u uint64, f float).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "tinytorch/abi/tt_common.h"

namespace tt::remote {

// The trusted side's forwarding call (client.cpp).
tt_status call(int module, size_t slot, const uint64_t* words, size_t count);

template <class T>
uint64_t to_word(T v) {
    if constexpr (std::is_pointer_v<T>) {
        return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(v));
    } else if constexpr (std::is_same_v<T, float>) {
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        return bits;
    } else {
        static_assert(std::is_integral_v<T>);
        return static_cast<uint64_t>(v);
    }
}

template <class T>
T from_word(uint64_t w) {
    if constexpr (std::is_pointer_v<T>) {
        return reinterpret_cast<T>(static_cast<uintptr_t>(w));
    } else if constexpr (std::is_same_v<T, float>) {
        uint32_t bits = static_cast<uint32_t>(w);
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    } else {
        return static_cast<T>(w);
    }
}

template <class T>
constexpr char class_of() {
    if constexpr (std::is_pointer_v<T>) return 'p';
    else if constexpr (std::is_same_v<T, int32_t>) return 'i';
    else if constexpr (std::is_same_v<T, int64_t>) return 'l';
    else if constexpr (std::is_same_v<T, uint64_t>) return 'u';
    else if constexpr (std::is_same_v<T, float>) return 'f';
    else return '?';
}

template <int Module, size_t Slot, class F>
struct SlotFn;

template <int Module, size_t Slot, class... A>
struct SlotFn<Module, Slot, tt_status (*)(A...)> {
    static constexpr char classes[sizeof...(A) + 1] = {class_of<A>()..., '\0'};

    static tt_status proxy(A... a) {
        const uint64_t words[sizeof...(A) + 1] = {to_word(a)..., 0};
        return call(Module, Slot, words, sizeof...(A));
    }

    static tt_status invoke(const void* table, const uint64_t* words) {
        return invoke_with(table, words, std::index_sequence_for<A...>{});
    }

private:
    template <size_t... I>
    static tt_status invoke_with(const void* table, const uint64_t* words, std::index_sequence<I...>) {
        using Fn = tt_status (*)(A...);
        Fn fn;
        std::memcpy(&fn, static_cast<const char*>(table) + Slot * sizeof(void*), sizeof fn);
        return fn(from_word<A>(words[I])...);
    }
};

// Per slot of module n: what the proxy table, the worker and the checks use.
struct SlotFunctions {
    void* proxy;
    tt_status (*invoke)(const void* table, const uint64_t* words);
    const char* classes;
};
const SlotFunctions& slot_functions(int module, size_t slot);
// The proxy table of module n (a tt_xxx_api whose every slot forwards).
const void* proxy_table(int module);

}  // namespace tt::remote
