// The loader refuses every kind of bad library with a message naming the
// file, the problem and the fix; and a student library never runs reference code.
#include <catch2/catch.hpp>

#include "common/subprocess.hpp"

#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

using Result = tt_test::RunResult;

Result probe(const std::string& lib_dir, const std::string& extra_env = "") {
    return tt_test::run_command("env TITO_LIB_DIR='" + lib_dir + "' TITO_IMPL=student " + extra_env + " '" +
                                TT_TEST_BIN_DIR + "/tt_load_probe'");
}

std::string fixture(const std::string& name) { return std::string(TT_FIXTURE_DIR) + "/" + name; }

}  // namespace

TEST_CASE("a well-formed library loads", "[loader]") {
    Result r = probe(fixture("good"));
    INFO(r.out);
    REQUIRE(r.code == 0);
    REQUIRE(r.out.find("LOADED first=0") != std::string::npos);
}

TEST_CASE("a missing library names the path and how to build it", "[loader]") {
    Result r = probe(fixture("does_not_exist"));
    INFO(r.out);
    REQUIRE(r.code == 3);
    REQUIRE(r.out.find("tt_01_tensor_student.so") != std::string::npos);
    REQUIRE(r.out.find("does not exist") != std::string::npos);
    REQUIRE(r.out.find("fix:") != std::string::npos);
}

TEST_CASE("an ABI major version mismatch is refused", "[loader]") {
    Result r = probe(fixture("abi_major"));
    INFO(r.out);
    REQUIRE(r.code == 3);
    REQUIRE(r.out.find("ABI version 2.0 does not match") != std::string::npos);
}

TEST_CASE("a library built against an older minor version (a shorter table) is refused", "[loader]") {
    Result r = probe(fixture("old_minor"));
    INFO(r.out);
    REQUIRE(r.code == 3);
    REQUIRE(r.out.find("function table has " + std::to_string(19 * sizeof(void*)) + " bytes, the core needs " +
                       std::to_string(20 * sizeof(void*))) != std::string::npos);
    REQUIRE(r.out.find("rebuild the library against the current headers") != std::string::npos);
}

TEST_CASE("a library claiming another module number is refused", "[loader]") {
    Result r = probe(fixture("wrong_number"));
    INFO(r.out);
    REQUIRE(r.code == 3);
    REQUIRE(r.out.find("it says it is module 2, expected 1") != std::string::npos);
}

TEST_CASE("a NULL slot is named", "[loader]") {
    Result r = probe(fixture("null_slot"));
    INFO(r.out);
    REQUIRE(r.code == 3);
    REQUIRE(r.out.find("slot 'matmul' is NULL") != std::string::npos);
}

TEST_CASE("a library without the entry point is refused", "[loader]") {
    Result r = probe(fixture("no_entry"));
    INFO(r.out);
    REQUIRE(r.code == 3);
    REQUIRE(r.out.find("does not export the entry point tt_entry_01_tensor") != std::string::npos);
}

TEST_CASE("a failing init is reported with the module's message", "[loader]") {
    Result r = probe(fixture("init_fails"));
    INFO(r.out);
    REQUIRE(r.code == 3);
    REQUIRE(r.out.find("fixture init refuses to start") != std::string::npos);
}

TEST_CASE("a student library never binds to reference code, even with the reference loaded globally",
          "[loader]") {
    std::string reference = std::string(TT_TEST_LIB_DIR) + "/tt_01_tensor_reference.so";
    REQUIRE(std::filesystem::exists(reference));
    // The fixture calls tt_entry_01_tensor() by name and records the variant
    // it got: 100 + 0 (student) means it reached itself, 101 the reference.
    Result r = probe(fixture("shadow"), "TT_PROBE_PRELOAD='" + reference + "'");
    INFO(r.out);
    REQUIRE(r.code == 0);
    REQUIRE(r.out.find("LOADED first=100") != std::string::npos);
}

TEST_CASE("the export check fails a library that exports more than its entry point", "[loader]") {
    std::string lib = fixture("extra_export") + "/tt_01_tensor_student.so";
    std::string copy = fixture("extra_export") + "/copy_for_check.so";
    std::filesystem::copy_file(lib, copy, std::filesystem::copy_options::overwrite_existing);
    Result check = tt_test::run_command("cmake -DLIB='" + copy + "' -DENTRY=tt_entry_01_tensor -P '" +
                                        TT_CHECK_EXPORTS + "'");
    INFO(check.out);
    REQUIRE(check.code != 0);
    REQUIRE(check.out.find("tt_helper_everyone_can_see") != std::string::npos);
    // The good fixture passes the same check.
    std::string good = "cmake -DLIB='" + fixture("good") + "/tt_01_tensor_student.so' -DENTRY=tt_entry_01_tensor -P '" +
                       TT_CHECK_EXPORTS + "' >/dev/null 2>&1";
    REQUIRE(std::system(good.c_str()) == 0);
}
