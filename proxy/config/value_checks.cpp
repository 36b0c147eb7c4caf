#include "config/value_checks.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <idn2.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>

namespace oi::config {

namespace {

bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char to_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// The ASCII (A-label, "xn--") form of an internationalized host name, by IDNA2008 with the
/// UTS #46 mapping that browsers and curl apply (libidn2), or the library's reason.
checked<std::string> to_ascii_host(const std::string& host)
{
    char* ascii = nullptr;
    const int rc = idn2_to_ascii_8z(host.c_str(), &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
        return value_error{std::string{"not a valid internationalized host name: "} +
                           idn2_strerror(rc)};
    }
    std::string out{ascii};
    idn2_free(ascii);
    return out;
}

std::optional<std::uint16_t> parse_port(std::string_view text)
{
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

bool is_ipv6(std::string_view text)
{
    boost::system::error_code ec;
    (void)boost::asio::ip::make_address_v6(std::string(text), ec);
    return !ec;
}

/// A DNS name (LDH labels, `_` tolerated for service names) or an IPv4 address.
bool is_host_name(std::string_view text)
{
    if (text.empty() || text.size() > 253) {
        return false;
    }
    std::size_t label_start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == '.') {
            std::size_t length = i - label_start;
            if (length == 0 || length > 63 || text[label_start] == '-' || text[i - 1] == '-') {
                return false;
            }
            label_start = i + 1;
            continue;
        }
        if (!is_alnum(text[i]) && text[i] != '-' && text[i] != '_') {
            return false;
        }
    }
    return true;
}

} // namespace

checked<endpoint> parse_endpoint(std::string_view text, bool allow_port_zero)
{
    std::string_view host;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return value_error{"expected [ipv6]:port"};
        }
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
        if (!is_ipv6(host)) {
            return value_error{"not a valid IPv6 address between [ and ]"};
        }
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            return value_error{"expected host:port"};
        }
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            return value_error{"an IPv6 address must be written in brackets, e.g. [::1]:8080"};
        }
        if (!is_host_name(host)) {
            return value_error{"not a valid host name or IPv4 address"};
        }
    }

    auto port = parse_port(port_text);
    if (!port || (*port == 0 && !allow_port_zero)) {
        return value_error{allow_port_zero ? "port must be a number from 0 to 65535"
                                           : "port must be a number from 1 to 65535"};
    }
    return endpoint{std::string(host), *port};
}

checked<endpoint> parse_address_exception(std::string_view text)
{
    boost::system::error_code ec;
    auto whole = boost::asio::ip::make_address(std::string(text), ec);
    if (!ec) {
        return endpoint{whole.to_string(), 0};
    }

    auto parsed = parse_endpoint(text, false);
    if (auto* err = std::get_if<value_error>(&parsed)) {
        return value_error{"expected ip, ip:port or [ipv6]:port (" + err->message + ")"};
    }
    auto ep = std::get<endpoint>(parsed);
    auto address = boost::asio::ip::make_address(ep.host, ec);
    if (ec) {
        return value_error{"expected an IP address, not a host name"};
    }
    return endpoint{address.to_string(), ep.port};
}

checked<std::string> check_http_url(std::string_view text)
{
    auto url = boost::urls::parse_absolute_uri(text);
    if (!url) {
        return value_error{"not an absolute URL"};
    }
    if (url->scheme_id() != boost::urls::scheme::http &&
        url->scheme_id() != boost::urls::scheme::https) {
        return value_error{"must be an http or https URL"};
    }
    if (!url->has_authority() || url->encoded_host().empty()) {
        return value_error{"the URL has no host"};
    }
    if (url->has_userinfo()) {
        return value_error{"the URL must not carry user information"};
    }
    return std::string(text);
}

checked<std::string> url_origin(std::string_view text, bool origin_only)
{
    // A fragment (for a single-page app's route) does not change the origin.
    if (!origin_only) {
        text = text.substr(0, text.find('#'));
    }
    auto checked_url = check_http_url(text);
    if (auto* err = std::get_if<value_error>(&checked_url)) {
        return *err;
    }
    const auto url = boost::urls::parse_absolute_uri(text);
    const bool bare = (url->encoded_path().empty() || url->encoded_path() == "/") &&
                      !url->has_query() && !url->has_fragment();
    if (origin_only && !bare) {
        return value_error{"an origin only (scheme://host[:port]): no path, query or fragment"};
    }

    std::string out{url->scheme()};
    out += "://";
    out += url->encoded_host();
    std::transform(out.begin(), out.end(), out.begin(), to_lower);
    const bool https = url->scheme_id() == boost::urls::scheme::https;
    if (url->has_port() && !url->port().empty() && url->port_number() != (https ? 443 : 80)) {
        out += ':';
        out += url->port();
    }
    return out;
}

