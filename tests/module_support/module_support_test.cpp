// The helpers every module includes (core/include/tinytorch/module/module_support.hpp),
// compiled here as if in module 09, with the core's real host table: the
// shared error helpers, and parallel_range carrying an error thrown on a
// worker thread back to the caller with its message.
#define TT_MODULE_NUMBER 9
#define TT_MODULE_VARIANT TT_VARIANT_REFERENCE
#include "tinytorch/module/module_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "tinytorch/runtime.hpp"

namespace {

void use_core_host() {
    static tt_host host = tt::runtime().host();
    ttm::g_host = &host;
}

// What the caller of a table function sees: the status and the message the
// core holds for this thread (tt::runtime().check throws them as tt::Error).
std::string reported_message(tt_status status) {
    try {
        tt::runtime().check(status, 9, "test");
    } catch (const tt::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("shape_str, same_shape, require and throw_error", "[module_support]") {
    use_core_host();
    tt_tensor a{}, b{};
    a.ndim = 3, a.shape[0] = 2, a.shape[1] = 3, a.shape[2] = 4;
    b = a;
    REQUIRE(ttm::shape_str(&a) == "[2, 3, 4]");
    REQUIRE(ttm::same_shape(&a, &b));
    b.shape[2] = 5;
    REQUIRE_FALSE(ttm::same_shape(&a, &b));
    b.ndim = 2;
    REQUIRE_FALSE(ttm::same_shape(&a, &b));
    try {
        ttm::require(nullptr, "f", "weight");
        FAIL("require(NULL) did not throw");
    } catch (const ttm::StatusError& e) {
        REQUIRE(e.status == TT_INVALID_ARGUMENT);
        REQUIRE_THAT(reported_message(e.status), Catch::Contains("weight is NULL"));
    }
    REQUIRE_NOTHROW(ttm::ok(TT_OK));
    REQUIRE_THROWS_AS(ttm::ok(TT_SHAPE_MISMATCH), ttm::StatusError);
}

TEST_CASE("parallel_range runs every item once, on several threads", "[module_support]") {
    use_core_host();
    tt::runtime().set_threads(3);
    std::atomic<int64_t> sum{0};
    ttm::parallel_range(1000, 10, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) sum += i;
    });
    REQUIRE(sum == 999 * 1000 / 2);
}

TEST_CASE("an error thrown inside parallel_range reaches the caller with its message", "[module_support]") {
    use_core_host();
    tt::runtime().set_threads(3);
    const std::thread::id caller = std::this_thread::get_id();
    std::atomic<bool> elsewhere{false};
    try {
        ttm::parallel_range(64, 1, [&](int64_t begin, int64_t) {
            // slow chunks, so the workers take some; the first one a worker takes fails
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            if (std::this_thread::get_id() != caller && !elsewhere.exchange(true))
                ttm::throw_error(TT_SHAPE_MISMATCH, "conv2d_forward", "item " + std::to_string(begin) + " is wrong");
        });
        FAIL("the error was lost (or no worker thread ran a chunk)");
    } catch (const ttm::StatusError& e) {
        REQUIRE(elsewhere);
        REQUIRE(e.status == TT_SHAPE_MISMATCH);
        // the host's error slot is per thread: the message was set on the worker
        REQUIRE_THAT(reported_message(e.status), Catch::Contains("is wrong"));
    }
    // a std::bad_alloc (not reported through the host) comes back as itself
    REQUIRE_THROWS_AS(ttm::parallel_range(64, 1, [](int64_t, int64_t end) {
                          if (end == 64) throw std::bad_alloc();
                      }),
                      std::bad_alloc);
}
