#include "common/secret.hpp"

#include <catch2/catch.hpp>

TEST_CASE("constant_time_equal compares contents and lengths", "[secret]")
{
    CHECK(oi::constant_time_equal("abc", "abc"));
    CHECK_FALSE(oi::constant_time_equal("abc", "abd"));
    CHECK_FALSE(oi::constant_time_equal("abc", "abcd"));
    CHECK(oi::constant_time_equal("", ""));
}

TEST_CASE("a secret reveals its value only on request", "[secret]")
{
    const oi::secret token{"tok-123"};

    CHECK(token.reveal() == "tok-123");
    CHECK_FALSE(token.empty());
    CHECK(oi::secret{}.empty());
}
