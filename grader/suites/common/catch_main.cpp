// The main of every grading suite. The runtime picks variants from TITO_IMPL
// (set by `tito test/grade`), so the suite itself takes only Catch2 options.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

int main(int argc, char* argv[]) { return Catch::Session().run(argc, argv); }
