#pragma once

// The admin API's JSON documents: the grant import body of `PUT .../grants/{user}`, the grant
// status answer, and the connection listing. Pure functions with no I/O; errors are returned as
// messages that name fields only and never quote the request body (it holds tokens).

#include "config/config.hpp"
#include "store/grant.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace oi::admin {

struct grant_import {
    std::optional<store::grant> value; // set when the body is acceptable
    std::string error;                 // otherwise: why not, safe to return to the caller
};

/// Parses `{access_token, refresh_token?, expires_in? | expires_at?, scope?, token_type?}`.
/// `expires_at` is unix seconds or an RFC 3339 string; `expires_in` is seconds from `now`.
/// A missing `scope` means the connection's configured scopes (RFC 6749 section 5.1). Other
/// members are ignored, so a provider's token response can be pasted as it is. The result has
/// version 0, `refreshed_at = now` and `needs_reauth = false`; the caller sets the version.
[[nodiscard]] grant_import parse_grant_import(std::string_view body,
                                              const config::connection& connection,
                                              store::clock::time_point now);

/// `{"connected":..,"expires_at":..|null,"scopes":[..],"needs_reauth":..}`; `g` null: no grant.
[[nodiscard]] std::string grant_status_json(const store::grant* g);

/// `{"connections":[{id, preset, authorization_url, token_url, revocation_url, scopes,
/// allowed_hosts, on_missing_token, plugins}]}`; never client secrets.
[[nodiscard]] std::string connections_json(const config::config& cfg);

} // namespace oi::admin
