#include "oauth/token_response.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using oi::secret;
using oi::oauth::parse_token_response;
using oi::oauth::token_failure;
using oi::oauth::token_failure_kind;
using oi::oauth::token_outcome;
using oi::oauth::token_set;

constexpr std::string_view k_json = "application/json";
constexpr std::string_view k_form = "application/x-www-form-urlencoded; charset=utf-8";

// Copies, not references: callers pass temporaries.
token_set tokens(const token_outcome& outcome)
{
    REQUIRE(std::holds_alternative<token_set>(outcome));
    return std::get<token_set>(outcome);
}

token_failure failure(const token_outcome& outcome)
{
    REQUIRE(std::holds_alternative<token_failure>(outcome));
    return std::get<token_failure>(outcome);
}

token_outcome parse_json(std::string_view body, unsigned status = 200)
{
    return parse_token_response(status, k_json, body, "");
}

} // namespace

TEST_CASE("a standard JSON answer gives every token and field", "[oauth]")
{
    const auto outcome = parse_json(R"({"access_token":"ya29.a0","expires_in":3599,
        "refresh_token":"1//0g","scope":"openid email","token_type":"Bearer","id_token":"eyJ.x.y"})");

    const token_set t = tokens(outcome);
    CHECK(t.access_token == secret{"ya29.a0"});
    CHECK(t.refresh_token == secret{"1//0g"});
    CHECK(t.expires_in == 3599s);
    CHECK(t.scope == "openid email");
    CHECK(t.token_type == "Bearer");
    CHECK(t.id_token == secret{"eyJ.x.y"});
}

TEST_CASE("expires_in is read as a number, a numeric string, or absent", "[oauth]")
{
    CHECK(tokens(parse_json(R"({"access_token":"a","expires_in":"3600"})")).expires_in == 3600s);
    CHECK(tokens(parse_json(R"({"access_token":"a","expires_in":0})")).expires_in == 0s);
    CHECK(tokens(parse_json(R"({"access_token":"a","expires_in":3599.7})")).expires_in == 3599s);
    CHECK_FALSE(tokens(parse_json(R"({"access_token":"a"})")).expires_in.has_value());
    CHECK_FALSE(tokens(parse_json(R"({"access_token":"a","expires_in":null})")).expires_in);
    CHECK(tokens(parse_json(R"({"access_token":"a","expires_in":99999999999999999999})"))
              .expires_in == oi::oauth::k_max_duration);
    CHECK(tokens(parse_json(R"({"access_token":"a","expires_in":"99999999999999999999999"})"))
              .expires_in == oi::oauth::k_max_duration);
}

TEST_CASE("an expires_in that is not a non-negative duration makes the answer malformed", "[oauth]")
{
    for (const char* body :
         {R"({"access_token":"a","expires_in":-1})", R"({"access_token":"a","expires_in":"soon"})",
          R"({"access_token":"a","expires_in":"")", R"({"access_token":"a","expires_in":" 60"})",
          R"({"access_token":"a","expires_in":true})", R"({"access_token":"a","expires_in":{}})"}) {
        INFO(body);
        CHECK(failure(parse_json(body)).kind == token_failure_kind::malformed);
    }
}

TEST_CASE("token_type is normalized to Bearer in any case and when absent", "[oauth]")
{
    CHECK(tokens(parse_json(R"({"access_token":"a","token_type":"bearer"})")).token_type ==
          "Bearer");
    CHECK(tokens(parse_json(R"({"access_token":"a","token_type":"BEARER"})")).token_type ==
          "Bearer");
    CHECK(tokens(parse_json(R"({"access_token":"a"})")).token_type == "Bearer");
    CHECK(tokens(parse_json(R"({"access_token":"a","token_type":"mac"})")).token_type == "mac");
    CHECK(failure(parse_json(R"({"access_token":"a","token_type":7})")).kind ==
          token_failure_kind::malformed);
    CHECK(failure(parse_json(R"({"access_token":"a","token_type":"be arer"})")).kind ==
          token_failure_kind::malformed);
}

TEST_CASE("an absent scope means unchanged and a list of scopes is joined with spaces", "[oauth]")
{
    CHECK_FALSE(tokens(parse_json(R"({"access_token":"a"})")).scope.has_value());
    CHECK_FALSE(tokens(parse_json(R"({"access_token":"a","scope":null})")).scope.has_value());
    CHECK(tokens(parse_json(R"({"access_token":"a","scope":["a","b"]})")).scope == "a b");
    CHECK(tokens(parse_json(R"({"access_token":"a","scope":""})")).scope == "");
    CHECK(failure(parse_json(R"({"access_token":"a","scope":[1]})")).kind ==
          token_failure_kind::malformed);
}

