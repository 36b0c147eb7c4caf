#include "oauth/token_request.hpp"

#include "http/message.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using oi::oauth::build_token_request;
using oi::oauth::form_urlencode;
using oi::oauth::parse_token_endpoint;
using oi::oauth::token_params;

oi::config::connection make_connection(oi::config::content_type type, oi::config::client_auth auth)
{
    oi::config::connection c;
    c.id = "example";
    c.token_url = "https://auth.example.com/oauth/token";
    c.client_id = "my-app";
    c.client_secret = oi::secret{"sec"};
    c.token_content_type = type;
    c.auth_method = auth;
    return c;
}

std::string build(const oi::config::connection& c, const token_params& params)
{
    const auto endpoint = parse_token_endpoint(c.token_url);
    REQUIRE(endpoint.has_value());
    return build_token_request(c, *endpoint, params).reveal();
}

const token_params k_refresh{{"grant_type", "refresh_token"}, {"refresh_token", "rt-1"}};

} // namespace

TEST_CASE("a form request with client_secret_post carries the client's credentials in the body",
          "[oauth]")
{
    const auto c = make_connection(oi::config::content_type::form, oi::config::client_auth::post);

    const std::string request = build(c, k_refresh);

    CHECK(request ==
          "POST /oauth/token HTTP/1.1\r\n"
          "Host: auth.example.com\r\n"
          "Accept: application/json\r\n"
          "User-Agent: oauth-injector\r\n"
          "Content-Type: application/x-www-form-urlencoded\r\n"
          "Content-Length: 78\r\n"
          "Connection: close\r\n"
          "\r\n"
          "grant_type=refresh_token&refresh_token=rt-1&client_id=my-app&client_secret=sec");
}

TEST_CASE("a form request with client_secret_basic sends the credentials in Authorization",
          "[oauth]")
{
    const auto c = make_connection(oi::config::content_type::form, oi::config::client_auth::basic);

    const std::string request = build(c, k_refresh);

    CHECK(request == "POST /oauth/token HTTP/1.1\r\n"
                     "Host: auth.example.com\r\n"
                     "Accept: application/json\r\n"
                     "User-Agent: oauth-injector\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     "Authorization: Basic bXktYXBwOnNlYw==\r\n"
                     "Content-Length: 43\r\n"
                     "Connection: close\r\n"
                     "\r\n"
                     "grant_type=refresh_token&refresh_token=rt-1");
}

TEST_CASE("a JSON request with client_secret_post is one flat object in parameter order", "[oauth]")
{
    const auto c = make_connection(oi::config::content_type::json, oi::config::client_auth::post);

    const std::string request = build(c, k_refresh);

    CHECK(request == "POST /oauth/token HTTP/1.1\r\n"
                     "Host: auth.example.com\r\n"
                     "Accept: application/json\r\n"
                     "User-Agent: oauth-injector\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: 96\r\n"
                     "Connection: close\r\n"
                     "\r\n"
                     R"({"grant_type":"refresh_token","refresh_token":"rt-1","client_id":"my-app",)"
                     R"("client_secret":"sec"})");
}

TEST_CASE("a JSON request with client_secret_basic leaves the credentials out of the body",
          "[oauth]")
{
    const auto c = make_connection(oi::config::content_type::json, oi::config::client_auth::basic);

    const std::string request = build(c, k_refresh);

    CHECK(request == "POST /oauth/token HTTP/1.1\r\n"
                     "Host: auth.example.com\r\n"
                     "Accept: application/json\r\n"
                     "User-Agent: oauth-injector\r\n"
                     "Content-Type: application/json\r\n"
                     "Authorization: Basic bXktYXBwOnNlYw==\r\n"
                     "Content-Length: 53\r\n"
                     "Connection: close\r\n"
                     "\r\n"
                     R"({"grant_type":"refresh_token","refresh_token":"rt-1"})");
}

TEST_CASE("basic credentials are form-encoded before base64 as RFC 6749 section 2.3.1 says",
          "[oauth]")
{
    auto c = make_connection(oi::config::content_type::form, oi::config::client_auth::basic);
    c.client_id = "client id";
    c.client_secret = oi::secret{"s3cr:t/+="};

    const std::string request = build(c, k_refresh);

    // base64("client+id:s3cr%3At%2F%2B%3D")
    CHECK(request.find("\r\nAuthorization: Basic Y2xpZW50K2lkOnMzY3IlM0F0JTJGJTJCJTNE\r\n") !=
          std::string::npos);
}

