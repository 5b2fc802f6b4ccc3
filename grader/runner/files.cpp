// files.cpp - file helpers of the instructor tools and the safety net:
// whole-directory reads and writes, backups, the pristine stubs.
#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

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

void write_atomic(const fs::path& p, const std::string& content) {
    if (p.has_parent_path()) fs::create_directories(p.parent_path());
    fs::path tmp = p;
    tmp += ".tmp-tito-" + std::to_string(getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << content;
        out.close();
        if (!out) {
            std::error_code ec;
            fs::remove(tmp, ec);
            throw std::runtime_error("cannot write " + p.string());
        }
    }
    fs::rename(tmp, p);
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
        fs::path p = partial / rel;
        fs::create_directories(p.parent_path());
        std::ofstream out(p, std::ios::binary | std::ios::trunc);
        out << content;
        out.close();
        if (!out) throw std::runtime_error("cannot write the backup file " + p.string());
    }
    fs::create_directories(partial);
    {
        std::ofstream note(partial / kBackupNote, std::ios::trunc);
        note << "module: " << dir_name << "\n"
             << "created: " << tt::progress::now_iso8601() << "\n"
             << "reason: " << reason << "\n"
             << "files: " << files.size() << "\n";
        note.close();
        if (!note) throw std::runtime_error("cannot write the backup note in " + partial.string());
    }
    fs::rename(partial, target);
    return target;
}

}  // namespace tito::files
