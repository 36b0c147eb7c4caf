#include "routing/routing.hpp"

#include <catch2/catch.hpp>

using namespace oi;
using routing::host_allowed;
using routing::normalize_host;

namespace {

config::config two_plugins_one_shared_connection()
{
    config::config c;
    c.connections["google"] = config::connection{.id = "google"};
    c.connections["plugin:own"] = config::connection{.id = "plugin:own"};
    c.plugins["cal"] = config::plugin{"cal", "google"};
    c.plugins["drive"] = config::plugin{"drive", "google"};
    c.plugins["own"] = config::plugin{"own", "plugin:own"};
    return c;
}

config::connection allowing(std::vector<std::string> hosts)
{
    config::connection c;
    c.allowed_hosts = std::move(hosts);
    return c;
}

} // namespace

TEST_CASE("the registry finds each plugin with its connection", "[routing]")
{
    const auto cfg = two_plugins_one_shared_connection();
    const routing::connection_registry registry(cfg);

    auto cal = registry.find("cal");
    auto drive = registry.find(std::string_view("drive"));
    auto own = registry.find("own");

    REQUIRE(cal);
    REQUIRE(drive);
    REQUIRE(own);
    CHECK(cal->plugin->id == "cal");
    CHECK(cal->connection == drive->connection);
    CHECK(cal->connection->id == "google");
    CHECK(own->connection->id == "plugin:own");
    CHECK(registry.size() == 3);
}

TEST_CASE("the registry does not know unconfigured plugins", "[routing]")
{
    const auto cfg = two_plugins_one_shared_connection();
    const routing::connection_registry registry(cfg);

    CHECK_FALSE(registry.find("unknown"));
    CHECK_FALSE(registry.find(""));
    CHECK_FALSE(registry.find("CAL"));
    CHECK_FALSE(registry.find("google"));
}

TEST_CASE("the registry refuses a plugin whose connection is missing", "[routing]")
{
    auto cfg = two_plugins_one_shared_connection();
    cfg.plugins["broken"] = config::plugin{"broken", "nope"};

    CHECK_THROWS_AS(routing::connection_registry(cfg), std::invalid_argument);
}

TEST_CASE("an exact allowed host matches only itself", "[routing]")
{
    auto c = allowing({"api.example.com"});

    CHECK(host_allowed(c, "api.example.com"));
    CHECK_FALSE(host_allowed(c, "example.com"));
    CHECK_FALSE(host_allowed(c, "x.api.example.com"));
    CHECK_FALSE(host_allowed(c, "api.example.com.evil.net"));
    CHECK_FALSE(host_allowed(c, ""));
}

TEST_CASE("a wildcard matches one or more labels below its suffix, not the suffix", "[routing]")
{
    auto c = allowing({"*.googleapis.com"});

    CHECK(host_allowed(c, "www.googleapis.com"));
    CHECK(host_allowed(c, "a.b.googleapis.com"));
    CHECK_FALSE(host_allowed(c, "googleapis.com"));
    CHECK_FALSE(host_allowed(c, "evilgoogleapis.com"));
    CHECK_FALSE(host_allowed(c, ".googleapis.com"));
    CHECK_FALSE(host_allowed(c, "www.googleapis.com.evil.net"));
}

TEST_CASE("IP hosts only match exact entries", "[routing]")
{
    auto c = allowing({"*.0.0.1", "10.0.0.5", "::1"});

    CHECK_FALSE(host_allowed(c, "127.0.0.1"));
    CHECK(host_allowed(c, "10.0.0.5"));
    CHECK(host_allowed(c, normalize_host("[0:0::1]")));
}

TEST_CASE("hosts are normalized to lower case without a trailing dot", "[routing]")
{
    CHECK(normalize_host("API.Example.COM") == "api.example.com");
    CHECK(normalize_host("api.example.com.") == "api.example.com");
    CHECK(normalize_host("xn--bcher-kva.example") == "xn--bcher-kva.example");
    CHECK(normalize_host("10.0.0.1") == "10.0.0.1");
    CHECK(normalize_host("my_service.local") == "my_service.local");
}

TEST_CASE("IPv6 literals lose their brackets and take canonical form", "[routing]")
{
    CHECK(normalize_host("[::1]") == "::1");
    CHECK(normalize_host("[2001:DB8:0:0::1]") == "2001:db8::1");
    CHECK(normalize_host("[fe80::1%eth0]").empty());
    CHECK(normalize_host("[not-v6]").empty());
    CHECK(normalize_host("::1").empty());
}

TEST_CASE("hosts that cannot be matched safely normalize to nothing", "[routing]")
{
    CHECK(normalize_host("").empty());
    CHECK(normalize_host(".").empty());
    CHECK(normalize_host("a..b").empty());
    CHECK(normalize_host(".example.com").empty());
    CHECK(normalize_host("example.com..").empty());
    CHECK(normalize_host("b\xc3\xbc"
                         "cher.example")
              .empty());
    CHECK(normalize_host("example.com:443").empty());
    CHECK(normalize_host("user@example.com").empty());
    CHECK(normalize_host("exa%6dple.com").empty());
    CHECK(normalize_host("exa mple.com").empty());
    CHECK(normalize_host(std::string_view("a\0b", 3)).empty());
}
