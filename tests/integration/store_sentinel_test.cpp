#include "store/redis_grant_store.hpp"

#include "common/log.hpp"
#include "sentinel_fixture.hpp"
#include "store/store_error.hpp"
#include "store_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <iostream>

namespace {

using namespace std::chrono_literals;
using oi::store::grant;
using oi::store::grant_key;
using oi::store::redis_client;
using oi::store::redis_grant_store;
using oi::store::store_errc;
using oi::test::run_task;
using oi::test::run_until;

constexpr std::string_view k_prefix = "oi-sentinel";

oi::store::redis_options quick_options()
{
    oi::store::redis_options o;
    o.connect_timeout = 500ms;
    o.command_timeout = 1000ms;
    o.reconnect_min = 20ms;
    o.reconnect_max = 200ms;
    o.failover_wait = 2000ms;
    return o;
}

grant make_grant(int n)
{
    grant g;
    g.access_token = oi::secret{"access-" + std::to_string(n)};
    g.refresh_token = oi::secret{"refresh-" + std::to_string(n)};
    g.expires_at = oi::store::clock::time_point{1'800'000'000'000ms};
    g.version = static_cast<std::uint64_t>(n);
    return g;
}

grant_key user_key(int n)
{
    return {"google", "user-" + std::to_string(n)};
}

/// A store on the sentinel-discovered primary, with WAIT for one replica after writes.
struct sentinel_store {
    explicit sentinel_store(const oi::config::redis_config& config)
        : client(std::make_shared<redis_client>(io, config, quick_options())),
          store(client,
                std::make_shared<const oi::store::grant_codec>(
                    std::vector<oi::config::encryption_key>{{"k1", std::string(32, '\x11')}}),
                std::string(k_prefix), {.replicas = 1, .timeout = 500ms})
    {
        client->start();
        REQUIRE(run_until(io, [&] { return client->connected(); }));
    }

    oi::store::result<std::optional<grant>> load(int n)
    {
        return run_task(io, store.load(user_key(n)));
    }
    oi::store::result<void> save(int n)
    {
        return run_task(io, store.save(user_key(n), make_grant(n)));
    }

    /// How many of grants 0..count-1 load with their own access token.
    int readable(int count)
    {
        int found = 0;
        for (int n = 0; n < count; ++n) {
            const auto loaded = load(n);
            found += loaded && *loaded && (*loaded)->access_token == make_grant(n).access_token;
        }
        return found;
    }

    boost::asio::io_context io;
    std::shared_ptr<redis_client> client;
    redis_grant_store store;
};

} // namespace

TEST_CASE("with sentinel configured the store finds the primary by asking the sentinels in turn",
          "[store][sentinel]")
{
    oi::test::sentinel_cluster cluster("data-SECRET-pw");
    auto config = cluster.config(3);
    config.sentinel->nodes.insert(config.sentinel->nodes.begin(),
                                  oi::config::endpoint{"127.0.0.1", oi::test::free_tcp_port()});
    sentinel_store s(config);

    const auto saved = s.save(1);
    const auto loaded = s.load(1);

    REQUIRE(saved.has_value());
    REQUIRE(loaded.has_value());
    CHECK(loaded->has_value());
    const std::string key = redis_grant_store::redis_key(k_prefix, user_key(1));
    CHECK(oi::test::redis_command(cluster.a.port(), {"EXISTS", key}, "data-SECRET-pw", 3) == "1");
    CHECK(oi::test::redis_command(cluster.a.port(), {"EXISTS", key}, "data-SECRET-pw", 0) == "0");
}

