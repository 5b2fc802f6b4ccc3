// error.hpp - the exceptions of the C++ API.
//
// Every failing module call becomes a tt::Error that says which module and
// function failed, the status, and the module's own message (what went wrong
// and how to fix it). Loading problems are tt::LoadError.
#pragma once

#include <stdexcept>
#include <string>

#include "tinytorch/abi/tt_common.h"

namespace tt {

// Human name of a status code: "NOT_IMPLEMENTED", "SHAPE_MISMATCH", ...
const char* status_name(tt_status status);

class Error : public std::runtime_error {
public:
    Error(tt_status status, int module_number, std::string function, std::string message);
    tt_status status() const { return status_; }
    int module_number() const { return module_; }
    const std::string& function() const { return function_; }
    // The module's message alone (what() also has module, function, status).
    const std::string& message() const { return message_; }

private:
    tt_status status_;
    int module_;
    std::string function_;
    std::string message_;
};

// A module library could not be found, loaded or validated. The message names
// the file, the problem and the fix.
class LoadError : public std::runtime_error {
public:
    explicit LoadError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace tt
