// tt_load_check NN: load module NN and its prerequisites (the variants
// TITO_IMPL chooses) through the runtime, in a process of its own, and say
// whether that worked. tito runs it, with the limits of a test case, after
// the static pre-flight and before the first test case: a library that
// cannot be loaded (a missing symbol, an ABI mismatch, a static initialiser
// that aborts or throws) then costs its cases as one "load error" with the
// loader's or the dynamic linker's words, instead of a crash in every case.
//
// Exit: 0 loaded (prints "loaded"), 3 tt::LoadError (the message on stderr),
// 4 another exception, 2 usage. A crash is a signal, seen by tito.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <unistd.h>

#include "tinytorch/runtime.hpp"

int main(int argc, char** argv) {
    int n = argc == 2 ? std::atoi(argv[1]) : 0;
    if (n < 1 || n > tt::kModuleCount) {
        std::fprintf(stderr, "usage: tt_load_check NN (01..09); TITO_IMPL chooses the variants\n");
        return 2;
    }
    try {
        tt::runtime().require(n);
        // Done: exit now, so that nothing a module does at exit (a static
        // destructor) is mistaken for a load failure.
        std::printf("loaded\n");
        std::fflush(stdout);
        _exit(0);
    } catch (const tt::LoadError& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 3;
    } catch (const std::exception& e) {
        // Only a library's own code throws here: a static initialiser (the
        // constructor of a global object) or its init function.
        std::fprintf(stderr,
                     "loading module %02d failed: an exception escaped while its libraries were loaded "
                     "(from a static initialiser, the constructor of a global object, or init): %s\n",
                     n, e.what());
        return 4;
    } catch (...) {
        std::fprintf(stderr,
                     "loading module %02d failed: an exception escaped while its libraries were loaded "
                     "(from a static initialiser, the constructor of a global object, or init)\n",
                     n);
        return 4;
    }
}