TEST_CASE("the store follows a sentinel failover and keeps every grant written before it",
          "[store][sentinel]")
{
    oi::test::sentinel_cluster cluster;
    sentinel_store s(cluster.config());
    constexpr int k_grants = 40;
    for (int n = 0; n < k_grants; ++n) {
        REQUIRE(s.save(n).has_value());
    }
    const std::uint16_t old_primary = cluster.a.port();

    // Ask for the failover, and keep using the store while it happens.
    REQUIRE(oi::test::redis_command(
                cluster.sentinel.port(),
                {"SENTINEL", "FAILOVER", std::string(oi::test::k_sentinel_master)}) == "OK");
    int operations = 0;
    int failed = 0;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!cluster.switched_from(old_primary) && std::chrono::steady_clock::now() < deadline) {
        const int n = operations % k_grants;
        failed += s.load(n).has_error() ? 1 : 0;
        ++operations;
    }
    const bool switched = cluster.switched_from(old_primary);
    const std::string key = redis_grant_store::redis_key(k_prefix, user_key(k_grants));
    const bool writes_reach_new_primary = run_until(s.io, [&] {
        return s.save(k_grants).has_value() &&
               oi::test::redis_command(cluster.sentinel.primary_port(), {"EXISTS", key}) == "1";
    });
    const int readable = s.readable(k_grants);
    std::cout << "sentinel store failover: " << operations << " loads during the failover, "
              << failed << " failed; " << readable << "/" << k_grants
              << " grants readable after it\n";

    REQUIRE(switched);
    CHECK(writes_reach_new_primary);
    CHECK(readable == k_grants);
}

TEST_CASE("the store follows the sentinels to a new primary when the old one is killed",
          "[store][sentinel]")
{
    oi::test::sentinel_cluster cluster;
    sentinel_store s(cluster.config());
    constexpr int k_grants = 20;
    for (int n = 0; n < k_grants; ++n) {
        REQUIRE(s.save(n).has_value());
    }

    cluster.a.stop();
    const bool recovered = run_until(
        s.io, [&] { return s.client->connected() && s.save(k_grants).has_value(); }, 20s);
    const int readable = s.readable(k_grants);

    REQUIRE(recovered);
    CHECK(cluster.role(cluster.sentinel.primary_port()) == "master");
    CHECK(readable == k_grants);
}

TEST_CASE("with no primary reachable store operations fail fast with unavailable",
          "[store][sentinel]")
{
    oi::test::sentinel_cluster cluster;
    sentinel_store s(cluster.config());
    REQUIRE(s.save(1).has_value());

    cluster.sentinel.stop(); // no sentinel left to ask
    cluster.a.stop();
    const bool down = run_until(s.io, [&] { return !s.client->connected(); });
    const auto started = std::chrono::steady_clock::now();
    const auto loaded = s.load(1);
    const auto elapsed = std::chrono::steady_clock::now() - started;

    REQUIRE(down);
    REQUIRE(loaded.has_error());
    CHECK(loaded.error() == store_errc::unavailable);
    CHECK(elapsed < 1000ms);
}

namespace {

/// Whether a captured log line is `event` naming the sentinel on `port`.
bool logged_for_port(const oi::log::capture& logs, std::string_view event, std::uint16_t port)
{
    const std::string name = "\"event\":\"" + std::string(event) + "\"";
    const std::string at = "\"port\":" + std::to_string(port);
    for (const std::string& line : logs.lines()) {
        if (line.find(name) != std::string::npos && line.find(at) != std::string::npos) {
            return true;
        }
    }
    return false;
}

} // namespace

TEST_CASE("when its sentinel goes away a worker subscribes to the next one and hears the "
          "failover there",
          "[store][sentinel]")
{
    oi::test::sentinel_cluster cluster("", 2);
    const oi::log::capture logs;
    sentinel_store s(cluster.config());
    REQUIRE(run_until(
        s.io, [&] { return logged_for_port(logs, "sentinel_watching", cluster.sentinel.port()); }));

    cluster.sentinel.stop();
    const bool moved = run_until(
        s.io, [&] { return logged_for_port(logs, "sentinel_watching", cluster.second->port()); });
    const std::uint16_t old_primary = cluster.a.port();
    REQUIRE(oi::test::redis_command(
                cluster.second->port(),
                {"SENTINEL", "FAILOVER", std::string(oi::test::k_sentinel_master)}) == "OK");
    const bool heard = run_until(
        s.io, [&] { return logs.contains("\"event\":\"sentinel_switch_master\""); }, 20s);
    const bool writes_follow = run_until(
        s.io,
        [&] {
            return cluster.switched_from(old_primary, cluster.second.get()) &&
                   s.save(7).has_value();
        },
        20s);

    CHECK(moved);
    CHECK(logs.contains("\"event\":\"sentinel_watch_moved\""));
    CHECK(heard);
    CHECK(writes_follow);
}
