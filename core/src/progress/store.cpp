// store.cpp - the progress store: load (setting a corrupt file aside), atomic
// save, and grade records.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tinytorch/progress.hpp"

namespace fs = std::filesystem;

namespace tt::progress {

namespace {

constexpr int kVersion = 1;


Json empty_doc() {
    Json doc = Json::object();
    doc.set("version", kVersion);
    doc.set("grades", Json::object());
    return doc;
}

std::string utc_string(int64_t t, const char* format) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

// Structural problems that make the document unusable (records inside are
// checked one by one when read, so a bad record never poisons the others).
std::string schema_problem(const Json& doc) {
    if (!doc.is_object()) return "the top level is not a JSON object";
    const Json* v = doc.find("version");
    if (v && (!v->is_number() || v->as_number() != kVersion))
        return "unknown version " + v->dump() + " (this tito writes version 1)";
    const Json* g = doc.find("grades");
    if (g && !g->is_object()) return "\"grades\" is not an object";
    return "";
}

void set_aside(const std::string& path, const std::string& why) {
    std::string aside = path + ".corrupt-" + utc_string(std::time(nullptr), "%Y%m%dT%H%M%SZ");
    std::error_code ec;
    for (int i = 1; fs::exists(aside, ec) && i < 1000; ++i)
        aside = path + ".corrupt-" + utc_string(std::time(nullptr), "%Y%m%dT%H%M%SZ") + "-" +
                std::to_string(i);
    fs::rename(path, aside, ec);
    std::cerr << "tito: warning: the progress store " << path << " is corrupt (" << why << ").\n";
    if (ec)
        std::cerr << "  could not move it aside (" << ec.message()
                  << "); it is left in place and will be replaced on the next grade.\n";
    else
        std::cerr << "  It was moved aside to " << aside
                  << " and grading starts from an empty store.\n";
}

// v within [lo, hi] (a NaN gives lo): what a hand-edited number may be cast
// to an integer from without undefined behaviour.
double clamped(double v, double lo, double hi) { return v >= lo ? (v <= hi ? v : hi) : lo; }

std::optional<GradeRecord> record_from(int module, Mode mode, const Json& j) {
    if (!j.is_object()) return std::nullopt;
    const Json* score = j.find("score");
    const Json* max = j.find("max_score");
    const Json* passed_all = j.find("passed_all");
    if (!score || !score->is_number() || !max || !max->is_number() || !passed_all ||
        !passed_all->is_bool())
        return std::nullopt;
    GradeRecord r;
    r.module = module;
    r.mode = mode;
    r.score = score->as_number();
    r.max_score = max->as_number();
    r.passed_all = passed_all->as_bool();
    r.cases = static_cast<int>(clamped(j.number_or("cases", 0), 0, 1e9));
    r.passed = static_cast<int>(clamped(j.number_or("passed", 0), 0, 1e9));
    r.time = static_cast<int64_t>(clamped(j.number_or("time", 0), 0, 4e12));
    r.timestamp = j.string_or("timestamp", "");
    r.impl = j.string_or("impl", "");
    if (const Json* libs = j.find("libraries"); libs && libs->is_object()) {
        for (const auto& [key, lib] : libs->members()) {
            int m = std::atoi(key.c_str());
            if (m < 1 || m > kModuleCount || !lib.is_object()) return std::nullopt;
            r.libraries.push_back({m, lib.string_or("file", ""), lib.string_or("fnv1a64", "")});
        }
    }
    return r;
}

constexpr const char* kMacMember = "hmac_sha256";

// Everything a record says, without its signature.
Json record_to(const GradeRecord& r) {
    Json j = Json::object();
    j.set("score", r.score);
    j.set("max_score", r.max_score);
    j.set("passed_all", r.passed_all);
    j.set("cases", r.cases);
    j.set("passed", r.passed);
    j.set("time", r.time);
    j.set("timestamp", r.timestamp);
    j.set("impl", r.impl);
    Json libs = Json::object();
    for (const LibraryStamp& s : r.libraries) {
        Json l = Json::object();
        l.set("file", s.file);
        l.set("fnv1a64", s.hash);
        libs.set(two_digits(s.module), l);
    }
    j.set("libraries", libs);
    return j;
}

// The key of a store, read once (and created when `create`); read again when
// the store's path changed since.
const Secret& secret_of(const Store& store, bool create) {
    const std::string where = store.path.empty() ? default_store_path() : store.path;
    if (!store.secret || store.secret->store_path != where || (create && store.secret->key.empty()))
        store.secret = load_secret(where, create);
    return *store.secret;
}

// Why the record j of (module, mode) cannot be trusted; empty when its
// signature verifies.
std::string verify(const Store& store, const GradeRecord& r, const Json& j) {
    std::string what = "the " + std::string(mode_name(r.mode)) + " grade of module " + two_digits(r.module) +
                       (r.timestamp.empty() ? std::string() : " (" + r.timestamp + ")");
    const Json* mac = j.find(kMacMember);
    if (!mac || !mac->is_string() || mac->as_string().empty())
        return what + " carries no signature: it was forged or edited by hand, or written by an older tito";
    const Secret& secret = secret_of(store, false);
    if (secret.key.empty())
        return what + " cannot be verified: " + secret.problem + ", so it counts as forged or edited";
    if (!equal_in_constant_time(mac->as_string(), sign_record(r, secret.key)))
        return what + " does not match its signature: it was forged or edited outside tito";
    return "";
}

std::string exe_dir() {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string(".") : exe.parent_path().string();
}

void write_all(int fd, const std::string& data, const std::string& path) {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
        }
        done += static_cast<size_t>(n);
    }
}

}  // namespace

