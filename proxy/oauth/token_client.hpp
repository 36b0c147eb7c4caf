#pragma once

// Sends one request to a connection's token endpoint and reads its answer: the refresh-token
// grant (issue 3) and the authorization-code exchange (issue 4) both go through request_token.
//
// The connection is opened by the worker's upstream::connector, so the destination policy
// (deny_private_addresses, allow_addresses) and full TLS verification apply to token endpoints
// exactly as to plugin traffic. One connection per request (`Connection: close`); nothing is
// pooled. The answer is read with the proxy's strict HTTP/1.1 parser: interim 1xx answers are
// skipped, the body may be Content-Length, chunked or close-delimited, and is capped at
// k_max_token_answer_body.
//
// Runs on the caller's executor (a worker's io_context); never throws on the request path. Every
// failure comes back as a token_failure: `transport` when no complete HTTP answer arrived
// (connect, TLS, timeout, closed connection), `malformed` when the answer broke HTTP framing or
// limits, and otherwise what parse_token_response says.
//
// Timeout: `timeout` bounds the whole exchange. The connect phase is cancelled when it runs
// out; name resolution cannot be cancelled by Asio, so a stuck DNS lookup still ends only at the
// connector's own `upstream.connect_timeout`.

#include "config/config.hpp"
#include "oauth/token_request.hpp"
#include "oauth/token_response.hpp"
#include "upstream/connector.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>

namespace oi::oauth {

/// Largest answer body read; a larger one is `malformed` (real answers are a few KiB).
inline constexpr std::size_t k_max_token_answer_body = std::size_t{1} << 20;
/// Largest answer head read.
inline constexpr std::size_t k_max_token_answer_head = std::size_t{64} << 10;

/// POSTs `params` to `connection.token_url` (see build_token_request for the request) and reads
/// the answer. `connection` and the strings that `params` views must stay valid until the
/// returned awaitable starts (awaiting it in the same expression is enough): they are read only
/// to build the request, before anything is sent. `connector` must outlive the exchange.
/// `options.prefer_authed_user` is also set when the connection's token_source is authed_user.
[[nodiscard]] boost::asio::awaitable<token_outcome>
request_token(upstream::connector& connector, const config::connection& connection,
              token_params params, std::chrono::milliseconds timeout,
              token_response_options options = {});

} // namespace oi::oauth
