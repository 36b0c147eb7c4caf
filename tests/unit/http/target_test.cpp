#include "http/target.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

TEST_CASE("absolute-form targets are split into scheme, host, port and origin-form", "[target]")
{
    struct vector {
        const char* target;
        const char* scheme;
        const char* host;
        std::uint16_t port;
        const char* origin_form;
    };
    const std::vector<vector> vectors{
        {"http://api.example.com/v1/x?a=1&b=%7Bx%7D", "http", "api.example.com", 80,
         "/v1/x?a=1&b=%7Bx%7D"},
        {"https://API.Example.COM./", "https", "api.example.com", 443, "/"},
        {"HTTPS://api.example.com", "https", "api.example.com", 443, "/"},
        {"http://api.example.com?q", "http", "api.example.com", 80, "/?q"},
        {"http://api.example.com/p?", "http", "api.example.com", 80, "/p?"},
        {"https://api.example.com:8443/a/../b", "https", "api.example.com", 8443, "/a/../b"},
        {"http://api.example.com:/x", "http", "api.example.com", 80, "/x"},
        {"http://127.0.0.1:18080/x", "http", "127.0.0.1", 18080, "/x"},
        {"https://[::1]:8443/x", "https", "::1", 8443, "/x"},
        {"https://[2001:DB8:0:0::1]/", "https", "2001:db8::1", 443, "/"},
        {"http://my_host-1.example/{OAUTH_PLUGIN_ACCESS_TOKEN}", "http", "my_host-1.example", 80,
         "/{OAUTH_PLUGIN_ACCESS_TOKEN}"},
        {"https://api.example.com/x?access_token=<OAUTH_PLUGIN_ACCESS_TOKEN>&y=|^`", "https",
         "api.example.com", 443, "/x?access_token=<OAUTH_PLUGIN_ACCESS_TOKEN>&y=|^`"},
        {"https://api.example.com?a=/b", "https", "api.example.com", 443, "/?a=/b"},
        {"ws://api.example.com/socket", "http", "api.example.com", 80, "/socket"},
        {"WSS://api.example.com:8443/s?x=1", "https", "api.example.com", 8443, "/s?x=1"},
    };

    for (const vector& v : vectors) {
        const auto target = oi::http::parse_absolute_target(v.target);

        INFO(v.target);
        REQUIRE(target.has_value());
        CHECK(target->scheme == v.scheme);
        CHECK(target->host == v.host);
        CHECK(target->port == v.port);
        CHECK(target->origin_form == v.origin_form);
    }
}

TEST_CASE("absolute-form targets that could mislead host checks are refused", "[target]")
{
    const std::vector<std::string> refused{
        "/origin/form",
        "ftp://files.example.com/x",
        "gopher://api.example.com/",
        "http://user@api.example.com/",
        "http://user:pass@api.example.com/",
        "http://api.example.com/#frag",
        "http:///path",
        "http:/path",
        "http://:80/",
        "http://api.example.com:0/",
        "http://api.example.com:65536/",
        "http://api.example.com:99999999999/",
        "http://api.example.com:8o/",
        "http://api%2Eexample.com/",
        "http://api.example.com%00.evil/",
        "http://a!b.example/",
        "http://api..example.com/",
        "http://.example.com/",
        "http://api.example.com../",
        "http://127.1/",
        "http://0x7f.1/",
        "http://2130706433/",
        "http://[v1.fe]/",
        "http://[::1/",
        "http://api.example.com/a b",
        "http://api.example.com/a\x01",
        "http://api.example.com/caf\xc3\xa9",
        "http://api.example.com?x#frag",
        "http://evil.example\\@api.example.com/",
        "http://api.example.com:8o",
        "http://api.example.com:80:80/",
        "://api.example.com/",
        "",
    };

    for (const std::string& target : refused) {
        const auto parsed = oi::http::parse_absolute_target(target);

        INFO(target);
        CHECK_FALSE(parsed.has_value());
    }
}

TEST_CASE("CONNECT authorities need a port and Host values take a default", "[target]")
{
    const auto connect = oi::http::parse_authority("API.example.com:443", std::nullopt);
    const auto connect_v6 = oi::http::parse_authority("[::1]:8443", std::nullopt);
    const auto host = oi::http::parse_authority("api.example.com", 80);
    const auto host_port = oi::http::parse_authority("api.example.com:8080", 80);
    const auto host_empty_port = oi::http::parse_authority("api.example.com:", 443);

    REQUIRE(connect.has_value());
    CHECK(connect->host == "api.example.com");
    CHECK(connect->port == 443);
    REQUIRE(connect_v6.has_value());
    CHECK(connect_v6->host == "::1");
    CHECK(connect_v6->port == 8443);
    REQUIRE(host.has_value());
    CHECK(host->port == 80);
    REQUIRE(host_port.has_value());
    CHECK(host_port->port == 8080);
    REQUIRE(host_empty_port.has_value());
    CHECK(host_empty_port->port == 443);
}

TEST_CASE("malformed authorities are refused", "[target]")
{
    const std::vector<std::string> refused{
        "api.example.com",
        "api.example.com:",
        "user@api.example.com:443",
        "api.example.com:0",
        "api.example.com:70000",
        "::1:443",
        "[::1]",
        "",
        ":443",
        "a b:443",
        "api.example.com:443/x",
        "api.example.com:8o",
        "api.example.com:80:80",
    };

    for (const std::string& value : refused) {
        const auto parsed = oi::http::parse_authority(value, std::nullopt);

        INFO(value);
        CHECK_FALSE(parsed.has_value());
    }
}

TEST_CASE("Host values omit default ports and bracket IPv6", "[target]")
{
    CHECK(oi::http::host_header_value("https", "api.example.com", 443) == "api.example.com");
    CHECK(oi::http::host_header_value("http", "api.example.com", 80) == "api.example.com");
    CHECK(oi::http::host_header_value("http", "api.example.com", 443) == "api.example.com:443");
    CHECK(oi::http::host_header_value("https", "::1", 8443) == "[::1]:8443");
    CHECK(oi::http::host_header_value("https", "2001:db8::1", 443) == "[2001:db8::1]");
}
