// Token refresh end to end: two oauth-injector processes on one real Redis, a loopback token
// endpoint that rotates refresh tokens (and revokes the grant when a used one is replayed, as
// oidc-provider does), and a loopback API origin that records the token it received.

#include "admin/rfc3339.hpp"
#include "integration/proxy_fixture.hpp"
#include "support/http_client.hpp"
#include "support/origin_server.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

namespace {

using namespace oi::test;
using namespace std::chrono_literals;

constexpr std::string_view k_admin = "admin-token-for-refresh-tests-0123";
constexpr std::string_view k_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// The provider: `rt-N` is the only valid refresh token; using it answers `at-N+1`/`rt-N+1`. A
/// replayed (older) refresh token revokes the grant, as RFC 9700 section 4.14.2 recommends.
struct rotating_provider {
    std::mutex mutex;
    int generation = 0;
    int refreshes = 0;
    int refused = 0;
    bool revoked = false;
    int expires_in = 3600;

    canned_response answer(const recorded_request& rq)
    {
        const std::lock_guard lock(mutex);
        const std::string expected = "refresh_token=rt-" + std::to_string(generation);
        const bool matches =
            rq.body.find(expected + "&") != std::string::npos || rq.body.ends_with(expected);
        if (revoked || !matches) {
            revoked = true;
            ++refused;
            return {400, {{"Content-Type", "application/json"}}, R"({"error":"invalid_grant"})"};
        }
        ++refreshes;
        ++generation;
        const std::string n = std::to_string(generation);
        return {200,
                {{"Content-Type", "application/json"}},
                R"({"access_token":"at-)" + n + R"(","refresh_token":"rt-)" + n +
                    R"(","token_type":"bearer","expires_in":)" + std::to_string(expires_in) + "}"};
    }
};

struct refresh_fixture {
    redis_server redis;
    origin_server api;
    origin_server token_endpoint;
    rotating_provider provider;
    scoped_temp_dir dir;
    std::vector<unsigned short> proxy_ports;
    std::vector<unsigned short> admin_ports;
    std::vector<std::unique_ptr<process>> proxies;

    refresh_fixture()
    {
        token_endpoint.set_handler([this](const recorded_request& rq, response_writer& w) {
            w.respond(provider.answer(rq));
        });
        api.set_handler([](const recorded_request& rq, response_writer& w) {
            // Echo only whether the expected token family arrived, never the token itself.
            w.respond({200, {{"Content-Type", "text/plain"}}, rq.header("Authorization")});
        });
    }

