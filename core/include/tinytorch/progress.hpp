// progress.hpp - the progress store (recorded grades) and the milestone gate.
//
// The store is a small JSON file, <build dir>/progress.json by default
// ($TITO_PROGRESS overrides; the build dir is the parent of the running
// executable's bin/ directory). It is written atomically (temp file in the
// same directory, fsync, rename) under an advisory lock, and a store that
// cannot be parsed is renamed aside to progress.json.corrupt-<UTC timestamp>
// with a warning on stderr: never a crash, never silently lost.
//
// Layout (version 1):
//   { "version": 1,
//     "grades": { "09": { "integrated": { "score": 50, "max_score": 50,
//         "passed_all": true, "cases": 12, "passed": 12,
//         "time": 1700000000, "timestamp": "2023-11-14T22:13:20Z",
//         "impl": "student",
//         "libraries": { "01": {"file": "tt_01_tensor_student.so",
//                               "fnv1a64": "cbf29ce484222325"}, ... } } } } }
//
// A grade is tied to what was graded: the FNV-1a 64-bit hash of the bytes of
// every student library the grade ran (modules 01..NN whose chosen variant is
// student). Rebuilding a library with different code makes the grade stale.
//
// A grade is also tied to the grader: each record carries "hmac_sha256", the
// HMAC-SHA256 of the record (module, mode and every field above) keyed with a
// per-checkout secret that tito creates on first use beside the store
// (<store>.key: 32 random bytes as hex, mode 0600, readable only by tito's
// user, never by the grading children). A record that does not verify (edited
// or written by hand, copied from another checkout, no signature, key missing
// or not private) counts for nothing: it is shown as forged or edited, and the
// gate stays locked until the module is graded again.
//
// The gate (milestone 04 needs gate_status(9)): module NN graded on the
// student's own stack 01..NN (an integrated grade), every test passed, and the
// hashes of the student libraries 01..NN recorded then still match the files
// built now. Nothing here loads a module library: it reads the files' bytes.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tinytorch/runtime.hpp"

namespace tt::progress {

// Append code point cp to out as UTF-8 (1 to 4 bytes); a value beyond
// U+10FFFF is not a code point and appends nothing. The JSON reader and the
// grader's XML reader decode their escapes with it.
void append_utf8(std::string& out, unsigned long cp);

// ---------------------------------------------------------------- JSON
// A small JSON value with a reader and a writer (what the store and the
// Gradescope results need; no external dependency). Objects keep key order.
class Json {
public:
    enum class Type { null, boolean, number, string, array, object };

    Json() = default;
    Json(std::nullptr_t) {}
    Json(bool b) : type_(Type::boolean), bool_(b) {}
    Json(int n) : type_(Type::number), number_(n) {}
    Json(int64_t n) : type_(Type::number), number_(static_cast<double>(n)) {}
    Json(double n) : type_(Type::number), number_(n) {}
    Json(const char* s) : type_(Type::string), string_(s) {}
    Json(std::string s) : type_(Type::string), string_(std::move(s)) {}
    static Json array() { Json j; j.type_ = Type::array; return j; }
    static Json object() { Json j; j.type_ = Type::object; return j; }

    Type type() const { return type_; }
    bool is_null() const { return type_ == Type::null; }
    bool is_bool() const { return type_ == Type::boolean; }
    bool is_number() const { return type_ == Type::number; }
    bool is_string() const { return type_ == Type::string; }
    bool is_array() const { return type_ == Type::array; }
    bool is_object() const { return type_ == Type::object; }

    bool as_bool() const { return bool_; }
    double as_number() const { return number_; }
    const std::string& as_string() const { return string_; }
    const std::vector<Json>& items() const { return items_; }
    const std::vector<std::pair<std::string, Json>>& members() const { return members_; }

    // Arrays.
    void push_back(Json v);
    size_t size() const { return type_ == Type::array ? items_.size() : members_.size(); }
    // Objects: find returns nullptr when absent or when this is not an object.
    const Json* find(const std::string& key) const;
    Json* find(const std::string& key);
    // Insert or replace (turns a null into an object).
    Json& set(const std::string& key, Json v);
    bool erase(const std::string& key);

    // Typed lookups with a fallback for absent or mistyped members.
    double number_or(const std::string& key, double fallback) const;
    std::string string_or(const std::string& key, const std::string& fallback) const;
    bool bool_or(const std::string& key, bool fallback) const;

    // Parse a complete JSON text (RFC 8259: whitespace, escapes incl. \uXXXX
    // and surrogate pairs); throws std::runtime_error with the byte offset.
    static Json parse(const std::string& text);
    // Serialise; indent > 0 pretty-prints with that many spaces per level.
    std::string dump(int indent = 0) const;

private:
    void dump_to(std::string& out, int indent, int depth) const;

