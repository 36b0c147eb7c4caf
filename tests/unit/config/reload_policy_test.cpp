#include "config/reload_policy.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

namespace {

oi::config::config base()
{
    oi::config::config cfg;
    cfg.listen.admin = oi::config::endpoint{"127.0.0.1", 9090};
    auto& google = cfg.connections["google"];
    google.id = "google";
    google.token_url = "https://oauth2.example.com/token";
    google.client_id = "client-1";
    google.allowed_hosts = {"api.example.com"};
    cfg.plugins["calendar"] = {"calendar", "google"};
    cfg.store.encryption_keys = {{"k1", std::string(32, 'a')}};
    return cfg;
}

std::vector<std::string> paths(const std::vector<oi::config::reload_conflict>& conflicts)
{
    std::vector<std::string> out;
    for (const auto& c : conflicts) {
        out.push_back(c.path);
    }
    return out;
}

} // namespace

TEST_CASE("connections, plugins, hosts, limits, identity and log settings reload without conflict",
          "[config][reload]")
{
    auto next = base();
    next.connections["google"].allowed_hosts = {"other.example.com"};
    next.connections["google"].client_secret = oi::secret{"rotated"};
    next.connections["slack"].id = "slack";
    next.plugins["notes"] = {"notes", "slack"};
    next.placeholders = {"{TOKEN}"};
    next.identity.user_header = "X-User";
    next.limits.max_body_bytes = 1024;
    next.upstream.allow_addresses = {{"127.0.0.1", 0}};
    next.log.level = "debug";

    CHECK(oi::config::reload_conflicts(base(), next).empty());
}

TEST_CASE("restart-only keys that change are each named", "[config][reload]")
{
    auto next = base();
    next.listen.proxy.port = 18080;
    next.listen.admin.reset();
    next.threads = 7;
    next.store.redis.key_prefix = "other";
    next.store.encryption_keys.push_back({"k2", std::string(32, 'b')});
    next.upstream.ca_file = "/etc/extra.pem";
    next.intercept.enabled = true;

    const auto found = paths(oi::config::reload_conflicts(base(), next));

    CHECK(found == std::vector<std::string>{"listen.proxy", "listen.admin", "threads",
                                            "store.redis", "store.encryption_keys",
                                            "upstream.ca_file", "intercept"});
}

TEST_CASE("a connection id whose token endpoint or client changes is refused", "[config][reload]")
{
    auto next = base();
    next.connections["google"].token_url = "https://elsewhere.example.com/token";
    next.connections["google"].client_id = "client-2";

    const auto conflicts = oi::config::reload_conflicts(base(), next);

    REQUIRE(paths(conflicts) == std::vector<std::string>{"connections.google.token_url",
                                                         "connections.google.client_id"});
    CHECK(oi::config::format_conflict(conflicts[0]).find("new connection id") != std::string::npos);
}

TEST_CASE("a conflict message never carries a secret value", "[config][reload]")
{
    auto next = base();
    next.store.redis.password = oi::secret{"redis-password-value"};
    next.store.encryption_keys[0].key = std::string(32, 'z');

    for (const auto& c : oi::config::reload_conflicts(base(), next)) {
        const std::string line = oi::config::format_conflict(c);
        CHECK(line.find("redis-password-value") == std::string::npos);
        CHECK(line.find("zzzz") == std::string::npos);
    }
}
