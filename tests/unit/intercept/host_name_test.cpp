#include "intercept/host_name.hpp"

#include <catch2/catch.hpp>

using oi::intercept::leaf_host;
using oi::intercept::normalize_host;

TEST_CASE("host names are lower-cased without a trailing dot or a port", "[intercept]")
{
    CHECK(normalize_host("API.Example.COM") == leaf_host{"api.example.com", false});
    CHECK(normalize_host("api.example.com.") == leaf_host{"api.example.com", false});
    CHECK(normalize_host("api.example.com:443") == leaf_host{"api.example.com", false});
    CHECK(normalize_host("my_service.internal") == leaf_host{"my_service.internal", false});
}

TEST_CASE("IP literals are recognized with or without brackets and ports", "[intercept]")
{
    CHECK(normalize_host("127.0.0.1") == leaf_host{"127.0.0.1", true});
    CHECK(normalize_host("127.0.0.1:8443") == leaf_host{"127.0.0.1", true});
    CHECK(normalize_host("::1") == leaf_host{"::1", true});
    CHECK(normalize_host("[::1]") == leaf_host{"::1", true});
    CHECK(normalize_host("[0:0::1]:443") == leaf_host{"::1", true});
    CHECK(normalize_host("2001:DB8::A") == leaf_host{"2001:db8::a", true});
}

TEST_CASE("names that cannot go into a certificate are refused", "[intercept]")
{
    CHECK_FALSE(normalize_host(""));
    CHECK_FALSE(normalize_host(":443"));
    CHECK_FALSE(normalize_host("a..b"));
    CHECK_FALSE(normalize_host(".example.com"));
    CHECK_FALSE(normalize_host("a.com,DNS:evil.com"));
    CHECK_FALSE(normalize_host("*.example.com"));
    CHECK_FALSE(normalize_host("exa mple.com"));
    CHECK_FALSE(normalize_host(std::string(64, 'a') + ".com"));
    CHECK_FALSE(normalize_host(std::string(250, 'a') + ".com"));
    CHECK_FALSE(normalize_host("[::1"));
    CHECK_FALSE(normalize_host("fe80::1%eth0"));
}
