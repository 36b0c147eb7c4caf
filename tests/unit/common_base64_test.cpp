#include "common/base64.hpp"

#include <catch2/catch.hpp>

using namespace oi;

TEST_CASE("base64url round-trips every tail length without padding", "[identity][base64]")
{
    for (std::string bytes : {"", "a", "ab", "abc", "abcd", "\xff\xfe\xfd?>"}) {
        auto encoded = base64url_encode(bytes);

        CHECK(encoded.find('=') == std::string::npos);
        CHECK(base64url_decode(encoded) == bytes);
    }
    CHECK(base64url_encode("\xfb\xff") == "-_8");
}

TEST_CASE("base64url refuses padding, the standard alphabet and impossible lengths",
          "[identity][base64]")
{
    CHECK_FALSE(base64url_decode("YQ=="));
    CHECK_FALSE(base64url_decode("+/8"));
    CHECK_FALSE(base64url_decode("abcde"));
    CHECK_FALSE(base64url_decode("ab cd"));
}

TEST_CASE("standard base64 needs its padding", "[identity][base64]")
{
    CHECK(base64_decode("cGx1Z2luOnVzZXI=") == std::string("plugin:user"));
    CHECK(base64_decode("YQ==") == std::string("a"));
    CHECK(base64_decode("") == std::string());
    CHECK_FALSE(base64_decode("YQ"));
    CHECK_FALSE(base64_decode("Y==="));
    CHECK_FALSE(base64_decode("YQ=a"));
    CHECK_FALSE(base64_decode("-_8a"));
}
