#include "config/value_checks.hpp"

#include <catch2/catch.hpp>

using namespace oi::config;

namespace {

template <typename T> bool failed(const checked<T>& c)
{
    return std::holds_alternative<value_error>(c);
}

} // namespace

TEST_CASE("endpoints are host:port with IPv6 in brackets", "[config][values]")
{
    auto v4 = std::get<endpoint>(parse_endpoint("127.0.0.1:8080", false));
    auto v6 = std::get<endpoint>(parse_endpoint("[::1]:9090", false));
    auto name = std::get<endpoint>(parse_endpoint("localhost:0", true));

    CHECK(v4.host == "127.0.0.1");
    CHECK(v4.port == 8080);
    CHECK(v6.host == "::1");
    CHECK(v6.port == 9090);
    CHECK(name.host == "localhost");
    CHECK(name.port == 0);
}

TEST_CASE("malformed endpoints are refused", "[config][values]")
{
    CHECK(failed(parse_endpoint("127.0.0.1", true)));
    CHECK(failed(parse_endpoint("127.0.0.1:", true)));
    CHECK(failed(parse_endpoint("127.0.0.1:65536", true)));
    CHECK(failed(parse_endpoint("127.0.0.1:0", false)));
    CHECK(failed(parse_endpoint("::1:8080", true)));
    CHECK(failed(parse_endpoint("[::1]8080", true)));
    CHECK(failed(parse_endpoint("[nope]:8080", true)));
    CHECK(failed(parse_endpoint("bad host:80", true)));
    CHECK(failed(parse_endpoint(":80", true)));
    CHECK(failed(parse_endpoint("h:8o", true)));
}

TEST_CASE("address exceptions take an ip with an optional port", "[config][values]")
{
    auto any_port = std::get<endpoint>(parse_address_exception("127.0.0.1"));
    auto with_port = std::get<endpoint>(parse_address_exception("127.0.0.1:18080"));
    auto bare_v6 = std::get<endpoint>(parse_address_exception("::1"));
    auto v6_port = std::get<endpoint>(parse_address_exception("[0::1]:443"));

    CHECK((any_port.host == "127.0.0.1" && any_port.port == 0));
    CHECK((with_port.host == "127.0.0.1" && with_port.port == 18080));
    CHECK((bare_v6.host == "::1" && bare_v6.port == 0));
    CHECK((v6_port.host == "::1" && v6_port.port == 443));
    CHECK(failed(parse_address_exception("localhost:80")));
    CHECK(failed(parse_address_exception("10.0.0.1:0")));
    CHECK(failed(parse_address_exception("10.0.0.0/8")));
}

TEST_CASE("only absolute http and https URLs with a host are accepted", "[config][values]")
{
    CHECK_FALSE(failed(check_http_url("https://oauth2.googleapis.com/token")));
    CHECK_FALSE(failed(check_http_url("http://127.0.0.1:8081")));
    CHECK(failed(check_http_url("ftp://example.com/")));
    CHECK(failed(check_http_url("/token")));
    CHECK(failed(check_http_url("https:///token")));
    CHECK(failed(check_http_url("https://user:pw@example.com/")));
    CHECK(failed(check_http_url("not a url")));
}

TEST_CASE("allowed host patterns are normalized", "[config][values]")
{
    CHECK(std::get<std::string>(normalize_host_pattern("API.Example.COM")) == "api.example.com");
    CHECK(std::get<std::string>(normalize_host_pattern("*.Example.com.")) == "*.example.com");
    CHECK(std::get<std::string>(normalize_host_pattern("[0:0::1]")) == "::1");
    CHECK(std::get<std::string>(normalize_host_pattern("10.0.0.1")) == "10.0.0.1");
    CHECK(std::get<std::string>(normalize_host_pattern("xn--bcher-kva.example")) ==
          "xn--bcher-kva.example");
}

TEST_CASE("internationalized allowed hosts become the A-label form that clients send",
          "[config][values]")
{
    CHECK(std::get<std::string>(normalize_host_pattern("b\xc3\xbc"
                                                       "cher.example")) == "xn--bcher-kva.example");
    CHECK(std::get<std::string>(normalize_host_pattern("*.B\xc3\x9c"
                                                       "CHER.example")) ==
          "*.xn--bcher-kva.example");
}

