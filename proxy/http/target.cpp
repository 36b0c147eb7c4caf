#include "http/target.hpp"

#include "http/detail/char_class.hpp"
#include "http/message.hpp"

#include <boost/url/authority_view.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace oi::http {
namespace {

namespace urls = boost::urls;

constexpr std::size_t k_max_host_name = 253; // RFC 1035 section 2.3.4, without the final dot
constexpr std::size_t k_max_label = 63;

bool is_name_char(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/// True for a label that inet_aton and friends would read as a number: decimal, octal or hex.
bool is_numeric_label(std::string_view label) noexcept
{
    if (label.size() > 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
        label.remove_prefix(2);
        for (char c : label) {
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }
    for (char c : label) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

/// Lower-cases a reg-name, drops one trailing dot and checks it is a plain DNS name.
std::optional<std::string> normalize_name(std::string_view encoded)
{
    std::string name;
    name.reserve(encoded.size());
    for (char c : encoded) {
        name.push_back(detail::to_lower(c));
    }
    if (!name.empty() && name.back() == '.') {
        name.pop_back();
    }
    if (name.empty() || name.size() > k_max_host_name) {
        return std::nullopt;
    }

    // Every label non-empty, short enough, and made of name characters only: this refuses
    // percent-encoding and the sub-delims that RFC 3986 would allow in a reg-name.
    std::string_view rest = name;
    std::string_view label;
    for (;;) {
        const std::size_t dot = rest.find('.');
        label = rest.substr(0, dot);
        if (label.empty() || label.size() > k_max_label) {
            return std::nullopt;
        }
        for (char c : label) {
            if (!is_name_char(c)) {
                return std::nullopt;
            }
        }
        if (dot == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(dot + 1);
    }
    if (is_numeric_label(label)) {
        return std::nullopt;
    }
    return name;
}

/// The host of a parsed URL or authority, normalized; empty for hosts this proxy refuses.
template <class View> std::optional<std::string> normalized_host(const View& view)
{
    switch (view.host_type()) {
    case urls::host_type::name:
        return normalize_name(view.encoded_host());
    case urls::host_type::ipv4:
        return view.host_ipv4_address().to_string();
    case urls::host_type::ipv6:
        return view.host_ipv6_address().to_string();
    default:
        return std::nullopt; // none (empty) and IPvFuture
    }
}

/// port = *DIGIT (RFC 3986 section 3.2.3), here 1 to 65535; an empty port gives `fallback`.
std::optional<std::uint16_t> parse_port(std::string_view text,
                                        std::optional<std::uint16_t> fallback)
{
    if (text.empty()) {
        return fallback;
    }
    std::uint32_t port = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        port = port * 10 + static_cast<std::uint32_t>(c - '0');
        if (port > 65535) {
            return std::nullopt;
        }
    }
    if (port == 0) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(port);
}

} // namespace

std::uint16_t default_port(std::string_view scheme) noexcept
{
    if (iequals(scheme, "http")) {
        return 80;
    }
    if (iequals(scheme, "https")) {
        return 443;
    }
    return 0;
}

std::optional<proxy_target> parse_absolute_target(std::string_view target)
{
    // Split "scheme://authority" from the path and query by hand. Boost.URL checks the first
    // part strictly; the second is only checked for visible ASCII, because placeholders such as
    // {OAUTH_PLUGIN_ACCESS_TOKEN} or <...> arrive unencoded in paths and queries, and RFC 3986
    // would refuse them. (Boost.URL 1.81 also accepts "http://h:8o/" as port 8 and path "o/":
    // checking that the authority part parses to an empty path closes that gap.)
    const std::size_t authority_begin = target.find("://");
    if (authority_begin == std::string_view::npos) {
        return std::nullopt;
    }
    const std::size_t authority_end = target.find_first_of("/?#", authority_begin + 3);
    const std::string_view rest =
        authority_end == std::string_view::npos ? std::string_view{} : target.substr(authority_end);
    const auto parsed = urls::parse_absolute_uri(target.substr(0, authority_end));
    if (!parsed || !parsed->has_authority() || parsed->has_userinfo() ||
        !parsed->encoded_path().empty() || parsed->has_query() || parsed->has_fragment()) {
        return std::nullopt;
    }
    const urls::url_view& url = *parsed;

    proxy_target out;
    // ws and wss name the same origins as http and https (RFC 6455 section 3); the WebSocket
    // handshake that follows is an HTTP/1.1 request like any other (section 4.1).
    const auto scheme = url.scheme_id();
    if (scheme == urls::scheme::http || scheme == urls::scheme::ws) {
        out.scheme = "http";
    } else if (scheme == urls::scheme::https || scheme == urls::scheme::wss) {
        out.scheme = "https";
    } else {
        return std::nullopt;
    }

    auto host = normalized_host(url);
    const auto port = parse_port(url.has_port() ? std::string_view{url.port()} : std::string_view{},
                                 default_port(out.scheme));
    if (!host || !port) {
        return std::nullopt;
    }
    out.host = std::move(*host);
    out.port = *port;

    // The origin-form is forwarded byte for byte: re-encoding could change what the origin sees,
    // and placeholders in it are rewritten later on these bytes. A fragment is never sent in a
    // request (RFC 9112 section 3.2.2 uses absolute-URI, which has none).
    if (!detail::all_of(detail::k_target, rest) || rest.find('#') != std::string_view::npos) {
        return std::nullopt;
    }
    if (rest.empty() || rest.front() == '?') {
        out.origin_form = "/";
    }
    out.origin_form += rest;
    return out;
}

std::optional<authority> parse_authority(std::string_view value,
                                         std::optional<std::uint16_t> default_port)
{
    const auto parsed = urls::parse_authority(value);
    if (!parsed || parsed->has_userinfo()) {
        return std::nullopt;
    }

    auto host = normalized_host(*parsed);
    const auto port = parse_port(
        parsed->has_port() ? std::string_view{parsed->port()} : std::string_view{}, default_port);
    if (!host || !port) {
        return std::nullopt;
    }
    return authority{std::move(*host), *port};
}

std::string host_header_value(std::string_view scheme, std::string_view host, std::uint16_t port)
{
    std::string out;
    out.reserve(host.size() + 8);
    append_host_header_value(out, scheme, host, port);
    return out;
}

void append_host_header_value(std::string& out, std::string_view scheme, std::string_view host,
                              std::uint16_t port)
{
    const bool ipv6 = host.find(':') != std::string_view::npos;
    if (ipv6) {
        out += '[';
    }
    out += host;
    if (ipv6) {
        out += ']';
    }
    if (port != default_port(scheme)) {
        out += ':';
        out += std::to_string(port);
    }
}

} // namespace oi::http
