#pragma once

// Which connection serves a plugin, and which hosts may receive that connection's tokens
// (SPEC.md "How a request is handled", steps 2 and 3).
//
// connection_registry is built once per loaded config, before the workers start, and is read-only
// afterwards: every worker thread may call find() concurrently without locking. It points into the
// config it was built from, which must outlive it. Lookups report "not found" as std::nullopt.

#include "config/config.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace oi::routing {

class connection_registry {
public:
    struct route {
        const config::plugin* plugin;
        const config::connection* connection;
    };

    /// Throws std::invalid_argument (start-up only) when a plugin names a connection that the
    /// config does not have; a config from load_config never does.
    explicit connection_registry(const config::config& config);

    /// The plugin and its connection; nullopt for an unknown plugin. Does not allocate.
    [[nodiscard]] std::optional<route> find(std::string_view plugin_id) const;

    [[nodiscard]] std::size_t size() const noexcept { return routes_.size(); }

private:
    std::map<std::string, route, std::less<>> routes_;
};

/// True when `normalized_host` (see normalize_host) is one of the connection's allowed_hosts, or
/// matches a `*.suffix` entry: the wildcard stands for one or more labels below the suffix and
/// does not match the suffix itself. An IP address only matches an exact entry.
[[nodiscard]] bool host_allowed(const config::connection& connection,
                                std::string_view normalized_host);

/// A request's host in the form allowed_hosts uses: ASCII lower case, one trailing dot removed,
/// an IPv6 literal without its brackets and in canonical text form. Returns "" for a host that
/// cannot be matched safely: empty, non-ASCII (internationalized names must arrive in their
/// punycode `xn--` form), an IPv6 literal without brackets or with a zone, or characters outside
/// letters, digits, `-`, `_` and `.` (which rules out ports, user info and percent-encoding).
[[nodiscard]] std::string normalize_host(std::string_view host);

} // namespace oi::routing
