#include "store/redis_client.hpp"

#include "common/log.hpp"
#include "store/store_error.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <optional>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using oi::store::redis_client;
using oi::store::store_errc;

/// A loopback listener whose accept queue is full, so that a further connect stays in SYN_SENT
/// (Linux drops the SYN): a server that never completes the TCP handshake.
class stalled_listener {
public:
    stalled_listener()
    {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof(address);
        REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
        REQUIRE(::listen(listener_, 0) == 0);
        REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
        port_ = ntohs(address.sin_port);

        // Fill the accept queue (nothing ever accepts).
        for (int i = 0; i < 2; ++i) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
            fillers_.push_back(fd);
        }
    }

    ~stalled_listener()
    {
        for (const int fd : fillers_) {
            ::close(fd);
        }
        ::close(listener_);
    }

    stalled_listener(const stalled_listener&) = delete;
    stalled_listener& operator=(const stalled_listener&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }

private:
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::vector<int> fillers_;
};

/// Runs `io` until `condition()` holds or `limit` passes; returns whether it held.
template <typename Condition>
bool run_until(boost::asio::io_context& io, Condition condition, std::chrono::milliseconds limit)
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    io.restart();
    while (!condition() && std::chrono::steady_clock::now() < deadline) {
        io.run_one_for(10ms);
    }
    return condition();
}

std::size_t count_lines(const oi::log::capture& logs, std::string_view needle)
{
    const auto lines = logs.lines();
    return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [&](const auto& l) {
        return l.find(needle) != std::string::npos;
    }));
}

} // namespace

TEST_CASE("a connect that does not complete in time is abandoned and retried",
          "[store][redis_client]")
{
    stalled_listener server;
    oi::config::redis_config config;
    config.host = "127.0.0.1";
    config.port = server.port();
    oi::store::redis_options options;
    options.connect_timeout = 100ms;
    options.reconnect_min = 10ms;
    options.reconnect_max = 10ms;
    const oi::log::capture logs(oi::log::level::debug);
    boost::asio::io_context io;
    redis_client client(io, config, options);

    client.start();
    const bool retried = run_until(
        io, [&] { return count_lines(logs, "connect timeout") >= 2; }, 5000ms);

    CHECK(retried);
    CHECK_FALSE(client.connected());
}

TEST_CASE("commands fail with unavailable before start and after stop", "[store][redis_client]")
{
    oi::config::redis_config config;
    config.host = "127.0.0.1";
    config.port = 1;
    boost::asio::io_context io;
    redis_client client(io, config);
    std::vector<boost::system::result<oi::store::redis_reply>> replies;
    const auto send_ping = [&]() -> boost::asio::awaitable<void> {
        replies.push_back(co_await client.command(std::array<std::string_view, 1>{"PING"}));
    };

    boost::asio::co_spawn(io, send_ping(), boost::asio::detached);
    REQUIRE(run_until(
        io, [&] { return replies.size() == 1; }, 1000ms));
    client.start();
    client.stop();
    boost::asio::co_spawn(io, send_ping(), boost::asio::detached);
    REQUIRE(run_until(
        io, [&] { return replies.size() == 2; }, 1000ms));

    REQUIRE(replies.size() == 2);
    for (const auto& reply : replies) {
        REQUIRE(reply.has_error());
        CHECK(reply.error() == store_errc::unavailable);
    }
}

TEST_CASE("store error messages name the failure and carry no data", "[store][redis_client]")
{
    CHECK(make_error_code(store_errc::timeout).message() == "store command timed out");
    CHECK(make_error_code(store_errc::corrupt_record).message() ==
          "stored record cannot be opened");
    CHECK(std::string(oi::store::store_category().name()) == "oi.store");
}
