// stubs.cpp - `tito stubs generate|check`: the student stubs are generated
// from the reference sources by replacing solution regions (the marker rules
// are in docs/solution-markers.md).
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "cli.hpp"
#include "instructor.hpp"

namespace fs = std::filesystem;

namespace tito {

namespace {

struct MarkerError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string ltrim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t");
    return b == std::string::npos ? "" : s.substr(b);
}

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

std::string indentation(const std::string& s) { return s.substr(0, s.size() - ltrim(s).size()); }

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// Text of a "// TODO: ..." or "// HINT: ..." line after the keyword.
std::string comment_text(const std::string& trimmed_line, const std::string& keyword) {
    std::string rest = trimmed_line.substr(3 + keyword.size());  // after "// KEYWORD"
    rest = trim(rest);
    if (!rest.empty() && rest[0] == ':') rest = trim(rest.substr(1));
    return rest;
}

std::string c_string_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\\' || c == '"') out += '\\';
        out += c;
    }
    return out;
}

}  // namespace

// The student file for one reference file. `rel` names the reference file in
// messages and the banner ("modules/01_tensor/reference/tensor.cpp").
std::string generate_stub(const std::string& source, const std::string& rel) {
    std::vector<std::string> lines;
    {
        size_t start = 0;
        while (start < source.size()) {
            size_t nl = source.find('\n', start);
            if (nl == std::string::npos) {
                lines.push_back(source.substr(start));
                start = source.size();
            } else {
                lines.push_back(source.substr(start, nl - start));
                start = nl + 1;
            }
        }
    }
    const bool final_newline = !source.empty() && source.back() == '\n';
    const std::string eol_cr = !lines.empty() && !lines[0].empty() && lines[0].back() == '\r' ? "\r" : "";

    std::vector<std::string> out;
    bool any_marker = false;
    bool in_region = false, remove = false, in_comment = false;
    size_t region_line = 0;
    std::string region_indent;
    std::vector<std::string> comments, stubs;
    std::string hint, todo;
    std::string* continuing = nullptr;  // the hint/todo text a continuation line extends
    // A removed region between two blank lines would leave both: the second
    // is dropped, so the stub keeps the reference's single blank line.
    bool drop_next_blank = false;

    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& raw = lines[i];
        std::string t = trim(raw);
        std::string where = rel + ":" + std::to_string(i + 1) + ": ";
        bool begin = t == "// BEGIN SOLUTION" || t == "// BEGIN SOLUTION: remove";
        bool end = t == "// END SOLUTION";
        if (!begin && !end && starts_with(t, "//") &&
            (t.find("BEGIN SOLUTION") != std::string::npos || t.find("END SOLUTION") != std::string::npos))
            throw MarkerError(where + "malformed marker '" + t +
                              "' (write '// BEGIN SOLUTION', '// BEGIN SOLUTION: remove' or '// END SOLUTION' alone on the line)");
        if (begin) {
            if (in_region)
                throw MarkerError(where + "BEGIN SOLUTION inside the region opened at line " +
                                  std::to_string(region_line) + " (regions do not nest)");
            any_marker = true;
            in_region = true;
            remove = t != "// BEGIN SOLUTION";
            region_line = i + 1;
            region_indent = indentation(raw);
            comments.clear();
            stubs.clear();
            hint.clear();
            todo.clear();
            in_comment = false;
            continuing = nullptr;
            continue;
        }
        if (end) {
            if (!in_region) throw MarkerError(where + "END SOLUTION without a BEGIN SOLUTION");
            in_region = false;
            drop_next_blank = remove && stubs.empty() && !out.empty() && trim(out.back()).empty();
            if (!remove) out.insert(out.end(), comments.begin(), comments.end());
            if (!stubs.empty()) {
                out.insert(out.end(), stubs.begin(), stubs.end());
            } else if (!remove) {
                std::string text = !hint.empty() ? hint : !todo.empty() ? todo : "fill in this function";
                out.push_back(region_indent + "return TT_NOT_IMPLEMENTED_YET(\"" + c_string_escape(text) + "\");" +
                              eol_cr);
            }
            continue;
        }
        if (!in_region && starts_with(t, "// CODE HINT"))
            throw MarkerError(where + "a CODE HINT outside a solution region would be copied into the stub");
        if (!in_region) {
            const bool blank = t.empty();
            if (!(blank && drop_next_blank)) out.push_back(raw);
            drop_next_blank = false;
            continue;
        }
        if (starts_with(t, "// STUB:")) {
            stubs.push_back(indentation(raw) + ltrim(trim(raw).substr(8)) + eol_cr);
            in_comment = false;
            continuing = nullptr;
        } else if (starts_with(t, "// TODO") || starts_with(t, "// HINT")) {
            bool is_hint = starts_with(t, "// HINT");
            comments.push_back(raw);
            in_comment = true;
            continuing = nullptr;
            std::string text = comment_text(t, is_hint ? "HINT" : "TODO");
            std::string& target = is_hint ? hint : todo;
            if (target.empty()) {  // the first HINT (or TODO) is the message
                target = text;
                continuing = &target;
            }
        } else if (in_comment && starts_with(t, "//") && starts_with(ltrim(raw), "//   ")) {
            comments.push_back(raw);  // continuation of a TODO/HINT
            if (continuing) *continuing += " " + trim(t.substr(2));
        } else {
            in_comment = false;
            continuing = nullptr;
        }
    }
    if (in_region)
        throw MarkerError(rel + ":" + std::to_string(region_line) +
                          ": BEGIN SOLUTION is never closed by END SOLUTION");
    if (!any_marker) return source;  // copied unchanged

    std::string result = "// Generated by ./tito stubs generate from " + rel + "." + eol_cr + "\n" +
                         "// This is your file: fill in every TODO (the tests say what is missing)." +
                         eol_cr + "\n";
    for (size_t i = 0; i < out.size(); ++i) {
        result += out[i];
        if (i + 1 < out.size() || final_newline) result += "\n";
    }
    return result;
}

