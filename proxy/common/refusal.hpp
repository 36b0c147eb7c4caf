#pragma once

// Every response the proxy makes itself instead of forwarding has a name: a stable reason code in
// the body and in `X-OAuth-Injector-Error`, an HTTP status, a log event and a counter (SPEC.md).

#include <string>
#include <string_view>

namespace oi {

enum class refusal {
    identity_required,      // 407
    identity_invalid,       // 407
    unknown_plugin,         // 403
    host_not_allowed,       // 403
    destination_denied,     // 403
    authorization_required, // 401
    bad_request,            // 400
    header_too_large,       // 431
    payload_too_large,      // 413
    upstream_unreachable,   // 502
    upstream_timeout,       // 504
    upstream_bad_response,  // 502: the upstream's answer broke HTTP framing
    store_unavailable,      // 503
    overloaded,             // 503: connection cap reached
    not_found,              // 404 (admin and public listeners)
    method_not_allowed,     // 405
    unauthorized,           // 401 (admin API bearer token)
    config_invalid,         // 422: a reload read a configuration with errors
    restart_required,       // 409: a reload changes keys that only a restart applies
};

/// The last enumerator: counters are sized from it. Keep it up to date when adding codes.
inline constexpr refusal k_last_refusal = refusal::restart_required;

[[nodiscard]] std::string_view refusal_code(refusal r) noexcept;
[[nodiscard]] unsigned refusal_status(refusal r) noexcept;

/// A complete HTTP/1.1 response for a refusal: status line, `X-OAuth-Injector-Error`,
/// `Content-Type: application/json`, `Content-Length`, and `Connection: close` when `close` is
/// set. `message` and `extra_json_fields` (already-encoded `"key":value` pairs, may be empty)
/// must not contain secrets.
[[nodiscard]] std::string refusal_response(refusal r, std::string_view message, bool close,
                                           std::string_view extra_json_fields = {});

} // namespace oi
