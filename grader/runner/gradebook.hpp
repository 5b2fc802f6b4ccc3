// gradebook.hpp - the gradebook CSV of `tito grade-batch` and the integrity
// hints that go in it (gradebook.cpp).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tito::gradebook {

// One CSV cell: quoted when it holds a comma, quote or line break; a cell
// that a spreadsheet would read as a formula (leading = + - @, tab, CR) gets
// a leading apostrophe first.
std::string cell(const std::string& v);
// The rows of a CSV text, each a list of unquoted cells (the inverse of cell,
// apostrophe included: "'=1+1" reads back as "=1+1").
std::vector<std::vector<std::string>> parse(const std::string& text);

// Source text without comments (solution markers are comments) and without
// any whitespace: what a copy with new comments and layout still shares.
std::string normalise(const std::string& source);
// A module's sources reduced to what a copy keeps: comments, solution
// markers and all whitespace removed; FNV-1a 64 of the concatenation of the
// files in name order. `files`: file name -> content.
std::string normalised_hash(const std::map<std::string, std::string>& files);

}  // namespace tito::gradebook
