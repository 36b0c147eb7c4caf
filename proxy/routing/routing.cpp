#include "routing/routing.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <stdexcept>

namespace oi::routing {

namespace {

bool is_host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

bool is_ip_literal(std::string_view host)
{
    boost::system::error_code ec;
    (void)boost::asio::ip::make_address(std::string(host), ec);
    return !ec;
}

/// `host` is `suffix` with at least one more non-empty label in front.
bool matches_wildcard(std::string_view host, std::string_view suffix)
{
    return host.size() > suffix.size() + 1 && host.ends_with(suffix) &&
           host[host.size() - suffix.size() - 1] == '.' &&
           host[host.size() - suffix.size() - 2] != '.';
}

std::string normalize_ipv6_literal(std::string_view inner)
{
    if (inner.find('%') != std::string_view::npos) {
        return {};
    }
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address_v6(std::string(inner), ec);
    return ec ? std::string() : address.to_string();
}

} // namespace

connection_registry::connection_registry(const config::config& config)
{
    for (const auto& [id, plugin] : config.plugins) {
        auto connection = config.connections.find(plugin.connection_id);
        if (connection == config.connections.end()) {
            throw std::invalid_argument("plugin " + id + " names an unknown connection " +
                                        plugin.connection_id);
        }
        routes_.emplace(id, route{&plugin, &connection->second});
    }
}

std::optional<connection_registry::route>
connection_registry::find(std::string_view plugin_id) const
{
    auto it = routes_.find(plugin_id);
    if (it == routes_.end()) {
        return std::nullopt;
    }
    return it->second;
}

bool host_allowed(const config::connection& connection, std::string_view normalized_host)
{
    if (normalized_host.empty()) {
        return false;
    }
    const bool ip = is_ip_literal(normalized_host);
    return std::any_of(connection.allowed_hosts.begin(), connection.allowed_hosts.end(),
                       [&](const std::string& pattern) {
                           if (pattern.starts_with("*.")) {
                               return !ip && matches_wildcard(normalized_host,
                                                              std::string_view(pattern).substr(2));
                           }
                           return pattern == normalized_host;
                       });
}

std::string normalize_host(std::string_view host)
{
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        return normalize_ipv6_literal(host.substr(1, host.size() - 2));
    }

    std::string out;
    out.reserve(host.size());
    for (char c : host) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
        if (!is_host_char(c)) {
            return {};
        }
        out += c;
    }
    if (!out.empty() && out.back() == '.') {
        out.pop_back();
    }

    // No empty labels: "", ".", "a..b", ".a" cannot be matched meaningfully.
    if (out.empty() || out.front() == '.' || out.back() == '.' ||
        out.find("..") != std::string::npos) {
        return {};
    }
    return out;
}

} // namespace oi::routing
