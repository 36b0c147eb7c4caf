#include "routing/address_policy.hpp"

#include <catch2/catch.hpp>

using namespace oi;
using routing::address_class;
using routing::address_permitted;
using routing::classify;

namespace {

address_class of(const char* text)
{
    return classify(boost::asio::ip::make_address(text));
}

bool permitted(const char* text, std::uint16_t port, const config::upstream_config& upstream)
{
    return address_permitted(boost::asio::ip::make_address(text), port, upstream);
}

} // namespace

TEST_CASE("public IPv4 and IPv6 addresses are public", "[routing][address]")
{
    CHECK(of("8.8.8.8") == address_class::public_address);
    CHECK(of("142.250.74.206") == address_class::public_address);
    CHECK(of("100.63.255.255") == address_class::public_address);
    CHECK(of("100.128.0.0") == address_class::public_address);
    CHECK(of("172.32.0.1") == address_class::public_address);
    CHECK(of("2607:f8b0:4004:800::200e") == address_class::public_address);
    CHECK(of("2a00:1450:4001:82a::200e") == address_class::public_address);
}

TEST_CASE("IPv4 special ranges are classified", "[routing][address]")
{
    CHECK(of("0.0.0.0") == address_class::unspecified);
    CHECK(of("0.1.2.3") == address_class::reserved);
    CHECK(of("10.1.2.3") == address_class::private_network);
    CHECK(of("100.64.0.1") == address_class::cgnat);
    CHECK(of("100.127.255.255") == address_class::cgnat);
    CHECK(of("127.0.0.1") == address_class::loopback);
    CHECK(of("127.255.0.9") == address_class::loopback);
    CHECK(of("169.254.1.1") == address_class::link_local);
    CHECK(of("172.16.0.1") == address_class::private_network);
    CHECK(of("172.31.255.255") == address_class::private_network);
    CHECK(of("192.168.1.1") == address_class::private_network);
    CHECK(of("192.0.2.1") == address_class::reserved);
    CHECK(of("198.51.100.7") == address_class::reserved);
    CHECK(of("203.0.113.9") == address_class::reserved);
    CHECK(of("198.18.0.1") == address_class::reserved);
    CHECK(of("224.0.0.1") == address_class::multicast);
    CHECK(of("239.255.255.250") == address_class::multicast);
    CHECK(of("240.0.0.1") == address_class::reserved);
    CHECK(of("255.255.255.255") == address_class::reserved);
}

TEST_CASE("cloud metadata addresses are their own class", "[routing][address]")
{
    CHECK(of("169.254.169.254") == address_class::metadata);
    CHECK(of("169.254.170.2") == address_class::metadata);
    CHECK(of("192.0.0.192") == address_class::metadata);
    CHECK(of("100.100.100.200") == address_class::metadata);
    CHECK(of("fd00:ec2::254") == address_class::metadata);
    CHECK(of("::ffff:169.254.169.254") == address_class::metadata);
}

TEST_CASE("IPv6 special ranges are classified", "[routing][address]")
{
    CHECK(of("::") == address_class::unspecified);
    CHECK(of("::1") == address_class::loopback);
    CHECK(of("fe80::1") == address_class::link_local);
    CHECK(of("febf::1") == address_class::link_local);
    CHECK(of("fc00::1") == address_class::private_network);
    CHECK(of("fd12:3456::1") == address_class::private_network);
    CHECK(of("fec0::1") == address_class::private_network);
    CHECK(of("ff02::1") == address_class::multicast);
    CHECK(of("2001:db8::1") == address_class::reserved);
    CHECK(of("2001:0:4136:e378::1") == address_class::reserved); // Teredo
    CHECK(of("100::1") == address_class::reserved);
    CHECK(of("3fff::1") == address_class::reserved);
    CHECK(of("4000::1") == address_class::reserved); // outside global unicast
    CHECK(of("64:ff9b:1::1") == address_class::private_network);
}

TEST_CASE("IPv6 addresses carrying IPv4 are judged by the IPv4 address", "[routing][address]")
{
    CHECK(of("::ffff:127.0.0.1") == address_class::loopback);
    CHECK(of("::ffff:10.0.0.1") == address_class::private_network);
    CHECK(of("::ffff:8.8.8.8") == address_class::public_address);
    CHECK(of("::127.0.0.1") == address_class::loopback);
    CHECK(of("::10.0.0.1") == address_class::private_network);
    CHECK(of("64:ff9b::192.168.0.1") == address_class::private_network);
    CHECK(of("64:ff9b::8.8.8.8") == address_class::public_address);
    CHECK(of("2002:7f00:1::1") == address_class::loopback);
    CHECK(of("2002:a9fe:a9fe::1") == address_class::metadata);
    CHECK(of("2002:0808:0808::1") == address_class::public_address);
}

TEST_CASE("non-public addresses are denied unless listed as exceptions", "[routing][address]")
{
    config::upstream_config upstream;
    upstream.allow_addresses = {{"127.0.0.1", 18080}, {"10.0.0.7", 0}, {"::1", 443}};

    CHECK(permitted("8.8.8.8", 443, upstream));
    CHECK(permitted("127.0.0.1", 18080, upstream));
    CHECK(permitted("::ffff:127.0.0.1", 18080, upstream));
    CHECK_FALSE(permitted("127.0.0.1", 18081, upstream));
    CHECK_FALSE(permitted("127.0.0.2", 18080, upstream));
    CHECK(permitted("10.0.0.7", 1, upstream));
    CHECK(permitted("10.0.0.7", 65535, upstream));
    CHECK(permitted("::1", 443, upstream));
    CHECK_FALSE(permitted("::1", 80, upstream));
    CHECK_FALSE(permitted("169.254.169.254", 80, upstream));
    CHECK_FALSE(permitted("0.0.0.0", 18080, upstream));
}

TEST_CASE("with deny_private_addresses off every address is permitted", "[routing][address]")
{
    config::upstream_config upstream;
    upstream.deny_private_addresses = false;

    CHECK(permitted("127.0.0.1", 80, upstream));
    CHECK(permitted("169.254.169.254", 80, upstream));
    CHECK(permitted("fd00::1", 80, upstream));
}
