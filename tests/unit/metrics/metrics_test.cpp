#include "metrics/metrics.hpp"

#include <catch2/catch.hpp>

#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace {

oi::config::config two_plugin_config()
{
    oi::config::config cfg;
    cfg.connections["google"].id = "google";
    cfg.connections["plugin:slack-send"].id = "plugin:slack-send";
    cfg.plugins["google-calendar"] = {"google-calendar", "google"};
    cfg.plugins["slack-send"] = {"slack-send", "plugin:slack-send"};
    return cfg;
}

bool has_line(const std::string& text, const std::string& line)
{
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        if (l == line) {
            return true;
        }
    }
    return false;
}

// Every `key="value"` pair in the exposition.
std::set<std::pair<std::string, std::string>> label_pairs(const std::string& text)
{
    std::set<std::pair<std::string, std::string>> out;
    const std::regex pair(R"re(([a-z_]+)="([^"]*)")re");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), pair);
         it != std::sregex_iterator(); ++it) {
        out.emplace((*it)[1].str(), (*it)[2].str());
    }
    return out;
}

} // namespace

TEST_CASE("serialize exposes every documented family with its type", "[metrics]")
{
    const oi::metrics::metrics m(two_plugin_config());

    const std::string text = m.serialize();

    for (const char* family :
         {"requests_total counter", "request_duration_seconds histogram",
          "upstream_duration_seconds histogram", "token_refresh_total counter",
          "token_cache_lookups_total counter", "store_errors_total counter",
          "store_duration_seconds histogram", "active_connections gauge",
          "intercept_certificates_issued_total counter", "config_reloads_total counter",
          "upstream_connections_total counter", "refusals_total counter",
          "token_refresh_duration_seconds histogram", "token_refresh_lock_waits_total counter",
          "token_refresh_lock_wait_seconds histogram"}) {
        INFO(family);
        CHECK(has_line(text, std::string("# TYPE oauth_injector_") + family));
    }
}

TEST_CASE("requests are counted per plugin, its connection and the outcome", "[metrics]")
{
    oi::metrics::metrics m(two_plugin_config());
    const std::size_t calendar = m.plugin_index("google-calendar");

    m.request_done(calendar, oi::metrics::outcome::forwarded(), 0.02);
    m.request_done(calendar, oi::metrics::outcome::forwarded(), 0.03);
    m.request_done(calendar, oi::refusal::host_not_allowed, 0.001);
    m.request_done(m.plugin_index("slack-send"), oi::metrics::outcome::client_error(), 1.0);

    const std::string text = m.serialize();
    CHECK(has_line(text, R"(oauth_injector_requests_total{connection="google",)"
                         R"(outcome="forwarded",plugin="google-calendar"} 2)"));
    CHECK(has_line(text, R"(oauth_injector_requests_total{connection="google",)"
                         R"(outcome="host_not_allowed",plugin="google-calendar"} 1)"));
    CHECK(has_line(text, R"(oauth_injector_requests_total{connection="plugin:slack-send",)"
                         R"(outcome="client_error",plugin="slack-send"} 1)"));
    CHECK(has_line(text, R"(oauth_injector_refusals_total{code="host_not_allowed"} 1)"));
    CHECK(
        has_line(text, R"(oauth_injector_request_duration_seconds_count{outcome="forwarded"} 2)"));
    CHECK(has_line(text, R"(oauth_injector_request_duration_seconds_bucket{outcome="forwarded",)"
                         R"(le="0.025"} 1)"));
    CHECK(has_line(text, R"(oauth_injector_request_duration_seconds_bucket{outcome="forwarded",)"
                         R"(le="+Inf"} 2)"));
    CHECK(has_line(text, R"(oauth_injector_request_duration_seconds_count{outcome="refused"} 1)"));
    CHECK(has_line(text,
                   R"(oauth_injector_request_duration_seconds_count{outcome="client_error"} 1)"));
}

TEST_CASE("a plugin id that is not configured is counted as plugin unknown", "[metrics]")
{
    oi::metrics::metrics m(two_plugin_config());

    const std::size_t index = m.plugin_index("someone-elses-plugin");
    m.request_done(index, oi::refusal::unknown_plugin, 0.0);

    CHECK(index == m.unknown_plugin());
    CHECK(has_line(m.serialize(), R"(oauth_injector_requests_total{connection="none",)"
                                  R"(outcome="unknown_plugin",plugin="unknown"} 1)"));
    CHECK(m.serialize().find("someone-elses-plugin") == std::string::npos);
}

