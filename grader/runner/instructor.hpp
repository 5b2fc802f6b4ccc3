// instructor.hpp - the student safety net (`tito module reset`) and the
// instructor tools (`tito release`, `tito grade-batch`), and the file helpers
// they share.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tito {

// Subcommands (argv excludes the subcommand name itself).
int cmd_module(const std::vector<std::string>& args);       // reset.cpp
int cmd_release(const std::vector<std::string>& args);      // release.cpp
int cmd_grade_batch(const std::vector<std::string>& args);  // batch.cpp

// The student file for one reference file (stubs.cpp; docs/solution-markers.md).
// Throws std::runtime_error on a malformed marker, naming file and line.
std::string generate_stub(const std::string& source, const std::string& rel);

namespace files {

namespace fs = std::filesystem;

// Relative path (generic, '/') -> content. Regular files only, recursively;
// `skip` names files (relative paths) to leave out.
using Tree = std::map<std::string, std::string>;

std::string read(const fs::path& p);
// Replace `p` atomically: a temporary file with a random name created
// O_EXCL|O_NOFOLLOW in p's directory (opened O_NOFOLLOW and checked: not
// writable by others without the sticky bit, owned by root when tito is
// root), written, fsynced and renamed over p (a symbolic link at p is
// replaced, never followed). An existing file's mode is kept. Throws
// std::runtime_error naming the path and the reason. Every file the
// instructor tools and the reports write goes through here.
void write_atomic(const fs::path& p, const std::string& content);
Tree read_tree(const fs::path& dir, const std::vector<std::string>& skip = {});
// Make `dir` hold exactly `tree`: files not in it are removed (callers back
// them up first), files that differ are rewritten, others are left alone.
void write_tree(const fs::path& dir, const Tree& tree);

// "20240102T030405Z": the current UTC time, for backup directory names.
std::string utc_stamp();

// A student release has prebuilt/release.cmake (written by ./tito release).
bool is_release(const fs::path& root);

// The pristine generated stubs of module `number`: generated in memory from
// modules/NN_name/reference/ (instructor side), else the copy a release ships
// in .tito/stubs/NN_name/. nullopt when neither exists. `origin` says which.
std::optional<Tree> pristine_stubs(const fs::path& root, int number, std::string* origin);

// Copy the student's files of module `dir_name` ("01_tensor") to
// <root>/.tito/backups/<dir_name>/<UTC stamp>/ with a note saying why.
// Returns the backup directory.
fs::path backup_student_files(const fs::path& root, const std::string& dir_name, const Tree& files,
                              const std::string& reason);
// The name of the note inside a backup directory.
extern const char* const kBackupNote;

}  // namespace files

}  // namespace tito