// ---------------------------------------------------------------- modes

std::string two_digits(int n) {
    std::string s = std::to_string(n);
    if (n >= 0 && n < 10) s.insert(0, "0");
    return s;
}

const char* mode_name(Mode m) {
    switch (m) {
        case Mode::isolated: return "isolated";
        case Mode::integrated: return "integrated";
        case Mode::reference: return "reference";
        case Mode::custom: return "custom";
    }
    return "custom";
}

std::optional<Mode> parse_mode(const std::string& s) {
    for (Mode m : {Mode::isolated, Mode::integrated, Mode::reference, Mode::custom})
        if (s == mode_name(m)) return m;
    return std::nullopt;
}

Mode classify(int module, const ImplChoice& choice) {
    bool below_student = true, below_reference = true;
    for (int m = 1; m < module; ++m) {
        below_student = below_student && choice[m - 1] == Variant::student;
        below_reference = below_reference && choice[m - 1] == Variant::reference;
    }
    bool self_student = choice[module - 1] == Variant::student;
    if (self_student && below_student) return Mode::integrated;
    if (self_student && below_reference) return Mode::isolated;
    if (!self_student && below_reference) return Mode::reference;
    return Mode::custom;
}

std::string now_iso8601(int64_t* epoch_seconds) {
    std::time_t t = std::time(nullptr);
    if (epoch_seconds) *epoch_seconds = static_cast<int64_t>(t);
    return utc_string(t, "%Y-%m-%dT%H:%M:%SZ");
}

// ---------------------------------------------------------------- store

std::optional<GradeRecord> Store::find(int module, Mode mode) const {
    const Json* grades = doc.find("grades");
    const Json* per_module = grades ? grades->find(two_digits(module)) : nullptr;
    const Json* rec = per_module ? per_module->find(mode_name(mode)) : nullptr;
    if (!rec) return std::nullopt;
    std::optional<GradeRecord> r = record_from(module, mode, *rec);
    if (r) r->unverified = verify(*this, *r, *rec);
    return r;
}

