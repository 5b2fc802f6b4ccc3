// catch_xml.hpp - read the report of Catch2's XML reporter (-r xml) for one
// test case: pass/fail and, for each failure, where, the expression, its
// expansion, the INFO messages and the FAIL/exception message.
//
// The reader is tolerant: a child that crashed leaves a truncated document,
// and whatever was written before the crash is still returned.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tito {

struct XmlNode {
    std::string name;
    std::vector<std::pair<std::string, std::string>> attributes;
    std::string text;  // character data directly inside (entities decoded)
    std::vector<XmlNode> children;

    const std::string* attribute(const std::string& key) const;
};

// Parse an XML document; unclosed elements at the end are closed. Returns the
// root element (nullopt when there is none).
std::optional<XmlNode> parse_xml(const std::string& text);

struct CatchFailure {
    std::string location;       // "grader/suites/01_tensor.cpp:42"
    std::string sections;       // "broadcast > row" (empty outside sections)
    std::string macro;          // "REQUIRE", "CHECK", ... ("" for FAIL/exceptions)
    std::string expression;     // the original expression
    std::string expanded;       // with the values substituted
    std::vector<std::string> infos;  // INFO/CAPTURE messages in scope
    std::string message;        // FAIL text, exception or fatal signal message
    std::string kind;           // "expression", "failure", "exception", "fatal"
};

struct CatchCase {
    bool found = false;             // a <TestCase> was in the report
    bool finished = false;          // its <OverallResult> was written
    bool success = false;           // OverallResult success="true"
    std::string name;
    std::string tags;               // "[points:2][tensor]"
    std::vector<CatchFailure> failures;
    std::string captured_stdout;    // <StdOut> Catch captured
    std::string captured_stderr;
};

// The first <TestCase> of a Catch2 XML report.
CatchCase read_catch_case(const std::string& xml);

// Points from a tag string "[points:2]"; nullopt when there is no such tag.
std::optional<double> points_from_tags(const std::string& tags);

}  // namespace tito
