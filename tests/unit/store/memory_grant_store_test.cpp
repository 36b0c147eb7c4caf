#include "store/memory_grant_store.hpp"

#include "store/store_factory.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <optional>
#include <stdexcept>

namespace {

using oi::store::grant;
using oi::store::grant_key;

/// Runs `task` to completion on a fresh io_context.
template <typename T> T run(boost::asio::awaitable<T> task)
{
    boost::asio::io_context io;
    std::optional<T> value;
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T v) {
        if (e) {
            std::rethrow_exception(e);
        }
        value.emplace(std::move(v));
    });
    io.run();
    return std::move(*value);
}

grant token(std::string access)
{
    grant g;
    g.access_token = oi::secret{std::move(access)};
    g.version = 1;
    return g;
}

oi::config::store_config memory_config()
{
    oi::config::store_config c;
    c.type = oi::config::store_config::kind::memory;
    return c;
}

} // namespace

TEST_CASE("the memory store saves, loads and removes a grant", "[store][memory]")
{
    oi::store::memory_grant_store store(std::make_shared<oi::store::memory_grant_backend>());
    const grant_key key{"google", "alice"};

    const auto missing = run(store.load(key));
    REQUIRE(run(store.save(key, token("t1"))).has_value());
    const auto loaded = run(store.load(key));
    const auto removed = run(store.remove(key));
    const auto removed_again = run(store.remove(key));
    const auto after = run(store.load(key));

    REQUIRE(missing.has_value());
    CHECK_FALSE(missing->has_value());
    REQUIRE(loaded.has_value());
    REQUIRE(loaded->has_value());
    CHECK((*loaded)->access_token == oi::secret{"t1"});
    CHECK(removed.value());
    CHECK_FALSE(removed_again.value());
    CHECK_FALSE(after->has_value());
    CHECK(run(store.ping()).has_value());
}

TEST_CASE("memory stores made for different workers share their grants", "[store][memory]")
{
    oi::store::store_factory factory(memory_config());
    boost::asio::io_context worker1;
    boost::asio::io_context worker2;
    auto store1 = factory.make(worker1);
    auto store2 = factory.make(worker2);
    const grant_key key{"slack", "bob"};

    REQUIRE(run(store1->save(key, token("shared"))).has_value());
    const auto seen = run(store2->load(key));

    REQUIRE(seen.has_value());
    REQUIRE(seen->has_value());
    CHECK((*seen)->access_token == oi::secret{"shared"});
}

TEST_CASE("grants of different users and connections are kept apart", "[store][memory]")
{
    oi::store::memory_grant_store store(std::make_shared<oi::store::memory_grant_backend>());

    REQUIRE(run(store.save({"a:b", "c"}, token("first"))).has_value());
    REQUIRE(run(store.save({"a", "b:c"}, token("second"))).has_value());
    const auto first = run(store.load({"a:b", "c"}));
    const auto second = run(store.load({"a", "b:c"}));

    CHECK((*first)->access_token == oi::secret{"first"});
    CHECK((*second)->access_token == oi::secret{"second"});
}

TEST_CASE("a redis store factory refuses unusable encryption keys at start-up", "[store][factory]")
{
    oi::config::store_config config;
    config.type = oi::config::store_config::kind::redis;
    config.encryption_keys = {{"k1", "too short"}};

    CHECK_THROWS_AS(oi::store::store_factory(config), std::invalid_argument);
}

TEST_CASE("a memory store factory needs no encryption keys", "[store][factory]")
{
    CHECK_NOTHROW(oi::store::store_factory(memory_config()));
}

TEST_CASE("a memory store hands out an authorization state once", "[store][memory][state]")
{
    oi::store::memory_grant_store store(std::make_shared<oi::store::memory_grant_backend>());

    const auto put = run(store.put_state("s1", "record-1", std::chrono::seconds(600)));
    const auto again = run(store.put_state("s1", "record-2", std::chrono::seconds(600)));
    const auto first = run(store.take_state("s1"));
    const auto second = run(store.take_state("s1"));
    const auto unknown = run(store.take_state("s2"));

    CHECK(put.value());
    CHECK_FALSE(again.value());
    REQUIRE(first.has_value());
    CHECK(first->value_or("") == "record-1");
    CHECK_FALSE(second->has_value());
    CHECK_FALSE(unknown->has_value());
}

TEST_CASE("an expired authorization state is not handed out", "[store][memory][state]")
{
    oi::store::memory_grant_store store(std::make_shared<oi::store::memory_grant_backend>());

    REQUIRE(run(store.put_state("s1", "record", std::chrono::seconds(0))).value());
    const auto taken = run(store.take_state("s1"));

    REQUIRE(taken.has_value());
    CHECK_FALSE(taken->has_value());
}