std::vector<GradeRecord> Store::records(int module) const {
    std::vector<GradeRecord> out;
    for (Mode m : {Mode::isolated, Mode::integrated, Mode::reference, Mode::custom})
        if (auto r = find(module, m)) out.push_back(*r);
    std::stable_sort(out.begin(), out.end(),
                     [](const GradeRecord& a, const GradeRecord& b) { return a.time > b.time; });
    return out;
}

void Store::put(const GradeRecord& record) {
    if (!doc.is_object()) doc = empty_doc();
    Json* grades = doc.find("grades");
    if (!grades || !grades->is_object()) grades = &doc.set("grades", Json::object());
    Json* per_module = grades->find(two_digits(record.module));
    if (!per_module || !per_module->is_object())
        per_module = &grades->set(two_digits(record.module), Json::object());
    const Secret& secret = secret_of(*this, true);
    if (secret.key.empty())
        throw std::runtime_error("cannot sign the grade for the progress store " + path + ": " + secret.problem);
    Json j = record_to(record);
    j.set(kMacMember, sign_record(record, secret.key));
    per_module->set(mode_name(record.mode), j);
}

std::string sign_record(const GradeRecord& record, const std::string& key) {
    // Module and mode are part of the message: a record moved to another
    // module or mode does not verify either.
    const std::string message = "tinytorch progress record v1\n" + two_digits(record.module) + "\n" +
                                mode_name(record.mode) + "\n" + record_to(record).dump();
    Digest d = hmac_sha256(key.data(), key.size(), message.data(), message.size());
    return hex_bytes(d.data(), d.size());
}

namespace {

// Move a store an older tito kept in the build directory (and its key, or its
// signatures would no longer verify) to `to`. link() never replaces a file,
// so two runs migrating at once cannot lose a grade; the old names go only
// once both new ones exist. False when it could not (the old store stays in use).
bool migrate_store(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    const std::string from_key = key_path(from.string()), to_key = key_path(to.string());
    bool has_key = fs::exists(from_key, ec);
    if (has_key && fs::exists(to_key, ec)) return false;  // another key there: the records would not verify
    if (has_key && ::link(from_key.c_str(), to_key.c_str()) != 0) return false;
    if (::link(from.c_str(), to.c_str()) != 0) {
        if (has_key && errno != EEXIST) ::unlink(to_key.c_str());
        return errno == EEXIST;  // another run moved it first
    }
    ::unlink(from.c_str());
    if (has_key) ::unlink(from_key.c_str());
    std::cerr << "tito: moved the progress store from " << from.string() << " to " << to.string()
              << " (grades now live outside the build directory, which can be deleted)\n";
    return true;
}

}  // namespace

// <checkout>/.tito/progress.json: outside every build directory, so removing
// build/ keeps the grades. The checkout is TITO_SOURCE_DIR, else the one the
// build was configured from; when that is gone, the build directory's own
// store as before.
std::string default_store_path() {
    if (const char* env = std::getenv("TITO_PROGRESS"); env && *env) return env;
    const fs::path in_build = (fs::path(exe_dir()).parent_path() / "progress.json").lexically_normal();
    const char* src_env = std::getenv("TITO_SOURCE_DIR");
    const fs::path checkout = src_env && *src_env ? fs::path(src_env) : fs::path(TT_SOURCE_DIR);
    std::error_code ec;
    if (!fs::is_directory(checkout / "modules", ec)) return in_build.string();
    const fs::path store = fs::absolute(checkout / ".tito" / "progress.json", ec).lexically_normal();
    if (!fs::exists(store, ec) && fs::exists(in_build, ec) && !migrate_store(in_build, store)) {
        std::cerr << "tito: warning: could not move the progress store " << in_build.string() << " to "
                  << store.string() << "; it stays where it is\n";
        return in_build.string();
    }
    return store.string();
}

