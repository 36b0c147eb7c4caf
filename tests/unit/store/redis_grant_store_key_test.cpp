#include "store/redis_grant_store.hpp"

#include <catch2/catch.hpp>

TEST_CASE("a grant's redis key is prefix, grant, connection and user", "[store][redis_key]")
{
    CHECK(oi::store::redis_grant_store::redis_key("oauth-injector", {"google", "alice"}) ==
          "oauth-injector:grant:google:alice");
    CHECK(oi::store::redis_grant_store::redis_key("p", {"plugin:slack-send", "u:1"}) ==
          "p:grant:plugin:slack-send:u:1");
}
