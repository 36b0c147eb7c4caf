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

/// What `POST .../grants/{user}/refresh` adds to the grant status; every field is safe to show.
struct refresh_answer_fields {
    std::string_view refresh;        // the outcome: success, skipped, needs_reauth, failed...
    std::string_view refusal;        // a refusal code when the answer is one, else empty
    std::string_view message;        // with `refusal`: what went wrong, in fixed words
    std::string_view provider_error; // the provider's OAuth error code, when it gave one
};

/// grant_status_json's members plus `refresh`, and `error`/`message` (a refusal) and
/// `provider_error` when set. Never a token.
[[nodiscard]] std::string refresh_answer_json(const store::grant* g,
                                              const refresh_answer_fields& fields);

/// `{"connections":[{id, preset, authorization_url, token_url, revocation_url, scopes,
/// allowed_hosts, on_missing_token, plugins}]}`; never client secrets.
[[nodiscard]] std::string connections_json(const config::config& cfg);

} // namespace oi::admin
