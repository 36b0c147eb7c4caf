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

} // namespace oi::server
