// text.cpp - the small text helpers the grading reports share, and the one
// number formatter of tito's output (points, seconds, limits).
#include <iomanip>
#include <sstream>

#include "cli.hpp"
#include "grading.hpp"

namespace tito {

std::string format_number(double v) {
    std::ostringstream os;
    os << std::setprecision(6) << v;
    return os.str();
}

}  // namespace tito

namespace tito::grading {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool contains_icase(const std::string& hay, const std::string& needle) {
    return lower(hay).find(lower(needle)) != std::string::npos;
}

std::vector<std::string> split_lines(const std::string& s) {
    std::vector<std::string> lines;
    std::stringstream ss(s);
    std::string line;
    while (std::getline(ss, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

std::string line_with(const std::string& text, const std::string& needle) {
    std::vector<std::string> lines = split_lines(text);
    for (const std::string& line : lines)
        if (contains_icase(line, needle)) return line;
    return lines.empty() ? text : lines.front();
}

void add_indented(std::vector<std::string>& out, const std::string& label, const std::string& text) {
    std::vector<std::string> lines = split_lines(text);
    for (size_t i = 0; i < lines.size(); ++i)
        out.push_back((i == 0 ? label : std::string(label.size(), ' ')) + lines[i]);
}

}  // namespace tito::grading