TEST_CASE("an absent or null refresh token leaves refresh_token empty", "[oauth]")
{
    CHECK(tokens(parse_json(R"({"access_token":"a"})")).refresh_token.empty());
    CHECK(tokens(parse_json(R"({"access_token":"a","refresh_token":null})")).refresh_token.empty());
}

TEST_CASE("tokens that are not strings make the answer malformed", "[oauth]")
{
    for (const char* body :
         {R"({"access_token":12345})", R"({"access_token":{"v":"a"}})", R"({"access_token":["a"]})",
          R"({"access_token":""})", R"({"access_token":null})", R"({"token_type":"Bearer"})",
          R"({"access_token":"a","refresh_token":5})",
          R"({"access_token":"a","id_token":false})"}) {
        INFO(body);
        const token_failure f = failure(parse_json(body));

        CHECK(f.kind == token_failure_kind::malformed);
        CHECK(f.http_status == 200);
        CHECK(f.error.empty());
    }
}

TEST_CASE("an access token that could change a forwarded request makes the answer malformed",
          "[oauth]")
{
    // It would be written into a header field, the request target or a quoted body string.
    const char* body =
        GENERATE(R"({"access_token":"a\r\nX-Injected: yes"})", R"({"access_token":"a\nb"})",
                 R"({"access_token":"a\u0000b"})", R"({"access_token":"a\u007fb"})",
                 R"({"access_token":"t\u00e9"})", R"({"access_token":"a b"})",
                 R"({"access_token":"a\"b"})", R"({"access_token":"a\\b"})");
    INFO(body);
    const token_failure f = failure(parse_json(body));

    CHECK(f.kind == token_failure_kind::malformed);
    CHECK(f.detail == "access_token has characters a token may not have");
}

TEST_CASE("access tokens are visible ASCII other than a quote and a backslash", "[oauth]")
{
    using oi::oauth::is_access_token;
    CHECK(is_access_token("ya29.a0AfB_byC-x~y+z/w=="));             // b64token
    CHECK(is_access_token("00D5g000004Eaxx!AQ0AQH8.x_Yz"));         // Salesforce
    CHECK(is_access_token("!#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~")); // every other VSCHAR
    CHECK_FALSE(is_access_token(""));
    CHECK_FALSE(is_access_token("ab c"));
    CHECK_FALSE(is_access_token("ab\r\nX-Injected: 1"));
    CHECK_FALSE(is_access_token("tok\"en"));
    CHECK_FALSE(is_access_token("tok\\en"));
    CHECK_FALSE(is_access_token(std::string_view("a\0b", 3)));
    CHECK(tokens(parse_json(R"({"access_token":"00D!AQ.x-_~+/="})")).access_token.reveal() ==
          "00D!AQ.x-_~+/=");
}

TEST_CASE("a 2xx answer that is not a JSON object or a form is malformed", "[oauth]")
{
    CHECK(failure(parse_json("")).kind == token_failure_kind::malformed);
    CHECK(failure(parse_json("[1,2]")).kind == token_failure_kind::malformed);
    CHECK(failure(parse_json(R"({"access_token":"a")")).kind == token_failure_kind::malformed);
    CHECK(failure(parse_token_response(200, "text/html", "<html>ok</html>", "")).kind ==
          token_failure_kind::malformed);
    CHECK(failure(parse_token_response(200, "text/plain", "<html>ok</html>", "")).kind ==
          token_failure_kind::malformed);
}

TEST_CASE("GitHub's form-encoded answer is read like JSON", "[oauth]")
{
    const auto outcome = parse_token_response(
        200, k_form,
        "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo%2Cgist&token_type=bearer",
        "");

    const token_set t = tokens(outcome);
    CHECK(t.access_token == secret{"gho_16C7e42F292c6912E7710c838347Ae178B4a"});
    CHECK(t.scope == "repo,gist");
    CHECK(t.token_type == "Bearer");
    CHECK_FALSE(t.expires_in.has_value());
    CHECK(t.refresh_token.empty());
}

TEST_CASE("a form answer decodes plus signs and percent escapes, with numeric expires_in",
          "[oauth]")
{
    const auto outcome = parse_token_response(
        200, k_form, "access_token=a%2Bb&expires_in=28800&refresh_token=ghr_1&scope=user+repo", "");

    const token_set t = tokens(outcome);
    CHECK(t.access_token == secret{"a+b"});
    CHECK(t.expires_in == 28800s);
    CHECK(t.refresh_token == secret{"ghr_1"});
    CHECK(t.scope == "user repo");
}