// The "// CODE HINT: ..." lines of a reference file (with their "//   "
// continuation lines), grouped by the function they are in, as the
// "## function (file)" sections of modules/NN_name/hints.md. The stub never
// has them (they sit inside solution regions); `tito hint NN FUNCTION` shows
// one when a student asks.
std::string code_hints(const std::string& source, const std::string& file_name) {
    std::vector<std::pair<std::string, std::string>> sections;  // function, text
    std::istringstream in(source);
    std::string raw, function;
    bool continuing = false;
    while (std::getline(in, raw)) {
        if (!raw.empty() && raw.back() == '\r') raw.pop_back();
        std::string t = trim(raw);
        // A definition starts at column 0: "static tt_status name(" -> name.
        if (!raw.empty() && (std::isalpha(static_cast<unsigned char>(raw[0])) || raw[0] == '_')) {
            size_t paren = raw.find('(');
            if (paren != std::string::npos) {
                size_t e = paren;
                while (e > 0 && raw[e - 1] == ' ') --e;
                size_t b = e;
                while (b > 0 && (std::isalnum(static_cast<unsigned char>(raw[b - 1])) || raw[b - 1] == '_')) --b;
                if (b < e) function = raw.substr(b, e - b);
            }
        }
        if (starts_with(t, "// CODE HINT")) {
            std::string text = trim(t.substr(std::string("// CODE HINT").size()));
            if (!text.empty() && text[0] == ':') text = trim(text.substr(1));
            if (sections.empty() || sections.back().first != function) sections.emplace_back(function, "");
            sections.back().second += text + "\n";
            continuing = true;
        } else if (continuing && starts_with(ltrim(raw), "//   ")) {
            sections.back().second += ltrim(raw).substr(5) + "\n";
        } else {
            continuing = false;
        }
    }
    std::string out;
    for (const auto& [fn, text] : sections) out += "\n## " + fn + " (" + file_name + ")\n\n```cpp\n" + text + "```\n";
    return out;
}

