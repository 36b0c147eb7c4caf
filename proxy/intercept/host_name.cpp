#include "intercept/host_name.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cctype>

namespace oi::intercept {

namespace {

constexpr std::size_t k_max_dns_name = 253;
constexpr std::size_t k_max_label = 63;

/// Removes the port from "host:port" and "[v6]:port", and the brackets from "[v6]". A string with
/// several colons and no brackets is a bare IPv6 literal and is left alone.
std::string_view strip_port(std::string_view raw)
{
    if (raw.starts_with('[')) {
        const auto close = raw.find(']');
        return close == std::string_view::npos ? std::string_view{} : raw.substr(1, close - 1);
    }
    const auto colon = raw.find(':');
    if (colon != std::string_view::npos && raw.find(':', colon + 1) == std::string_view::npos) {
        return raw.substr(0, colon);
    }
    return raw;
}

std::optional<leaf_host> as_ip(std::string_view text)
{
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string{text}, ec);
    if (ec || (address.is_v6() && address.to_v6().scope_id() != 0)) {
        return std::nullopt;
    }
    return leaf_host{address.to_string(), true};
}

bool is_dns_name(std::string_view name)
{
    if (name.empty() || name.size() > k_max_dns_name) {
        return false;
    }
    std::size_t label = 0;
    for (const char c : name) {
        if (c == '.') {
            if (label == 0) {
                return false;
            }
            label = 0;
            continue;
        }
        const auto u = static_cast<unsigned char>(c);
        if ((std::isalnum(u) == 0 && c != '-' && c != '_') || ++label > k_max_label) {
            return false;
        }
    }
    return label != 0;
}

} // namespace

std::optional<leaf_host> normalize_host(std::string_view raw)
{
    std::string_view host = strip_port(raw);
    if (host.find(':') != std::string_view::npos || raw.starts_with('[')) {
        return as_ip(host);
    }
    if (host.ends_with('.')) {
        host.remove_suffix(1);
    }
    if (auto ip = as_ip(host)) {
        return ip;
    }
    if (!is_dns_name(host)) {
        return std::nullopt;
    }
    std::string name{host};
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return leaf_host{std::move(name), false};
}

} // namespace oi::intercept
