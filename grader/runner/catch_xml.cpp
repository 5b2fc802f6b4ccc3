// catch_xml.cpp - a small tolerant XML reader and the Catch2 report reader.
#include "catch_xml.hpp"

#include <cstdlib>
#include <regex>

#include "tinytorch/progress.hpp"

namespace tito {

const std::string* XmlNode::attribute(const std::string& key) const {
    for (const auto& [k, v] : attributes)
        if (k == key) return &v;
    return nullptr;
}

namespace {

std::string decode_entities(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '&') {
            out += s[i];
            continue;
        }
        size_t semi = s.find(';', i);
        if (semi == std::string::npos || semi - i > 12) {
            out += s[i];
            continue;
        }
        std::string ent = s.substr(i + 1, semi - i - 1);
        if (ent == "lt") out += '<';
        else if (ent == "gt") out += '>';
        else if (ent == "amp") out += '&';
        else if (ent == "quot") out += '"';
        else if (ent == "apos") out += '\'';
        else if (ent.size() > 1 && ent[0] == '#') {
            bool hex = ent[1] == 'x' || ent[1] == 'X';
            tt::progress::append_utf8(out, std::strtoul(ent.c_str() + (hex ? 2 : 1), nullptr, hex ? 16 : 10));
        } else {
            out += s.substr(i, semi - i + 1);
        }
        i = semi;
    }
    return out;
}

class XmlReader {
public:
    explicit XmlReader(const std::string& s) : s_(s) {}

    std::optional<XmlNode> root() {
        std::vector<XmlNode> stack;
        std::optional<XmlNode> result;
        auto close_top = [&] {
            XmlNode done = std::move(stack.back());
            stack.pop_back();
            if (stack.empty()) {
                if (!result) result = std::move(done);
            } else {
                stack.back().children.push_back(std::move(done));
            }
        };
        while (pos_ < s_.size()) {
            if (s_[pos_] != '<') {
                size_t lt = s_.find('<', pos_);
                if (lt == std::string::npos) lt = s_.size();
                if (!stack.empty()) stack.back().text += decode_entities(s_.substr(pos_, lt - pos_));
                pos_ = lt;
                continue;
            }
            if (s_.compare(pos_, 4, "<!--") == 0) {
                skip_past("-->");
            } else if (s_.compare(pos_, 9, "<![CDATA[") == 0) {
                size_t end = s_.find("]]>", pos_ + 9);
                size_t stop = end == std::string::npos ? s_.size() : end;
                if (!stack.empty()) stack.back().text += s_.substr(pos_ + 9, stop - pos_ - 9);
                pos_ = end == std::string::npos ? s_.size() : end + 3;
            } else if (s_.compare(pos_, 2, "<?") == 0 || s_.compare(pos_, 2, "<!") == 0) {
                skip_past(">");
            } else if (s_.compare(pos_, 2, "</") == 0) {
                size_t gt = s_.find('>', pos_);
                std::string name = trim(s_.substr(pos_ + 2, (gt == std::string::npos ? s_.size() : gt) - pos_ - 2));
                pos_ = gt == std::string::npos ? s_.size() : gt + 1;
                // Close up to the matching element (tolerates mismatches).
                bool open = false;
                for (const XmlNode& n : stack) open = open || n.name == name;
                while (open && !stack.empty()) {
                    bool last = stack.back().name == name;
                    close_top();
                    if (last) break;
                }
            } else {
                XmlNode node;
                bool self_closing = false;
                if (!start_tag(node, self_closing)) break;  // truncated tag: stop here
                stack.push_back(std::move(node));
                if (self_closing) close_top();
            }
        }
        while (!stack.empty()) close_top();  // a truncated document
        return result;
    }

private:
    static std::string trim(const std::string& s) {
        size_t b = s.find_first_not_of(" \t\r\n");
        if (b == std::string::npos) return "";
        size_t e = s.find_last_not_of(" \t\r\n");
        return s.substr(b, e - b + 1);
    }

    void skip_past(const char* end) {
        size_t p = s_.find(end, pos_);
        pos_ = p == std::string::npos ? s_.size() : p + std::char_traits<char>::length(end);
    }

    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

