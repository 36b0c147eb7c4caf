#pragma once

// Which upstream addresses the proxy may connect to, checked after DNS resolution and before
// connecting, so that a plugin cannot reach the proxy's own network through a public-looking name
// (SPEC.md `upstream.deny_private_addresses`, refusal destination_denied).
//
// Pure functions, safe on any thread. IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d),
// NAT64 (64:ff9b::/96) and 6to4 (2002::/16) IPv6 addresses are judged by the IPv4 address they
// carry. An IPv6 address outside the global unicast range 2000::/3 that is not otherwise named is
// `reserved`; so is Teredo (2001::/32), whose embedded IPv4 address is obfuscated.

#include "config/config.hpp"

#include <boost/asio/ip/address.hpp>

#include <cstdint>

namespace oi::routing {

enum class address_class {
    public_address,
    loopback,        // 127/8, ::1
    private_network, // 10/8, 172.16/12, 192.168/16, fc00::/7 (ULA), fec0::/10, 64:ff9b:1::/48
    link_local,      // 169.254/16, fe80::/10
    cgnat,           // 100.64/10 (RFC 6598)
    multicast,       // 224/4, ff00::/8
    unspecified,     // 0.0.0.0, ::
    metadata,        // cloud instance metadata services, e.g. 169.254.169.254, fd00:ec2::254
    reserved,        // 0/8, 240/4 incl. broadcast, documentation, benchmarking, IETF ranges
};

[[nodiscard]] address_class classify(const boost::asio::ip::address& address);

/// True when the proxy may connect to `address`:`port`: always when deny_private_addresses is
/// off; otherwise when the address is public or listed in allow_addresses (an entry with port 0
/// allows every port).
[[nodiscard]] bool address_permitted(const boost::asio::ip::address& address, std::uint16_t port,
                                     const config::upstream_config& upstream);

} // namespace oi::routing
