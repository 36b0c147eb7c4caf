#include "store/redis_grant_store.hpp"

#include "common/log.hpp"
#include "store/store_error.hpp"
#include "store/store_factory.hpp"
#include "store_test_helpers.hpp"
#include "support/redis_server.hpp"

#if __has_include("config/value_checks.hpp")
#include "config/value_checks.hpp"
#define OI_HAVE_REDIS_URL_PARSER 1
#endif

#include <catch2/catch.hpp>

#include <array>

namespace {

using namespace std::chrono_literals;
using oi::store::grant;
using oi::store::grant_key;
using oi::store::redis_client;
using oi::store::redis_grant_store;
using oi::store::store_errc;
using oi::test::run_task;
using oi::test::run_until;

constexpr std::string_view k_prefix = "oi-test";
const grant_key k_alice{"google", "alice"};

oi::config::encryption_key key_k1()
{
    return {"k1", std::string(32, '\x11')};
}

oi::config::encryption_key key_k0()
{
    return {"k0", std::string(32, '\x22')};
}

grant sample_grant(std::string access)
{
    grant g;
    g.access_token = oi::secret{std::move(access)};
    g.refresh_token = oi::secret{"refresh-SECRET-0001"};
    g.expires_at = oi::store::clock::time_point{1'800'000'000'000ms};
    g.scope = "calendar";
    g.version = 3;
    return g;
}

/// A store and its own client on one io_context, connected before the test acts.
struct store_fixture {
    store_fixture(const oi::config::redis_config& config,
                  std::vector<oi::config::encryption_key> keys,
                  oi::store::redis_options options = oi::test::fast_redis_options())
        : client(std::make_shared<redis_client>(io, config, options)),
          store(client, std::make_shared<const oi::store::grant_codec>(std::move(keys)),
                std::string(k_prefix), {}, [this](bool ok) { retries.push_back(ok); })
    {
        client->start();
        REQUIRE(run_until(io, [&] { return client->connected(); }));
    }

    oi::store::result<std::optional<grant>> load(const grant_key& key)
    {
        return run_task(io, store.load(key));
    }
    oi::store::result<void> save(const grant_key& key, const grant& g)
    {
        return run_task(io, store.save(key, g));
    }
    oi::store::result<bool> remove(const grant_key& key) { return run_task(io, store.remove(key)); }

    /// The raw value under `key`, read with the store's client.
    std::string raw(const grant_key& key)
    {
        const std::string name = redis_grant_store::redis_key(k_prefix, key);
        const auto reply =
            run_task(io, client->command(std::array<std::string_view, 2>{"GET", name}));
        REQUIRE(reply.has_value());
        return reply->str;
    }

    void put_raw(const grant_key& key, std::string value)
    {
        const std::string name = redis_grant_store::redis_key(k_prefix, key);
        const auto reply =
            run_task(io, client->command(std::array<std::string_view, 3>{"SET", name, value}));
        REQUIRE(reply.has_value());
    }

    std::vector<bool> retries; // what the store's retry observer was told, in order
    boost::asio::io_context io;
    std::shared_ptr<redis_client> client;
    redis_grant_store store;
};

} // namespace

TEST_CASE("grants round-trip through a real redis", "[store][redis_store]")
{
    oi::test::redis_server server;
    store_fixture f(server.config(), {key_k1()});

    const auto before = f.load(k_alice);
    const auto saved = f.save(k_alice, sample_grant("access-SECRET-0001"));
    const auto loaded = f.load(k_alice);
    const auto removed = f.remove(k_alice);
    const auto after = f.load(k_alice);
    const auto removed_again = f.remove(k_alice);

    REQUIRE(before.has_value());
    CHECK_FALSE(before->has_value());
    CHECK(saved.has_value());
    REQUIRE(loaded.has_value());
    REQUIRE(loaded->has_value());
    CHECK((*loaded)->access_token == oi::secret{"access-SECRET-0001"});
    CHECK((*loaded)->refresh_token == oi::secret{"refresh-SECRET-0001"});
    CHECK((*loaded)->version == 3);
    CHECK(removed.value());
    CHECK_FALSE(after->has_value());
    CHECK_FALSE(removed_again.value());
    CHECK(run_task(f.io, f.store.ping()).has_value());
}

TEST_CASE("the value stored in redis is sealed and holds no token text", "[store][redis_store]")
{
    oi::test::redis_server server;
    store_fixture f(server.config(), {key_k1()});

    REQUIRE(f.save(k_alice, sample_grant("access-SECRET-0001")).has_value());
    const std::string raw = f.raw(k_alice);

    CHECK(raw.rfind("v1.k1.", 0) == 0);
    CHECK(raw.find("SECRET") == std::string::npos);
    CHECK(raw.find("calendar") == std::string::npos);
}

