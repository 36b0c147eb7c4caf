#include "routing/address_policy.hpp"

#include <array>
#include <optional>

namespace oi::routing {

namespace {

using boost::asio::ip::address;
using boost::asio::ip::address_v4;
using boost::asio::ip::address_v6;

struct v4_range {
    std::uint32_t network;
    unsigned prefix;
    address_class kind;
};

constexpr std::uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
    return (a << 24) | (b << 16) | (c << 8) | d;
}

// Cloud metadata endpoints, checked before the ranges that contain them: AWS/GCP/Azure
// 169.254.169.254, AWS ECS task metadata 169.254.170.2, Oracle 192.0.0.192, Alibaba
// 100.100.100.200.
constexpr std::array<std::uint32_t, 4> k_v4_metadata{ip4(169, 254, 169, 254), ip4(169, 254, 170, 2),
                                                     ip4(192, 0, 0, 192), ip4(100, 100, 100, 200)};

// RFC 6890 and its updates; the first matching range wins.
constexpr std::array<v4_range, 16> k_v4_ranges{{
    {ip4(0, 0, 0, 0), 32, address_class::unspecified},
    {ip4(0, 0, 0, 0), 8, address_class::reserved}, // "this network"
    {ip4(10, 0, 0, 0), 8, address_class::private_network},
    {ip4(100, 64, 0, 0), 10, address_class::cgnat},
    {ip4(127, 0, 0, 0), 8, address_class::loopback},
    {ip4(169, 254, 0, 0), 16, address_class::link_local},
    {ip4(172, 16, 0, 0), 12, address_class::private_network},
    {ip4(192, 0, 0, 0), 24, address_class::reserved},   // IETF protocol assignments
    {ip4(192, 0, 2, 0), 24, address_class::reserved},   // TEST-NET-1
    {ip4(192, 88, 99, 0), 24, address_class::reserved}, // former 6to4 relay anycast
    {ip4(192, 168, 0, 0), 16, address_class::private_network},
    {ip4(198, 18, 0, 0), 15, address_class::reserved},   // benchmarking
    {ip4(198, 51, 100, 0), 24, address_class::reserved}, // TEST-NET-2
    {ip4(203, 0, 113, 0), 24, address_class::reserved},  // TEST-NET-3
    {ip4(224, 0, 0, 0), 4, address_class::multicast},
    {ip4(240, 0, 0, 0), 4, address_class::reserved}, // future use, and 255.255.255.255
}};

bool in_v4(std::uint32_t ip, std::uint32_t network, unsigned prefix)
{
    std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    return (ip & mask) == (network & mask);
}

address_class classify_v4(const address_v4& address)
{
    const std::uint32_t ip = address.to_uint();
    for (std::uint32_t metadata : k_v4_metadata) {
        if (ip == metadata) {
            return address_class::metadata;
        }
    }
    for (const v4_range& range : k_v4_ranges) {
        if (in_v4(ip, range.network, range.prefix)) {
            return range.kind;
        }
    }
    return address_class::public_address;
}

using v6_bytes = address_v6::bytes_type;

bool in_v6(const v6_bytes& ip, const v6_bytes& network, unsigned prefix)
{
    for (unsigned i = 0; i < 16 && prefix > 0; ++i) {
        unsigned bits = prefix >= 8 ? 8 : prefix;
        auto mask = static_cast<unsigned char>(0xff << (8 - bits));
        if ((ip[i] & mask) != (network[i] & mask)) {
            return false;
        }
        prefix -= bits;
    }
    return true;
}

v6_bytes v6(const char* text)
{
    return boost::asio::ip::make_address_v6(text).to_bytes();
}

address_v4 v4_at(const v6_bytes& ip, std::size_t offset)
{
    return address_v4(
        address_v4::bytes_type{ip[offset], ip[offset + 1], ip[offset + 2], ip[offset + 3]});
}

/// The IPv4 address an IPv6 address stands for, if it is one of the embedding forms.
std::optional<address_v4> embedded_v4(const v6_bytes& ip)
{
    static const v6_bytes k_mapped = v6("::ffff:0:0");
    static const v6_bytes k_compatible = v6("::");
    static const v6_bytes k_nat64 = v6("64:ff9b::");
    static const v6_bytes k_6to4 = v6("2002::");

    if (in_v6(ip, k_mapped, 96) || in_v6(ip, k_compatible, 96) || in_v6(ip, k_nat64, 96)) {
        return v4_at(ip, 12);
    }
    if (in_v6(ip, k_6to4, 16)) {
        return v4_at(ip, 2);
    }
    return std::nullopt;
}

struct v6_range {
    v6_bytes network;
    unsigned prefix;
    address_class kind;
};

// RFC 6890 and its updates; the first matching range wins; outside them all: reserved.
const std::array<v6_range, 10>& v6_ranges()
{
    static const std::array<v6_range, 10> k_ranges{{
        {v6("64:ff9b:1::"), 48, address_class::private_network}, // local-use NAT64 (RFC 8215)
        {v6("100::"), 64, address_class::reserved},              // discard-only
        {v6("2001::"), 23, address_class::reserved},       // IETF protocol assignments, Teredo
        {v6("2001:db8::"), 32, address_class::reserved},   // documentation
        {v6("3fff::"), 20, address_class::reserved},       // documentation (RFC 9637)
        {v6("fc00::"), 7, address_class::private_network}, // unique local
        {v6("fe80::"), 10, address_class::link_local},
        {v6("fec0::"), 10, address_class::private_network}, // deprecated site-local
        {v6("ff00::"), 8, address_class::multicast},
        {v6("2000::"), 3, address_class::public_address}, // global unicast
    }};
    return k_ranges;
}

address_class classify_v6(const address_v6& address)
{
    static const v6_bytes k_aws_metadata = v6("fd00:ec2::254");

    const v6_bytes ip = address.to_bytes();
    if (address.is_unspecified()) {
        return address_class::unspecified;
    }
    if (address.is_loopback()) {
        return address_class::loopback;
    }
    if (auto v4 = embedded_v4(ip)) {
        return classify_v4(*v4);
    }
    if (ip == k_aws_metadata) {
        return address_class::metadata;
    }
    for (const v6_range& range : v6_ranges()) {
        if (in_v6(ip, range.network, range.prefix)) {
            return range.kind;
        }
    }
    return address_class::reserved;
}

/// An IPv4-mapped IPv6 address compares equal to its IPv4 form.
address unmapped(const address& a)
{
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
    }
    return a;
}

} // namespace

address_class classify(const address& address)
{
    return address.is_v4() ? classify_v4(address.to_v4()) : classify_v6(address.to_v6());
}

bool address_permitted(const address& address, std::uint16_t port,
                       const config::upstream_config& upstream)
{
    if (!upstream.deny_private_addresses || classify(address) == address_class::public_address) {
        return true;
    }

    const boost::asio::ip::address target = unmapped(address);
    for (const config::endpoint& allowed : upstream.allow_addresses) {
        boost::system::error_code ec;
        auto allowed_address = boost::asio::ip::make_address(allowed.host, ec);
        if (!ec && unmapped(allowed_address) == target &&
            (allowed.port == 0 || allowed.port == port)) {
            return true;
        }
    }
    return false;
}

} // namespace oi::routing
