#pragma once

// What a token endpoint answered (RFC 6749 sections 5.1 and 5.2), read the way real providers
// write it: JSON or form-encoded bodies, `expires_in` as a number or a numeric string,
// `token_type` in any case, GitHub's errors under status 200, Slack's `ok:false` and its user
// token under `authed_user`, and error pages that are JSON, form, HTML or empty.
//
// Pure functions, callable from any thread. Failures come back as a token_failure value, never
// as an exception. The answer's body is never copied into a failure: `error` holds only an OAuth
// error code that passes is_safe_error_code, and `detail` fixed words; both are safe to log.
// Tokens are returned inside oi::secret.
//
// Limits: Retry-After is read as delay-seconds or an HTTP-date in any of the three formats of
// RFC 9110 section 5.6.7; other values are ignored. Durations above k_max_duration are read as
// k_max_duration.

#include "common/secret.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace oi::oauth {

/// The tokens of a successful answer.
struct token_set {
    secret access_token;
    secret refresh_token; // empty: none given (keep the old one)
    std::optional<std::chrono::seconds> expires_in;
    std::optional<std::string> scope; // absent: unchanged; as given (Slack separates with commas)
    std::string token_type;           // "Bearer" for any case of bearer, or when absent
    secret id_token;                  // empty: none given
};

enum class token_failure_kind {
    oauth_error,  // an RFC 6749 section 5.2 error, e.g. invalid_grant (also under a 2xx status)
    server_error, // 5xx
    rate_limited, // 429
    malformed,    // 2xx without a usable token, an unparsable body, or a non-OAuth error page
    transport,    // connect, TLS, timeout, a closed connection (set by the client)
};

struct token_failure {
    token_failure_kind kind = token_failure_kind::malformed;
    std::string error; // OAuth error code when known, e.g. "invalid_grant"; never a body excerpt
    unsigned http_status = 0; // 0: no HTTP answer
    std::optional<std::chrono::seconds> retry_after;
    std::string detail; // what went wrong, in words safe to log (never body text or a secret)
};

using token_outcome = std::variant<token_set, token_failure>;

/// An access token the proxy accepts and injects: one or more visible ASCII characters (%x21-7E:
/// RFC 6749 appendix A.12's VSCHAR without the space) other than '"' and '\'. That covers RFC
/// 6750's b64token and the wider tokens some providers issue (Salesforce's contain '!'). What it
/// leaves out could end a header field, split a request target, or close a quoted string in a
/// body around the placeholder, so such a token is refused where it enters (a provider's answer,
/// an import) and never written into a request.
[[nodiscard]] bool is_access_token(std::string_view token) noexcept;

struct token_response_options {
    /// Slack OAuth v2 answers a code exchange with the bot token at the top level and the user's
    /// token under `authed_user`. Without this option the top-level token wins and `authed_user`
    /// is used only when there is no top-level `access_token` (an app that asked for user scopes
    /// only); with it, the `authed_user` token wins whenever it is present, for apps that ask for
    /// both bot and user scopes but inject the user's token. Refresh answers carry the refreshed
    /// token at the top level, so both settings read them right.
    bool prefer_authed_user = false;
};

/// Longest expires_in or Retry-After taken as given; keeps time-point arithmetic far from
/// overflow (about 100 years).
inline constexpr std::chrono::seconds k_max_duration{std::int64_t{100} * 365 * 24 * 3600};

/// Reads one answer of a token endpoint. `content_type` and `retry_after_header` are the values
/// of those fields, empty when absent.
[[nodiscard]] token_outcome parse_token_response(unsigned status, std::string_view content_type,
                                                 std::string_view body,
                                                 std::string_view retry_after_header,
                                                 const token_response_options& options = {});

/// True when the failure means the user's grant is gone and only a new authorization helps, so
/// refreshing again is pointless: invalid_grant, unauthorized_client, access_denied,
/// consent_required, interaction_required, and the providers' own names for a revoked or unknown
/// refresh token.
[[nodiscard]] bool needs_reauthorization(const token_failure& failure) noexcept;

/// True for strings that may be logged as an OAuth error code: `[A-Za-z0-9_.-]{1,64}`.
[[nodiscard]] bool is_safe_error_code(std::string_view code) noexcept;

/// RFC 9110 section 10.2.3: delay-seconds, or an HTTP-date converted relative to `now` (a date in
/// the past gives 0). nullopt when the value is neither.
[[nodiscard]] std::optional<std::chrono::seconds>
parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now);

/// A bounded, stable name for metrics labels and logs: "oauth_error", "server_error"...
[[nodiscard]] std::string_view failure_kind_name(token_failure_kind kind) noexcept;

} // namespace oi::oauth
