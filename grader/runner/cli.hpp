// cli.hpp - shared pieces of tito-cli: exit codes, paths, the subcommands.
//
// tito-cli is the trusted parent: it never loads a module library. It runs
// the grading suites as child processes and reads library files only to hash
// them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "tinytorch/progress.hpp"
#include "tinytorch/runtime.hpp"

namespace tito {

// The documented exit codes (docs/cli.md, `tito --help`).
enum Exit : int {
    kOk = 0,            // success / every test passed
    kTestsFailed = 1,   // some tests failed (or stubs out of sync)
    kUsage = 2,         // bad command line
    kLoadError = 3,     // a module library, grader or program is missing or invalid
    kBuildError = 4,    // the build failed (./tito launcher)
    kLocked = 5,        // milestone locked
    kDataMissing = 6,   // a data set is missing (milestone programs)
};

extern const char* const kExitCodeTable;

// Thrown for command-line mistakes: main prints it with a hint and exits 2.
struct UsageError {
    std::string message;
    std::string command;  // for "see tito <command> --help"
};

// Where things are: all derived from the running executable.
struct Paths {
    std::string bin_dir;     // <build>/bin
    std::string build_dir;   // <build>
    std::string lib_dir;     // tt::module_library_dir()
    std::string source_dir;  // the repository root ("" when not found)
};
const Paths& paths();

// The --impl spec in force: subcommand option, else global --impl, else
// TITO_IMPL, else nullopt (the command's own default).
struct GlobalOptions {
    std::optional<std::string> impl;  // from the global --impl
};
GlobalOptions& globals();
std::optional<std::string> impl_from_env();

// "01".."09" from "1", "01", "9"; throws UsageError.
int parse_module_arg(const std::string& s, const std::string& command);
using tt::progress::two_digits;

// The one number format of tito's output: points, seconds, limits ("2.5", "59").
std::string format_number(double v);

// Colour only for terminals (and not with NO_COLOR).
bool use_colour();
std::string paint(const std::string& text, const char* code);  // code like "32" green

namespace po = boost::program_options;

// Parse a subcommand's arguments; po errors become UsageError.
po::variables_map parse_args(const std::vector<std::string>& args,
                             const po::options_description& options,
                             const po::positional_options_description& positional,
                             const std::string& command);
// A command line split at the first "--": tito's own arguments, and what it
// hands to the program it runs untouched.
struct Passthrough {
    std::vector<std::string> own, rest;
};
Passthrough split_at_double_dash(const std::vector<std::string>& args);

// Replace tito by argv[0] with argv (stdout flushed first); returns only when
// exec failed, after saying why: kLoadError.
int exec_program(std::vector<std::string> argv);

// Print "Usage: ..." help for a subcommand (with the exit code table).
void print_help(const std::string& usage, const std::string& description,
                const po::options_description& options);

// The module choice for `spec` (tt::parse_impl_spec); throws UsageError.
tt::ImplChoice parse_spec_or_usage(const std::string& spec, const std::string& command);

// Subcommands: argv excludes the subcommand name itself.
int cmd_test(const std::vector<std::string>& args, bool grade);
int cmd_status(const std::vector<std::string>& args);
int cmd_stubs(const std::vector<std::string>& args);
int cmd_milestone(const std::vector<std::string>& args);
int cmd_run(const std::vector<std::string>& args);    // student_tools.cpp
int cmd_hint(const std::vector<std::string>& args);   // student_tools.cpp
int cmd_bench(const std::vector<std::string>& args);  // bench.cpp

}  // namespace tito
