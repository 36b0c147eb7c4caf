#pragma once

// The public listener's request handling (SPEC.md "Public endpoints"), apart from sockets so that
// it can be tested with a request object and a fake store:
//
//   GET /oauth/start?link=<signed link>   verify the link (link.hpp), store a single-use state
//                                         with a PKCE verifier (flow_state.hpp) for 10 minutes,
//                                         302 to the provider (authorization_request.hpp)
//   GET /oauth/callback?state&code|error  take the state once, exchange the code at the token
//                                         endpoint (oauth::request_token, the rules of refresh),
//                                         store the grant, then a page or 303 to return_to
//   a link or state whose connection is no    404 `connection_not_configured` (a reload
//   longer configured                         removed it)
//   anything else                         not ours: nullopt (the listener answers 404)
//
// Every page is short plain HTML with all variable text escaped, and carries
// `Cache-Control: no-store` and `Referrer-Policy: no-referrer` (the URLs hold a link or a code).
// A failure page also carries `X-OAuth-Injector-Error: <code>`. Each outcome is one
// `authorization` log event (step, connection, result, a detail in safe words: never the link,
// the state, the code, a token or a user id) and one authorizations_total count.
//
// Threads: `handle_public` runs on the io_context that owns `store` and `connector`.
// Errors: answers only; it does not throw except on memory exhaustion.

#include "authflow/link.hpp"
#include "config/config.hpp"
#include "metrics/metrics.hpp"
#include "store/grant_store.hpp"
#include "upstream/connector.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <optional>
#include <string_view>

namespace oi::authflow {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

/// What one request is served with. `cfg` is the configuration in force when the request
/// arrived (the public listener takes a snapshot per request, so a reload reaches it).
struct public_context {
    const config::config& cfg;
    store::grant_store& store;
    upstream::connector& connector;
    metrics::metrics& metrics;
    const link_signer& links;
    /// A grant was written: drop it from in-process caches. May be empty.
    std::function<void(const store::grant_key&)> grant_changed;
};

struct public_answer {
    response res;
    /// The route as a template for logs (`/oauth/start`, `/oauth/callback`).
    std::string_view route;
};

[[nodiscard]] boost::asio::awaitable<std::optional<public_answer>>
handle_public(const request& req, const public_context& ctx);

namespace detail {

/// A page answer with the headers described above; `error_code` empty for a success page.
[[nodiscard]] response page(http::status status, std::string_view title, std::string_view message,
                            std::string_view error_code, const request& req);

/// The 404 page for a link or state whose connection a reload removed (counted as
/// invalid_link or invalid_state under connection `none`).
[[nodiscard]] response connection_gone(const public_context& ctx, const request& req,
                                       std::string_view step);

/// Counts and logs one outcome of `step` (start or callback).
void record(const public_context& ctx, std::string_view step, std::string_view connection,
            metrics::authorization_result result, std::string_view detail);

/// Answers /oauth/callback (callback.cpp).
[[nodiscard]] boost::asio::awaitable<public_answer> oauth_callback(const request& req,
                                                                   const public_context& ctx);

} // namespace detail

} // namespace oi::authflow
