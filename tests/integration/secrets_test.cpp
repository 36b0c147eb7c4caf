// No secret ever leaves the proxy except toward where it belongs (issue 6): a whole flow at debug
// log level (grant import, a refresh that rotates the refresh token, a refresh the provider
// refuses with an error body that quotes the token, injected requests carrying cookies and proxy
// credentials, refusals, admin reads, metrics), then every byte the proxy wrote to its log and
// every body it answered with is searched for each secret.

#include "proxy_fixture.hpp"

#include "common/secret.hpp"
#include "identity/identity.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <mutex>

using namespace oi::test;

namespace {

constexpr std::string_view k_identity_secret = "identity-secret-never-logged-0123456789";
constexpr std::string_view k_client_secret = "client-secret-never-logged-0123456789";
constexpr std::string_view k_first_access = "ya29.first-access-token-never-logged";
constexpr std::string_view k_first_refresh = "1//first-refresh-token-never-logged";
constexpr std::string_view k_second_access = "ya29.second-access-token-never-logged";
constexpr std::string_view k_second_refresh = "1//second-refresh-token-never-logged";
constexpr std::string_view k_cookie = "session-cookie-never-logged";

/// A token endpoint that rotates once (the new token is within refresh_before, so the next
/// request refreshes again), then refuses with an error body quoting the token it
/// was sent, as careless providers do.
struct leaky_provider {
    std::mutex mutex;
    int calls = 0;

    canned_response answer()
    {
        const std::lock_guard lock(mutex);
        if (++calls == 1) {
            return {200,
                    {{"Content-Type", "application/json"}},
                    R"({"access_token":")" + std::string{k_second_access} +
                        R"(","refresh_token":")" + std::string{k_second_refresh} +
                        R"(","token_type":"Bearer","expires_in":30})"};
        }
        return {400,
                {{"Content-Type", "application/json"}},
                R"({"error":"invalid_grant","error_description":"refresh token )" +
                    std::string{k_second_refresh} + R"( was revoked"})"};
    }
};

} // namespace

TEST_CASE("no token, refresh token, client secret, identity secret or credential reaches a log "
          "line or an error body",
          "[secrets][integration]")
{
    redis_server redis;
    origin_server api;
    origin_server token_endpoint;
    leaky_provider provider;
    scoped_temp_dir dir;
    token_endpoint.set_handler(
        [&](const recorded_request&, response_writer& w) { w.respond(provider.answer()); });
    // The API answers without echoing: its request carries the token where it belongs.
    api.set_handler(respond_with({200, {{"Content-Type", "text/plain"}}, "ok"}));
    const auto proxy_port = free_tcp_port();
    const auto admin_port = free_tcp_port();
    config_head head;
    head.proxy_port = proxy_port;
    head.admin_port = admin_port;
    head.redis_url = redis.url();
    head.key_prefix = "secrets";
    const std::string config = head.yaml() + R"(identity:
  secret: ${IDENTITY_SECRET}
connections:
  google:
    authorization_url: https://accounts.example.com/auth
    token_url: )" + token_endpoint.url("/token") +
                               R"(
    client_id: client-1
    client_secret: ${CLIENT_SECRET}
    allowed_hosts: [127.0.0.1]
    refresh_before: 60s
plugins:
  calendar: { connection: google }
upstream:
  allow_addresses: [127.0.0.1]
