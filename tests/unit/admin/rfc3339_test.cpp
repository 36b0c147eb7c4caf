#include "admin/rfc3339.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono;

TEST_CASE("RFC 3339 date-times format in UTC with whole seconds", "[admin]")
{
    const sys_seconds t = sys_days{year{2030} / 1 / 2} + hours{3} + minutes{4} + seconds{5};

    CHECK(oi::admin::format_rfc3339(t + milliseconds(999)) == "2030-01-02T03:04:05Z");
    CHECK(oi::admin::format_rfc3339(system_clock::time_point{}) == "1970-01-01T00:00:00Z");
}

TEST_CASE("RFC 3339 date-times parse with fractions and offsets", "[admin]")
{
    const sys_seconds expected = sys_days{year{2030} / 1 / 2} + hours{3} + minutes{4} + seconds{5};

    CHECK(oi::admin::parse_rfc3339("2030-01-02T03:04:05Z") == expected);
    CHECK(oi::admin::parse_rfc3339("2030-01-02t03:04:05.123456z") == expected);
    CHECK(oi::admin::parse_rfc3339("2030-01-02T05:04:05+02:00") == expected);
    CHECK(oi::admin::parse_rfc3339("2030-01-01T22:34:05-04:30") == expected);
}

TEST_CASE("text that is not an RFC 3339 date-time does not parse", "[admin]")
{
    const char* text =
        GENERATE("", "tomorrow", "2030-01-02", "2030-01-02T03:04:05", "2030-02-30T00:00:00Z",
                 "2030-01-02T24:00:00Z", "2030-01-02T03:04:05.Z", "2030-01-02T03:04:05+0200",
                 "2030-01-02T03:04:05Zjunk", "2030-01-02 03:04:05Z");

    CHECK_FALSE(oi::admin::parse_rfc3339(text).has_value());
}
