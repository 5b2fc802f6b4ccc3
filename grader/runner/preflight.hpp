// preflight.hpp - check a student library before any of its code runs.
//
// tito (the trusted parent) never loads a module library. Before a test case
// starts, it reads each student library as a file and refuses it when:
//  - it exports anything but its one entry point tt_entry_NN_name (or lacks it),
//  - it exports a sanitizer hook that would switch a check off or hide its
//    findings (__asan_default_options, __lsan_is_turned_off,
//    __lsan_default_suppressions, __ubsan_default_options, ...),
//  - it imports the dynamic loader's lookup functions (dlopen, dlsym,
//    dl_iterate_phdr, ...): a module reaches other modules only through the
//    host table, never by finding a library (the reference) itself,
//  - it links another module library (DT_NEEDED tt_*),
//  - it is not a 64-bit little-endian ELF shared library, or its dynamic
//    symbol table is missing or inconsistent.
//
// The dynamic symbol table (.dynsym, what the dynamic linker binds against)
// is read directly and cross-checked with the PT_DYNAMIC segment. Boost.DLL's
// library_info (1.74) validates the format and contributes the exported
// names of the static symbol table; it cannot be the only source: it reads
// .symtab, which `strip` removes, so a stripped library would look empty.
#pragma once

#include <string>
#include <vector>

namespace tito {

struct PreflightResult {
    bool ok = true;
    std::vector<std::string> problems;  // one sentence each, naming the symbol
    std::vector<std::string> exports;   // defined, visible dynamic symbols
    std::vector<std::string> imports;   // undefined dynamic symbols
    std::vector<std::string> needed;    // DT_NEEDED
};

// `entry`: the one symbol the library may export ("tt_entry_01_tensor").
PreflightResult preflight_library(const std::string& path, const std::string& entry);

// Whether a program or library links a sanitizer runtime (DT_NEEDED
// libasan/libubsan/...): a sanitizer build's grader needs TITO_SANITIZE's
// treatment (no address-space limit) whether or not the variable is set.
bool links_sanitizer_runtime(const std::string& path);

// Exported names that switch a sanitizer off or hide its reports, with why.
const char* forbidden_export_reason(const std::string& name);
// Imported names that let code find other libraries by itself, with why.
const char* forbidden_import_reason(const std::string& name);

}  // namespace tito