    bool start_tag(XmlNode& node, bool& self_closing) {
        size_t p = pos_ + 1;
        size_t name_start = p;
        while (p < s_.size() && !is_space(s_[p]) && s_[p] != '>' && s_[p] != '/') ++p;
        node.name = s_.substr(name_start, p - name_start);
        for (;;) {
            while (p < s_.size() && is_space(s_[p])) ++p;
            if (p >= s_.size()) return false;
            if (s_[p] == '>') {
                pos_ = p + 1;
                return true;
            }
            if (s_[p] == '/') {
                if (p + 1 < s_.size() && s_[p + 1] == '>') {
                    self_closing = true;
                    pos_ = p + 2;
                    return true;
                }
                ++p;
                continue;
            }
            size_t key_start = p;
            while (p < s_.size() && s_[p] != '=' && !is_space(s_[p]) && s_[p] != '>' && s_[p] != '/') ++p;
            std::string key = s_.substr(key_start, p - key_start);
            while (p < s_.size() && is_space(s_[p])) ++p;
            std::string value;
            if (p < s_.size() && s_[p] == '=') {
                ++p;
                while (p < s_.size() && is_space(s_[p])) ++p;
                if (p >= s_.size()) return false;
                char quote = s_[p];
                if (quote == '"' || quote == '\'') {
                    size_t end = s_.find(quote, p + 1);
                    if (end == std::string::npos) return false;
                    value = decode_entities(s_.substr(p + 1, end - p - 1));
                    p = end + 1;
                } else {
                    size_t vs = p;
                    while (p < s_.size() && !is_space(s_[p]) && s_[p] != '>') ++p;
                    value = decode_entities(s_.substr(vs, p - vs));
                }
            }
            if (!key.empty()) node.attributes.emplace_back(key, value);
        }
    }

    const std::string& s_;
    size_t pos_ = 0;
};

std::string location_of(const XmlNode& n) {
    const std::string* file = n.attribute("filename");
    const std::string* line = n.attribute("line");
    if (!file) return "";
    return *file + (line ? ":" + *line : "");
}

std::string trimmed(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

// Walk a test case in document order. INFO messages are written just before
// the failing assertion they belong to.
void collect(const XmlNode& node, std::vector<std::string>& sections,
             std::vector<std::string>& pending_infos, CatchCase& out) {
    auto section_path = [&] {
        std::string path;
        for (const std::string& s : sections) path += (path.empty() ? "" : " > ") + s;
        return path;
    };
    for (const XmlNode& c : node.children) {
        if (c.name == "Section") {
            const std::string* name = c.attribute("name");
            sections.push_back(name ? *name : "?");
            collect(c, sections, pending_infos, out);
            sections.pop_back();
        } else if (c.name == "Info") {
            pending_infos.push_back(trimmed(c.text));
        } else if (c.name == "Expression") {
            const std::string* ok = c.attribute("success");
            if (ok && *ok == "true") {
                pending_infos.clear();
                continue;
            }
            CatchFailure f;
            f.kind = "expression";
            f.location = location_of(c);
            f.sections = section_path();
            if (const std::string* t = c.attribute("type")) f.macro = *t;
            f.infos = std::move(pending_infos);
            pending_infos.clear();
            for (const XmlNode& d : c.children) {
                if (d.name == "Original") f.expression = trimmed(d.text);
                else if (d.name == "Expanded") f.expanded = trimmed(d.text);
                else if (d.name == "Exception" || d.name == "Failure" ||
                         d.name == "FatalErrorCondition") {
                    f.message = trimmed(d.text);
                    f.kind = d.name == "Exception" ? "exception"
                             : d.name == "Failure" ? "failure" : "fatal";
                } else if (d.name == "Info") {
                    f.infos.push_back(trimmed(d.text));
                }
            }
            out.failures.push_back(std::move(f));
        } else if (c.name == "Failure" || c.name == "Exception" || c.name == "FatalErrorCondition") {
            CatchFailure f;
            f.kind = c.name == "Exception" ? "exception" : c.name == "Failure" ? "failure" : "fatal";
            f.location = location_of(c);
            f.sections = section_path();
            f.message = trimmed(c.text);
            f.infos = std::move(pending_infos);
            pending_infos.clear();
            out.failures.push_back(std::move(f));
        } else if (c.name == "OverallResult") {
            out.finished = true;
            const std::string* ok = c.attribute("success");
            out.success = ok && *ok == "true";
            for (const XmlNode& d : c.children) {
                if (d.name == "StdOut") out.captured_stdout = trimmed(d.text);
                if (d.name == "StdErr") out.captured_stderr = trimmed(d.text);
            }
        }
    }
}

const XmlNode* find_test_case(const XmlNode& n) {
    if (n.name == "TestCase") return &n;
    for (const XmlNode& c : n.children)
        if (const XmlNode* t = find_test_case(c)) return t;
    return nullptr;
}

}  // namespace

std::optional<XmlNode> parse_xml(const std::string& text) { return XmlReader(text).root(); }

CatchCase read_catch_case(const std::string& xml) {
    CatchCase out;
    std::optional<XmlNode> root = parse_xml(xml);
    if (!root) return out;
    const XmlNode* tc = find_test_case(*root);
    if (!tc) return out;
    out.found = true;
    if (const std::string* n = tc->attribute("name")) out.name = *n;
    if (const std::string* t = tc->attribute("tags")) out.tags = *t;
    std::vector<std::string> sections, infos;
    collect(*tc, sections, infos, out);
    return out;
}

std::optional<double> points_from_tags(const std::string& tags) {
    static const std::regex re(R"(\[points:\s*([0-9]+(?:\.[0-9]+)?)\s*\])", std::regex::icase);
    std::smatch m;
    if (!std::regex_search(tags, m, re)) return std::nullopt;
    return std::strtod(m[1].str().c_str(), nullptr);
}

}  // namespace tito
