#include "store/redis_client.hpp"

#include "store/store_error.hpp"
#include "store_test_helpers.hpp"
#include "support/redis_server.hpp"

#include <catch2/catch.hpp>

#include <array>

namespace {

using namespace std::chrono_literals;
using oi::store::redis_client;
using oi::store::redis_options;
using oi::store::redis_reply;
using oi::store::store_errc;
using oi::test::run_task;
using oi::test::run_until;
using reply_result = boost::system::result<redis_reply>;

reply_result run_command(boost::asio::io_context& io, redis_client& client,
                         std::vector<std::string> args)
{
    return run_task(io,
                    [&client, args = std::move(args)]() -> boost::asio::awaitable<reply_result> {
                        const std::vector<std::string_view> views(args.begin(), args.end());
                        co_return co_await client.command(views);
                    }());
}

} // namespace

TEST_CASE("the redis client connects and round-trips binary values", "[store][redis]")
{
    oi::test::redis_server server;
    boost::asio::io_context io;
    redis_client client(io, server.config(), oi::test::fast_redis_options());
    client.start();
    REQUIRE(run_until(io, [&] { return client.connected(); }));
    const std::string binary("a\0b\r\nc", 6);

    const auto set = run_command(io, client, {"SET", "k", binary});
    const auto get = run_command(io, client, {"GET", "k"});
    const auto missing = run_command(io, client, {"GET", "nope"});
    const auto incr = run_command(io, client, {"INCR", "n"});

    REQUIRE(set.has_value());
    CHECK(set->type == redis_reply::kind::status);
    CHECK(set->str == "OK");
    REQUIRE(get.has_value());
    CHECK(get->type == redis_reply::kind::string);
    CHECK(get->str == binary);
    REQUIRE(missing.has_value());
    CHECK(missing->type == redis_reply::kind::nil);
    REQUIRE(incr.has_value());
    CHECK(incr->type == redis_reply::kind::integer);
    CHECK(incr->integer == 1);
}

TEST_CASE("a redis error reply is a reply, not a failure", "[store][redis]")
{
    oi::test::redis_server server;
    boost::asio::io_context io;
    redis_client client(io, server.config(), oi::test::fast_redis_options());
    client.start();
    REQUIRE(run_until(io, [&] { return client.connected(); }));

    const auto reply = run_command(io, client, {"NOSUCHCOMMAND", "x"});
    const auto after = run_command(io, client, {"PING"});

    REQUIRE(reply.has_value());
    CHECK(reply->type == redis_reply::kind::error);
    REQUIRE(after.has_value());
    CHECK(after->str == "PONG");
}

TEST_CASE("array replies keep their elements in order", "[store][redis]")
{
    oi::test::redis_server server;
    boost::asio::io_context io;
    redis_client client(io, server.config(), oi::test::fast_redis_options());
    client.start();
    REQUIRE(run_until(io, [&] { return client.connected(); }));

    REQUIRE(run_command(io, client, {"RPUSH", "list", "one", "two"}).has_value());
    const auto reply = run_command(io, client, {"LRANGE", "list", "0", "-1"});

    REQUIRE(reply.has_value());
    REQUIRE(reply->type == redis_reply::kind::array);
    REQUIRE(reply->elements.size() == 2);
    CHECK(reply->elements[0].str == "one");
    CHECK(reply->elements[1].str == "two");
}

TEST_CASE("a command while not connected fails at once with unavailable", "[store][redis]")
{
    boost::asio::io_context io;
    oi::config::redis_config config;
    config.host = "127.0.0.1";
    config.port = oi::test::free_tcp_port();
    redis_client client(io, config, oi::test::fast_redis_options());
    client.start();
    const auto started = std::chrono::steady_clock::now();

    const auto reply = run_command(io, client, {"PING"});

    REQUIRE(reply.has_error());
    CHECK(reply.error() == store_errc::unavailable);
    CHECK(std::chrono::steady_clock::now() - started < 500ms);
    CHECK_FALSE(client.connected());
}

TEST_CASE("the redis client selects the configured database", "[store][redis]")
{
    oi::test::redis_server server;
    boost::asio::io_context io;
    redis_client db0(io, server.config(0), oi::test::fast_redis_options());
    redis_client db3(io, server.config(3), oi::test::fast_redis_options());
    db0.start();
    db3.start();
    REQUIRE(run_until(io, [&] { return db0.connected() && db3.connected(); }));

    REQUIRE(run_command(io, db3, {"SET", "where", "three"}).has_value());
    const auto from_db0 = run_command(io, db0, {"GET", "where"});
    const auto from_db3 = run_command(io, db3, {"GET", "where"});

    CHECK(from_db0->type == redis_reply::kind::nil);
    CHECK(from_db3->str == "three");
}

TEST_CASE("a stopped client fails commands and stays disconnected", "[store][redis]")
{
    oi::test::redis_server server;
    boost::asio::io_context io;
    redis_client client(io, server.config(), oi::test::fast_redis_options());
    client.start();
    REQUIRE(run_until(io, [&] { return client.connected(); }));

    client.stop();
    const auto reply = run_command(io, client, {"PING"});

    REQUIRE(reply.has_error());
    CHECK(reply.error() == store_errc::unavailable);
    CHECK_FALSE(run_until(
        io, [&] { return client.connected(); }, 300ms));
}

TEST_CASE("values larger than one socket read or write round-trip", "[store][redis]")
{
    oi::test::redis_server server;
    boost::asio::io_context io;
    redis_client client(io, server.config(), oi::test::fast_redis_options());
    client.start();
    REQUIRE(run_until(io, [&] { return client.connected(); }));
    std::string big(4 * 1024 * 1024, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<char>(i * 7 + i / 251);
    }

    const auto set = run_command(io, client, {"SET", "big", big});
    const auto get = run_command(io, client, {"GET", "big"});

    REQUIRE(set.has_value());
    REQUIRE(get.has_value());
    const bool same = get->str == big; // not printed: 4 MiB
    CHECK(get->str.size() == big.size());
    CHECK(same);
}
