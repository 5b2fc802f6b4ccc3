// slot_names.hpp - the name of every function slot of every module table, so
// the loader can say exactly which function a library left NULL.
#pragma once

#include <vector>

namespace tt::detail {

// Names of module n's table slots, in table order.
const std::vector<const char*>& slot_names(int module_number);

}  // namespace tt::detail
