#pragma once

// The admin API's grant actions that reach past the store (router.hpp):
//
//   POST   /v1/connections/{c}/grants/{user}/authorize-link
//          body optional: {"return_to": "https://..."}; answers {"url", "expires_at"}: a signed
//          /oauth/start link on public_url, valid 10 minutes (authflow/link.hpp). return_to must
//          lie in one of `return_to_origins`. 404 when the public listener is not configured.
//   DELETE /v1/connections/{c}/grants/{user}
//          disconnect: when the connection has a revocation_url and a grant exists, revoke it at
//          the provider (RFC 7009: the refresh token when there is one, else the access token,
//          with token_type_hint), then delete it here whatever the revocation gave. Answers
//          {"connected":false,"removed":bool,"revoked":true|false|null,"revocation_error"?}.
//
// Threads and errors: as router.hpp.

#include "admin/router.hpp"

namespace oi::admin {

[[nodiscard]] boost::asio::awaitable<handled>
authorize_link(const request& req, const admin_context& ctx, const store::grant_key& key);

[[nodiscard]] boost::asio::awaitable<handled> disconnect(const request& req,
                                                         const admin_context& ctx,
                                                         const config::connection& connection,
                                                         const store::grant_key& key);

namespace detail {

// Shared with router.cpp.
[[nodiscard]] response json_response(http::status status, std::string body, const request& req);
[[nodiscard]] handled refuse(const admin_context& ctx, const request& req, refusal r,
                             std::string_view message, std::string_view route);
[[nodiscard]] double seconds_since(std::chrono::steady_clock::time_point start);
void log_store_error(std::string_view op, const boost::system::error_code& ec);

} // namespace detail

} // namespace oi::admin
