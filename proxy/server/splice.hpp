#pragma once

// Two byte streams joined both ways: what the tunnel relay and upgraded (WebSocket) connections
// do once HTTP is out of the way.
//
// Runs on the streams' io_context; reports nothing (the end of a splice is normal).

#include "common/byte_stream.hpp"

#include <chrono>

namespace oi::server {

/// Copies bytes from `a` to `b` and from `b` to `a` until both directions have ended. A direction
/// ends on EOF or an error; the other side's sending half is then shut so that it sees the end
/// too (a half-close, RFC 9293 section 3.6). Either direction silent for `idle` while the other is
/// silent too ends that direction; traffic either way keeps both alive.
asio::awaitable<void> splice(byte_stream& a, byte_stream& b, std::chrono::milliseconds idle);

/// One direction of a splice: copies `from` to `to` until `from` ends (then `to`'s sending half
/// is shut) or a write to `to` fails (then `from` is closed).
asio::awaitable<void> copy_one_way(byte_stream& from, byte_stream& to,
                                   std::chrono::milliseconds idle);

} // namespace oi::server
