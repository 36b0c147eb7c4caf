#include "common/log.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <set>
#include <thread>
#include <type_traits>

static_assert(!std::is_constructible_v<oi::log::field, std::string_view, oi::secret>,
              "a secret must not be loggable as a field value");
static_assert(!std::is_constructible_v<oi::log::field, std::string_view, const oi::secret&>,
              "a secret must not be loggable as a field value");
static_assert(std::is_constructible_v<oi::log::field, std::string_view, std::string_view>);

TEST_CASE("a json line starts with ts, level and event, then the fields in order", "[log]")
{
    const std::string line = oi::log::format_line(
        true, "2024-05-01T12:34:56.789Z", oi::log::level::info, "admin_request",
        {{"method", "GET"}, {"status", 200}, {"ok", true}, {"ms", 1.5}});

    CHECK(line == R"({"ts":"2024-05-01T12:34:56.789Z","level":"info","event":"admin_request",)"
                  R"("method":"GET","status":200,"ok":true,"ms":1.5})");
}

TEST_CASE("json output escapes quotes, backslashes and control characters", "[log]")
{
    const std::string line = oi::log::format_line(true, "t", oi::log::level::warn, "e",
                                                  {{"v", "a\"b\\c\nd\x01"}, {"k\"ey", "x"}});

    const boost::json::value parsed = boost::json::parse(line);
    CHECK(parsed.at("v").as_string() == "a\"b\\c\nd\x01");
    CHECK(parsed.at("k\"ey").as_string() == "x");
    CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("json output writes non-finite numbers as null", "[log]")
{
    const std::string line = oi::log::format_line(
        true, "t", oi::log::level::info, "e", {{"nan", std::numeric_limits<double>::quiet_NaN()}});

    CHECK(boost::json::parse(line).at("nan").is_null());
}

TEST_CASE("text output quotes values with spaces and leaves plain words bare", "[log]")
{
    const std::string line = oi::log::format_line(false, "2024-05-01T12:34:56.789Z",
                                                  oi::log::level::error, "store_error",
                                                  {{"op", "load"},
                                                   {"message", "connection refused"},
                                                   {"empty", ""},
                                                   {"q", "say \"hi\"\n"},
                                                   {"n", -3},
                                                   {"u", std::uint64_t{7}}});

    CHECK(line == "ts=2024-05-01T12:34:56.789Z level=error event=store_error op=load "
                  "message=\"connection refused\" empty=\"\" q=\"say \\\"hi\\\"\\n\" n=-3 u=7");
}

TEST_CASE("events below the configured level are not written", "[log]")
{
    const oi::log::capture cap(oi::log::level::warn);

    oi::log::event(oi::log::level::info, "quiet");
    oi::log::event(oi::log::level::warn, "loud", {{"x", 1}});

    const auto lines = cap.lines();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find(R"("event":"loud")") != std::string::npos);
    CHECK_FALSE(oi::log::enabled(oi::log::level::info));
    CHECK(oi::log::enabled(oi::log::level::error));
    CHECK_FALSE(oi::log::enabled(oi::log::level::off));
}

TEST_CASE("a capture collects lines from other threads and restores the previous level", "[log]")
{
    const bool debug_before = oi::log::enabled(oi::log::level::debug);
    {
        const oi::log::capture cap(oi::log::level::trace, false);

        std::thread t([] { oi::log::event(oi::log::level::debug, "from_thread", {{"n", 1}}); });
        t.join();

        REQUIRE(cap.lines().size() == 1);
        CHECK(cap.contains("event=from_thread n=1"));
        CHECK(oi::log::enabled(oi::log::level::debug));
    }

    CHECK(oi::log::enabled(oi::log::level::debug) == debug_before);
}

TEST_CASE("the timestamp is RFC 3339 UTC with milliseconds", "[log]")
{
    const std::string ts = oi::log::now_rfc3339();

    REQUIRE(ts.size() == 24);
    CHECK(ts[4] == '-');
    CHECK(ts[10] == 'T');
    CHECK(ts[19] == '.');
    CHECK(ts.back() == 'Z');
}

TEST_CASE("request ids are 16 lower-case hex characters and do not repeat", "[log]")
{
    std::set<std::string> seen;

    for (int i = 0; i < 1000; ++i) {
        seen.insert(oi::log::new_request_id());
    }

    CHECK(seen.size() == 1000);
    for (const std::string& id : seen) {
        REQUIRE(id.size() == 16);
        CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    }
}

TEST_CASE("level names parse back to their level", "[log]")
{
    for (const auto l : {oi::log::level::trace, oi::log::level::debug, oi::log::level::info,
                         oi::log::level::warn, oi::log::level::error, oi::log::level::off}) {
        CHECK(oi::log::parse_level(oi::log::level_name(l)) == l);
    }
    CHECK(oi::log::parse_level("warning") == oi::log::level::warn);
    CHECK_FALSE(oi::log::parse_level("verbose").has_value());
}

TEST_CASE("fractional values are written with at most three decimals", "[log]")
{
    const auto [value, expected] =
        GENERATE(table<double, std::string>({{4.047842999999999, "4.048"},
                                             {1.5, "1.5"},
                                             {2.0, "2"},
                                             {0.0004, "0"},
                                             {1e300, "1e+300"}}));

    const std::string line = oi::log::format_line(true, "2024-05-01T12:34:56.789Z",
                                                  oi::log::level::info, "e", {{"ms", value}});

    CHECK(line.ends_with("\"ms\":" + expected + "}"));
}
