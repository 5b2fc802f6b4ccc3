// preflight.cpp - static checks of a module library (no code of it runs).
#include "preflight.hpp"

// Boost 1.74's library_info headers use std::vector/std::string without
// including them.
#include <string>
#include <vector>

#include <boost/dll/library_info.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace tito {

namespace {

// ELF64 constants and layouts (elf.h names, kept local).
constexpr uint16_t kEtDyn = 3;
constexpr uint32_t kShtDynsym = 11;
constexpr uint32_t kShtStrtab = 3;
constexpr uint32_t kPtDynamic = 2;
constexpr int64_t kDtNull = 0, kDtNeeded = 1, kDtStrtab = 5, kDtSymtab = 6;
constexpr uint16_t kShnUndef = 0, kShnAbs = 0xfff1;
constexpr unsigned char kStbGlobal = 1, kStbWeak = 2, kStbGnuUnique = 10;
constexpr unsigned char kStvDefault = 0, kStvProtected = 3;

struct Ehdr {
    unsigned char ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct Phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
struct Shdr {
    uint32_t name, type;
    uint64_t flags, addr, offset, size;
    uint32_t link, info;
    uint64_t addralign, entsize;
};
struct Sym {
    uint32_t name;
    unsigned char info, other;
    uint16_t shndx;
    uint64_t value, size;
};
struct Dyn {
    int64_t tag;
    uint64_t val;
};
static_assert(sizeof(Ehdr) == 64 && sizeof(Phdr) == 56 && sizeof(Shdr) == 64 && sizeof(Sym) == 24 &&
              sizeof(Dyn) == 16);

class Bytes {
public:
    explicit Bytes(std::string data) : data_(std::move(data)) {}
    bool has(uint64_t offset, uint64_t size) const {
        return offset <= data_.size() && size <= data_.size() - offset;
    }
    template <class T>
    bool read(uint64_t offset, T& out) const {
        if (!has(offset, sizeof(T))) return false;
        std::memcpy(&out, data_.data() + offset, sizeof(T));
        return true;
    }
    // A NUL-terminated string inside [base, base + size).
    bool str(uint64_t base, uint64_t size, uint64_t index, std::string& out) const {
        if (!has(base, size) || index >= size) return false;
        const char* begin = data_.data() + base + index;
        const void* nul = std::memchr(begin, 0, size - index);
        if (!nul) return false;
        out.assign(begin, static_cast<const char*>(nul));
        return true;
    }
    size_t size() const { return data_.size(); }

private:
    std::string data_;
};

struct DynamicInfo {
    std::vector<std::string> exports, imports, needed;
};

// Reads .dynsym/.dynstr and PT_DYNAMIC. Returns "" or the problem.
std::string read_dynamic(const std::string& path, DynamicInfo& info, bool allow_executable = false) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "cannot be read";
    in.seekg(0, std::ios::end);
    std::streamoff file_size = in.tellg();
    if (file_size < 0) return "cannot be read";
    if (file_size > (std::streamoff{1} << 30)) return "is larger than 1 GiB; not a module library";
    in.seekg(0);
    std::string data(static_cast<size_t>(file_size), '\0');
    in.read(data.data(), file_size);
    if (!in) return "cannot be read";
    Bytes f(std::move(data));

    Ehdr eh{};
    if (!f.read(0, eh) || std::memcmp(eh.ident, "\177ELF", 4) != 0) return "is not an ELF file";
    if (eh.ident[4] != 2 || eh.ident[5] != 1) return "is not a 64-bit little-endian ELF file";
    constexpr uint16_t kEtExec = 2;
    if (eh.type != kEtDyn && !(allow_executable && eh.type == kEtExec))
        return "is not a shared library (ELF type " + std::to_string(eh.type) + ")";
    if (eh.shentsize != sizeof(Shdr) || eh.shnum == 0 || !f.has(eh.shoff, uint64_t{eh.shnum} * sizeof(Shdr)))
        return "has no readable section headers";
    if (eh.phentsize != sizeof(Phdr) || !f.has(eh.phoff, uint64_t{eh.phnum} * sizeof(Phdr)))
        return "has no readable program headers";

    std::vector<Shdr> sections(eh.shnum);
    for (uint16_t i = 0; i < eh.shnum; ++i) f.read(eh.shoff + uint64_t{i} * sizeof(Shdr), sections[i]);
    const Shdr* dynsym = nullptr;
    for (const Shdr& s : sections) {
        if (s.type != kShtDynsym) continue;
        if (dynsym) return "has two dynamic symbol tables";
        dynsym = &s;
    }
    if (!dynsym) return "has no dynamic symbol table (.dynsym)";
    if (dynsym->entsize != sizeof(Sym) || !f.has(dynsym->offset, dynsym->size) || dynsym->link >= sections.size())
        return "has a malformed dynamic symbol table";
    const Shdr& dynstr = sections[dynsym->link];
    if (dynstr.type != kShtStrtab || !f.has(dynstr.offset, dynstr.size))
        return "has a malformed dynamic string table";

