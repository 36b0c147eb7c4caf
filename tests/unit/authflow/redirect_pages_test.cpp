#include "authflow/authorization_request.hpp"

#include "authflow/pages.hpp"

#include <boost/url/parse.hpp>
#include <catch2/catch.hpp>

#include <map>

namespace {

oi::config::connection google_like()
{
    oi::config::connection c;
    c.id = "google";
    c.authorization_url = "https://accounts.example.com/o/oauth2/auth?hd=example.com";
    c.client_id = "client id+1";
    c.scopes = {"openid", "https://www.googleapis.com/auth/calendar.readonly"};
    c.prompt = "consent";
    c.access_type = "offline";
    c.extra_params = {
        {"login_hint", "a&b=c#d"}, {"state", "forged"}, {"include_granted_scopes", "true"}};
    return c;
}

/// The decoded query of `url`, name to values in order.
std::multimap<std::string, std::string> query_of(const std::string& url)
{
    const auto parsed = boost::urls::parse_absolute_uri(url);
    REQUIRE(parsed.has_value());
    std::multimap<std::string, std::string> out;
    for (const auto& param : parsed->params()) {
        out.emplace(param.key, param.value);
    }
    return out;
}

} // namespace

TEST_CASE("the provider redirect carries every parameter of the flow", "[authflow][redirect]")
{
    const auto url = oi::authflow::authorization_redirect(
        google_like(), {"http://127.0.0.1:8081/oauth/callback", "STATE-1", "CHALLENGE-1"});

    REQUIRE(url.has_value());
    CHECK(url->rfind("https://accounts.example.com/o/oauth2/auth?hd=example.com&", 0) == 0);
    const auto q = query_of(*url);
    CHECK(q.count("state") == 1);
    CHECK(q.find("state")->second == "STATE-1");
    CHECK(q.find("response_type")->second == "code");
    CHECK(q.find("client_id")->second == "client id+1");
    CHECK(q.find("redirect_uri")->second == "http://127.0.0.1:8081/oauth/callback");
    CHECK(q.find("scope")->second == "openid https://www.googleapis.com/auth/calendar.readonly");
    CHECK(q.find("code_challenge")->second == "CHALLENGE-1");
    CHECK(q.find("code_challenge_method")->second == "S256");
    CHECK(q.find("prompt")->second == "consent");
    CHECK(q.find("access_type")->second == "offline");
    CHECK(q.find("login_hint")->second == "a&b=c#d");
    CHECK(q.find("include_granted_scopes")->second == "true");
    CHECK(q.find("hd")->second == "example.com");
}

TEST_CASE("reserved characters of values are percent-encoded in the redirect",
          "[authflow][redirect]")
{
    const auto url = oi::authflow::authorization_redirect(
        google_like(), {"http://127.0.0.1:8081/oauth/callback", "S", "C"});

    REQUIRE(url.has_value());
    CHECK(url->find("login_hint=a%26b%3Dc%23d") != std::string::npos);
    CHECK(url->find("client_id=client+id%2B1") != std::string::npos);
    CHECK(url->find("redirect_uri=http%3A%2F%2F127.0.0.1%3A8081%2Foauth%2Fcallback") !=
          std::string::npos);
    CHECK(url->find('#') == std::string::npos);
    CHECK(url->find(' ') == std::string::npos);
}

TEST_CASE("optional parameters are left out when the connection has none", "[authflow][redirect]")
{
    oi::config::connection c;
    c.authorization_url = "http://127.0.0.1:9999/auth";
    c.client_id = "public-pkce";

    const auto url = oi::authflow::authorization_redirect(c, {"http://x/oauth/callback", "S", "C"});

    REQUIRE(url.has_value());
    const auto q = query_of(*url);
    CHECK(q.count("scope") == 0);
    CHECK(q.count("prompt") == 0);
    CHECK(q.count("access_type") == 0);
    CHECK(q.size() == 6);
}

TEST_CASE("page text is HTML-escaped", "[authflow][pages]")
{
    const std::string page =
        oi::authflow::render_page("<b>Title</b>", "a \"quoted\" <script>alert('x')</script> & b");

    CHECK(page.find("<script>") == std::string::npos);
    CHECK(page.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") != std::string::npos);
    CHECK(page.find("&quot;quoted&quot;") != std::string::npos);
    CHECK(page.find("&amp; b") != std::string::npos);
    CHECK(page.find("<title>&lt;b&gt;Title&lt;/b&gt;</title>") != std::string::npos);
}

TEST_CASE("control characters are dropped from page text", "[authflow][pages]")
{
    CHECK(oi::authflow::html_escape(std::string("a\rb\x1b[31mc\0d", 12)) == "ab[31mcd");
}