TEST_CASE("a grant sealed under an old key still loads and is re-sealed on save",
          "[store][redis_store]")
{
    oi::test::redis_server server;
    store_fixture before_rotation(server.config(), {key_k0()});
    REQUIRE(before_rotation.save(k_alice, sample_grant("access-OLD")).has_value());
    store_fixture after_rotation(server.config(), {key_k1(), key_k0()});

    const auto loaded = after_rotation.load(k_alice);
    REQUIRE(loaded.has_value());
    REQUIRE(loaded->has_value());
    REQUIRE(after_rotation.save(k_alice, **loaded).has_value());

    CHECK((*loaded)->access_token == oi::secret{"access-OLD"});
    CHECK(after_rotation.raw(k_alice).rfind("v1.k1.", 0) == 0);
}

TEST_CASE("a record that does not open is an error, not a grant", "[store][redis_store]")
{
    oi::test::redis_server server;
    store_fixture f(server.config(), {key_k1()});
    REQUIRE(f.save(k_alice, sample_grant("access-A")).has_value());
    const std::string alice_record = f.raw(k_alice);
    const grant_key mallory{"google", "mallory"};

    f.put_raw(mallory, alice_record);
    const auto moved = f.load(mallory);
    f.put_raw(k_alice, "not a record");
    const auto garbage = f.load(k_alice);

    REQUIRE(moved.has_error());
    CHECK(moved.error() == store_errc::corrupt_record);
    REQUIRE(garbage.has_error());
    CHECK(garbage.error() == store_errc::corrupt_record);
}

TEST_CASE("with redis down a load fails fast and works again once redis is back",
          "[store][redis_store]")
{
    oi::test::redis_server server;
    auto options = oi::test::fast_redis_options();
    options.command_timeout = 5000ms; // a failure well under this is not a timeout
    store_fixture f(server.config(), {key_k1()}, options);
    REQUIRE(f.save(k_alice, sample_grant("access-A")).has_value());

    server.stop();
    const auto started = std::chrono::steady_clock::now();
    const auto while_down = f.load(k_alice);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    const auto again_down = f.load(k_alice);
    server.restart();
    const bool reconnected = run_until(f.io, [&] { return f.client->connected(); });
    const auto saved = f.save(k_alice, sample_grant("access-B"));
    const auto loaded = f.load(k_alice);

    REQUIRE(while_down.has_error());
    CHECK(while_down.error() == store_errc::unavailable);
    CHECK(elapsed < 1000ms);
    REQUIRE(again_down.has_error());
    CHECK(again_down.error() == store_errc::unavailable);
    CHECK(reconnected);
    CHECK(saved.has_value());
    REQUIRE(loaded.has_value());
    REQUIRE(loaded->has_value());
    CHECK((*loaded)->access_token == oi::secret{"access-B"});
}

TEST_CASE("a password-protected redis is reached with the password from the URL",
          "[store][redis_store]")
{
    oi::test::redis_server server({.password = "pw-SECRET-9"});
    oi::config::redis_config config = server.config();
#ifdef OI_HAVE_REDIS_URL_PARSER
    config = {};
    REQUIRE_FALSE(oi::config::parse_redis_url(server.url(), config).has_value());
#endif
    store_fixture f(config, {key_k1()});

    REQUIRE(f.save(k_alice, sample_grant("access-A")).has_value());
    const auto loaded = f.load(k_alice);

    REQUIRE(loaded.has_value());
    CHECK(loaded->has_value());
}

TEST_CASE("a wrong redis password keeps the client down and is not logged", "[store][redis_store]")
{
    oi::test::redis_server server({.password = "right-SECRET-7"});
    oi::config::redis_config config = server.config();
    config.password = oi::secret{"wrong-SECRET-8"};
    const oi::log::capture logs(oi::log::level::debug);
    boost::asio::io_context io;
    redis_client client(io, config, oi::test::fast_redis_options());

    client.start();
    const bool failure_logged = run_until(
        io, [&] { return logs.contains("redis_connect_failed"); }, 5000ms);

    CHECK(failure_logged);
    CHECK_FALSE(client.connected());
    CHECK(logs.contains("auth refused"));
    CHECK_FALSE(logs.contains("SECRET"));
}

