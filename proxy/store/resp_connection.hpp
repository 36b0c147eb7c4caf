#pragma once

// One plain TCP connection that speaks RESP, for talking to Redis Sentinel: the sentinel
// queries of sentinel_locator and its `+switch-master` subscription. Commands are formatted and
// replies parsed by hiredis's protocol functions; the I/O is Asio's, so every connect, write
// and read is bounded by the limit the caller passes.
//
// Ownership and threads: owned by one coroutine at a time on one io_context; not thread-safe.
// Errors: store_errc::timeout when a limit passes (the connection is then closed),
// store_errc::unavailable for a closed connection or a protocol error, Asio's codes for
// connect and resolve failures. A Redis error reply is a reply of kind `error`, not a failure.

#include "config/config.hpp"
#include "store/redis_reply.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <memory>
#include <span>
#include <string_view>

namespace oi::store {

class resp_connection {
public:
    explicit resp_connection(const boost::asio::any_io_executor& ex);
    ~resp_connection();

    resp_connection(const resp_connection&) = delete;
    resp_connection& operator=(const resp_connection&) = delete;

    /// Resolves `at` (bounded_resolve.hpp) and connects, both within `limit`.
    boost::asio::awaitable<boost::system::error_code> connect(const config::endpoint& at,
                                                              std::chrono::milliseconds limit);
    /// Sends one command and reads its reply, within `limit`.
    boost::asio::awaitable<boost::system::result<redis_reply>>
    command(std::span<const std::string_view> args, std::chrono::milliseconds limit);
    /// Reads the next reply (a pub/sub message), within `limit`.
    boost::asio::awaitable<boost::system::result<redis_reply>>
    read_reply(std::chrono::milliseconds limit);

    void close();

private:
    struct reader_deleter {
        void operator()(void* reader) const;
    };

    boost::beast::tcp_stream stream_;
    std::unique_ptr<void, reader_deleter> reader_; // hiredis's redisReader
};

} // namespace oi::store