checked<std::string> normalize_host_pattern(std::string_view text)
{
    if (text.find("://") != std::string_view::npos) {
        return value_error{"a host only: no scheme"};
    }
    if (text.find_first_of("/?#") != std::string_view::npos) {
        return value_error{"a host only: no path"};
    }

    std::string host;
    host.reserve(text.size());
    std::transform(text.begin(), text.end(), std::back_inserter(host), to_lower);

    if (!host.empty() && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
        if (!is_ipv6(host)) {
            return value_error{"not a valid IPv6 address between [ and ]"};
        }
        return boost::asio::ip::make_address_v6(host).to_string();
    }
    if (is_ipv6(host)) {
        return boost::asio::ip::make_address_v6(host).to_string();
    }
    if (host.find(':') != std::string_view::npos) {
        return value_error{"a host only: no port"};
    }
    if (!host.empty() && host.back() == '.') {
        host.pop_back();
    }
    // Clients send internationalized names in their A-label form (RFC 5890 section 2.3.2.1), so
    // that is the form a pattern must hold to match.
    if (std::any_of(host.begin(), host.end(), [](char c) { return (c & 0x80) != 0; })) {
        const bool wildcard = host.starts_with("*.");
        auto ascii = to_ascii_host(wildcard ? host.substr(2) : host);
        if (const auto* error = std::get_if<value_error>(&ascii)) {
            return *error;
        }
        host = (wildcard ? "*." : "") + std::get<std::string>(ascii);
    }

    std::string_view name = host;
    if (name.starts_with("*.")) {
        name.remove_prefix(2);
    }
    if (!is_host_name(name)) {
        return value_error{"not a valid host name (a leading *. is the only wildcard allowed)"};
    }
    return host;
}

checked<std::string> decode_key_base64(std::string_view text)
{
    constexpr std::size_t k_key_bytes = 32;
    constexpr std::size_t k_encoded_size = 44; // 4 * ceil(32 / 3), one '=' of padding

    auto is_b64 = [](char c) { return is_alnum(c) || c == '+' || c == '/'; };
    if (text.size() != k_encoded_size || text.back() != '=' ||
        !std::all_of(text.begin(), text.end() - 1, is_b64)) {
        return value_error{"must be standard base64 (with padding) of exactly 32 bytes"};
    }

    std::string out(k_encoded_size / 4 * 3, '\0');
    int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    // EVP_DecodeBlock counts the zero bytes that padding stands for; one '=' is one byte.
    if (written != static_cast<int>(k_key_bytes) + 1) {
        return value_error{"must be standard base64 (with padding) of exactly 32 bytes"};
    }
    out.resize(k_key_bytes);
    return out;
}

std::optional<value_error> parse_redis_url(std::string_view text, redis_config& out)
{
    auto parsed = boost::urls::parse_absolute_uri(text);
    if (!parsed) {
        return value_error{"not a valid redis:// URL"};
    }
    boost::urls::url url(*parsed);
    if (url.scheme() == "rediss") {
        return value_error{"TLS to Redis (rediss://) is not supported; use redis://"};
    }
    if (url.scheme() != "redis" || !url.has_authority() || url.host().empty()) {
        return value_error{"expected redis://[user:password@]host[:port][/db]"};
    }
    if (url.has_query() || url.has_fragment()) {
        return value_error{"a redis URL takes no query or fragment"};
    }

    std::uint16_t port = 6379;
    if (url.has_port()) {
        auto p = parse_port(url.port());
        if (!p || *p == 0) {
            return value_error{"the redis port must be a number from 1 to 65535"};
        }
        port = *p;
    }

    int database = 0;
    std::string_view path = url.encoded_path();
    if (path.size() > 1) {
        std::string_view db = path.substr(1);
        auto [end, ec] = std::from_chars(db.data(), db.data() + db.size(), database);
        if (ec != std::errc{} || end != db.data() + db.size() || database < 0) {
            return value_error{"the redis database (the URL path) must be a number"};
        }
    }

    out.host = url.host_address();
    if (url.host_type() == boost::urls::host_type::ipv6) {
        out.host = url.host_ipv6_address().to_string();
    }
    out.port = port;
    out.database = database;
    out.username.reset();
    if (url.has_userinfo() && !url.user().empty()) {
        out.username = url.user();
    }
    if (url.has_password()) {
        out.password = secret(url.password());
        url.remove_password();
    }
    if (url.has_userinfo() && url.user().empty()) {
        url.remove_userinfo();
    }
    out.url = url.buffer();
    return std::nullopt;
}

bool is_http_token(std::string_view text)
{
    constexpr std::string_view k_tchar_symbols = "!#$%&'*+-.^_`|~";
    return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
        return is_alnum(c) || k_tchar_symbols.find(c) != std::string_view::npos;
    });
}

bool is_valid_id(std::string_view text)
{
    if (text.empty() || !is_alnum(text.front())) {
        return false;
    }
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; });
}

} // namespace oi::config