TEST_CASE("allowed host patterns with a scheme, port, path or odd wildcard are refused",
          "[config][values]")
{
    CHECK(failed(normalize_host_pattern("https://api.example.com")));
    CHECK(failed(normalize_host_pattern("api.example.com:443")));
    CHECK(failed(normalize_host_pattern("api.example.com/v1")));
    CHECK(failed(normalize_host_pattern("*")));
    CHECK(failed(normalize_host_pattern("*.")));
    CHECK(failed(normalize_host_pattern("api.*.com")));
    CHECK(failed(normalize_host_pattern("*example.com")));
    CHECK(failed(normalize_host_pattern("exa\xffmple.com"))); // not UTF-8
    CHECK(failed(
        normalize_host_pattern("\xe2\x98\x83\xe2\x80\x8d.example"))); // joiner: IDNA2008 refuses
    CHECK(failed(normalize_host_pattern("a..b")));
    CHECK(failed(normalize_host_pattern("")));
}

TEST_CASE("an encryption key must be base64 of exactly 32 bytes", "[config][values]")
{
    auto key = decode_key_base64("a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=");

    REQUIRE(std::holds_alternative<std::string>(key));
    CHECK(std::get<std::string>(key) == std::string(32, 'k'));
    CHECK(failed(decode_key_base64("a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s")));  // no padding
    CHECK(failed(decode_key_base64("a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tr"))); // 33 bytes
    CHECK(failed(decode_key_base64("a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2==")));
    CHECK(failed(decode_key_base64("a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2-=")));
    CHECK(failed(decode_key_base64("a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=a2s=")));
    CHECK(failed(decode_key_base64("")));
}

TEST_CASE("a redis URL is split and loses its password", "[config][values]")
{
    redis_config out;

    auto err = parse_redis_url("redis://app:s3cret@cache.internal:6380/2", out);

    REQUIRE_FALSE(err);
    CHECK(out.host == "cache.internal");
    CHECK(out.port == 6380);
    CHECK(out.database == 2);
    CHECK(out.username == std::optional<std::string>("app"));
    CHECK(out.password.reveal() == "s3cret");
    CHECK(out.url == "redis://app@cache.internal:6380/2");
}

TEST_CASE("a redis URL with only a password keeps no empty user information", "[config][values]")
{
    redis_config out;

    auto err = parse_redis_url("redis://:p%40ss@[::1]", out);

    REQUIRE_FALSE(err);
    CHECK(out.host == "::1");
    CHECK(out.port == 6379);
    CHECK(out.database == 0);
    CHECK_FALSE(out.username);
    CHECK(out.password.reveal() == "p@ss");
    CHECK(out.url == "redis://[::1]");
}

TEST_CASE("malformed redis URLs are refused without repeating them", "[config][values]")
{
    redis_config out;

    for (std::string_view url : {"http://h:6379", "rediss://h:6379", "redis://h:0", "redis://h/x",
                                 "redis://h:6379/0?a=b", "redis:///0", "h:6379"}) {
        auto err = parse_redis_url(url, out);
        REQUIRE(err);
        CHECK(err->message.find(url) == std::string::npos);
    }
}

TEST_CASE("header names must be HTTP tokens", "[config][values]")
{
    CHECK(is_http_token("X-Plugin-User"));
    CHECK_FALSE(is_http_token("X Plugin"));
    CHECK_FALSE(is_http_token("X-Plugin:"));
    CHECK_FALSE(is_http_token(""));
}

TEST_CASE("ids start with a letter or digit", "[config][values]")
{
    CHECK(is_valid_id("google"));
    CHECK(is_valid_id("g.cal_v2-x"));
    CHECK_FALSE(is_valid_id("-google"));
    CHECK_FALSE(is_valid_id("plugin:x"));
    CHECK_FALSE(is_valid_id(""));
}

TEST_CASE("url_origin reduces a URL to scheme, lower-case host and non-default port",
          "[config][values]")
{
    const auto [text, only, expected] = GENERATE(table<std::string_view, bool, std::string>({
        {"https://Chat.Example.com", true, "https://chat.example.com"},
        {"HTTPS://chat.example.com:443/", true, "https://chat.example.com"},
        {"http://chat.example.com:80", true, "http://chat.example.com"},
        {"http://127.0.0.1:8443", true, "http://127.0.0.1:8443"},
        {"https://[::1]:9000", true, "https://[::1]:9000"},
        {"https://chat.example.com/done?x=1#f", false, "https://chat.example.com"},
        {"https://chat.example.com/done", true, ""},
        {"https://chat.example.com/?q", true, ""},
        {"javascript:alert(1)", false, ""},
        {"https://user@chat.example.com", false, ""},
        {"//chat.example.com", false, ""},
    }));

    INFO(text);
    const auto result = url_origin(text, only);

    if (expected.empty()) {
        CHECK(std::holds_alternative<oi::config::value_error>(result));
    } else {
        REQUIRE(std::holds_alternative<std::string>(result));
        CHECK(std::get<std::string>(result) == expected);
    }
}
