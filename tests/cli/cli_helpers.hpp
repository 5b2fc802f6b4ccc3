// cli_helpers.hpp - run the real tito-cli as a subprocess from the tests.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "common/temp_dir.hpp"

namespace cli_test {

namespace fs = std::filesystem;
using tt_test::TempDir;

inline std::string tito_cli() { return std::string(TT_TEST_BIN_DIR) + "/tito-cli"; }

inline std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void write_file(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

// A fresh directory under the system temp dir, removed at scope exit.
inline std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

struct Result {
    int code = -1;       // exit status; 128 + signal when killed
    bool signaled = false;
    std::string out, err;
};

// Run tito-cli with args. TITO_IMPL is unset; TITO_PROGRESS must be given in
// env by every test that may touch the store (never the real one).
inline Result run_tito(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env,
                       const std::string& program = tito_cli()) {
    TempDir io;
    std::string cmd = "env -u TITO_IMPL -u TITO_LIB_DIR -u TITO_SOURCE_DIR NO_COLOR=1";
    for (const auto& [k, v] : env) {
        cmd += ' ';
        cmd += k;
        cmd += '=';
        cmd += shell_quote(v);
    }
    cmd += ' ';
    cmd += shell_quote(program);
    for (const auto& a : args) {
        cmd += ' ';
        cmd += shell_quote(a);
    }
    cmd += " </dev/null >";
    cmd += shell_quote((io.path / "out").string());
    cmd += " 2>";
    cmd += shell_quote((io.path / "err").string());
    int status = std::system(cmd.c_str());
    Result r;
    if (WIFEXITED(status)) {
        r.code = WEXITSTATUS(status);
        // The shell reports a signal-killed child as 128 + signal.
        r.signaled = r.code > 128;
    } else if (WIFSIGNALED(status)) {
        r.code = 128 + WTERMSIG(status);
        r.signaled = true;
    }
    r.out = read_file(io.path / "out");
    r.err = read_file(io.path / "err");
    return r;
}

inline bool contains(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

}  // namespace cli_test
