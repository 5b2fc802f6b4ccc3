// tt_worker --fd N: the process that runs student module code for a grading
// suite (core/src/remote/remote.hpp). It is started by the suite, inside its
// sandbox, with a connected socket as descriptor N, and serves load and call
// requests until the suite is done. It holds no test and decides no grade.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "remote/remote.hpp"

int main(int argc, char** argv) {
    if (argc != 3 || std::strcmp(argv[1], "--fd") != 0) {
        std::fprintf(stderr, "usage: tt_worker --fd N (started by a grading suite, not by hand)\n");
        return 2;
    }
    tt::remote::serve(std::atoi(argv[2]));
}
