// tt_load_probe: loads module 01 through the runtime in a fresh process and
// prints what happened, so each loader scenario gets its own process
// (libraries are never unloaded). Env: TITO_LIB_DIR, TITO_IMPL, and
// TT_PROBE_PRELOAD=<library> to dlopen first with RTLD_GLOBAL (worst case).
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

#include "tinytorch/runtime.hpp"
#include "tinytorch/tensor.hpp"

int main() {
    if (const char* pre = std::getenv("TT_PROBE_PRELOAD")) {
        if (!dlopen(pre, RTLD_NOW | RTLD_GLOBAL)) {
            std::printf("PRELOAD FAILED %s\n", dlerror());
            return 2;
        }
    }
    try {
        tt::runtime().require(1);
        tt::Tensor t = tt::Tensor::zeros({2});
        std::printf("LOADED first=%g\n", t.data()[0]);
        return 0;
    } catch (const tt::LoadError& e) {
        std::printf("LOAD ERROR %s\n", e.what());
        return 3;
    } catch (const std::exception& e) {
        std::printf("ERROR %s\n", e.what());
        return 4;
    }
}
