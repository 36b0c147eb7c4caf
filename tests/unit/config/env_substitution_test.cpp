#include "config/env_substitution.hpp"

#include "fake_env.hpp"

#include <catch2/catch.hpp>

using oi::config::substitute_env;
using oi::config::substitution_error;
using oi::config::testing::fake_env;

namespace {

std::string expand(std::string_view text)
{
    auto env = fake_env({{"HOST", "example.com"}, {"EMPTY", ""}, {"PORT", "8080"}});
    auto result = substitute_env(text, env);
    REQUIRE(std::holds_alternative<std::string>(result));
    return std::get<std::string>(result);
}

std::string failure(std::string_view text)
{
    auto env = fake_env({{"HOST", "example.com"}});
    auto result = substitute_env(text, env);
    REQUIRE(std::holds_alternative<substitution_error>(result));
    return std::get<substitution_error>(result).message;
}

} // namespace

TEST_CASE("a variable is replaced anywhere in a scalar", "[config][env]")
{
    CHECK(expand("${HOST}") == "example.com");
    CHECK(expand("https://${HOST}:${PORT}/x") == "https://example.com:8080/x");
    CHECK(expand("no variables") == "no variables");
}

TEST_CASE("a default is used when the variable is unset or empty", "[config][env]")
{
    CHECK(expand("${MISSING:-fallback}") == "fallback");
    CHECK(expand("${EMPTY:-fallback}") == "fallback");
    CHECK(expand("${HOST:-fallback}") == "example.com");
    CHECK(expand("${MISSING:-}") == "");
    CHECK(expand("${MISSING:-redis://h:1/0}") == "redis://h:1/0");
}

TEST_CASE("a set but empty variable without a default is the empty string", "[config][env]")
{
    CHECK(expand("a${EMPTY}b") == "ab");
}

TEST_CASE("a doubled dollar is a literal dollar and a lone one is kept", "[config][env]")
{
    CHECK(expand("$${HOST}") == "${HOST}");
    CHECK(expand("pa$$word") == "pa$word");
    CHECK(expand("a$b") == "a$b");
    CHECK(expand("end$") == "end$");
}

TEST_CASE("substituted text is not expanded again", "[config][env]")
{
    auto env = fake_env({{"A", "${B}"}, {"B", "no"}});

    auto result = substitute_env("${A}", env);

    CHECK(std::get<std::string>(result) == "${B}");
}

TEST_CASE("an unset variable is an error that names it", "[config][env]")
{
    CHECK(failure("x-${NOT_SET}") == "environment variable NOT_SET is not set");
}

TEST_CASE("malformed references are errors", "[config][env]")
{
    CHECK_THAT(failure("${HOST"), Catch::Contains("unterminated"));
    CHECK_THAT(failure("${}"), Catch::Contains("invalid environment variable name"));
    CHECK_THAT(failure("${1X}"), Catch::Contains("invalid environment variable name"));
    CHECK_THAT(failure("${A-B}"), Catch::Contains("invalid environment variable name"));
    CHECK_THAT(failure("${X:-${HOST}}"), Catch::Contains("nested"));
}
