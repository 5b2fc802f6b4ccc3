// files.cpp - file helpers of the instructor tools and the safety net:
// whole-directory reads and writes, backups, the pristine stubs.
#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.hpp"
#include "instructor.hpp"

namespace tito::files {

const char* const kBackupNote = ".tito-backup";

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

namespace {

std::string errno_text() { return std::strerror(errno); }

// A name for the temporary file that nobody can guess: 96 random bits.
std::string random_suffix() {
    unsigned char b[12];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error("getrandom failed: " + errno_text());
        got += static_cast<size_t>(n);
    }
    static const char* hex = "0123456789abcdef";
    std::string s;
    for (unsigned char c : b) {
        s += hex[c >> 4];
        s += hex[c & 15];
    }
    return s;
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) close(fd);
    }
};

}  // namespace

// The directory is opened once (O_NOFOLLOW: not a symbolic link) and checked
// (not writable by others without the sticky bit; as root, owned by root), and
// every step after that is relative to that open directory, so swapping the
// directory or planting a link at the target or the temporary name cannot
// redirect the write: the temporary file is created O_EXCL|O_NOFOLLOW under a
// random name, written, fsynced and renamed over the target (a link there is
// replaced, never followed), then the directory is fsynced.
void write_atomic(const fs::path& target, const std::string& content) {
    const fs::path p = fs::absolute(target);
    const fs::path dir = p.parent_path();
    const std::string name = p.filename().string();
    if (name.empty() || name == "." || name == "..") throw std::runtime_error("cannot write " + p.string() + ": not a file name");
    fs::create_directories(dir);
    Fd d;
    d.fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d.fd < 0)
        throw std::runtime_error("cannot write " + p.string() + ": " + dir.string() +
                                 (errno == ELOOP || errno == ENOTDIR ? " is a symbolic link (give the real path)"
                                                                     : ": " + errno_text()));
    struct stat ds {};
    if (fstat(d.fd, &ds) != 0) throw std::runtime_error("cannot stat " + dir.string() + ": " + errno_text());
    if ((ds.st_mode & S_IWOTH) && !(ds.st_mode & S_ISVTX))
        throw std::runtime_error("refusing to write " + p.string() + ": " + dir.string() +
                                 " is writable by every user (chmod o-w it, or choose another folder)");
    if (geteuid() == 0 && ds.st_uid != 0)
        throw std::runtime_error("refusing to write " + p.string() + " as root: " + dir.string() +
                                 " belongs to another user (uid " + std::to_string(ds.st_uid) + ")");
    // The mode: an existing file's, else what the umask gives a new file.
    mode_t mode = 0;
    struct stat ts {};
    if (fstatat(d.fd, name.c_str(), &ts, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(ts.st_mode)) {
        mode = ts.st_mode & 07777;
    } else {
        mode_t mask = umask(022);
        umask(mask);
        mode = 0666 & ~mask;
    }
    std::string tmp;
    Fd f;
    for (int attempt = 0; attempt < 8 && f.fd < 0; ++attempt) {
        tmp = "." + name + ".tito-" + random_suffix();
        f.fd = openat(d.fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (f.fd < 0 && errno != EEXIST)
            throw std::runtime_error("cannot create a temporary file in " + dir.string() + ": " + errno_text());
    }
    if (f.fd < 0) throw std::runtime_error("cannot create a temporary file in " + dir.string());
    auto fail = [&](const std::string& what) {
        int e = errno;
        unlinkat(d.fd, tmp.c_str(), 0);
        throw std::runtime_error("cannot write " + p.string() + ": " + what + ": " + std::strerror(e));
    };
    for (size_t off = 0; off < content.size();) {
        ssize_t n = write(f.fd, content.data() + off, content.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("write");
        off += static_cast<size_t>(n);
    }
    if (fchmod(f.fd, mode) != 0) fail("fchmod");
    if (fsync(f.fd) != 0) fail("fsync");
    if (close(f.fd) != 0) {
        f.fd = -1;
        fail("close");
    }
    f.fd = -1;
    if (renameat(d.fd, tmp.c_str(), d.fd, name.c_str()) != 0) fail("rename");
    fsync(d.fd);
}

Tree read_tree(const fs::path& dir, const std::vector<std::string>& skip) {
    Tree tree;
    if (!fs::is_directory(dir)) return tree;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        std::string rel = fs::relative(e.path(), dir).generic_string();
        if (std::find(skip.begin(), skip.end(), rel) != skip.end()) continue;
        tree[rel] = read(e.path());
    }
    return tree;
}

void write_tree(const fs::path& dir, const Tree& tree) {
    fs::create_directories(dir);
    std::vector<fs::path> stale;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (!e.is_directory() && !tree.count(fs::relative(e.path(), dir).generic_string()))
            stale.push_back(e.path());
    for (const fs::path& p : stale) fs::remove(p);
    for (const auto& [rel, content] : tree) {
        fs::path p = dir / rel;
        std::error_code ec;
        if (fs::is_regular_file(p, ec) && read(p) == content) continue;
        write_atomic(p, content);
    }
    // Directories the removed files leave empty.
    std::vector<fs::path> dirs;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_directory()) dirs.push_back(e.path());
    std::sort(dirs.rbegin(), dirs.rend());
    for (const fs::path& d : dirs)
        if (fs::is_empty(d)) fs::remove(d);
}

std::string utc_stamp() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

bool is_release(const fs::path& root) { return fs::exists(root / "prebuilt" / "release.cmake"); }

std::optional<Tree> pristine_stubs(const fs::path& root, int number, std::string* origin) {
    const tt::ModuleInfo& info = tt::module_info(number);
    fs::path ref = root / "modules" / info.dir / "reference";
    if (fs::is_directory(ref)) {
        Tree tree;
        for (const auto& [rel, content] : read_tree(ref))
            tree[rel] = generate_stub(content, "modules/" + std::string(info.dir) + "/reference/" + rel);
        if (origin) *origin = "from modules/" + std::string(info.dir) + "/reference/";
        return tree;
    }
    fs::path shipped = root / ".tito" / "stubs" / info.dir;
    if (fs::is_directory(shipped)) {
        if (origin) *origin = "from the pristine copy in .tito/stubs/" + std::string(info.dir) + "/";
        return read_tree(shipped);
    }
    return std::nullopt;
}

fs::path backup_student_files(const fs::path& root, const std::string& dir_name, const Tree& files,
                              const std::string& reason) {
    fs::path base = root / ".tito" / "backups" / dir_name;
    fs::create_directories(base);
    std::string stamp = utc_stamp();
    fs::path target = base / stamp;
    for (int k = 2; fs::exists(target); ++k) target = base / (stamp + "-" + std::to_string(k));
    // Written under a temporary name, renamed when complete: a backup that
    // exists is a whole one.
    std::string partial_name = ".";
    partial_name += target.filename().string();
    partial_name += ".partial";
    fs::path partial = base / partial_name;
    fs::remove_all(partial);
    for (const auto& [rel, content] : files) {
        write_atomic(partial / rel, content);
    }
    fs::create_directories(partial);
    write_atomic(partial / kBackupNote, "module: " + dir_name + "\ncreated: " + tt::progress::now_iso8601() +
                                            "\nreason: " + reason + "\nfiles: " + std::to_string(files.size()) +
                                            "\n");
    fs::rename(partial, target);
    return target;
}

}  // namespace tito::files
