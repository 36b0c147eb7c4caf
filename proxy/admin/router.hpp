#pragma once

// The admin API's request handling (SPEC.md "Admin API"), apart from sockets so that it can be
// tested with a request object and a fake store:
//
//   GET /healthz                                   200 {"status":"ok"}
//   GET /readyz                                    200, or 503 when the store does not answer a
//                                                  ping within ready_timeout or ready_extra fails
//   GET /metrics                                   Prometheus text format 0.0.4. Not behind the
//                                                  admin token, like most exporters: scrapers
//                                                  rarely carry credentials, and the output holds
//                                                  no secrets and no user ids. Keep the admin
//                                                  listener on a private network.
//   GET /v1/connections                            connections and their plugins, never secrets
//   GET|PUT|DELETE /v1/connections/{c}/grants/{user}    (DELETE: grant_actions.hpp)
//   POST /v1/connections/{c}/grants/{user}/refresh  refresh now; answers the grant status and
//                                                  the outcome, never a token (not in SPEC.md)
//   POST /v1/connections/{c}/grants/{user}/authorize-link   (grant_actions.hpp)
//   POST /v1/reload                                reads the config file again (hooks.reload):
//                                                  200 {"reloaded":true}, or 422 config_invalid /
//                                                  409 restart_required with "errors": [...]
//
// Everything under /v1/ needs `Authorization: Bearer <admin_token>` (compared in constant time),
// checked before anything else so that callers without it cannot probe connection names.
// `{user}` is percent-decoded.
//
// Threads: `handle` runs on the admin worker's io_context, the one that owns `store`.
// Errors: every failure is an answer with a refusal code (`X-OAuth-Injector-Error` and a JSON
// body), counted in refusals_total; `handle` does not throw except on memory exhaustion.

#include "authflow/link.hpp"
#include "config/config.hpp"
#include "config/reload_policy.hpp"
#include "metrics/metrics.hpp"
#include "store/grant_store.hpp"
#include "token/grant_service.hpp"
#include "upstream/connector.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>

namespace oi::admin {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

/// Provided by the server that wires the modules together.
struct admin_hooks {
    /// A grant was written or deleted: drop it from in-process caches. May be empty.
    std::function<void(const store::grant_key&)> grant_changed;
    /// An extra readiness condition for /readyz. May be empty (ready).
    std::function<bool()> ready_extra;
    /// Refreshes a grant now (`POST .../refresh`) through the grant service of the admin's
    /// io_context, so through the same single flight as requests. May be empty (answers 404).
    std::function<boost::asio::awaitable<token::refresh_now_result>(const config::connection&,
                                                                    const store::grant_key&)>
        refresh;
    /// Mints authorize links. Null: authorize-link answers 404 (no public listener).
    const authflow::link_signer* links = nullptr;
    /// Opens connections to revocation endpoints, on the admin io_context. Null: no revocation.
    upstream::connector* connector = nullptr;
    /// The configuration in force, taken once per admin request (it changes on reload). May be
    /// empty: the configuration the admin server was made with.
    std::function<std::shared_ptr<const config::config>()> current_config;
    /// Reloads the configuration file (POST /v1/reload). May be empty: the route answers 404.
    std::function<config::reload_outcome()> reload;
};

struct admin_context {
    const config::config& cfg;
    store::grant_store& store;
    metrics::metrics& metrics;
    const admin_hooks& hooks;
    std::chrono::milliseconds ready_timeout{2000};
};

struct handled {
    response res;
    /// The matched route as a template (`/v1/connections/{c}/grants/{user}`), for logs: never the
    /// raw path, which holds user ids. `other` when nothing matched.
    std::string_view route;
};

/// Answers one request. The response has the request's version and keep-alive, and a prepared
/// payload.
[[nodiscard]] boost::asio::awaitable<handled> handle(const request& req, const admin_context& ctx);

/// A refusal as a Beast response: status, `X-OAuth-Injector-Error`, JSON body
/// `{"error":code,"message":...}`, `Cache-Control: no-store`.
[[nodiscard]] response error_response(refusal r, std::string_view message, unsigned version,
                                      bool keep_alive);

} // namespace oi::admin
