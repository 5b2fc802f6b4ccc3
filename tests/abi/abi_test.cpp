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
        for (auto v : {tt::Variant::student, tt::Variant::reference, tt::Variant::fast}) {
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

TEST_CASE("the fast variant: only where a module has one, and specs read back", "[abi]") {
    using tt::Variant;
    auto c = tt::parse_impl_spec("fast");  // the default word: fast where there is one
    for (int n = 1; n <= tt::kModuleCount; ++n)
        REQUIRE(c[n - 1] == (tt::has_fast_variant(n) ? Variant::fast : Variant::reference));
    REQUIRE(c[8] == Variant::fast);
    c = tt::parse_impl_spec("student,09=fast");
    REQUIRE(c[0] == Variant::student);
    REQUIRE(c[8] == Variant::fast);
    REQUIRE_THROWS_WITH(tt::parse_impl_spec("03=fast"), Catch::Contains("has no fast variant"));
    REQUIRE_THROWS_WITH(tt::parse_impl_spec("01-09=fast"), Catch::Contains("module 01 has no fast variant"));
    REQUIRE(tt::format_impl_choice(tt::parse_impl_spec("reference,09=fast")) == "reference,09=fast");
    REQUIRE(tt::format_impl_choice(tt::parse_impl_spec("student,02=reference,05=reference")) ==
            "student,02=reference,05=reference");
    REQUIRE(tt::format_impl_choice(tt::parse_impl_spec("reference")) == "reference");
    for (const char* spec : {"01-04=student,05-09=reference", "reference,03=student,09=fast", "fast"})
        REQUIRE(tt::parse_impl_spec(tt::format_impl_choice(tt::parse_impl_spec(spec))) == tt::parse_impl_spec(spec));
    // the fastest built: fast exactly where lib/ has a fast library
    c = tt::fastest_available_choice();
    for (int n = 1; n <= tt::kModuleCount; ++n)
        REQUIRE((c[n - 1] == Variant::fast) ==
                std::filesystem::exists(tt::module_library_path(n, Variant::fast)));
}
