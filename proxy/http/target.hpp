#pragma once

// Request targets as a forward proxy receives them: the absolute-form of a proxied request
// (RFC 9112 section 3.2.2), the authority-form of a CONNECT (section 3.2.3), and Host values
// (RFC 9110 section 7.2). The results are normalized so that host comparisons against
// allowed_hosts cannot be fooled by case, a trailing dot, percent-encoding or numeric tricks.
//
// Pure functions, callable from any thread; a refusal is an empty optional (answer 400).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace oi::http {

struct proxy_target {
    std::string scheme;      // "http" or "https"
    std::string host;        // lower-case name without trailing dot, IPv4, or IPv6 without []
    std::uint16_t port = 0;  // explicit or the scheme's default
    std::string origin_form; // path (at least "/") and "?query", bytes exactly as sent
};

/// Parses an absolute-form target with an http or https scheme (ws and wss count as http and
/// https). Refuses userinfo, a fragment, an empty host, IPvFuture, a host name with
/// percent-encoding or characters outside ALPHA / DIGIT / "-" / "." / "_", an all-numeric last
/// label (resolvers read "127.1" or "0x7f.1" as addresses), and a port that is 0 or not a number
/// up to 65535. An empty port means the default one (RFC 3986 section 3.2.3).
[[nodiscard]] std::optional<proxy_target> parse_absolute_target(std::string_view target);

struct authority {
    std::string host; // normalized like proxy_target::host
    std::uint16_t port = 0;
};

/// Parses `host:port` or `[v6]:port` (a CONNECT target, or a Host field value). When
/// `default_port` is empty the port is required (CONNECT); otherwise it may be absent or empty.
/// Userinfo is refused; host rules are those of parse_absolute_target.
[[nodiscard]] std::optional<authority> parse_authority(std::string_view value,
                                                       std::optional<std::uint16_t> default_port);

/// The Host field value for a request to scheme://host:port: IPv6 in brackets, the port left out
/// when it is the scheme's default.
[[nodiscard]] std::string host_header_value(std::string_view scheme, std::string_view host,
                                            std::uint16_t port);
/// The same, appended to `out`.
void append_host_header_value(std::string& out, std::string_view scheme, std::string_view host,
                              std::uint16_t port);

/// 80 for "http", 443 for "https" (case-insensitive), 0 otherwise.
[[nodiscard]] std::uint16_t default_port(std::string_view scheme) noexcept;

} // namespace oi::http