TEST_CASE("a form answer with a repeated name or a bare name is malformed", "[oauth]")
{
    CHECK(failure(parse_token_response(200, k_form, "access_token=a&access_token=b", "")).kind ==
          token_failure_kind::malformed);
    CHECK(failure(parse_token_response(200, k_form, "access_token", "")).kind ==
          token_failure_kind::malformed);
}

// Regression (tests/fuzz, token_response): Boost.URL 1.81's parse_query measured its input with
// strlen, reading past the end of a body view and stopping at a NUL inside one.
TEST_CASE("a form answer is read within its bounds, however the bytes after it look", "[oauth]")
{
    const std::string buffer = "access_token=abc&refresh_token=rt";
    const std::string_view body = std::string_view{buffer}.substr(0, 15); // "access_token=ab"

    const token_set t = tokens(parse_token_response(200, k_form, body, ""));

    CHECK(t.access_token == secret{"ab"});
    CHECK(t.refresh_token.empty());
}

TEST_CASE("a form answer with a NUL byte is malformed", "[oauth]")
{
    using namespace std::string_view_literals;
    const std::string_view body = "access_token=a\0b&token_type=bearer"sv;

    const token_failure f = failure(parse_token_response(200, k_form, body, ""));

    CHECK(f.kind == token_failure_kind::malformed);
}

TEST_CASE("bodies labelled text/plain or unlabelled are recognized as JSON or form", "[oauth]")
{
    CHECK(tokens(parse_token_response(200, "text/plain", R"( {"access_token":"j"})", ""))
              .access_token == secret{"j"});
    CHECK(tokens(parse_token_response(200, "", "access_token=f&token_type=bearer", ""))
              .access_token == secret{"f"});
    CHECK(
        tokens(parse_token_response(200, "application/vnd.api+json", R"({"access_token":"v"})", ""))
            .access_token == secret{"v"});
    CHECK(tokens(parse_token_response(200, "Application/JSON ; charset=UTF-8",
                                      R"({"access_token":"c"})", ""))
              .access_token == secret{"c"});
}

TEST_CASE("GitHub's bad_verification_code under status 200 is an OAuth error", "[oauth]")
{
    const auto form = parse_token_response(
        200, k_form,
        "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired."
        "&error_uri=https%3A%2F%2Fdocs.github.com%2Fapps",
        "");
    const auto json = parse_json(R"({"error":"bad_verification_code","error_description":"x"})");

    CHECK(failure(form).kind == token_failure_kind::oauth_error);
    CHECK(failure(form).error == "bad_verification_code");
    CHECK(failure(form).http_status == 200);
    CHECK(failure(json).kind == token_failure_kind::oauth_error);
    CHECK(failure(json).error == "bad_verification_code");
}

TEST_CASE("Slack's ok:false is an OAuth error with Slack's error code", "[oauth]")
{
    const auto outcome = parse_json(R"({"ok":false,"error":"invalid_refresh_token"})");
    const auto no_code = parse_json(R"({"ok":false})");

    CHECK(failure(outcome).kind == token_failure_kind::oauth_error);
    CHECK(failure(outcome).error == "invalid_refresh_token");
    CHECK(oi::oauth::needs_reauthorization(failure(outcome)));
    CHECK(failure(no_code).kind == token_failure_kind::oauth_error);
    CHECK(failure(no_code).error.empty());
}

TEST_CASE("Slack's user token under authed_user is used when there is no top-level token",
          "[oauth]")
{
    const auto outcome = parse_json(R"({"ok":true,"app_id":"A0","team":{"id":"T1"},
        "authed_user":{"id":"U1","scope":"chat:write,users:read","access_token":"xoxp-1",
        "token_type":"user","refresh_token":"xoxe-1","expires_in":43200}})");

    const token_set t = tokens(outcome);
    CHECK(t.access_token == secret{"xoxp-1"});
    CHECK(t.refresh_token == secret{"xoxe-1"});
    CHECK(t.expires_in == 43200s);
    CHECK(t.scope == "chat:write,users:read");
    CHECK(t.token_type == "user");
}

TEST_CASE("with both a bot and a user token, prefer_authed_user decides which one is taken",
          "[oauth]")
{
    const std::string_view body = R"({"ok":true,"access_token":"xoxb-bot","token_type":"bot",
        "scope":"commands","authed_user":{"id":"U1","access_token":"xoxp-user","token_type":"user",
        "scope":"search:read"}})";

    const auto by_default = parse_token_response(200, k_json, body, "");
    const auto preferring =
        parse_token_response(200, k_json, body, "", {.prefer_authed_user = true});

    CHECK(tokens(by_default).access_token == secret{"xoxb-bot"});
    CHECK(tokens(by_default).scope == "commands");
    CHECK(tokens(preferring).access_token == secret{"xoxp-user"});
    CHECK(tokens(preferring).scope == "search:read");
}

