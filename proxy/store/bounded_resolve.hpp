#pragma once

// Name resolution with a time limit, for the store's connections (the Redis node, the
// sentinels). Asio resolves names with the system's getaddrinfo on a helper thread and offers no
// time limit of its own: a DNS server that does not answer would hold a worker's connection
// attempt for as long as the system resolver keeps trying (tens of seconds), and cancelling an
// Asio lookup does not end a getaddrinfo call that has started. Here the caller stops waiting
// when `limit` passes and gets store_errc::timeout; the abandoned lookup finishes in the
// background and its answer is dropped.
//
// A numeric address (IPv4, or IPv6 with or without brackets) is used as it is, without a lookup.
// Note that Asio runs the lookups of one io_context one after another on a single helper thread:
// while a lookup hangs there, the next name's lookup waits behind it (each still ends within its
// own limit), and the io_context's destruction waits for it. Numeric addresses avoid all that.
//
// Threads: the coroutine runs on `ex`'s io_context thread. Errors: store_errc::timeout, or
// Asio's resolver error (host_not_found and the like). Never throws except on memory exhaustion.

#include "config/config.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <vector>

namespace oi::store {

/// The addresses of `at` (at least one on success), found within `limit`.
boost::asio::awaitable<boost::system::result<std::vector<boost::asio::ip::tcp::endpoint>>>
resolve_within(const boost::asio::any_io_executor& ex, const config::endpoint& at,
               std::chrono::milliseconds limit);

} // namespace oi::store
