#pragma once

// Checks and conversions of single config values (endpoints, URLs, host patterns, keys). Pure
// functions used by the loader at start-up. Each returns the converted value or a plain-language
// message; a message never repeats a value that may be secret (keys, Redis URLs).

#include "config/config.hpp"

#include <string>
#include <string_view>
#include <variant>

namespace oi::config {

/// What went wrong with one value, worded for `FILE:LINE:COL: path: message`.
struct value_error {
    std::string message;
};

template <typename T> using checked = std::variant<T, value_error>;

/// `host:port` with host a name, an IPv4 address or a bracketed IPv6 address (`[::1]:8080`).
/// The port is required; 0 is allowed when `allow_port_zero` (listeners bound by tests).
/// The returned host has no brackets.
[[nodiscard]] checked<endpoint> parse_endpoint(std::string_view text, bool allow_port_zero);

/// `ip` or `ip:port` (`[v6]:port`, or a bare IPv6 address): an `upstream.allow_addresses`
/// entry. The host is the address in canonical text form; port 0 means any port.
[[nodiscard]] checked<endpoint> parse_address_exception(std::string_view text);

/// An absolute http or https URL with a host. Returns the URL unchanged.
[[nodiscard]] checked<std::string> check_http_url(std::string_view text);

/// The origin (RFC 6454 section 4) of an absolute http(s) URL as `scheme://host[:port]`: scheme
/// and host in lower case, the port only when it is not the scheme's default. With
/// `origin_only`, the URL must be an origin itself (no path other than "/", no query, no
/// fragment): a `return_to_origins` entry.
[[nodiscard]] checked<std::string> url_origin(std::string_view text, bool origin_only);

/// An `allowed_hosts` entry: a host name (optionally starting with `*.`), an IPv4 address or an
/// IPv6 address (bracketed or not), without scheme, port or path. Returned in lower case with no
/// trailing dot and IPv6 without brackets.
[[nodiscard]] checked<std::string> normalize_host_pattern(std::string_view text);

/// Standard base64 with padding (RFC 4648 section 4) that decodes to exactly 32 bytes.
[[nodiscard]] checked<std::string> decode_key_base64(std::string_view text);

/// A `redis://[user:password@]host[:port][/db]` URL. Fills url (without the password), host,
/// port, database, username and password of `out`.
[[nodiscard]] std::optional<value_error> parse_redis_url(std::string_view text, redis_config& out);

/// An HTTP field name: a token of RFC 9110 section 5.6.2.
[[nodiscard]] bool is_http_token(std::string_view text);

/// A connection or plugin id: [A-Za-z0-9][A-Za-z0-9._-]*.
[[nodiscard]] bool is_valid_id(std::string_view text);

} // namespace oi::config