TEST_CASE("every refusal code has a requests_total and a refusals_total series", "[metrics]")
{
    const oi::metrics::metrics m(two_plugin_config());

    const std::string text = m.serialize();

    for (std::size_t i = 0; i < oi::metrics::k_refusal_count; ++i) {
        const std::string code(oi::refusal_code(static_cast<oi::refusal>(i)));
        INFO(code);
        CHECK(has_line(text, R"(oauth_injector_refusals_total{code=")" + code + R"("} 0)"));
        CHECK(has_line(text, R"(oauth_injector_requests_total{connection="none",outcome=")" + code +
                                 R"(",plugin="unknown"} 0)"));
    }
}

TEST_CASE("no label value comes from outside the config and the fixed sets", "[metrics]")
{
    oi::metrics::metrics m(two_plugin_config());
    m.request_done(m.plugin_index("https://evil.example/?user=alice"),
                   oi::metrics::outcome::forwarded(), 0.1);
    m.token_refresh(m.connection_index("not-a-connection"), oi::metrics::refresh_result::success);

    const auto pairs = label_pairs(m.serialize());

    std::set<std::string> allowed{"google-calendar",
                                  "slack-send",
                                  "unknown",
                                  "google",
                                  "plugin:slack-send",
                                  "none",
                                  "forwarded",
                                  "client_error",
                                  "refused",
                                  "hit",
                                  "miss",
                                  "stale",
                                  "success",
                                  "invalid_grant",
                                  "error",
                                  "skipped",
                                  "load",
                                  "save",
                                  "remove",
                                  "ping",
                                  "lock",
                                  "state",
                                  "proxy",
                                  "public",
                                  "admin",
                                  "failure",
                                  "new",
                                  "reused",
                                  "failed",
                                  "started",
                                  "connected",
                                  "denied",
                                  "provider_error",
                                  "exchange_failed",
                                  "invalid_link",
                                  "invalid_state",
                                  "store_error",
                                  "revoked"};
    for (std::size_t i = 0; i < oi::metrics::k_refusal_count; ++i) {
        allowed.emplace(oi::refusal_code(static_cast<oi::refusal>(i)));
    }
    for (const auto& [key, value] : pairs) {
        INFO(key << "=" << value);
        if (key == "le") {
            continue;
        }
        CHECK(allowed.count(value) == 1);
    }
}

TEST_CASE("token refreshes are counted per configured connection and result", "[metrics]")
{
    oi::metrics::metrics m(two_plugin_config());

    m.token_refresh(m.connection_index("google"), oi::metrics::refresh_result::invalid_grant);
    m.token_refresh(m.connection_index("google"), oi::metrics::refresh_result::invalid_grant);
    m.token_refresh(m.connection_index("unknown-connection"), oi::metrics::refresh_result::error);

    const std::string text = m.serialize();
    CHECK(m.connection_index("unknown-connection") == m.no_connection());
    CHECK(has_line(
        text,
        R"(oauth_injector_token_refresh_total{connection="google",result="invalid_grant"} 2)"));
    CHECK(has_line(text,
                   R"(oauth_injector_token_refresh_total{connection="google",result="error"} 0)"));
}

TEST_CASE("refresh durations and lock waits are recorded per connection", "[metrics]")
{
    oi::metrics::metrics m(two_plugin_config());
    const std::size_t google = m.connection_index("google");

    m.token_refresh_duration(google, 0.2);
    m.token_refresh_lock_wait(google, 0.05);
    m.token_refresh_lock_wait(google, 0.07);
    m.token_refresh_lock_wait(m.no_connection(), 0.07); // not a connection: ignored

    const std::string text = m.serialize();
    CHECK(
        has_line(text, R"(oauth_injector_token_refresh_lock_waits_total{connection="google"} 2)"));
    CHECK(has_line(
        text, R"(oauth_injector_token_refresh_lock_wait_seconds_count{connection="google"} 2)"));
    CHECK(has_line(
        text, R"(oauth_injector_token_refresh_duration_seconds_count{connection="google"} 1)"));
}

