// Authorization state on a real Redis: single use under concurrent takers, the time-to-live
// given at /oauth/start, and expiry.

#include "store/redis_grant_store.hpp"

#include "authflow/flow_state.hpp"
#include "store/store_error.hpp"

#include "store_test_helpers.hpp"
#include "support/redis_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <catch2/catch.hpp>

#include <array>

namespace {

using namespace std::chrono_literals;
using oi::store::redis_client;
using oi::store::redis_grant_store;
using oi::test::run_task;
using oi::test::run_until;

constexpr std::string_view k_prefix = "oi-state-test";

/// A store with its own client on one io_context, connected before the test acts.
struct state_fixture {
    explicit state_fixture(const oi::config::redis_config& config)
        : client(std::make_shared<redis_client>(io, config, oi::store::redis_options{})),
          store(client,
                std::make_shared<const oi::store::grant_codec>(
                    std::vector<oi::config::encryption_key>{{"k1", std::string(32, '\x11')}}),
                std::string(k_prefix))
    {
        client->start();
        REQUIRE(run_until(io, [&] { return client->connected(); }));
    }

    /// Runs one Redis command with the store's client and returns its integer answer.
    /// The value stored under the state `id`, as Redis holds it.
    std::string raw(std::string_view id)
    {
        const std::string key = redis_grant_store::state_key(k_prefix, id);
        const auto reply =
            run_task(io, client->command(std::array<std::string_view, 2>{"GET", key}));
        REQUIRE(reply.has_value());
        return reply->str;
    }

    long long integer(std::string_view verb, std::string_view id)
    {
        const std::string key = redis_grant_store::state_key(k_prefix, id);
        const auto reply =
            run_task(io, client->command(std::array<std::string_view, 2>{verb, key}));
        REQUIRE(reply.has_value());
        return reply->integer;
    }

    boost::asio::io_context io;
    std::shared_ptr<redis_client> client;
    redis_grant_store store;
};

} // namespace

TEST_CASE("a state stored in redis is taken once and then gone", "[store][redis_store][state]")
{
    oi::test::redis_server server;
    state_fixture f(server.config());

    const auto put = run_task(f.io, f.store.put_state("abc", "record-1", 600s));
    const auto duplicate = run_task(f.io, f.store.put_state("abc", "record-2", 600s));
    const long long ttl = f.integer("TTL", "abc");
    const auto first = run_task(f.io, f.store.take_state("abc"));
    const auto second = run_task(f.io, f.store.take_state("abc"));

    CHECK(put.value());
    CHECK_FALSE(duplicate.value());
    CHECK(ttl > 590);
    CHECK(ttl <= 600);
    REQUIRE(first.has_value());
    CHECK(first->value_or("") == "record-1");
    REQUIRE(second.has_value());
    CHECK_FALSE(second->has_value());
    CHECK(f.integer("EXISTS", "abc") == 0);
}

TEST_CASE("of two takers racing for one state exactly one gets it", "[store][redis_store][state]")
{
    oi::test::redis_server server;
    state_fixture f(server.config());
    state_fixture other(server.config());
    const int rounds = 20;
    int won_both = 0;
    int won_none = 0;

    for (int i = 0; i < rounds; ++i) {
        const std::string id = "race-" + std::to_string(i);
        REQUIRE(run_task(f.io, f.store.put_state(id, "record", 600s)).value());
        other.io.restart();
        std::optional<bool> a;
        std::optional<bool> b;
        boost::asio::co_spawn(f.io, f.store.take_state(id), [&](std::exception_ptr, auto r) {
            a = r.has_value() && r->has_value();
        });
        boost::asio::co_spawn(
            other.io, other.store.take_state(id),
            [&](std::exception_ptr, auto r) { b = r.has_value() && r->has_value(); });
        REQUIRE(run_until(f.io, [&] {
            other.io.poll();
            return a.has_value() && b.has_value();
        }));
        won_both += (*a && *b) ? 1 : 0;
        won_none += (!*a && !*b) ? 1 : 0;
    }

    CHECK(won_both == 0);
    CHECK(won_none == 0);
}

TEST_CASE("an expired state in redis is not handed out", "[store][redis_store][state]")
{
    oi::test::redis_server server;
    state_fixture f(server.config());
    REQUIRE(run_task(f.io, f.store.put_state("old", "record", 600s)).value());

    const std::string key = redis_grant_store::state_key(k_prefix, "old");
    REQUIRE(run_task(f.io, f.client->command(std::array<std::string_view, 3>{"PEXPIRE", key, "1"}))
                .has_value());
    REQUIRE(run_until(f.io, [&] { return f.integer("EXISTS", "old") == 0; }));
    const auto taken = run_task(f.io, f.store.take_state("old"));

    REQUIRE(taken.has_value());
    CHECK_FALSE(taken->has_value());
}

TEST_CASE("a state record is sealed in redis: neither the verifier nor return_to is in clear",
          "[store][redis_store][state]")
{
    oi::test::redis_server server;
    state_fixture f(server.config());
    const std::string verifier = "pkce-verifier-0123456789-abcdefghijklmnopqrstuvw";
    const std::string return_to = "https://chat.example.com/settings/back";
    const oi::secret record = oi::authflow::encode_flow_state(
        oi::authflow::flow_state{"google", "alice", oi::secret{verifier}, return_to});

    REQUIRE(run_task(f.io, f.store.put_state("sealed", record.reveal(), 600s)).value());
    const std::string stored = f.raw("sealed");
    const auto taken = run_task(f.io, f.store.take_state("sealed"));

    CHECK(stored.rfind("s1.k1.", 0) == 0);
    CHECK(stored.find(verifier) == std::string::npos);
    CHECK(stored.find(return_to) == std::string::npos);
    CHECK(stored.find("chat.example.com") == std::string::npos);
    CHECK(stored.find("alice") == std::string::npos);
    REQUIRE(taken.has_value());
    CHECK(taken->value_or("") == record.reveal());
}

TEST_CASE("a state record copied under another state id does not open and is taken anyway",
          "[store][redis_store][state]")
{
    oi::test::redis_server server;
    state_fixture f(server.config());
    REQUIRE(run_task(f.io, f.store.put_state("first", "record", 600s)).value());
    const std::string copied_key = redis_grant_store::state_key(k_prefix, "second");
    const std::string sealed = f.raw("first");
    REQUIRE(run_task(f.io,
                     f.client->command(std::array<std::string_view, 3>{"SET", copied_key, sealed}))
                .has_value());

    const auto taken = run_task(f.io, f.store.take_state("second"));

    REQUIRE_FALSE(taken.has_value());
    CHECK(taken.error() == oi::store::store_errc::corrupt_record);
    CHECK(f.integer("EXISTS", "second") == 0);
}