namespace {

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// 1-based line where two texts first differ, with both lines.
std::string first_difference(const std::string& a, const std::string& b) {
    std::istringstream sa(a), sb(b);
    std::string la, lb;
    for (int n = 1;; ++n) {
        bool ga = static_cast<bool>(std::getline(sa, la));
        bool gb = static_cast<bool>(std::getline(sb, lb));
        if (!ga && !gb) return "they differ only in the final newline";
        if (!ga || !gb || la != lb) {
            return "first difference at line " + std::to_string(n) + ":\n      committed: " +
                   (gb ? lb : "(end of file)") + "\n      generated: " + (ga ? la : "(end of file)");
        }
    }
}

struct Planned {
    fs::path target;
    std::string rel_target;
    std::string content;
    bool student_file = true;  // false: modules/NN_name/hints.md (not the student's, never backed up)
};

}  // namespace

int cmd_stubs(const std::vector<std::string>& args) {
    po::options_description opts("Options");
    opts.add_options()("help,h", "show this help");
    po::options_description hidden;
    hidden.add_options()("action", po::value<std::string>())("modules", po::value<std::vector<std::string>>());
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("action", 1).add("modules", -1);
    po::variables_map vm = parse_args(args, all, pos, "stubs");
    if (vm.count("help")) {
        print_help("tito stubs generate|check [NN...]",
                   "generate: write modules/NN_*/student/<file> for every modules/NN_*/reference/<file>\n"
                   "          (solution regions replaced by their TODO/HINT comments and a stub;\n"
                   "          see docs/solution-markers.md). Overwrites the student files!\n"
                   "check:    compare the committed student files with what generate would write\n"
                   "          (in memory, nothing is written); exit 1 and list them when they differ.\n"
                   "Without NN: every module. Works from any directory.",
                   opts);
        return kOk;
    }
    if (!vm.count("action")) throw UsageError{"say generate or check", "stubs"};
    std::string action = vm["action"].as<std::string>();
    if (action != "generate" && action != "check")
        throw UsageError{"unknown stubs action '" + action + "' (generate or check)", "stubs"};
    const bool check = action == "check";

    std::vector<int> modules;
    bool explicit_modules = vm.count("modules") > 0;
    if (explicit_modules) {
        for (const auto& s : vm["modules"].as<std::vector<std::string>>())
            modules.push_back(parse_module_arg(s, "stubs"));
    } else {
        for (int m = 1; m <= tt::kModuleCount; ++m) modules.push_back(m);
    }

    const Paths& p = paths();
    if (p.source_dir.empty()) {
        std::cerr << "tito: cannot find the repository (a directory with the project's CMakeLists.txt)\n";
        return kLoadError;
    }
    fs::path root(p.source_dir);

    std::vector<Planned> plan;
    std::vector<std::string> extra;
    int module_count = 0;
    for (int m : modules) {
        const tt::ModuleInfo& info = tt::module_info(m);
        fs::path dir = root / "modules" / info.dir;
        fs::path ref = dir / "reference";
        if (!fs::is_directory(dir)) {
            if (explicit_modules) {
                std::cerr << "tito: module " << two_digits(m) << " is not in this checkout (no modules/"
                          << info.dir << ")\n";
                return kLoadError;
            }
            continue;
        }
        if (!fs::is_directory(ref)) {
            if (explicit_modules) {
                std::cerr << "tito: stubs " << action << " needs the reference sources of module "
                          << two_digits(m) << " (modules/" << info.dir
                          << "/reference/), which only the instructor's repository has"
                          << (files::is_release(root) ? "; this is a student release" : "") << ".\n"
                          << "  To put the stub of a module back: ./tito module reset " << two_digits(m) << "\n";
                return kLoadError;
            }
            continue;
        }
        ++module_count;
        std::vector<fs::path> files;
        for (const auto& e : fs::recursive_directory_iterator(ref))
            if (e.is_regular_file()) files.push_back(e.path());
        std::sort(files.begin(), files.end());
        std::string hints;
        for (const fs::path& f : files) {
            fs::path rel = fs::relative(f, ref);
            std::string rel_ref = (fs::path("modules") / info.dir / "reference" / rel).generic_string();
            Planned pl;
            pl.target = dir / "student" / rel;
            pl.rel_target = (fs::path("modules") / info.dir / "student" / rel).generic_string();
            try {
                std::string source = read_file(f);
                pl.content = generate_stub(source, rel_ref);
                hints += code_hints(source, rel.generic_string());
            } catch (const MarkerError& e) {
                std::cerr << "tito: " << e.what() << "\n";
                return kTestsFailed;
            }
            plan.push_back(std::move(pl));
        }
        std::string rel_hints = (fs::path("modules") / info.dir / "hints.md").generic_string();
        if (!hints.empty()) {
            Planned pl;
            pl.target = dir / "hints.md";
            pl.rel_target = rel_hints;
            pl.student_file = false;
            pl.content = "# Module " + two_digits(m) + " (" + info.name +
                         "): code-level hints\n\n"
                         "Generated by ./tito stubs generate from the CODE HINT lines of modules/" +
                         info.dir +
                         "/reference/.\nRead one at a time with `./tito hint " + two_digits(m) +
                         " FUNCTION`, after the README and the stub's TODO.\n" + hints;
            plan.push_back(std::move(pl));
        } else if (fs::exists(dir / "hints.md")) {
            extra.push_back(rel_hints);
        }
        fs::path student = dir / "student";
        if (fs::is_directory(student))
            for (const auto& e : fs::recursive_directory_iterator(student))
                if (e.is_regular_file() && !fs::exists(ref / fs::relative(e.path(), student)))
                    extra.push_back((fs::path("modules") / info.dir / "student" /
                                     fs::relative(e.path(), student)).generic_string());
    }

    if (module_count == 0) {
        std::cerr << "tito: stubs " << action
                  << " needs the reference sources (modules/NN_name/reference/), which only the instructor's "
                     "repository has"
                  << (files::is_release(root) ? "; this is a student release" : "") << ".\n"
                  << "  To put the stub of a module back: ./tito module reset NN\n";
        return kLoadError;
    }

    if (check) {
        int bad = 0;
        for (const Planned& pl : plan) {
            if (!fs::exists(pl.target)) {
                std::cout << "  missing: " << pl.rel_target << "\n";
                ++bad;
                continue;
            }
            std::string now = read_file(pl.target);
            if (now != pl.content) {
                std::cout << "  differs: " << pl.rel_target << "\n      " << first_difference(pl.content, now)
                          << "\n";
                ++bad;
            }
        }
        for (const std::string& e : extra) {
            std::cout << "  extra:   " << e << " (no reference file generates it)\n";
            ++bad;
        }
        if (bad) {
            std::cout << "Stubs out of sync: " << bad << " file" << (bad == 1 ? "" : "s")
                      << ". Regenerate with ./tito stubs generate (and commit the student files).\n";
            return kTestsFailed;
        }
        std::cout << "Stubs in sync: " << plan.size() << " file" << (plan.size() == 1 ? "" : "s") << " in "
                  << module_count << " module" << (module_count == 1 ? "" : "s") << ".\n";
        return kOk;
    }

    // Student files about to be overwritten are backed up first (module by
    // module, like ./tito module reset): nothing is lost to a regeneration.
    std::map<std::string, bool> backed_up;
    for (const Planned& pl : plan) {
        if (!pl.student_file || !fs::exists(pl.target) || read_file(pl.target) == pl.content) continue;
        fs::path student = pl.target.parent_path();
        while (student.filename() != "student" && student.has_parent_path() && student != root)
            student = student.parent_path();
        std::string dir_name = student.parent_path().filename().string();
        if (backed_up[dir_name]) continue;
        backed_up[dir_name] = true;
        fs::path b = files::backup_student_files(root, dir_name, files::read_tree(student),
                                                 "before stubs generate");
        std::cout << "  backed up modules/" << dir_name << "/student/ to "
                  << fs::relative(b, root).generic_string() << "/\n";
    }

    int written = 0;
    for (const Planned& pl : plan) {
        if (fs::exists(pl.target) && read_file(pl.target) == pl.content) continue;
        files::write_atomic(pl.target, pl.content);
        std::cout << "  wrote " << pl.rel_target << "\n";
        ++written;
    }
    for (const std::string& e : extra)
        std::cout << "  note: " << e << " is not generated from any reference file (delete it if unused)\n";
    std::cout << "Stubs: " << written << " written, " << plan.size() - written << " already up to date ("
              << module_count << " module" << (module_count == 1 ? "" : "s") << ").\n";
    return kOk;
}

}  // namespace tito