    // What the dynamic linker uses is PT_DYNAMIC: it must name the same tables.
    Phdr dynamic_header{};
    const Phdr* dynamic = nullptr;
    for (uint16_t i = 0; i < eh.phnum; ++i) {
        Phdr p{};
        f.read(eh.phoff + uint64_t{i} * sizeof(Phdr), p);
        if (p.type == kPtDynamic) {
            dynamic_header = p;
            dynamic = &dynamic_header;
            break;
        }
    }
    if (!dynamic || !f.has(dynamic->offset, dynamic->filesz)) return "has no dynamic section (PT_DYNAMIC)";
    uint64_t dt_symtab = 0, dt_strtab = 0;
    std::vector<uint64_t> needed_offsets;
    for (uint64_t off = dynamic->offset; off + sizeof(Dyn) <= dynamic->offset + dynamic->filesz; off += sizeof(Dyn)) {
        Dyn d{};
        f.read(off, d);
        if (d.tag == kDtNull) break;
        if (d.tag == kDtSymtab) dt_symtab = d.val;
        if (d.tag == kDtStrtab) dt_strtab = d.val;
        if (d.tag == kDtNeeded) needed_offsets.push_back(d.val);
    }
    if (dt_symtab != dynsym->addr || dt_strtab != dynstr.addr)
        return "has a dynamic section that does not match its symbol table sections";
    for (uint64_t off : needed_offsets) {
        std::string name;
        if (!f.str(dynstr.offset, dynstr.size, off, name)) return "has a malformed DT_NEEDED entry";
        info.needed.push_back(name);
    }

    uint64_t count = dynsym->size / sizeof(Sym);
    for (uint64_t i = 1; i < count; ++i) {
        Sym sym{};
        f.read(dynsym->offset + i * sizeof(Sym), sym);
        std::string name;
        if (!f.str(dynstr.offset, dynstr.size, sym.name, name)) return "has a malformed symbol name";
        if (name.empty()) continue;
        unsigned char bind = sym.info >> 4;
        unsigned char vis = sym.other & 3;
        if (sym.shndx == kShnUndef) {
            info.imports.push_back(name);
            continue;
        }
        if (bind != kStbGlobal && bind != kStbWeak && bind != kStbGnuUnique) continue;
        if (vis != kStvDefault && vis != kStvProtected) continue;
        // Version-definition markers are absolute symbols of value and size 0.
        if (sym.shndx == kShnAbs && sym.value == 0 && sym.size == 0) continue;
        info.exports.push_back(name);
    }
    return "";
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

const char* forbidden_export_reason(const std::string& name) {
    if (name == "__asan_default_options")
        return "it would set AddressSanitizer's options (and could switch its checks off)";
    if (name == "__lsan_is_turned_off") return "it would switch LeakSanitizer off";
    if (name == "__lsan_default_suppressions") return "it would suppress LeakSanitizer's reports";
    if (name == "__lsan_default_options") return "it would set LeakSanitizer's options";
    if (name == "__ubsan_default_options")
        return "it would set UndefinedBehaviorSanitizer's options (and could hide its reports)";
    if (starts_with(name, "__asan_") || starts_with(name, "__lsan_") || starts_with(name, "__ubsan_") ||
        starts_with(name, "__sanitizer_") || starts_with(name, "__msan_") || starts_with(name, "__tsan_"))
        return "it is a sanitizer hook";
    return nullptr;
}

const char* forbidden_import_reason(const std::string& name) {
    static const std::set<std::string> loader_lookups = {
        "dlopen", "dlmopen", "dlsym", "dlvsym", "dladdr", "dladdr1", "dlinfo", "dl_iterate_phdr",
        "__libc_dlopen_mode", "__libc_dlsym", "_dl_find_object"};
    if (loader_lookups.count(name))
        return "a module may not look up libraries or symbols itself: it gets the other modules "
               "only through the host table";
    return nullptr;
}

bool links_sanitizer_runtime(const std::string& path) {
    DynamicInfo info;
    if (!read_dynamic(path, info, true).empty()) return false;
    for (const std::string& n : info.needed)
        if (starts_with(n, "libasan.") || starts_with(n, "libubsan.") || starts_with(n, "libtsan.") ||
            starts_with(n, "liblsan."))
            return true;
    return false;
}

PreflightResult preflight_library(const std::string& path, const std::string& entry) {
    PreflightResult r;
    auto problem = [&](const std::string& p) {
        r.ok = false;
        r.problems.push_back(p);
    };
    DynamicInfo info;
    std::string bad = read_dynamic(path, info);
    if (!bad.empty()) {
        problem("the file " + bad);
        return r;
    }
    // Boost.DLL: format validation and the static symbol table's exports.
    std::vector<std::string> static_exports;
    try {
        boost::dll::library_info li(path);
        static_exports = li.symbols();
    } catch (const std::exception& e) {
        problem(std::string("Boost.DLL cannot read it as a native shared library: ") + e.what());
        return r;
    }
    r.exports = info.exports;
    for (const std::string& s : static_exports)
        if (std::find(r.exports.begin(), r.exports.end(), s) == r.exports.end()) r.exports.push_back(s);
    r.imports = info.imports;
    r.needed = info.needed;

    bool has_entry = false;
    std::vector<std::string> extra;
    for (const std::string& s : r.exports) {
        if (s == entry) {
            has_entry = true;
            continue;
        }
        if (const char* why = forbidden_export_reason(s))
            problem("it exports " + s + ", which is not allowed: " + why);
        else
            extra.push_back(s);
    }
    if (!extra.empty()) {
        std::string list;
        for (size_t i = 0; i < extra.size() && i < 8; ++i) list += (i ? ", " : "") + extra[i];
        if (extra.size() > 8) list += ", ... (" + std::to_string(extra.size()) + " in all)";
        problem("it exports " + list + "; a module library may export only " + entry +
                " (keep other functions static or in an anonymous namespace)");
    }
    if (!has_entry) problem("it does not export its entry point " + entry);
    for (const std::string& s : r.imports)
        if (const char* why = forbidden_import_reason(s)) problem("it calls " + s + ": " + why);
    for (const std::string& n : r.needed)
        if (starts_with(n, "tt_") || n.find("/tt_") != std::string::npos)
            problem("it links the library " + n +
                    ": modules never link each other (prerequisites come through the host table)");
    return r;
}

}  // namespace tito