TEST_CASE("the small counters and the connection gauge record what they are told", "[metrics]")
{
    oi::metrics::metrics m(two_plugin_config());

    m.cache_lookup(oi::metrics::cache_result::hit);
    m.cache_lookup(oi::metrics::cache_result::stale);
    m.store_error(oi::metrics::store_op::load);
    m.store_call(oi::metrics::store_op::save, 0.002);
    m.connection_opened(oi::metrics::listener::proxy);
    m.connection_opened(oi::metrics::listener::proxy);
    m.connection_closed(oi::metrics::listener::proxy);
    m.connection_opened(oi::metrics::listener::public_listener);
    m.certificate_issued();
    m.config_reload(oi::metrics::reload_result::failure);
    m.upstream_connection_used(oi::metrics::upstream_connection::reused);
    m.upstream_response(0.5);
    m.refused(oi::refusal::unauthorized);

    const std::string text = m.serialize();
    CHECK(has_line(text, R"(oauth_injector_token_cache_lookups_total{result="hit"} 1)"));
    CHECK(has_line(text, R"(oauth_injector_token_cache_lookups_total{result="stale"} 1)"));
    CHECK(has_line(text, R"(oauth_injector_token_cache_lookups_total{result="miss"} 0)"));
    CHECK(has_line(text, R"(oauth_injector_store_errors_total{operation="load"} 1)"));
    CHECK(has_line(text, R"(oauth_injector_store_duration_seconds_count{operation="save"} 1)"));
    CHECK(has_line(text, R"(oauth_injector_active_connections{listener="proxy"} 1)"));
    CHECK(has_line(text, R"(oauth_injector_active_connections{listener="public"} 1)"));
    CHECK(has_line(text, R"(oauth_injector_intercept_certificates_issued_total 1)"));
    CHECK(has_line(text, R"(oauth_injector_config_reloads_total{result="failure"} 1)"));
    CHECK(has_line(text, R"(oauth_injector_upstream_connections_total{result="reused"} 1)"));
    CHECK(has_line(text, R"(oauth_injector_upstream_duration_seconds_count 1)"));
    CHECK(has_line(text, R"(oauth_injector_upstream_duration_seconds_sum 0.5)"));
    CHECK(has_line(text, R"(oauth_injector_refusals_total{code="unauthorized"} 1)"));
}

TEST_CASE("counts from many threads add up", "[metrics]")
{
    oi::metrics::metrics m(two_plugin_config());
    const std::size_t calendar = m.plugin_index("google-calendar");

    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 10000; ++i) {
                m.request_done(calendar, oi::metrics::outcome::forwarded(), 0.001);
                m.cache_lookup(oi::metrics::cache_result::miss);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }

    const std::string text = m.serialize();
    CHECK(has_line(text, R"(oauth_injector_requests_total{connection="google",)"
                         R"(outcome="forwarded",plugin="google-calendar"} 40000)"));
    CHECK(has_line(text,
                   R"(oauth_injector_request_duration_seconds_count{outcome="forwarded"} 40000)"));
    CHECK(has_line(text, R"(oauth_injector_token_cache_lookups_total{result="miss"} 40000)"));
}

TEST_CASE("a reload's new plugins and connections get series and old indexes keep counting",
          "[metrics]")
{
    oi::metrics::metrics m(two_plugin_config());
    const std::size_t calendar_before = m.plugin_index("google-calendar");
    auto next = two_plugin_config();
    next.connections["notion"].id = "notion";
    next.plugins["notes"] = {"notes", "notion"};
    next.plugins["google-calendar"] = {"google-calendar", "notion"};

    m.add_config(next);
    m.request_done(calendar_before, oi::metrics::outcome::forwarded(), 0.01);
    m.request_done(m.plugin_index("google-calendar"), oi::metrics::outcome::forwarded(), 0.01);
    m.request_done(m.plugin_index("notes"), oi::metrics::outcome::forwarded(), 0.01);
    m.token_refresh(m.connection_index("notion"), oi::metrics::refresh_result::success);

    const std::string text = m.serialize();
    CHECK(has_line(text, R"(oauth_injector_requests_total{connection="google",)"
                         R"(outcome="forwarded",plugin="google-calendar"} 1)"));
    CHECK(has_line(text, R"(oauth_injector_requests_total{connection="notion",)"
                         R"(outcome="forwarded",plugin="google-calendar"} 1)"));
    CHECK(has_line(text, R"(oauth_injector_requests_total{connection="notion",)"
                         R"(outcome="forwarded",plugin="notes"} 1)"));
    CHECK(has_line(
        text, R"(oauth_injector_token_refresh_total{connection="notion",result="success"} 1)"));
    CHECK(m.plugin_index("slack-send") != m.unknown_plugin());
}
