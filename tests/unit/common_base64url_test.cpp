#include "common/base64.hpp"

#include <catch2/catch.hpp>

using oi::base64url_decode;
using oi::base64url_encode;

TEST_CASE("base64url encodes without padding in the URL alphabet", "[base64]")
{
    CHECK(base64url_encode("") == "");
    CHECK(base64url_encode("f") == "Zg");
    CHECK(base64url_encode("fo") == "Zm8");
    CHECK(base64url_encode("foo") == "Zm9v");
    CHECK(base64url_encode("\xfb\xff") == "-_8");
}

TEST_CASE("base64url decodes what it encodes, including binary bytes", "[base64]")
{
    std::string all;
    for (int i = 0; i < 256; ++i) {
        all.push_back(static_cast<char>(i));
    }

    for (std::size_t n = 0; n <= all.size(); n += 37) {
        const auto decoded = base64url_decode(base64url_encode(all.substr(0, n)));
        REQUIRE(decoded.has_value());
        CHECK(*decoded == all.substr(0, n));
    }
}

TEST_CASE("base64url refuses padding, foreign characters and impossible lengths", "[base64]")
{
    CHECK_FALSE(base64url_decode("Zg==").has_value());
    CHECK_FALSE(base64url_decode("Zm+v").has_value());
    CHECK_FALSE(base64url_decode("Zm/v").has_value());
    CHECK_FALSE(base64url_decode("Zm9v Zg").has_value());
    CHECK_FALSE(base64url_decode("Zm9vZ").has_value());
}
