// reset.cpp - `tito module reset NN`: the student's safety net. Restores the
// generated stub of a module, keeping the student's files in a timestamped
// backup first; lists the backups; brings one back (backing up the current
// files too). Nothing here deletes student work that is not in a backup.
#include <algorithm>
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "instructor.hpp"

namespace fs = std::filesystem;

namespace tito {

namespace {

struct Backup {
    std::string name;  // the UTC stamp
    fs::path dir;
    files::Tree files;
    std::string reason, created;
};

std::vector<Backup> list_backups(const fs::path& root, const std::string& dir_name) {
    std::vector<Backup> out;
    fs::path base = root / ".tito" / "backups" / dir_name;
    if (!fs::is_directory(base)) return out;
    for (const auto& e : fs::directory_iterator(base)) {
        std::string name = e.path().filename().string();
        if (!e.is_directory() || name.empty() || name[0] == '.') continue;  // .partial: unfinished
        Backup b;
        b.name = name;
        b.dir = e.path();
        b.files = files::read_tree(e.path(), {files::kBackupNote});
        std::error_code ec;
        if (fs::exists(e.path() / files::kBackupNote, ec)) {
            std::string note = files::read(e.path() / files::kBackupNote);
            std::istringstream in(note);
            std::string line;
            while (std::getline(in, line)) {
                if (line.rfind("reason: ", 0) == 0) b.reason = line.substr(8);
                if (line.rfind("created: ", 0) == 0) b.created = line.substr(9);
            }
        }
        out.push_back(std::move(b));
    }
    std::sort(out.begin(), out.end(), [](const Backup& a, const Backup& b) { return a.name < b.name; });
    return out;
}

size_t total_bytes(const files::Tree& t) {
    size_t n = 0;
    for (const auto& [rel, content] : t) n += content.size();
    return n;
}

std::string plural(size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

int cmd_module(const std::vector<std::string>& args) {
    po::options_description opts("Options");
    opts.add_options()
        ("help,h", "show this help")
        ("list-backups", "list the backups of module NN's files")
        ("restore", po::value<std::string>(), "bring back the backup TIMESTAMP ('latest': the newest)");
    po::options_description hidden;
    hidden.add_options()("action", po::value<std::string>())("module", po::value<std::string>());
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("action", 1).add("module", 1);
    po::variables_map vm = parse_args(args, all, pos, "module");
    if (vm.count("help")) {
        print_help("tito module reset NN [--list-backups | --restore TIMESTAMP]",
                   "reset NN:        put the generated stub of module NN back in modules/NN_name/student/.\n"
                   "                 Your files are first copied to .tito/backups/NN_name/<UTC timestamp>/.\n"
                   "--list-backups:  list those backups (newest last).\n"
                   "--restore TS:    bring backup TS back (your current files are backed up first).\n"
                   "Nothing is deleted without a backup. In a student release the stubs come from\n"
                   ".tito/stubs/; in the instructor's repository they are generated from the reference.",
                   opts);
        return kOk;
    }
    if (!vm.count("action")) throw UsageError{"say what to do: tito module reset NN", "module"};
    if (vm["action"].as<std::string>() != "reset")
        throw UsageError{"unknown module action '" + vm["action"].as<std::string>() + "' (reset)", "module"};
    if (!vm.count("module")) throw UsageError{"which module? e.g. tito module reset 01", "module"};
    if (vm.count("list-backups") && vm.count("restore"))
        throw UsageError{"--list-backups and --restore do not go together", "module"};
    const int number = parse_module_arg(vm["module"].as<std::string>(), "module");
    const tt::ModuleInfo& info = tt::module_info(number);
    const std::string nn = two_digits(number);

    const Paths& p = paths();
    if (p.source_dir.empty()) {
        std::cerr << "tito: cannot find the repository (a directory with the project's CMakeLists.txt)\n";
        return kLoadError;
    }
    const fs::path root(p.source_dir);
    const fs::path module_dir = root / "modules" / info.dir;
    const fs::path student = module_dir / "student";
    if (!fs::is_directory(module_dir)) {
        std::cerr << "tito: module " << nn << " is not in this checkout (no modules/" << info.dir << ")\n";
        return kLoadError;
    }
    const std::string rel_student = "modules/" + std::string(info.dir) + "/student/";
    const std::string rel_backups = ".tito/backups/" + std::string(info.dir) + "/";
    files::Tree current = files::read_tree(student);
    std::vector<Backup> backups = list_backups(root, info.dir);

    if (vm.count("list-backups")) {
        if (backups.empty()) {
            std::cout << "No backups of module " << nn << " (" << info.name << ") in " << rel_backups << "\n";
            return kOk;
        }
        std::cout << "Backups of module " << nn << " (" << info.name << ") in " << rel_backups
                  << " (oldest first):\n";
        for (const Backup& b : backups) {
            std::cout << "  " << b.name << "  " << plural(b.files.size(), "file") << ", "
                      << total_bytes(b.files) << " bytes";
            if (!b.reason.empty()) std::cout << "  (" << b.reason << ")";
            if (b.files == current) std::cout << "  = your files now";
            std::cout << "\n";
        }
        std::cout << "Bring one back: ./tito module reset " << nn << " --restore " << backups.back().name << "\n";
        return kOk;
    }

    files::Tree target;
    std::string what, reason;
    if (vm.count("restore")) {
        std::string name = vm["restore"].as<std::string>();
        if (name == "latest" && !backups.empty()) name = backups.back().name;
        auto it = std::find_if(backups.begin(), backups.end(), [&](const Backup& b) { return b.name == name; });
        if (it == backups.end()) {
            std::string known;
            for (const Backup& b : backups) known += "\n  " + b.name;
            throw UsageError{"module " + nn + " has no backup '" + name + "'" +
                                 (backups.empty() ? " (it has no backups at all)"
                                                  : "; the backups are:" + known),
                             "module"};
        }
        target = it->files;
        what = "the backup " + it->name;
        reason = "before restoring " + it->name;
    } else {
        std::string origin;
        std::optional<files::Tree> stubs = files::pristine_stubs(root, number, &origin);
        if (!stubs) {
            std::cerr << "tito: no pristine stub of module " << nn << " here: neither modules/" << info.dir
                      << "/reference/ nor .tito/stubs/" << info.dir << "/ exists.\n";
            return kLoadError;
        }
        target = std::move(*stubs);
        what = "the generated stub (" + origin + ")";
        reason = "before reset to the stub";
    }

    if (current == target) {
        std::cout << "Module " << nn << " (" << info.name << "): " << rel_student << " already holds " << what
                  << "; nothing to do.\n";
        return kOk;
    }
    // Files equal to the pristine stub hold no work: no backup needed.
    std::optional<files::Tree> pristine;
    try {
        pristine = files::pristine_stubs(root, number, nullptr);
    } catch (const std::exception&) {
    }
    fs::path backup;
    if (!current.empty() && !(pristine && current == *pristine)) {
        backup = files::backup_student_files(root, info.dir, current, reason);
        std::cout << "Backed up your " << plural(current.size(), "file") << " of module " << nn << " to "
                  << fs::relative(backup, root).generic_string() << "/\n";
    }
    files::write_tree(student, target);
    std::cout << "Module " << nn << " (" << info.name << "): " << rel_student << " now holds " << what << " ("
              << plural(target.size(), "file") << ").\n";
    if (!backup.empty())
        std::cout << "Undo: ./tito module reset " << nn << " --restore " << backup.filename().string() << "\n";
    std::cout << "Then: ./tito test " << nn << "\n";
    return kOk;
}

}  // namespace tito
