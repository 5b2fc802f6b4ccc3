// gradebook.cpp - see gradebook.hpp.
#include "gradebook.hpp"

#include <cstdio>

#include "tinytorch/progress.hpp"

namespace tito::gradebook {

std::string cell(const std::string& v) {
    std::string s = v;
    if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r'))
        s = "'" + s;
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::vector<std::vector<std::string>> parse(const std::string& text) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string cur;
    bool quoted = false, any = false;
    auto end_cell = [&] {
        if (cur.size() >= 2 && cur[0] == '\'' &&
            (cur[1] == '=' || cur[1] == '+' || cur[1] == '-' || cur[1] == '@' || cur[1] == '\t' || cur[1] == '\r'))
            cur.erase(0, 1);
        row.push_back(cur);
        cur.clear();
    };
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        any = true;
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') cur += '"', ++i;
            else if (c == '"') quoted = false;
            else cur += c;
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            end_cell();
        } else if (c == '\n') {
            end_cell();
            rows.push_back(row);
            row.clear();
            any = false;
        } else if (c != '\r') {
            cur += c;
        }
    }
    if (any) {
        end_cell();
        rows.push_back(row);
    }
    return rows;
}

namespace {

// Source text without comments, string contents kept (a copied message is a
// copy too), and without the lines of solution markers.
std::string strip_comments(const std::string& s) {
    std::string out;
    enum { code, line_comment, block_comment, string_lit, char_lit } st = code;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i], n = i + 1 < s.size() ? s[i + 1] : '\0';
        switch (st) {
            case code:
                if (c == '/' && n == '/') st = line_comment, ++i;
                else if (c == '/' && n == '*') st = block_comment, ++i;
                else {
                    if (c == '"') st = string_lit;
                    else if (c == '\'') st = char_lit;
                    out += c;
                }
                break;
            case line_comment:
                if (c == '\n') st = code, out += c;
                break;
            case block_comment:
                if (c == '*' && n == '/') st = code, ++i;
                break;
            case string_lit:
            case char_lit:
                out += c;
                if (c == '\\' && n) out += n, ++i;
                else if ((st == string_lit && c == '"') || (st == char_lit && c == '\'')) st = code;
                break;
        }
    }
    return out;
}

}  // namespace

std::string normalise(const std::string& source) {
    std::string out;
    for (char c : strip_comments(source))
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') out += c;
    return out;
}

std::string normalised_hash(const std::map<std::string, std::string>& files) {
    std::string all;
    for (const auto& [name, content] : files) all += name + '\0' + normalise(content) + '\0';
    uint64_t h = tt::progress::fnv1a64(all.data(), all.size());
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

}  // namespace tito::gradebook