    void start(int count)
    {
        for (int i = 0; i < count; ++i) {
            const auto proxy_port = free_tcp_port();
            const auto admin_port = free_tcp_port();
            config_head head;
            head.proxy_port = proxy_port;
            head.admin_port = admin_port;
            head.redis_url = redis.url();
            head.key_prefix = "refresh";
            head.store_extra = "  refresh_timeout: 5s\n";
            const std::string config = head.yaml() + R"(connections:
  google:
    authorization_url: https://accounts.example.com/auth
    token_url: )" + token_endpoint.url("/token") +
                                       R"(
    client_id: client-1
    client_secret: ${CLIENT_SECRET}
    allowed_hosts: [127.0.0.1]
    refresh_before: 0s
    on_missing_token: reject
plugins:
  calendar: { connection: google }
upstream:
  allow_addresses: [127.0.0.1]
log: { level: info, format: json }
)";
            proxies.push_back(
                start_proxy_binary(dir.path() / ("config-" + std::to_string(i) + ".yaml"), config,
                                   {{"ADMIN_TOKEN", std::string{k_admin}},
                                    {"TOKEN_KEY", std::string{k_key}},
                                    {"CLIENT_SECRET", "client-secret-for-refresh"}},
                                   proxy_port, admin_port));
            proxy_ports.push_back(proxy_port);
            admin_ports.push_back(admin_port);
        }
    }

    unsigned admin(std::string_view method, std::string_view body = "")
    {
        const std::string request =
            std::string{method} +
            " /v1/connections/google/grants/alice HTTP/1.1\r\nHost: a\r\n"
            "Authorization: Bearer " +
            std::string{k_admin} +
            "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\n\r\n" + std::string{body};
        return http_exchange(admin_ports.front(), request).status;
    }

    std::string admin_get()
    {
        return http_exchange(admin_ports.front(),
                             "GET /v1/connections/google/grants/alice HTTP/1.1\r\nHost: a\r\n"
                             "Authorization: Bearer " +
                                 std::string{k_admin} + "\r\n\r\n")
            .body;
    }

    /// Whether the stored access token has expired. `expires_at` comes in whole seconds (cut
    /// down), so the token's end is certainly past one second after it.
    bool token_expired()
    {
        const boost::json::value grant = boost::json::parse(admin_get());
        const auto* expires_at = grant.as_object().if_contains("expires_at");
        if (expires_at == nullptr || !expires_at->is_string()) {
            return false;
        }
        const boost::json::string& text = expires_at->as_string();
        const auto at = oi::admin::parse_rfc3339(std::string_view{text.data(), text.size()});
        return at && std::chrono::system_clock::now() >= *at + 1s;
    }

    /// `total` requests from `threads` threads spread over every proxy; returns the statuses and
    /// the Authorization values the API received, and the longest a request took.
    struct burst_result {
        std::multiset<unsigned> statuses;
        std::set<std::string> tokens;
        std::chrono::milliseconds longest{0};
    };

    burst_result burst(int threads, int per_thread)
    {
        burst_result out;
        std::mutex mutex;
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&, t] {
                for (int i = 0; i < per_thread; ++i) {
                    const auto port =
                        proxy_ports[static_cast<std::size_t>(t + i) % proxy_ports.size()];
                    const auto started = std::chrono::steady_clock::now();
                    const auto r = http_exchange(
                        port, "GET " + api.url("/x") +
                                  " HTTP/1.1\r\nHost: x\r\nX-Plugin-Id: calendar\r\n"
                                  "X-Plugin-User: alice\r\n"
                                  "Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}\r\n\r\n");
                    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started);
                    const std::lock_guard lock(mutex);
                    out.statuses.insert(r.status);
                    out.tokens.insert(r.body);
                    out.longest = std::max(out.longest, took);
                }
            });
        }
        for (auto& th : pool) {
            th.join();
        }
        return out;
    }
};

constexpr std::string_view k_expired_grant =
    R"({"access_token":"at-0","refresh_token":"rt-0","expires_at":1000000000})";

} // namespace

TEST_CASE("two proxies on one redis refresh an expired grant exactly once under 200 requests",
          "[refresh][integration]")
{
    refresh_fixture f;
    f.start(2);
    REQUIRE(f.admin("PUT", k_expired_grant) == 200);

    const auto result = f.burst(20, 10);

    CHECK(f.provider.refreshes == 1);
    CHECK(f.provider.refused == 0);
    CHECK(result.statuses.count(200) == 200);
    CHECK(result.tokens.size() == 1);
    CHECK(result.tokens.count("Bearer at-1") == 1);
    WARN("refreshes=" << f.provider.refreshes << " longest_ms=" << result.longest.count());
}

TEST_CASE("requests keep working across several rotations with one refresh per expiry",
          "[refresh][integration]")
{
    refresh_fixture f;
    f.provider.expires_in = 1;
    f.start(2);
    REQUIRE(f.admin("PUT", k_expired_grant) == 200);
    std::size_t ok = 0;
    std::chrono::milliseconds longest{0};

    for (int round = 0; round < 3; ++round) {
        // The token of the previous round expires after one second (expiry is what is tested).
        if (round > 0) {
            REQUIRE(eventually([&] { return f.token_expired(); }));
        }
        const auto result = f.burst(10, 10);
        ok += result.statuses.count(200);
        longest = std::max(longest, result.longest);
    }

    CHECK(f.provider.refreshes == 3);
    CHECK(f.provider.refused == 0);
    CHECK(ok == 300);
    WARN("refreshes=" << f.provider.refreshes << " expiries=3 longest_ms=" << longest.count());
}

TEST_CASE("a revoked grant ends up needs_reauth and the provider is not called again",
          "[refresh][integration]")
{
    refresh_fixture f;
    f.start(2);
    f.provider.revoked = true;
    REQUIRE(f.admin("PUT", k_expired_grant) == 200);

    const auto first = f.burst(10, 5);
    const auto second = f.burst(10, 5);

    CHECK(f.provider.refused == 1);
    CHECK(f.provider.refreshes == 0);
    CHECK(first.statuses.count(401) == 50);
    CHECK(second.statuses.count(401) == 50);
    CHECK(f.admin_get().find(R"("needs_reauth":true)") != std::string::npos);
}
