#pragma once

// Sends one request to a connection's token endpoint and reads its answer: the refresh-token
// grant and the authorization-code exchange both go through request_token. revoke_token sends a
// token revocation request (RFC 7009) the same way.
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

/// How a revocation went. `error` is in words safe to log and to show to an operator: the
/// transport failure, or the HTTP status and OAuth error code; never body text or the token.
struct revocation_outcome {
    bool revoked = false;
    std::string error;
};

/// POSTs `token=...&token_type_hint=...` (RFC 7009 section 2.1) to `connection.revocation_url`
/// as a form, with the client authentication of the token endpoint (client_auth; a public
/// client sends client_id). Revoked means a 200 answer.
[[nodiscard]] boost::asio::awaitable<revocation_outcome>
revoke_token(upstream::connector& connector, const config::connection& connection, secret token,
             std::string_view token_type_hint, std::chrono::milliseconds timeout);

} // namespace oi::oauth
