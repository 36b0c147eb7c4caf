#pragma once

// An asynchronous Redis client for one worker: hiredis 0.14's async API driven by the worker's
// io_context (redis_asio_adapter.hpp), with commands as C++20 coroutines.
//
// `start` connects in the background: it resolves the address (the URL's host, or with
// `sentinel` configured the primary that the sentinels name: sentinel_locator.hpp; a host name's
// lookup is bounded by `connect_timeout` too: bounded_resolve.hpp), connects within
// `connect_timeout`, sends AUTH (with the username when one is set) and SELECT, with
// Sentinel checks that the node really is a primary (`ROLE`), and then serves commands. When the
// connection fails or drops it reconnects with exponential backoff between `reconnect_min` and
// `reconnect_max`. After `k_max_consecutive_timeouts` commands in a row time out, the connection
// is presumed dead and is replaced.
//
// Following a failover (Sentinel only): the connection is dropped, and the primary discovered
// again, when the node answers a command with -READONLY or -MASTERDOWN (the command then fails with
// store_errc::not_primary), when a sentinel announces `+switch-master` to another address (a
// subscription kept open beside the connection, moved to the next sentinel when its own goes away),
// and of course when the connection breaks (Sentinel itself closes clients' connections on the
// nodes it reconfigures). When the sentinel we subscribe to starts promoting a replica, the client
// drops the connection and does not connect again until the promotion is done (or 5 s): the old
// primary may still accept writes that the failover then throws away, so no write should reach it
// (commands fail fast).
//
// Ownership and threads: one client per worker io_context, owned by that worker's store; every
// call, including destruction, must happen on the io_context's (single) thread, and the client
// must be destroyed before the io_context. The io_context must be run by one thread only.
//
// Errors: `command` never throws and never waits for a connection: while disconnected it fails
// at once with store_errc::unavailable; a command that gets no reply within `command_timeout`
// fails with store_errc::timeout (its late reply is discarded); a connection that drops under a
// command fails it with unavailable. A Redis error reply is not a failure: it comes back as a
// reply of kind `error`. Log lines (redis_connected, redis_connect_failed, redis_disconnected)
// carry host, port and a reason, never the password.
//
// hiredis writes with write(2), so a peer that closed its socket would raise SIGPIPE: the first
// client constructed sets SIGPIPE to be ignored for the whole process.

#include "config/config.hpp"
#include "store/redis_reply.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace oi::store {

struct redis_options {
    std::chrono::milliseconds connect_timeout{1000}; // TCP connect, and each handshake command
    std::chrono::milliseconds command_timeout{1000};
    std::chrono::milliseconds reconnect_min{100};
    std::chrono::milliseconds reconnect_max{5000};
    // The longest an idempotent store operation that lost its connection waits for the client's
    // next connection attempt (e.g. to the new primary after a failover) before its one retry.
    std::chrono::milliseconds failover_wait{2000};
};

inline constexpr int k_max_consecutive_timeouts = 3;

class redis_client {
public:
    redis_client(boost::asio::io_context& io, const config::redis_config& config,
                 redis_options options = {});
    ~redis_client();

    redis_client(const redis_client&) = delete;
    redis_client& operator=(const redis_client&) = delete;

    /// Starts connecting in the background. Calling it again does nothing.
    void start();
    /// Closes the connection, fails pending commands with unavailable, stops reconnecting.
    void stop();
    /// True when connected, authenticated and ready for commands.
    [[nodiscard]] bool connected() const;
    /// Returns true at once when connected; otherwise waits for the next connection attempt to
    /// end (at most `failover_wait`) and returns whether it connected. So while Redis stays down
    /// this returns false after one attempt, not after the whole wait.
    boost::asio::awaitable<bool> wait_ready();

    /// Sends one command (binary-safe arguments, e.g. std::array<std::string_view, 2>{"GET",
    /// key}) and awaits its reply. The arguments are copied when the awaitable starts: co_await
    /// it in the same expression. (No initializer_list overload: GCC 12 miscompiles braced
    /// lists passed from inside a coroutine.)
    boost::asio::awaitable<boost::system::result<redis_reply>>
    command(std::span<const std::string_view> args);

    class impl;

private:
    std::shared_ptr<impl> impl_;
};

} // namespace oi::store