TEST_CASE("prefer_authed_user falls back to the top-level token when authed_user has none",
          "[oauth]")
{
    const auto outcome =
        parse_token_response(200, k_json, R"({"ok":true,"access_token":"xoxe.xoxp-r",
        "token_type":"user","authed_user":{"id":"U1"}})",
                             "", {.prefer_authed_user = true});

    CHECK(tokens(outcome).access_token == secret{"xoxe.xoxp-r"});
}

TEST_CASE("RFC 6749 error answers in JSON and form are OAuth errors with their code", "[oauth]")
{
    const auto json =
        parse_json(R"({"error":"invalid_grant","error_description":"Bad Request"})", 400);
    const auto form = parse_token_response(401, k_form, "error=invalid_client", "");

    CHECK(failure(json).kind == token_failure_kind::oauth_error);
    CHECK(failure(json).error == "invalid_grant");
    CHECK(failure(json).http_status == 400);
    CHECK(failure(form).kind == token_failure_kind::oauth_error);
    CHECK(failure(form).error == "invalid_client");
    CHECK(failure(form).http_status == 401);
}

TEST_CASE("4xx answers without an OAuth error (HTML, empty) are malformed, not grant failures",
          "[oauth]")
{
    const auto html = parse_token_response(403, "text/html; charset=utf-8",
                                           "<html><body>Forbidden</body></html>", "");
    const auto empty = parse_token_response(401, "", "", "");
    const auto redirect = parse_token_response(302, "text/html", "", "");

    CHECK(failure(html).kind == token_failure_kind::malformed);
    CHECK(failure(html).http_status == 403);
    CHECK(failure(empty).kind == token_failure_kind::malformed);
    CHECK(failure(redirect).kind == token_failure_kind::malformed);
    CHECK_FALSE(oi::oauth::needs_reauthorization(failure(html)));
}

TEST_CASE("5xx answers are server errors whatever their body", "[oauth]")
{
    const auto html = parse_token_response(502, "text/html", "<html>Bad Gateway</html>", "");
    const auto json =
        parse_token_response(503, k_json, R"({"error":"temporarily_unavailable"})", "30");
    const auto grant = parse_token_response(500, k_json, R"({"error":"invalid_grant"})", "");

    CHECK(failure(html).kind == token_failure_kind::server_error);
    CHECK(failure(html).http_status == 502);
    CHECK(failure(html).error.empty());
    CHECK(failure(json).kind == token_failure_kind::server_error);
    CHECK(failure(json).error == "temporarily_unavailable");
    CHECK(failure(json).retry_after == 30s);
    CHECK_FALSE(oi::oauth::needs_reauthorization(failure(grant)));
}

TEST_CASE("429 is rate limited and carries Retry-After", "[oauth]")
{
    const auto outcome = parse_token_response(429, "", "", "120");
    const auto without = parse_token_response(429, "text/plain", "slow down", "");

    CHECK(failure(outcome).kind == token_failure_kind::rate_limited);
    CHECK(failure(outcome).http_status == 429);
    CHECK(failure(outcome).retry_after == 120s);
    CHECK(failure(without).kind == token_failure_kind::rate_limited);
    CHECK_FALSE(failure(without).retry_after.has_value());
}

TEST_CASE("error codes that are not short OAuth codes are dropped, and no body text is kept",
          "[oauth]")
{
    const std::string marker = "SECRET-MARKER-e1f0";
    const std::vector<std::pair<unsigned, std::string>> answers{
        {400, R"({"error":"invalid_grant","error_description":"token )" + marker + R"( revoked"})"},
        {400, R"({"error":"refresh token )" + marker + R"( is bad"})"},
        {400, R"({"error":")" + marker + std::string(60, 'x') + R"("})"},
        {400, R"({"error":{"code":")" + marker + R"("}})"},
        {400, "error=" + marker + "+x&error_description=" + marker},
        {401, "<html>" + marker + "</html>"},
        {200, R"({"access_token":)" + std::string{"{\""} + marker + R"(":1}})"},
        {200, R"({"access_token":"a","expires_in":")" + marker + R"("})"},
        {200, R"({"access_token":"a","token_type":")" + marker + R"( x"})"},
        {500, R"({"error":")" + marker + R"( x"})"},
        {429, marker},
    };

    for (const auto& [status, body] : answers) {
        const token_failure f = failure(parse_token_response(status, "", body, ""));

        CHECK(f.error.find(marker) == std::string::npos);
        CHECK(f.detail.find(marker) == std::string::npos);
        CHECK((f.error.empty() || oi::oauth::is_safe_error_code(f.error)));
    }
}

