// Configuration reload through the real binary: SIGHUP and POST /v1/reload.

#include "integration/proxy_fixture.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>

using namespace oi::test;

namespace {

const std::string k_grant = R"({"access_token":"ya29.reload-token-0123","expires_in":3600})";

std::string admin_request(std::string_view method, std::string_view path)
{
    return std::string{method} + " " + std::string{path} +
           " HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer " + std::string{k_admin_token} +
           "\r\nContent-Length: 0\r\n\r\n";
}

std::string metrics_text(const proxy_fixture& f)
{
    return http_exchange(f.admin_port, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n").body;
}

/// Polls /metrics until `line` appears; false after 10 s.
bool wait_for_metric(const proxy_fixture& f, const std::string& line)
{
    return eventually([&] { return metrics_text(f).find(line) != std::string::npos; });
}

/// calendar's connection (google) allows only `localhost` now, and a new plugin `notes` uses it.
proxy_fixture::config_options changed_config()
{
    proxy_fixture::config_options o;
    o.google_allowed = "[localhost]";
    o.plugins_extra = "  notes: { connection: google }\n";
    return o;
}

void rewrite_config(const proxy_fixture& f, const std::string& text)
{
    std::ofstream{f.config_path(), std::ios::trunc} << text;
}

std::string with_placeholder(const proxy_fixture& f, const std::string& url,
                             std::string_view plugin)
{
    return f.proxied_get(url, plugin, "alice",
                         "Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}\r\n");
}

/// Asserts what the changed configuration does: the old host is refused, the new plugin works.
void check_new_config_serves(proxy_fixture& f)
{
    const auto refused =
        http_exchange(f.proxy_port, with_placeholder(f, f.plain.url("/after"), "calendar"));
    CHECK(refused.status == 403);
    CHECK(refused.header("X-OAuth-Injector-Error") == "host_not_allowed");

    const auto added =
        http_exchange(f.proxy_port, with_placeholder(f, f.tls.url("/notes", "localhost"), "notes"));
    CHECK(added.status == 200);
    REQUIRE(f.tls.wait_for_requests(1, std::chrono::seconds(5)));
    CHECK(f.tls.requests().back().header("Authorization") == "Bearer ya29.reload-token-0123");
    CHECK(wait_for_metric(f, R"(oauth_injector_requests_total{connection="google",)"
                             R"(outcome="forwarded",plugin="notes"} 1)"));
}

/// Sends a request that the origin holds until `gate` opens; returns once the origin has it.
std::unique_ptr<raw_connection> hold_request(proxy_fixture& f, std::shared_ptr<origin_gate> gate)
{
    f.plain.set_handler(respond_after(std::move(gate), canned_response{200, {}, "held"}));
    auto held = std::make_unique<raw_connection>(f.proxy_port);
    held->send(with_placeholder(f, f.plain.url("/held"), "calendar"));
    REQUIRE(f.plain.wait_for_requests(1, std::chrono::seconds(5)));
    return held;
}

/// A running proxy with alice's grant, whose config file now holds `next`.
void start_then_rewrite(proxy_fixture& f, const proxy_fixture::config_options& next)
{
    f.start(proxy_fixture::config_options{});
    REQUIRE(f.put_grant("google", "alice", k_grant) == 200);
    rewrite_config(f, f.config_text(next));
}

} // namespace

TEST_CASE("SIGHUP adds a plugin and narrows a connection's hosts while a request in flight "
          "finishes under the old configuration",
          "[reload][integration]")
{
    proxy_fixture f;
    start_then_rewrite(f, changed_config());
    auto gate = std::make_shared<origin_gate>();
    auto held = hold_request(f, gate);

    f.proxy->signal(SIGHUP);
    REQUIRE(wait_for_metric(f, R"(oauth_injector_config_reloads_total{result="success"} 1)"));

    gate->open();
    const auto finished = held->read_response();
    CHECK(finished.status == 200);
    CHECK(finished.body == "held");
    CHECK(f.plain.requests().front().header("Authorization") == "Bearer ya29.reload-token-0123");
    // The same kept-alive connection serves its next request with the new configuration.
    held->send(with_placeholder(f, f.plain.url("/again"), "calendar"));
    CHECK(held->read_response().header("X-OAuth-Injector-Error") == "host_not_allowed");
    check_new_config_serves(f);
}

TEST_CASE("POST /v1/reload applies a new configuration and answers reloaded true",
          "[reload][integration]")
{
    proxy_fixture f;
    start_then_rewrite(f, changed_config());
    auto gate = std::make_shared<origin_gate>();
    auto held = hold_request(f, gate);

    const auto answer = http_exchange(f.admin_port, admin_request("POST", "/v1/reload"));

    CHECK(answer.status == 200);
    CHECK(answer.body == R"({"reloaded":true})");
    check_new_config_serves(f);
    gate->open();
    CHECK(held->read_response().status == 200);
    CHECK(metrics_text(f).find(R"(oauth_injector_config_reloads_total{result="success"} 1)") !=
          std::string::npos);
}

TEST_CASE("a configuration with errors is refused with its positions and the old one keeps "
          "serving",
          "[reload][integration]")
{
    proxy_fixture f;
    auto broken = changed_config();
    broken.google_extra = "    colour: blue\n";   // unknown key
    broken.limits_extra = "  idle_timeout: 10\n"; // a duration without a unit
    start_then_rewrite(f, broken);

    const auto answer = http_exchange(f.admin_port, admin_request("POST", "/v1/reload"));
    f.proxy->signal(SIGHUP);

    CHECK(answer.status == 422);
    CHECK(answer.header("X-OAuth-Injector-Error") == "config_invalid");
    CHECK(answer.body.find(R"("reloaded":false)") != std::string::npos);
    CHECK(answer.body.find("config.yaml:") != std::string::npos);
    CHECK(answer.body.find("connections.google.colour") != std::string::npos);
    CHECK(answer.body.find("limits.idle_timeout") != std::string::npos);
    CHECK(answer.body.find("client-secret-value-xyz") == std::string::npos);
    REQUIRE(wait_for_metric(f, R"(oauth_injector_config_reloads_total{result="failure"} 2)"));
    const auto still_old =
        http_exchange(f.proxy_port, with_placeholder(f, f.plain.url("/old"), "calendar"));
    CHECK(still_old.status == 200);
    CHECK(http_exchange(f.proxy_port, with_placeholder(f, f.plain.url("/"), "notes")).status ==
          403);
    CHECK(f.proxy->stderr_text().find("\"event\":\"config_reload\"") != std::string::npos);
    CHECK(f.proxy->stderr_text().find("client-secret-value-xyz") == std::string::npos);
}

TEST_CASE("a reload that changes restart-only keys is refused as a whole, naming them",
          "[reload][integration]")
{
    proxy_fixture f;
    auto restart_only = changed_config();
    restart_only.threads = 3;
    restart_only.store_extra = "  cache_ttl: 9s\n";
    start_then_rewrite(f, restart_only);

    const auto answer = http_exchange(f.admin_port, admin_request("POST", "/v1/reload"));

    CHECK(answer.status == 409);
    CHECK(answer.header("X-OAuth-Injector-Error") == "restart_required");
    CHECK(answer.body.find(R"("threads: )") != std::string::npos);
    CHECK(answer.body.find(R"("store.cache_ttl: )") != std::string::npos);
    // Nothing was applied: the plugin the same file adds is still unknown.
    CHECK(http_exchange(f.proxy_port, with_placeholder(f, f.plain.url("/"), "notes")).status ==
          403);
    CHECK(http_exchange(f.proxy_port, with_placeholder(f, f.plain.url("/"), "calendar")).status ==
          200);
    CHECK(metrics_text(f).find(R"(oauth_injector_config_reloads_total{result="failure"} 1)") !=
          std::string::npos);
}
