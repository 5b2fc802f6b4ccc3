// sanitize.hpp - `tito test/grade NN --sanitize`: an AddressSanitizer +
// UBSan build of the grader and the module libraries, and reading the
// sanitizers' reports out of a test case's stderr.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tinytorch/runtime.hpp"

namespace tito {

struct SanitizeBuild {
    std::string build_dir;  // <build>-asan, or $TITO_SANITIZE_BUILD_DIR
    std::string bin_dir;    // build_dir/bin
    std::string lib_dir;    // build_dir/lib
};

// Configure (the first time, like the `asan` preset: TT_SANITIZE=ON,
// RelWithDebInfo) and build what grading module `module` with `choice`
// needs: bin/tt_grade_NN, bin/tt_load_check and the module libraries. Progress
// goes to `os`. On failure returns nullopt and sets `error` (the compiler's
// errors; the full log is <dir>/tito-build.log).
std::optional<SanitizeBuild> build_sanitized(int module, const tt::ImplChoice& choice,
                                             uint32_t needed_modules, std::ostream& os,
                                             std::string& error);

// A sanitizer's finding in a test case's stderr.
struct SanitizerFinding {
    std::string reason;                // "AddressSanitizer: heap-buffer-overflow on address ..."
    std::vector<std::string> details;  // the first stack frames and the SUMMARY line
};
// "ERROR: AddressSanitizer", "ERROR: LeakSanitizer" or UBSan's
// "file:line:col: runtime error: ...".
std::optional<SanitizerFinding> find_sanitizer_report(const std::string& stderr_text);

}  // namespace tito
