// The refresh coordination operations of the Redis store (try_lock, unlock, save_if_version) and
// one refresh flight through them, against a real redis-server. Two stores with their own
// clients stand for two replicas.

#include "store/redis_grant_store.hpp"

#include "store_test_helpers.hpp"
#include "support/redis_server.hpp"
#include "token/refresh_flight.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <algorithm>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using oi::store::grant;
using oi::store::grant_key;
using oi::store::redis_client;
using oi::store::redis_grant_store;
using oi::test::run_task;
using oi::test::run_until;

const grant_key k_key{"google", "alice"};

/// Two replicas' stores on one redis-server, both driven by one io_context.
struct two_replicas {
    explicit two_replicas(const oi::config::redis_config& config)
        : codec(std::make_shared<const oi::store::grant_codec>(
              std::vector<oi::config::encryption_key>{{"k1", std::string(32, '\x33')}})),
          client_a(std::make_shared<redis_client>(io, config, oi::test::fast_redis_options())),
          client_b(std::make_shared<redis_client>(io, config, oi::test::fast_redis_options())),
          a(client_a, codec, "lock-test"), b(client_b, codec, "lock-test")
    {
        client_a->start();
        client_b->start();
        REQUIRE(run_until(io, [&] { return client_a->connected() && client_b->connected(); }));
    }

    bool lock(redis_grant_store& s, std::string_view owner, std::chrono::milliseconds ttl)
    {
        return run_task(io, s.try_lock(k_key, owner, ttl)).value();
    }
    bool unlock(redis_grant_store& s, std::string_view owner)
    {
        return run_task(io, s.unlock(k_key, owner)).value();
    }
    bool save_if(redis_grant_store& s, const grant& g, std::uint64_t expected)
    {
        return run_task(io, s.save_if_version(k_key, g, expected)).value();
    }

    asio::io_context io;
    std::shared_ptr<const oi::store::grant_codec> codec;
    std::shared_ptr<redis_client> client_a;
    std::shared_ptr<redis_client> client_b;
    redis_grant_store a;
    redis_grant_store b;
};

grant versioned(std::uint64_t version, std::string access = "at-0")
{
    grant g;
    g.access_token = oi::secret{std::move(access)};
    g.refresh_token = oi::secret{"rt-0"};
    g.expires_at = oi::store::clock::now() - 1s;
    g.version = version;
    return g;
}

} // namespace

TEST_CASE("the redis refresh lock has one owner at a time and only that owner releases it",
          "[store][redis_store][lock]")
{
    oi::test::redis_server server;
    two_replicas r(server.config());

    const bool a_takes = r.lock(r.a, "owner-a", 5s);
    const bool b_takes = r.lock(r.b, "owner-b", 5s);
    const bool b_releases_a_lock = r.unlock(r.b, "owner-b");
    const bool b_takes_after_its_unlock = r.lock(r.b, "owner-b", 5s);
    const bool a_releases = r.unlock(r.a, "owner-a");
    const bool b_takes_after_a = r.lock(r.b, "owner-b", 5s);

    CHECK(a_takes);
    CHECK_FALSE(b_takes);
    CHECK_FALSE(b_releases_a_lock);
    CHECK_FALSE(b_takes_after_its_unlock);
    CHECK(a_releases);
    CHECK(b_takes_after_a);
}

TEST_CASE("a redis refresh lock whose owner is gone ends at its time-to-live, and the late owner "
          "cannot release its successor's lock",
          "[store][redis_store][lock]")
{
    oi::test::redis_server server;
    two_replicas r(server.config());
    REQUIRE(r.lock(r.a, "owner-a", 200ms));

    const bool taken_at_once = r.lock(r.b, "owner-b", 5s);
    // The time-to-live itself is under test: poll until Redis lets the lock go.
    const bool taken_later = run_until(
        r.io, [&] { return r.lock(r.b, "owner-b", 5s); }, 3s);
    const bool late_owner_releases = r.unlock(r.a, "owner-a");
    const bool a_takes_again = r.lock(r.a, "owner-a", 5s);

    CHECK_FALSE(taken_at_once);
    CHECK(taken_later);
    CHECK_FALSE(late_owner_releases);
    CHECK_FALSE(a_takes_again);
}

