// subprocess.hpp - run a shell command and collect its exit code and output
// (stdout and stderr together), for tests that drive the real programs.
#pragma once

#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <sys/wait.h>

namespace tt_test {

struct RunResult {
    int code = -1;    // exit status, -1 when killed by a signal
    std::string out;  // stdout + stderr
};

inline RunResult run_command(const std::string& cmd) {
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    if (p == nullptr) throw std::runtime_error("popen failed for: " + cmd);
    RunResult r;
    std::array<char, 4096> buf{};
    while (fgets(buf.data(), static_cast<int>(buf.size()), p)) r.out += buf.data();
    int status = pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace tt_test
