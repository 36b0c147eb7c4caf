// Tests of the harness around ASan+UBSan builds (support/sanitizer_log.hpp): children are told
// where to write their sanitizer reports, the harness finds what they wrote, and in a sanitized
// build the proxy binary the integration tests start is instrumented like the tests themselves.
#include "support/process.hpp"
#include "support/sanitizer_log.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#if defined(__SANITIZE_ADDRESS__)
#define OI_TESTS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OI_TESTS_SANITIZED 1
#endif
#endif

using namespace std::chrono_literals;

TEST_CASE("a child is told to write sanitizer reports into its own directory",
          "[support][sanitizer]")
{
    oi::test::process child({.program = "sh",
                             .args = {"-c", "echo \"$ASAN_OPTIONS\"; echo \"$UBSAN_OPTIONS\""},
                             .env = {{"ASAN_OPTIONS", "detect_leaks=1"}}});
    REQUIRE(child.wait_exit(10s).has_value());

    const std::string log = "log_path=" + (child.output_dir() / "sanitizer").string();
    const char* inherited = std::getenv("UBSAN_OPTIONS"); // the parent's, kept
    const std::string ubsan = inherited && *inherited ? std::string{inherited} + ":" + log : log;
    CHECK(child.stdout_text() == "detect_leaks=1:" + log + "\n" + ubsan + "\n");
}

TEST_CASE("a report a child writes to its sanitizer log is found", "[support][sanitizer]")
{
    // What ASan's runtime does with log_path (the file is named after the child's pid); by
    // default the report fails the test.
    oi::test::process child(
        {.program = "sh",
         .args = {"-c", "log=${ASAN_OPTIONS##*log_path=}; "
                        "echo 'ERROR: LeakSanitizer: detected memory leaks' >\"$log.$$\""},
         .fail_on_sanitizer_report = false});
    oi::test::process quiet({.program = "sh", .args = {"-c", "echo no report here >&2"}});

    REQUIRE(child.wait_exit(10s));
    REQUIRE(quiet.wait_exit(10s));

    CHECK(child.sanitizer_report() == "ERROR: LeakSanitizer: detected memory leaks\n");
    CHECK(quiet.sanitizer_report().empty());
}

#if defined(OI_TESTS_SANITIZED)
TEST_CASE("in a sanitized build the proxy binary under test is built with AddressSanitizer too",
          "[support][sanitizer]")
{
    // Instrumented code calls __asan_init from a module constructor, so its name is in the
    // binary whether the runtime is linked statically (clang) or dynamically (GCC).
    std::ifstream in(OI_BINARY, std::ios::binary);
    const std::string image{std::istreambuf_iterator<char>(in), {}};
    REQUIRE_FALSE(image.empty());
    CHECK(image.find("__asan_init") != std::string::npos);
}
#endif