TEST_CASE("save_if_version on redis writes only over the version it was given",
          "[store][redis_store][lock]")
{
    oi::test::redis_server server;
    two_replicas r(server.config());
    REQUIRE(run_task(r.io, r.a.save(k_key, versioned(3))).has_value());

    const bool stale = r.save_if(r.b, versioned(4, "at-stale"), 2);
    const bool current = r.save_if(r.a, versioned(4, "at-a"), 3);
    const bool second_writer = r.save_if(r.b, versioned(4, "at-b"), 3);
    const bool missing =
        run_task(r.io, r.a.save_if_version(grant_key{"google", "nobody"}, versioned(1), 0)).value();
    const auto stored = run_task(r.io, r.b.load(k_key)).value();

    CHECK_FALSE(stale);
    CHECK(current);
    CHECK_FALSE(second_writer);
    CHECK_FALSE(missing);
    REQUIRE(stored.has_value());
    CHECK(stored->version == 4);
    CHECK(stored->access_token.reveal() == "at-a");
}

TEST_CASE("two replicas refreshing one grant through redis call the provider once",
          "[store][redis_store][lock]")
{
    oi::test::redis_server server;
    two_replicas r(server.config());
    REQUIRE(run_task(r.io, r.a.save(k_key, versioned(1))).has_value());
    int calls = 0;
    const oi::token::token_caller caller =
        [&calls](const oi::config::connection&, const oi::secret&,
                 std::chrono::milliseconds) -> asio::awaitable<oi::oauth::token_outcome> {
        ++calls;
        asio::steady_timer latency(co_await asio::this_coro::executor, 100ms);
        co_await latency.async_wait(asio::use_awaitable);
        oi::oauth::token_set set;
        set.access_token = oi::secret{"at-1"};
        set.refresh_token = oi::secret{"rt-1"};
        set.expires_in = 3600s;
        co_return set;
    };
    oi::config::connection connection;
    connection.id = "google";
    std::vector<oi::token::refresh_outcome> outcomes;

    for (redis_grant_store* s : {&r.a, &r.b}) {
        asio::co_spawn(
            r.io,
            [&, s]() -> asio::awaitable<void> {
                outcomes.push_back(co_await oi::token::refresh_grant(
                    *s, caller, connection, k_key, 1, oi::token::refresh_limits{}));
            },
            asio::detached);
    }
    REQUIRE(run_until(r.io, [&] { return outcomes.size() == 2; }));
    const auto stored = run_task(r.io, r.b.load(k_key)).value();

    CHECK(calls == 1);
    const auto successes = std::count_if(outcomes.begin(), outcomes.end(), [](const auto& o) {
        return o.status == oi::token::refresh_status::success;
    });
    CHECK(successes == 1);
    CHECK(std::any_of(outcomes.begin(), outcomes.end(),
                      [](const auto& o) { return o.waited_for_lock && o.lock_wait > 0ms; }));
    REQUIRE(stored.has_value());
    CHECK(stored->version == 2);
    CHECK(stored->refresh_token.reveal() == "rt-1");
}

TEST_CASE("a refresh cooldown on redis is seen by every replica and ends by itself",
          "[store][redis_store][lock]")
{
    oi::test::redis_server server;
    two_replicas r(server.config());

    const auto before = run_task(r.io, r.b.cooldown_left(k_key)).value();
    REQUIRE(run_task(r.io, r.a.start_cooldown(k_key, 300ms)).has_value());
    const auto during = run_task(r.io, r.b.cooldown_left(k_key)).value();
    // Its end is what is tested: poll until Redis has dropped it.
    const bool ended =
        run_until(r.io, [&] { return run_task(r.io, r.b.cooldown_left(k_key)).value() == 0ms; });

    CHECK(before == 0ms);
    CHECK(during > 0ms);
    CHECK(during <= 300ms);
    CHECK(ended);
}