log: { level: debug, format: json }
)";
    auto proxy = start_proxy_binary(dir.path() / "config.yaml", config,
                                    {{"ADMIN_TOKEN", std::string{k_admin_token}},
                                     {"TOKEN_KEY", std::string{k_token_key}},
                                     {"IDENTITY_SECRET", std::string{k_identity_secret}},
                                     {"CLIENT_SECRET", std::string{k_client_secret}}},
                                    proxy_port, admin_port);
    const std::string jwt =
        oi::identity::sign_identity(oi::secret{std::string{k_identity_secret}}, "alice", "calendar",
                                    std::chrono::minutes(5), std::chrono::system_clock::now());
    std::string answers; // every body the proxy and its admin API answered with
    const auto admin = [&](const std::string& method, const std::string& path,
                           const std::string& body = "") {
        const auto r = http_exchange(
            admin_port, method + " " + path + " HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " +
                            std::string{k_admin_token} + "\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body);
        answers += r.body;
        return r;
    };
    const auto through_proxy = [&](const std::string& url, const std::string& identity,
                                   const std::string& body = "") {
        const std::string method = body.empty() ? "GET " : "POST ";
        const auto r = http_exchange(proxy_port,
                                     method + url + " HTTP/1.1\r\nHost: x\r\n" + identity +
                                         "Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}\r\n"
                                         "Cookie: session=" +
                                         std::string{k_cookie} + "\r\nProxy-Authorization: Basic " +
                                         std::string{k_cookie} +
                                         "\r\nContent-Length: " + std::to_string(body.size()) +
                                         "\r\nConnection: close\r\n\r\n" + body);
        answers += r.body;
        return r;
    };
    const std::string signed_identity = "X-Plugin-Identity: " + jwt + "\r\n";

    // Arrange: a grant that has expired.
    REQUIRE(admin("PUT", "/v1/connections/google/grants/alice",
                  R"({"access_token":")" + std::string{k_first_access} + R"(","refresh_token":")" +
                      std::string{k_first_refresh} + R"(","expires_in":0})")
                .status == 200);

    // Act: a refresh that rotates, a refresh refused with a body quoting the token, refusals.
    const auto rotated = through_proxy(api.url("/first"), signed_identity);
    // Placeholders in the target and the body too (the debug log counts them, never shows them).
    const auto after_refusal =
        through_proxy(api.url("/second?key={OAUTH_PLUGIN_ACCESS_TOKEN}"), signed_identity,
                      R"({"token":"{OAUTH_PLUGIN_ACCESS_TOKEN}"})");
    through_proxy(api.url("/bad-identity"), "X-Plugin-Identity: " + jwt + "x\r\n");
    through_proxy("http://elsewhere.example:1/", signed_identity);
    through_proxy(api.url("/unsigned"), "X-Plugin-User: alice\r\nX-Plugin-Id: calendar\r\n");
    admin("GET", "/v1/connections/google/grants/alice");
    admin("GET", "/v1/connections");
    admin("GET", "/metrics");
    proxy->stop();

    // Assert: the token went to the API, and nowhere else.
    REQUIRE(rotated.status == 200);
    REQUIRE(after_refusal.status == 200);
    REQUIRE(api.requests().size() == 2);
    // (Double parentheses: Catch must not print the tokens if this fails.)
    CHECK((api.requests()[0].header("Authorization") == "Bearer " + std::string{k_second_access}));
    CHECK(provider.calls == 2);
    const std::string log = proxy->stdout_text() + proxy->stderr_text();
    REQUIRE(log.find("\"event\":\"request\"") != std::string::npos);
    const std::pair<const char*, std::string_view> secrets[] = {
        {"first access token", k_first_access},
        {"first refresh token", k_first_refresh},
        {"second access token", k_second_access},
        {"second refresh token", k_second_refresh},
        {"client secret", k_client_secret},
        {"identity secret", k_identity_secret},
        {"cookie and proxy credentials", k_cookie},
        {"admin token", k_admin_token},
        {"signed identity", jwt},
        {"encryption key", k_token_key}};
    for (const auto& [name, value] : secrets) {
        CAPTURE(name); // the name only: test output must not show a secret either
        CHECK(log.find(value) == std::string::npos);
        CHECK(answers.find(value) == std::string::npos);
    }

    // The debug events were written (this test would pass vacuously if debug logging stopped),
    // and the user is not among them without log.include_user.
    const auto debug_line = [&log](std::string_view event, std::string_view field) {
        std::size_t from = 0;
        const std::string name = R"("event":")" + std::string{event} + '"';
        while ((from = log.find(name, from)) != std::string::npos) {
            const std::size_t end = log.find('\n', from);
            const std::string_view line = std::string_view{log}.substr(from, end - from);
            if (line.find(field) != std::string_view::npos) {
                return true;
            }
            from = end;
        }
        return false;
    };
    CHECK(debug_line("identity_resolved", R"("result":"ok","mode":"signed")"));
    CHECK(debug_line("identity_resolved", R"("result":"identity_invalid")"));
    CHECK_FALSE(debug_line("identity_resolved", R"("user":)"));
    CHECK(debug_line("connection_resolved", R"("kind":"shared")"));
    CHECK(debug_line("grant_lookup", R"("refresh":"started","waited_for_refresh":true)"));
    CHECK(debug_line("grant_lookup", R"("source":"store")"));
    CHECK(debug_line("placeholders_replaced", R"("where":"header","header":"Authorization")"));
    CHECK(debug_line("placeholders_replaced", R"("where":"target")"));
    CHECK(debug_line("placeholders_replaced", R"("where":"body")"));
    CHECK(debug_line("upstream_connection", R"("connection":"new")"));
}