    Type type_ = Type::null;
    bool bool_ = false;
    double number_ = 0;
    std::string string_;
    std::vector<Json> items_;
    std::vector<std::pair<std::string, Json>> members_;
};

// "01".."09": how modules are named in the store and in messages.
std::string two_digits(int n);

// ---------------------------------------------------------------- hashing

// FNV-1a 64 of a byte string / of a file's bytes (nullopt: cannot be read).
uint64_t fnv1a64(const void* data, size_t size, uint64_t seed = 0xcbf29ce484222325ull);
std::optional<uint64_t> fnv1a64_file(const std::string& path);
// 16 lowercase hex digits.
std::string hex64(uint64_t h);
// The hex hash of a file, or "" when it cannot be read.
std::string hash_file(const std::string& path);

// ---------------------------------------------------------------- records

// How a grade chose its libraries, for module NN:
//   isolated   student NN on reference 01..NN-1
//   integrated student 01..NN (the student's own stack)
//   reference  reference 01..NN
//   custom     any other mix
enum class Mode { isolated, integrated, reference, custom };
const char* mode_name(Mode m);
std::optional<Mode> parse_mode(const std::string& s);
Mode classify(int module, const ImplChoice& choice);

struct LibraryStamp {
    int module = 0;
    std::string file;  // file name of the student library (no directory)
    std::string hash;  // hex FNV-1a 64 of its bytes; "" when it did not exist
};

struct GradeRecord {
    int module = 0;
    Mode mode = Mode::isolated;
    double score = 0;
    double max_score = 0;
    int cases = 0;
    int passed = 0;
    bool passed_all = false;
    int64_t time = 0;        // seconds since the epoch
    std::string timestamp;   // the same, ISO 8601 UTC
    std::string impl;        // the spec the grade ran with
    std::vector<LibraryStamp> libraries;
    // Set when read from a store: empty when the signature verifies, else why
    // the record cannot be trusted ("... forged or edited ...").
    std::string unverified;
};

// Stamps of the student libraries a grade of `module` with `choice` involves:
// modules 01..module whose chosen variant is student. lib_dir "" means
// tt::module_library_dir().
std::vector<LibraryStamp> stamp_libraries(int module, const ImplChoice& choice,
                                          const std::string& lib_dir = "");

// Whether the libraries a record was graded with are still the ones built now
// (a record that does not verify is never fresh: its reason comes first).
struct Freshness {
    bool fresh = true;
    std::vector<std::string> reasons;  // one line per changed or missing library
};
Freshness check_fresh(const GradeRecord& record, const std::string& lib_dir = "");

// ---------------------------------------------------------------- signing

using Digest = std::array<uint8_t, 32>;
// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104).
Digest sha256(const void* data, size_t size);
Digest hmac_sha256(const void* key, size_t key_size, const void* data, size_t size);
// Lowercase hex of bytes; comparison whose time does not depend on where
// two strings differ.
std::string hex_bytes(const void* data, size_t size);
bool equal_in_constant_time(const std::string& a, const std::string& b);

// The key file of a store: <store>.key.
std::string key_path(const std::string& store_path);
struct Secret {
    std::string key;         // 32 bytes; empty when unusable
    std::string problem;     // why it is unusable ("its key file ... is missing")
    std::string store_path;  // the store it belongs to
};
// Reads the key of a store, refusing one that is a symbolic link, not a
// regular file, another user's, or readable or writable by group or others.
// With create, a missing key is made (atomically, mode 0600); creation
// failures throw std::runtime_error naming the path.
Secret load_secret(const std::string& store_path, bool create);
// The hex HMAC-SHA256 of a record (everything record_to writes, its module
// and mode) with key.
std::string sign_record(const GradeRecord& record, const std::string& key);

// ---------------------------------------------------------------- store

struct Store {
    std::string path;  // where it was loaded from / will be saved to
    Json doc;          // the whole document (unknown members are kept)
    // The key records are signed and checked with, read on first use (put
    // creates it when missing; find only reads it).
    mutable std::optional<Secret> secret;

    // The record of module n in mode m, if any (malformed records are
    // skipped); its signature checked (GradeRecord::unverified).
    std::optional<GradeRecord> find(int module, Mode mode) const;
    // Every record of module n (any mode), newest first.
    std::vector<GradeRecord> records(int module) const;
    // Insert or replace, signed (creates the key beside path when missing;
    // throws std::runtime_error when it cannot).
    void put(const GradeRecord& record);
};

// $TITO_PROGRESS, else <exe dir>/../progress.json.
std::string default_store_path();

// Read the store. A missing file gives an empty store; an unreadable or
// corrupt one is renamed aside (warning on stderr) and gives an empty store;
// a directory, a symbolic link loop or another non-file at the path gives a
// warning naming it and an empty store (left in place). Never throws for bad
// content.
Store load(const std::string& path = default_store_path());
// Write atomically (temp file in the same directory, fsync, rename, fsync dir).
// Throws std::runtime_error naming the path when it cannot.
void save(const Store& store);
// Lock, reload, replace the record of (module, mode), save. Returns the store.
Store record_grade(const GradeRecord& record, const std::string& path = default_store_path());

std::string now_iso8601(int64_t* epoch_seconds = nullptr);

// ---------------------------------------------------------------- gate

struct GateStatus {
    bool unlocked = false;
    std::vector<std::string> reasons;   // why locked (empty when unlocked)
    std::string fix_command;            // "./tito grade 09 --integrated"
    std::optional<GradeRecord> record;  // the integrated grade the decision used
};
// Module `module` passed on the student's own stack 01..module, with the
// recorded library hashes matching the files now.
GateStatus gate_status(int module, const Store& store, const std::string& lib_dir = "");
GateStatus gate_status(int module = 9);

}  // namespace tt::progress
