// temp_dir.hpp - a fresh directory under the system's temporary directory
// for one test, removed with everything in it when the object goes.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace tt_test {

class TempDir {
public:
    // <tmp>/tt-<tag>-XXXXXX, created now (mkdtemp: unique, mode 0700).
    explicit TempDir(const std::string& tag = "test") {
        std::string pattern = (std::filesystem::temp_directory_path() / ("tt-" + tag + "-XXXXXX")).string();
        if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a directory " + pattern);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    // The directory, or `sub` inside it, as a string.
    std::string str(const std::string& sub = "") const { return sub.empty() ? path.string() : (path / sub).string(); }

    std::filesystem::path path;
};

}  // namespace tt_test
