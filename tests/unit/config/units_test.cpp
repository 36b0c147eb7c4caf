#include "config/units.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using oi::config::parse_duration;
using oi::config::parse_size;

TEST_CASE("durations are read in milliseconds, seconds, minutes and hours", "[config][units]")
{
    CHECK(parse_duration("500ms") == 500ms);
    CHECK(parse_duration("30s") == 30s);
    CHECK(parse_duration("5m") == 5min);
    CHECK(parse_duration("1h") == 1h);
    CHECK(parse_duration("0s") == 0ms);
}

TEST_CASE("durations without a unit or with an unknown one are refused", "[config][units]")
{
    CHECK_FALSE(parse_duration("30"));
    CHECK_FALSE(parse_duration("30d"));
    CHECK_FALSE(parse_duration("1.5s"));
    CHECK_FALSE(parse_duration("-1s"));
    CHECK_FALSE(parse_duration(" 1s"));
    CHECK_FALSE(parse_duration("1 s"));
    CHECK_FALSE(parse_duration("s"));
    CHECK_FALSE(parse_duration(""));
    CHECK_FALSE(parse_duration("1m30s"));
}

TEST_CASE("a duration that overflows is refused", "[config][units]")
{
    CHECK_FALSE(parse_duration("99999999999999999999h"));
    CHECK_FALSE(parse_duration("9999999999999999h"));
}

TEST_CASE("sizes are read in bytes and binary units", "[config][units]")
{
    CHECK(parse_size("512") == 512u);
    CHECK(parse_size("512B") == 512u);
    CHECK(parse_size("64KiB") == 64u * 1024);
    CHECK(parse_size("16MiB") == 16u * 1024 * 1024);
    CHECK(parse_size("1GiB") == 1024u * 1024 * 1024);
}

TEST_CASE("sizes with unknown units or that overflow are refused", "[config][units]")
{
    CHECK_FALSE(parse_size("64KB"));
    CHECK_FALSE(parse_size("64kib"));
    CHECK_FALSE(parse_size("1.5MiB"));
    CHECK_FALSE(parse_size("-1"));
    CHECK_FALSE(parse_size(""));
    CHECK_FALSE(parse_size("KiB"));
    CHECK_FALSE(parse_size("99999999999GiB"));
}
