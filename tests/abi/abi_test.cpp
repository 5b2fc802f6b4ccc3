// ABI facts checked at run time, plus the export check on every built module.
#include <catch2/catch.hpp>

#include "common/subprocess.hpp"

#include <filesystem>
#include <string>

#include "tinytorch/runtime.hpp"

extern "C" int tt_c11_headers_compiled(void);

TEST_CASE("the ABI headers compile as C11 and agree with C++ on the descriptor size", "[abi]") {
    REQUIRE(tt_c11_headers_compiled() == static_cast<int>(sizeof(tt_module_descriptor)));
}


TEST_CASE("every built module library exports exactly its one entry point", "[abi]") {
    int checked = 0;
    for (int n = 1; n <= tt::kModuleCount; ++n) {
        for (auto v : {tt::Variant::student, tt::Variant::reference}) {
            std::string path = std::string(TT_TEST_LIB_DIR) + "/tt_" + tt::module_info(n).dir + "_" +
                               tt::variant_name(v) + ".so";
            if (!std::filesystem::exists(path)) continue;
            std::string syms = tt_test::run_command("nm -D --defined-only '" + path + "' | awk '{print $NF}'").out;
            INFO(path << " exports:\n" << syms);
            REQUIRE(syms == std::string(tt::module_info(n).entry) + "\n");
            ++checked;
        }
    }
    REQUIRE(checked >= 2);  // at least module 01 in both variants
}

TEST_CASE("impl specs parse ranges, defaults and overrides", "[abi]") {
    using tt::Variant;
    auto c = tt::parse_impl_spec("01-05=student,06-09=reference");
    REQUIRE(c[0] == Variant::student);
    REQUIRE(c[4] == Variant::student);
    REQUIRE(c[5] == Variant::reference);
    REQUIRE(c[8] == Variant::reference);
    c = tt::parse_impl_spec("reference,3=student");
    REQUIRE(c[2] == Variant::student);
    REQUIRE(c[1] == Variant::reference);
    REQUIRE(tt::parse_impl_spec("")[0] == Variant::student);
    REQUIRE_THROWS_WITH(tt::parse_impl_spec("10=student"), Catch::Contains("not a module number"));
    REQUIRE_THROWS_WITH(tt::parse_impl_spec("01=teacher"), Catch::Contains("not a variant"));
    REQUIRE_THROWS_WITH(tt::parse_impl_spec("05-02=student"), Catch::Contains("backwards"));
}
