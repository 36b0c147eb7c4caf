#include "oauth/token_response.hpp"

#include "http/message.hpp"

#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <ctime>

namespace oi::oauth {

namespace {

namespace json = boost::json;

constexpr std::size_t k_max_error_code = 64;

token_failure failure(token_failure_kind kind, unsigned status, const char* detail)
{
    token_failure out;
    out.kind = kind;
    out.http_status = status;
    out.detail = detail;
    return out;
}

std::string_view trim_ows(std::string_view s) noexcept
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

bool all_digits(std::string_view s) noexcept
{
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::chrono::seconds clamp_seconds(std::uint64_t value) noexcept
{
    const auto max = static_cast<std::uint64_t>(k_max_duration.count());
    return std::chrono::seconds{static_cast<std::int64_t>(std::min(value, max))};
}

/// Digits only; a value too large for 64 bits is clamped like any value above k_max_duration.
std::optional<std::chrono::seconds> parse_delay_seconds(std::string_view s) noexcept
{
    if (!all_digits(s)) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec == std::errc::result_out_of_range) {
        return k_max_duration;
    }
    return clamp_seconds(value);
}

// ---- reading the body into fields ----------------------------------------------------------

enum class body_format { json, form, sniff, none };

/// Decides from the media type (RFC 9110 section 8.3.1: case-insensitive, parameters ignored).
body_format format_of(std::string_view content_type) noexcept
{
    const std::string_view media = trim_ows(content_type.substr(0, content_type.find(';')));
    if (http::iequals(media, "application/json") ||
        (media.size() > 5 && http::iequals(media.substr(media.size() - 5), "+json"))) {
        return body_format::json;
    }
    if (http::iequals(media, "application/x-www-form-urlencoded")) {
        return body_format::form;
    }
    // Some providers label either shape text/plain, or send no type at all.
    if (media.empty() || http::iequals(media, "text/plain") ||
        http::iequals(media, "application/octet-stream")) {
        return body_format::sniff;
    }
    return body_format::none; // HTML error pages and anything else
}

std::optional<json::object> parse_json_object(std::string_view body)
{
    boost::system::error_code ec;
    json::value parsed = json::parse(body, ec);
    if (ec || !parsed.is_object()) {
        return std::nullopt;
    }
    return std::move(parsed.as_object());
}

/// application/x-www-form-urlencoded (RFC 6749 appendix B) into an object of strings. A name
/// without "=" or given twice (RFC 6749 section 3.1: parameters must not repeat) is refused.
std::optional<json::object> parse_form_object(std::string_view body)
{
    // Boost.URL 1.81's parse_query rebuilds its view from the input's data() alone, measuring it
    // with strlen: it reads past the end of a view that is not NUL-terminated, and stops early at
    // a NUL inside one (found by tests/fuzz). So it gets a terminated copy, and a body holding a
    // NUL, which a form never does (every such byte is percent-encoded), is refused first.
    if (body.empty() || body.find('\0') != std::string_view::npos) {
        return std::nullopt;
    }
    const std::string terminated{body};
    auto params = boost::urls::parse_query(terminated);
    if (!params) {
        return std::nullopt;
    }
    const boost::urls::encoding_opts plus_is_space{true};
    json::object out;
    for (const auto& param : *params) {
        if (param.key.empty() && !param.has_value) {
            continue; // "a=1&&b=2"
        }
        if (!param.has_value) {
            return std::nullopt;
        }
        std::string key = param.key.decode(plus_is_space);
        if (out.contains(key)) {
            return std::nullopt;
        }
        out.emplace(key, param.value.decode(plus_is_space));
    }
    return out;
}

std::optional<json::object> read_fields(std::string_view content_type, std::string_view body)
{
    switch (format_of(content_type)) {
    case body_format::json:
        return parse_json_object(body);
    case body_format::form:
        return parse_form_object(body);
    case body_format::sniff: {
        const auto first = body.find_first_not_of(" \t\r\n");
        if (first != std::string_view::npos && body[first] == '{') {
            return parse_json_object(body);
        }
        return parse_form_object(body);
    }
    case body_format::none:
        break;
    }
    return std::nullopt;
}

// ---- errors --------------------------------------------------------------------------------

/// An RFC 6749 section 5.2 error in the fields, or Slack's `ok: false`.
struct error_info {
    bool present = false;
    std::string code; // empty unless it passes is_safe_error_code
};

error_info find_error(const json::object& fields)
{
    error_info out;
    if (const json::value* ok = fields.if_contains("ok"); ok != nullptr && ok->is_bool()) {
        out.present = !ok->as_bool();
    }
    if (const json::value* error = fields.if_contains("error"); error != nullptr) {
        if (error->is_string()) {
            out.present = true;
            const std::string_view code = error->as_string();
            if (is_safe_error_code(code)) {
                out.code = code;
            }
        } else if (!error->is_null()) {
            out.present = true; // e.g. an object: an error, but no code we can name
        }
    }
    return out;
}

// ---- tokens --------------------------------------------------------------------------------

/// Where the tokens are: the top level, or Slack's `authed_user` (see token_response_options).
const json::object& token_source(const json::object& fields, const token_response_options& options)
{
    const json::value* user = fields.if_contains("authed_user");
    if (user == nullptr || !user->is_object() || !user->as_object().contains("access_token")) {
        return fields;
    }
    if (options.prefer_authed_user || !fields.contains("access_token")) {
        return user->as_object();
    }
    return fields;
}

/// A string member: absent or null gives "", another type is an error (false).
bool optional_string(const json::object& fields, std::string_view name, std::string& out)
{
    const json::value* v = fields.if_contains(name);
    if (v == nullptr || v->is_null()) {
        out.clear();
        return true;
    }
    if (!v->is_string()) {
        return false;
    }
    out = v->as_string();
    return true;
}

/// `expires_in` as a non-negative number (a fraction is dropped) or a string of digits.
bool read_expires_in(const json::object& fields, std::optional<std::chrono::seconds>& out)
{
    const json::value* v = fields.if_contains("expires_in");
    out.reset();
    if (v == nullptr || v->is_null()) {
        return true;
    }
    if (v->is_uint64()) {
        out = clamp_seconds(v->as_uint64());
        return true;
    }
    if (v->is_int64()) {
        if (v->as_int64() < 0) {
            return false;
        }
        out = clamp_seconds(static_cast<std::uint64_t>(v->as_int64()));
        return true;
    }
    if (v->is_double()) {
        const double d = v->as_double();
        if (!std::isfinite(d) || d < 0) {
            return false;
        }
        out = d >= static_cast<double>(k_max_duration.count())
                  ? k_max_duration
                  : std::chrono::seconds{static_cast<std::int64_t>(d)};
        return true;
    }
    if (v->is_string()) {
        out = parse_delay_seconds(v->as_string());
        return out.has_value();
    }
    return false;
}

/// `scope` as a string, or a list of strings joined with spaces; absent or null: unchanged.
bool read_scope(const json::object& fields, std::optional<std::string>& out)
{
    const json::value* v = fields.if_contains("scope");
    out.reset();
    if (v == nullptr || v->is_null()) {
        return true;
    }
    if (v->is_string()) {
        out = std::string{v->as_string()};
        return true;
    }
    if (!v->is_array()) {
        return false;
    }
    std::string joined;
    for (const json::value& item : v->as_array()) {
        if (!item.is_string()) {
            return false;
        }
        if (!joined.empty()) {
            joined += ' ';
        }
        joined += item.as_string();
    }
    out = std::move(joined);
    return true;
}

/// RFC 6749 appendix A.13: type-name = 1*name-char. Any case of "bearer" becomes "Bearer"
/// (section 5.1: the value is case-insensitive); absent means Bearer, the only type in use.
bool read_token_type(const json::object& fields, std::string& out)
{
    if (!optional_string(fields, "token_type", out)) {
        return false;
    }
    if (out.empty() || http::iequals(out, "bearer")) {
        out = "Bearer";
        return true;
    }
    return is_safe_error_code(out); // the same characters, and short enough to log
}

token_outcome read_token_set(const json::object& fields, unsigned status,
                             const token_response_options& options)
{
    const json::object& source = token_source(fields, options);
    token_set out;
    std::string text;

    const json::value* access = source.if_contains("access_token");
    if (access == nullptr || access->is_null()) {
        return failure(token_failure_kind::malformed, status, "no access_token in the answer");
    }
    if (!access->is_string() || access->as_string().empty()) {
        return failure(token_failure_kind::malformed, status, "access_token is not a string");
    }
    if (!is_access_token(access->as_string())) {
        return failure(token_failure_kind::malformed, status,
                       "access_token has characters a token may not have");
    }
    out.access_token = secret{std::string{access->as_string()}};

    if (!optional_string(source, "refresh_token", text)) {
        return failure(token_failure_kind::malformed, status, "refresh_token is not a string");
    }
    out.refresh_token = secret{std::move(text)};

    if (!optional_string(fields, "id_token", text)) {
        return failure(token_failure_kind::malformed, status, "id_token is not a string");
    }
    out.id_token = secret{std::move(text)};

    if (!read_expires_in(source, out.expires_in)) {
        return failure(token_failure_kind::malformed, status, "expires_in is not a duration");
    }
    if (!read_scope(source, out.scope)) {
        return failure(token_failure_kind::malformed, status, "scope is not a string");
    }
    if (!read_token_type(source, out.token_type)) {
        return failure(token_failure_kind::malformed, status, "token_type is not a type name");
    }
    return out;
}

} // namespace

bool is_access_token(std::string_view token) noexcept
{
    const auto allowed = [](char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '\\'; };
    return !token.empty() && std::all_of(token.begin(), token.end(), allowed);
}

token_outcome parse_token_response(unsigned status, std::string_view content_type,
                                   std::string_view body, std::string_view retry_after_header,
                                   const token_response_options& options)
{
    const std::optional<json::object> fields = read_fields(content_type, body);
    const error_info error = fields ? find_error(*fields) : error_info{};

    // Throttled or failing servers: the caller backs off, honouring Retry-After.
    if (status == 429 || status >= 500) {
        token_failure out = failure(
            status == 429 ? token_failure_kind::rate_limited : token_failure_kind::server_error,
            status, status == 429 ? "the token endpoint is rate limiting" : "server error");
        out.error = error.code;
        out.retry_after = parse_retry_after(retry_after_header, std::chrono::system_clock::now());
        return out;
    }

    // An OAuth error, whatever the status (GitHub and Slack answer errors with 200).
    const bool success = status >= 200 && status < 300;
    if (error.present && (success || (status >= 400 && status < 500))) {
        token_failure out = failure(token_failure_kind::oauth_error, status, "OAuth error answer");
        out.error = error.code;
        return out;
    }

    if (success) {
        if (!fields) {
            return failure(token_failure_kind::malformed, status, "unparsable token answer");
        }
        return read_token_set(*fields, status, options);
    }

    // Anything else (a redirect, a 4xx without an OAuth error, such as an HTML page from a
    // gateway in front of the provider) says nothing about the grant: the caller retries later
    // rather than throwing the grant away.
    return failure(token_failure_kind::malformed, status, "answer without an OAuth error code");
}

bool needs_reauthorization(const token_failure& failure) noexcept
{
    if (failure.kind != token_failure_kind::oauth_error) {
        return false;
    }
    // invalid_client is left out on purpose: RFC 6749 section 5.2 uses it when the client's own
    // authentication failed, i.e. the operator's client_id or client_secret is wrong or rotated.
    // That breaks every user of the connection at once while their grants are still valid at the
    // provider; marking them would force every user to authorize again once the operator fixes
    // the configuration. The same holds for invalid_request, invalid_scope and
    // unsupported_grant_type, and Slack's bad_client_secret and invalid_client_id: our side or
    // the configuration is wrong, not the user's grant.
    static constexpr std::array<std::string_view, 7> k_grant_gone{
        "invalid_grant",         // RFC 6749 5.2: refresh token expired, revoked or replayed
        "unauthorized_client",   // RFC 6749 5.2: the client may no longer use this grant
        "access_denied",         // the user or an administrator withdrew consent
        "consent_required",      // OpenID Connect Core 3.1.2.6
        "interaction_required",  // OpenID Connect Core 3.1.2.6 (Microsoft: MFA, policy changes)
        "bad_refresh_token",     // GitHub
        "invalid_refresh_token", // Slack
    };
    return std::find(k_grant_gone.begin(), k_grant_gone.end(), failure.error) != k_grant_gone.end();
}

bool is_safe_error_code(std::string_view code) noexcept
{
    if (code.empty() || code.size() > k_max_error_code) {
        return false;
    }
    return std::all_of(code.begin(), code.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
    });
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now)
{
    value = trim_ows(value);
    if (value.empty()) {
        return std::nullopt;
    }
    if (auto delay = parse_delay_seconds(value)) {
        return delay;
    }

    // HTTP-date: IMF-fixdate, then the obsolete RFC 850 and asctime formats (RFC 9110 5.6.7),
    // in the "C" locale that the proxy never changes.
    static constexpr std::array<const char*, 3> k_formats{
        "%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"};
    const std::string text{value};
    for (const char* format : k_formats) {
        std::tm parts{};
        const char* end = strptime(text.c_str(), format, &parts);
        if (end == nullptr || *end != '\0') {
            continue;
        }
        // Compared in time_t seconds: a far year (found by tests/fuzz: 6451) does not fit the
        // clock's nanoseconds, and converting it would overflow.
        const std::time_t at = timegm(&parts);
        const std::time_t now_seconds = std::chrono::system_clock::to_time_t(now);
        if (at <= now_seconds) {
            return std::chrono::seconds{0};
        }
        return clamp_seconds(static_cast<std::uint64_t>(at) -
                             static_cast<std::uint64_t>(now_seconds));
    }
    return std::nullopt;
}

std::string_view failure_kind_name(token_failure_kind kind) noexcept
{
    switch (kind) {
    case token_failure_kind::oauth_error:
        return "oauth_error";
    case token_failure_kind::server_error:
        return "server_error";
    case token_failure_kind::rate_limited:
        return "rate_limited";
    case token_failure_kind::malformed:
        return "malformed";
    case token_failure_kind::transport:
        return "transport";
    }
    return "malformed";
}

} // namespace oi::oauth
