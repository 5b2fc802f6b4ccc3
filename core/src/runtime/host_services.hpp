// host_services.hpp - the services behind tt_host (errors, memory, RNG, GEMM,
// threads), shared by the loader and the C++ API.
#pragma once

#include <cstdint>
#include <string>

#include "tinytorch/abi/tt_common.h"

namespace tt::detail {

// The last error a module reported on this thread (set_error), taken and
// cleared by Runtime::check.
struct LastError {
    tt_status status = TT_OK;
    int module = 0;
    std::string function;
    std::string message;
};
LastError take_last_error();

// A host table with every service filled in and no dependency tables.
tt_host make_service_host();

// Blocks of host->alloc not released yet in this process, and the bytes
// their callers asked for. The module worker reports what its cases leave.
struct LiveAllocations {
    int64_t blocks = 0;
    int64_t bytes = 0;
};
LiveAllocations live_allocations();

void seed_global_rng(uint64_t seed);
tt_rng* global_rng();
float rng_uniform(tt_rng* rng);
void set_thread_count(int n);
int thread_count();

}  // namespace tt::detail