TEST_CASE("a public client sends only its client_id, whatever client_auth says", "[oauth]")
{
    for (const auto auth : {oi::config::client_auth::post, oi::config::client_auth::basic}) {
        auto c = make_connection(oi::config::content_type::form, auth);
        c.client_secret = oi::secret{};
        const token_params params{{"grant_type", "authorization_code"},
                                  {"code", "abc"},
                                  {"redirect_uri", "https://proxy.example/oauth/callback"},
                                  {"code_verifier", "v-1"}};

        const std::string request = build(c, params);

        const std::string body = request.substr(request.find("\r\n\r\n") + 4);
        CHECK(body == "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fproxy."
                      "example%2Foauth%2Fcallback&code_verifier=v-1&client_id=my-app");
        CHECK(request.find("Authorization:") == std::string::npos);
    }
}

TEST_CASE("form encoding keeps unreserved characters and escapes every other byte", "[oauth]")
{
    CHECK(form_urlencode("AZaz09-._~") == "AZaz09-._~");
    CHECK(form_urlencode("a b") == "a+b");
    CHECK(form_urlencode("+&=?/#%") == "%2B%26%3D%3F%2F%23%25");
    CHECK(form_urlencode("*!'()") == "%2A%21%27%28%29");
    CHECK(form_urlencode("\xC3\xA9") == "%C3%A9");
    CHECK(form_urlencode(std::string_view{"\0\r\n", 3}) == "%00%0D%0A");
    CHECK(form_urlencode("") == "");
}

TEST_CASE("reserved characters in values are escaped in form and JSON bodies", "[oauth]")
{
    const token_params params{{"code", "a+b c&d=e"}, {"state", "q\"u\\o\x01te"}};
    auto form = make_connection(oi::config::content_type::form, oi::config::client_auth::basic);
    auto json = make_connection(oi::config::content_type::json, oi::config::client_auth::basic);

    const std::string form_request = build(form, params);
    const std::string json_request = build(json, params);

    CHECK(form_request.substr(form_request.find("\r\n\r\n") + 4) ==
          "code=a%2Bb+c%26d%3De&state=q%22u%5Co%01te");
    CHECK(json_request.substr(json_request.find("\r\n\r\n") + 4) ==
          R"({"code":"a+b c&d=e","state":"q\"u\\o\u0001te"})");
}

TEST_CASE("every built request is a valid HTTP/1.1 request whose Content-Length fits its body",
          "[oauth]")
{
    using oi::config::client_auth;
    using oi::config::content_type;
    const std::string long_value(5000, 'x');
    const token_params params{
        {"grant_type", "refresh_token"}, {"refresh_token", long_value}, {"scope", "a b\xC3\xA9"}};

    for (const auto type : {content_type::form, content_type::json}) {
        for (const auto auth : {client_auth::post, client_auth::basic}) {
            const std::string request = build(make_connection(type, auth), params);

            oi::http::request_head head;
            const auto parsed = oi::http::parse_request_head(request, 64 * 1024, head);
            REQUIRE(parsed.status == oi::http::parse_status::complete);
            CHECK(head.method == "POST");
            CHECK(head.host == "auth.example.com");
            CHECK(head.body == oi::http::body_kind::length);
            CHECK(head.content_length == request.size() - parsed.consumed);
            CHECK(head.find("Transfer-Encoding") == nullptr);
        }
    }
}

TEST_CASE("token URLs give the connector's destination, the origin-form target and Host", "[oauth]")
{
    const auto google = parse_token_endpoint("https://oauth2.googleapis.com/token");
    const auto local = parse_token_endpoint("http://127.0.0.1:18080/t?tenant=a%2Fb");
    const auto v6 = parse_token_endpoint("https://[::1]:8443");

    REQUIRE(google.has_value());
    CHECK(google->scheme == "https");
    CHECK(google->host == "oauth2.googleapis.com");
    CHECK(google->port == 443);
    CHECK(google->target == "/token");
    CHECK(google->host_header == "oauth2.googleapis.com");
    REQUIRE(local.has_value());
    CHECK(local->port == 18080);
    CHECK(local->target == "/t?tenant=a%2Fb");
    CHECK(local->host_header == "127.0.0.1:18080");
    REQUIRE(v6.has_value());
    CHECK(v6->host == "::1");
    CHECK(v6->target == "/");
    CHECK(v6->host_header == "[::1]:8443");
}

TEST_CASE("token URLs with userinfo, a fragment, another scheme or no host are refused", "[oauth]")
{
    CHECK_FALSE(parse_token_endpoint("https://user:pw@auth.example.com/token"));
    CHECK_FALSE(parse_token_endpoint("https://auth.example.com/token#x"));
    CHECK_FALSE(parse_token_endpoint("ftp://auth.example.com/token"));
    CHECK_FALSE(parse_token_endpoint("/token"));
    CHECK_FALSE(parse_token_endpoint(""));
}
