// runtime.hpp - which module libraries are loaded, and access to their tables.
//
// The runtime loads module libraries lazily and in dependency order: asking
// for module 05 loads 01..04 first (each per its chosen variant). Libraries
// are never unloaded. Choice of variant per module comes from, in order:
// Runtime::configure(spec), else the TITO_IMPL environment variable, else
// "student" for every module.
//
// Spec syntax (also for `tito --impl`):
//   student | reference                       every module
//   fast                                      the fast variant where a module has
//                                             one (09), the reference elsewhere
//   01-05=student,06-09=reference             ranges or single numbers, comma separated
//   reference,03=student,09=fast              a default followed by overrides
//
// The variants: student (modules/NN/student, the student's code), reference
// (modules/NN/reference, the readable model solution) and fast (modules/NN/fast,
// the same functions tuned for speed; only the modules in has_fast_variant()).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tinytorch/abi/tt_01_tensor.h"
#include "tinytorch/abi/tt_02_activations.h"
#include "tinytorch/abi/tt_03_layers.h"
#include "tinytorch/abi/tt_04_losses.h"
#include "tinytorch/abi/tt_05_autograd.h"
#include "tinytorch/abi/tt_06_optimizers.h"
#include "tinytorch/abi/tt_07_training.h"
#include "tinytorch/abi/tt_08_dataloader.h"
#include "tinytorch/abi/tt_09_spatial.h"
#include "tinytorch/error.hpp"

namespace tt {

enum class Variant { student, reference, fast };
const char* variant_name(Variant v);

constexpr int kModuleCount = 9;

struct ModuleInfo {
    int number;               // 1..9
    const char* name;         // "tensor"
    const char* dir;          // "01_tensor"
    const char* entry;        // "tt_entry_01_tensor"
    uint32_t deps_mask;       // TT_DEP(n) bits
};
// Static facts about module n (1..9).
const ModuleInfo& module_info(int number);

// Per-module variant choice (index 0 = module 01).
using ImplChoice = std::array<Variant, kModuleCount>;
// Parse a spec (see above); throws std::invalid_argument with a readable message.
ImplChoice parse_impl_spec(const std::string& spec);
std::string format_impl_choice(const ImplChoice& choice);
// Whether module n (1..9) has a fast variant (modules/NN/fast/).
bool has_fast_variant(int number);
// The fastest libraries built in module_library_dir(): fast where that
// library exists, else reference (demos and benchmarks of the reference).
ImplChoice fastest_available_choice();

// Directory holding the module libraries: $TITO_LIB_DIR, else <exe dir>/../lib.
std::string module_library_dir();
// Absolute path of a module library: <lib dir>/tt_01_tensor_student.so
std::string module_library_path(int number, Variant variant);

class Runtime {
public:
    // Choose variants; must come before the first module is loaded (throws
    // std::logic_error after, since libraries are never unloaded).
    void configure(const ImplChoice& choice);
    const ImplChoice& choice();

    // Load module n (and its prerequisites) if needed; throws LoadError.
    void require(int number);
    bool loaded(int number) const;
    Variant variant(int number);
    std::string library_path(int number);

    const tt_tensor_api& tensor() { return *static_cast<const tt_tensor_api*>(table(1)); }
    const tt_activations_api& activations() { return *static_cast<const tt_activations_api*>(table(2)); }
    const tt_layers_api& layers() { return *static_cast<const tt_layers_api*>(table(3)); }
    const tt_losses_api& losses() { return *static_cast<const tt_losses_api*>(table(4)); }
    const tt_autograd_api& autograd() { return *static_cast<const tt_autograd_api*>(table(5)); }
    const tt_optimizers_api& optimizers() { return *static_cast<const tt_optimizers_api*>(table(6)); }
    const tt_training_api& training() { return *static_cast<const tt_training_api*>(table(7)); }
    const tt_dataloader_api& dataloader() { return *static_cast<const tt_dataloader_api*>(table(8)); }
    const tt_spatial_api& spatial() { return *static_cast<const tt_spatial_api*>(table(9)); }

    // The host table the core hands to modules (services only, no deps).
    const tt_host& host();

    // Reseed the global RNG (weight init, dropout, augmentation).
    void seed(uint64_t seed);
    // Threads of the pool and of BLAS (default: hardware threads).
    void set_threads(int n);
    int threads() const;

    // Turn a module status into an exception (no-op for TT_OK).
    void check(tt_status status, int module_number, const char* function);

private:
    const void* table(int number);
};

Runtime& runtime();

// Call a module function and throw tt::Error on failure:
//   TT_CALL(1, create, shape, ndim, &out);
#define TT_CALL(module_number, api, fn, ...) \
    ::tt::runtime().check((api).fn(__VA_ARGS__), (module_number), #fn)

}  // namespace tt