TEST_CASE("a command to a paused redis times out and the next one succeeds", "[store][redis_store]")
{
    oi::test::redis_server server;
    auto options = oi::test::fast_redis_options();
    options.command_timeout = 300ms;
    store_fixture f(server.config(), {key_k1()}, options);
    REQUIRE(f.save(k_alice, sample_grant("access-A")).has_value());

    server.pause();
    const auto started = std::chrono::steady_clock::now();
    const auto paused = f.load(k_alice);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    server.resume();
    const auto resumed = f.load(k_alice);

    REQUIRE(paused.has_error());
    CHECK(paused.error() == store_errc::timeout);
    CHECK(elapsed >= 300ms);
    CHECK(elapsed < 2000ms);
    REQUIRE(resumed.has_value());
    REQUIRE(resumed->has_value());
    CHECK((*resumed)->access_token == oi::secret{"access-A"});
}

TEST_CASE("a retried command is reported once as a failure when the second attempt also times "
          "out",
          "[store][redis_store][retry]")
{
    oi::test::redis_server server;
    auto options = oi::test::fast_redis_options();
    options.command_timeout = 200ms;
    store_fixture f(server.config(), {key_k1()}, options);

    server.pause();
    const auto paused = f.load(k_alice);
    server.resume();
    const auto resumed = f.load(k_alice);

    CHECK(paused.has_error());
    CHECK(resumed.has_value());
    CHECK(f.retries == std::vector<bool>{false});
}

TEST_CASE("a retried command that gets its reply the second time is reported as a success",
          "[store][redis_store][retry]")
{
    oi::test::redis_server server;
    auto options = oi::test::fast_redis_options();
    options.command_timeout = 1000ms;
    store_fixture f(server.config(), {key_k1()}, options);
    REQUIRE(f.save(k_alice, sample_grant("access-R")).has_value());
    const oi::log::capture logs;
    std::optional<oi::store::result<std::optional<grant>>> loaded;
    boost::asio::co_spawn(f.io, f.store.load(k_alice),
                          [&](std::exception_ptr, auto r) { loaded.emplace(std::move(r)); });

    server.pause();
    const bool retrying = run_until(f.io, [&] { return logs.contains("store_retry"); });
    server.resume();
    REQUIRE(run_until(f.io, [&] { return loaded.has_value(); }));

    CHECK(retrying);
    REQUIRE(loaded->has_value());
    REQUIRE((*loaded)->has_value());
    CHECK((**loaded)->access_token == oi::secret{"access-R"});
    CHECK(f.retries == std::vector<bool>{true});
}

TEST_CASE("after repeated timeouts the client replaces the connection", "[store][redis_store]")
{
    oi::test::redis_server server;
    auto options = oi::test::fast_redis_options();
    options.command_timeout = 100ms;
    store_fixture f(server.config(), {key_k1()}, options);

    server.pause();
    for (int i = 0; i < oi::store::k_max_consecutive_timeouts; ++i) {
        const auto r = f.load(k_alice);
        REQUIRE(r.has_error());
        CHECK(r.error() == store_errc::timeout);
    }
    const bool dropped = !f.client->connected();
    server.resume();
    const bool back = run_until(f.io, [&] { return f.client->connected(); });

    CHECK(dropped);
    CHECK(back);
    CHECK(f.load(k_alice).has_value());
}

TEST_CASE("the store factory gives each worker a redis store that starts by itself",
          "[store][redis_store]")
{
    oi::test::redis_server server;
    oi::config::store_config config;
    config.type = oi::config::store_config::kind::redis;
    config.redis = server.config();
    config.encryption_keys = {key_k1()};
    oi::store::store_factory factory(config, oi::test::fast_redis_options());
    boost::asio::io_context worker1;
    boost::asio::io_context worker2;
    auto store1 = factory.make(worker1);
    auto store2 = factory.make(worker2);
    const auto ready = [](boost::asio::io_context& io, oi::store::grant_store& s) {
        return run_until(io, [&] { return run_task(io, s.ping()).has_value(); });
    };
    REQUIRE(ready(worker1, *store1));
    REQUIRE(ready(worker2, *store2));

    REQUIRE(run_task(worker1, store1->save(k_alice, sample_grant("access-W"))).has_value());
    const auto seen = run_task(worker2, store2->load(k_alice));
    factory.stop_all();
    worker1.restart();
    worker1.poll();
    const auto after_stop = run_task(worker1, store1->ping());

    REQUIRE(seen.has_value());
    REQUIRE(seen->has_value());
    CHECK((*seen)->access_token == oi::secret{"access-W"});
    REQUIRE(after_stop.has_error());
    CHECK(after_stop.error() == store_errc::unavailable);
}