TEST_CASE("only failures that mean the grant is gone need a new authorization", "[oauth]")
{
    const auto oauth_error = [](std::string code) {
        token_failure f;
        f.kind = token_failure_kind::oauth_error;
        f.error = std::move(code);
        return f;
    };

    for (const char* code :
         {"invalid_grant", "unauthorized_client", "access_denied", "consent_required",
          "interaction_required", "bad_refresh_token", "invalid_refresh_token"}) {
        INFO(code);
        CHECK(oi::oauth::needs_reauthorization(oauth_error(code)));
    }
    for (const char* code : {"invalid_client", "invalid_request", "invalid_scope",
                             "unsupported_grant_type", "bad_client_secret", "", "slow_down"}) {
        INFO(code);
        CHECK_FALSE(oi::oauth::needs_reauthorization(oauth_error(code)));
    }
    token_failure transport = oauth_error("invalid_grant");
    transport.kind = token_failure_kind::transport;
    CHECK_FALSE(oi::oauth::needs_reauthorization(transport));
}

TEST_CASE("safe error codes are 1 to 64 characters of letters, digits, _ . -", "[oauth]")
{
    CHECK(oi::oauth::is_safe_error_code("invalid_grant"));
    CHECK(oi::oauth::is_safe_error_code("AADSTS70008.x-1"));
    CHECK(oi::oauth::is_safe_error_code(std::string(64, 'a')));
    CHECK_FALSE(oi::oauth::is_safe_error_code(std::string(65, 'a')));
    CHECK_FALSE(oi::oauth::is_safe_error_code(""));
    CHECK_FALSE(oi::oauth::is_safe_error_code("invalid grant"));
    CHECK_FALSE(oi::oauth::is_safe_error_code("a\"b"));
    CHECK_FALSE(oi::oauth::is_safe_error_code("<html>"));
}

TEST_CASE("Retry-After is read as seconds or as an HTTP-date relative to now", "[oauth]")
{
    // Sun, 06 Nov 1994 08:49:37 GMT, the example date of RFC 9110.
    const auto example = std::chrono::system_clock::from_time_t(784111777);
    const auto now = example - 90s;

    CHECK(oi::oauth::parse_retry_after("120", now) == 120s);
    CHECK(oi::oauth::parse_retry_after(" 0 ", now) == 0s);
    CHECK(oi::oauth::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == 90s);
    CHECK(oi::oauth::parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now) == 90s);
    CHECK(oi::oauth::parse_retry_after("Sun Nov  6 08:49:37 1994", now) == 90s);
    CHECK(oi::oauth::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", example + 1h) == 0s);
    CHECK(oi::oauth::parse_retry_after("99999999999999999999999", now) ==
          oi::oauth::k_max_duration);
    CHECK_FALSE(oi::oauth::parse_retry_after("", now));
    CHECK_FALSE(oi::oauth::parse_retry_after("-5", now));
    CHECK_FALSE(oi::oauth::parse_retry_after("soon", now));
    CHECK_FALSE(oi::oauth::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT trailing", now));
}

// Regression (tests/fuzz, token_response): a far year overflowed the clock's nanoseconds (UBSan:
// signed integer overflow in system_clock::from_time_t).
TEST_CASE("a Retry-After date far in the future is read as the longest delay", "[oauth]")
{
    const auto now = std::chrono::system_clock::from_time_t(784111777);

    CHECK(oi::oauth::parse_retry_after("Wed, 21 Oct 6451 07:28:00 GMT", now) ==
          oi::oauth::k_max_duration);
    CHECK(oi::oauth::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) ==
          std::chrono::seconds{1445412480 - 784111777});
}

TEST_CASE("failure kinds have stable names for metrics", "[oauth]")
{
    CHECK(oi::oauth::failure_kind_name(token_failure_kind::oauth_error) == "oauth_error");
    CHECK(oi::oauth::failure_kind_name(token_failure_kind::server_error) == "server_error");
    CHECK(oi::oauth::failure_kind_name(token_failure_kind::rate_limited) == "rate_limited");
    CHECK(oi::oauth::failure_kind_name(token_failure_kind::malformed) == "malformed");
    CHECK(oi::oauth::failure_kind_name(token_failure_kind::transport) == "transport");
}
