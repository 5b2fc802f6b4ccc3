// slot_tables.cpp - the proxy tables and worker invokers of every module,
// generated from slots.hpp and the ABI headers' slot types (slot_fn.hpp).
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "remote/peer.hpp"
#include "remote/slot_fn.hpp"
#include "remote/slots.hpp"
#include "tinytorch/runtime.hpp"

namespace tt::remote {
namespace {

#define TT_SLOT_FUNCTIONS(api, slot, sig)                                                       \
    {reinterpret_cast<void*>(&SlotFn<TT_MODULE_N, offsetof(api, slot) / sizeof(void*),           \
                                     decltype(api::slot)>::proxy),                               \
     &SlotFn<TT_MODULE_N, offsetof(api, slot) / sizeof(void*), decltype(api::slot)>::invoke,     \
     SlotFn<TT_MODULE_N, offsetof(api, slot) / sizeof(void*), decltype(api::slot)>::classes},

#define TT_MODULE_N 1
const std::vector<SlotFunctions> k01 = {TT_SLOTS_01(TT_SLOT_FUNCTIONS)};
#undef TT_MODULE_N
#define TT_MODULE_N 2
const std::vector<SlotFunctions> k02 = {TT_SLOTS_02(TT_SLOT_FUNCTIONS)};
#undef TT_MODULE_N
#define TT_MODULE_N 3
const std::vector<SlotFunctions> k03 = {TT_SLOTS_03(TT_SLOT_FUNCTIONS)};
#undef TT_MODULE_N
#define TT_MODULE_N 4
const std::vector<SlotFunctions> k04 = {TT_SLOTS_04(TT_SLOT_FUNCTIONS)};
#undef TT_MODULE_N
#define TT_MODULE_N 5
const std::vector<SlotFunctions> k05 = {TT_SLOTS_05(TT_SLOT_FUNCTIONS)};
#undef TT_MODULE_N
#define TT_MODULE_N 6
const std::vector<SlotFunctions> k06 = {TT_SLOTS_06(TT_SLOT_FUNCTIONS)};
#undef TT_MODULE_N
#define TT_MODULE_N 7
const std::vector<SlotFunctions> k07 = {TT_SLOTS_07(TT_SLOT_FUNCTIONS)};
#undef TT_MODULE_N
#define TT_MODULE_N 8
const std::vector<SlotFunctions> k08 = {TT_SLOTS_08(TT_SLOT_FUNCTIONS)};
#undef TT_MODULE_N
#define TT_MODULE_N 9
const std::vector<SlotFunctions> k09 = {TT_SLOTS_09(TT_SLOT_FUNCTIONS)};
#undef TT_MODULE_N

const std::vector<SlotFunctions>& module_functions(int module) {
    static const std::vector<SlotFunctions>* all[kModuleCount] = {&k01, &k02, &k03, &k04, &k05,
                                                                  &k06, &k07, &k08, &k09};
    if (module < 1 || module > kModuleCount) throw std::out_of_range("module number");
    return *all[module - 1];
}

// The signature's tokens must agree with the C argument types, one for one.
void check_signature(int module, size_t slot) {
    const SlotSpec& spec = slot_spec(module, slot);
    const char* classes = module_functions(module)[slot].classes;
    std::string want(classes);
    std::string got;
    for (const ArgSpec& a : spec.args) {
        switch (a.kind) {
            case Kind::i32: got += 'i'; break;
            case Kind::i64: got += 'l'; break;
            case Kind::u64: got += 'u'; break;
            case Kind::f32: got += 'f'; break;
            default: got += 'p'; break;
        }
    }
    if (got != want)
        throw std::logic_error(std::string("slots.hpp: the signature of ") + spec.name + " (\"" +
                               spec.signature + "\") does not match its C arguments (" + want + ")");
}

}  // namespace

const SlotFunctions& slot_functions(int module, size_t slot) {
    const auto& fns = module_functions(module);
    if (slot >= fns.size()) throw std::out_of_range("slot index");
    return fns[slot];
}

const void* proxy_table(int module) {
    // One table per module, built once; every slot checked against its signature.
    static std::vector<void*> tables[kModuleCount];
    std::vector<void*>& t = tables[module - 1];
    if (t.empty()) {
        const auto& fns = module_functions(module);
        if (fns.size() != slot_count(module)) throw std::logic_error("slots.hpp: slot lists disagree");
        for (size_t i = 0; i < fns.size(); ++i) {
            check_signature(module, i);
            t.push_back(fns[i].proxy);
        }
    }
    return t.data();
}

}  // namespace tt::remote