Store load(const std::string& path) {
    Store store{path, empty_doc(), std::nullopt};
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        int err = errno;
        if (err == ENOENT) return store;  // no grade recorded yet
        if (err == ELOOP)
            std::cerr << "tito: warning: the progress store " << path
                      << " is a symbolic link loop; continuing without recorded grades. Remove the link "
                         "(the next grade writes a new store there) or set TITO_PROGRESS to a file.\n";
        else
            std::cerr << "tito: warning: cannot look at the progress store " << path << " ("
                      << std::strerror(err) << "); continuing without recorded grades.\n";
        return store;
    }
    if (S_ISDIR(st.st_mode)) {
        std::cerr << "tito: warning: the progress store " << path
                  << " is a directory, not a file; continuing without recorded grades. Move it away "
                     "(grades cannot be recorded until then) or set TITO_PROGRESS to a file.\n";
        return store;
    }
    if (!S_ISREG(st.st_mode)) {
        std::cerr << "tito: warning: the progress store " << path
                  << " is not a regular file; continuing without recorded grades.\n";
        return store;
    }
    // A store holds at most 9 modules x 4 modes of small records (a few KB):
    // a file of megabytes is not one, and is not read into memory.
    constexpr off_t kMaxStoreBytes = off_t{1} << 20;
    if (st.st_size > kMaxStoreBytes) {
        set_aside(path, "it is " + std::to_string(st.st_size) + " bytes, far more than a store (a few KB)");
        return store;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::cerr << "tito: warning: cannot read the progress store " << path << " ("
                  << std::strerror(errno) << "); continuing without recorded grades.\n";
        return store;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    std::string problem;
    Json doc;
    try {
        doc = Json::parse(text);
        problem = schema_problem(doc);
    } catch (const std::exception& e) {
        problem = text.empty() ? "the file is empty" : e.what();
    }
    if (!problem.empty()) {
        set_aside(path, problem);
        return store;
    }
    if (!doc.find("version")) doc.set("version", kVersion);
    if (!doc.find("grades")) doc.set("grades", Json::object());
    store.doc = std::move(doc);
    return store;
}

void save(const Store& store) {
    const std::string& path = store.path;
    fs::path p(path);
    fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    std::error_code ec;
    fs::create_directories(dir, ec);
    // A fresh temporary file of tito's own (mkstemp: O_EXCL, a random name),
    // never an existing file or link someone planted under a guessable name.
    std::string tmp = path + ".tmp-XXXXXX";
    int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (fd >= 0) ::fchmod(fd, 0644);
    if (fd < 0)
        throw std::runtime_error("cannot write the progress store: cannot create " + tmp + ": " +
                                 std::strerror(errno));
    try {
        write_all(fd, store.doc.dump(2) + "\n", tmp);
        if (::fsync(fd) != 0)
            throw std::runtime_error("cannot write " + tmp + ": fsync: " + std::strerror(errno));
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        if (err == EISDIR || err == ENOTEMPTY || err == EEXIST)
            throw std::runtime_error("cannot write the progress store " + path +
                                     ": it is a directory. Move it away, or set TITO_PROGRESS to a file.");
        throw std::runtime_error("cannot write the progress store " + path + ": rename: " +
                                 std::strerror(err));
    }
    // Make the rename itself durable.
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

Store record_grade(const GradeRecord& record, const std::string& path) {
    // Serialise concurrent graders on a lock file next to the store.
    std::error_code ec;
    fs::path dir = fs::path(path).parent_path();
    if (!dir.empty()) fs::create_directories(dir, ec);
    std::string lock_path = path + ".lock";
    int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (lock >= 0) {
        while (::flock(lock, LOCK_EX) != 0 && errno == EINTR) {
        }
    }
    try {
        Store store = load(path);
        store.put(record);
        save(store);
        if (lock >= 0) ::close(lock);  // releases the lock
        return store;
    } catch (...) {
        if (lock >= 0) ::close(lock);
        throw;
    }
}

}  // namespace tt::progress
