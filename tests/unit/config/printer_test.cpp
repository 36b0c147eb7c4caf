#include "config/printer.hpp"

#include "config/loader.hpp"
#include "fake_env.hpp"

#include <catch2/catch.hpp>

using namespace oi::config;
using oi::config::testing::fake_env;
using oi::config::testing::k_test_key_b64;
using oi::config::testing::load_ok;

namespace {

constexpr std::string_view k_admin = "admin-token-5f1c9e";
constexpr std::string_view k_identity = "identity-secret-0123456789abcdef0123456789";
constexpr std::string_view k_client_secret = "google-client-secret-77aa";
constexpr std::string_view k_own_secret = "plugin-own-secret-31bd";
constexpr std::string_view k_redis_password = "redis-pass-9c2e";

constexpr std::string_view k_secret_config = R"(
listen: { proxy: 127.0.0.1:8080, public: "[::1]:8081", admin: 127.0.0.1:9090 }
admin_token: ${ADMIN}
store:
  redis: { url: "redis://app:${REDIS_PASSWORD}@redis.internal:6380/2" }
  encryption_keys: [{ id: k1, key: "${KEY}" }]
identity: { secret: "${IDENTITY}" }
connections:
  google:
    preset: google
    client_id: google-id
    client_secret: ${GOOGLE_SECRET}
    scopes: https://www.googleapis.com/auth/calendar
plugins:
  cal: { connection: google }
  own:
    oauth:
      preset: microsoft
      tenant: contoso.com
      client_id: ms-id
      client_secret: ${OWN_SECRET}
)";

env_lookup secret_env()
{
    return fake_env({{"ADMIN", std::string(k_admin)},
                     {"IDENTITY", std::string(k_identity)},
                     {"GOOGLE_SECRET", std::string(k_client_secret)},
                     {"OWN_SECRET", std::string(k_own_secret)},
                     {"REDIS_PASSWORD", std::string(k_redis_password)},
                     {"KEY", std::string(k_test_key_b64)}});
}

} // namespace

TEST_CASE("the printed config never contains a secret, only the mask", "[config][printer]")
{
    auto c = load_ok(k_secret_config, secret_env());

    const std::string printed = print_config(c);

    for (std::string_view secret_text :
         {k_admin, k_identity, k_client_secret, k_own_secret, k_redis_password, k_test_key_b64}) {
        INFO(secret_text);
        CHECK(printed.find(secret_text) == std::string::npos);
    }
    const std::string raw_key(c.store.encryption_keys.at(0).key);
    CHECK(printed.find(raw_key) == std::string::npos);
    CHECK_THAT(printed, Catch::Contains("admin_token: \"" + std::string(k_masked) + "\"") ||
                            Catch::Contains("admin_token: " + std::string(k_masked)));
    CHECK_THAT(printed, Catch::Contains("redis://app@redis.internal:6380/2"));
}

TEST_CASE("the printed config shows what presets and substitution filled in", "[config][printer]")
{
    auto c = load_ok(k_secret_config, secret_env());

    const std::string printed = print_config(c);

    CHECK_THAT(printed, Catch::Contains("token_url: https://oauth2.googleapis.com/token"));
    CHECK_THAT(printed, Catch::Contains("access_type: offline"));
    CHECK_THAT(printed, Catch::Contains("client_id: google-id"));
    CHECK_THAT(printed,
               Catch::Contains("https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"));
    CHECK_THAT(printed, Catch::Contains("[offline_access, User.Read]"));
    CHECK_THAT(printed, Catch::Contains("public: \"[::1]:8081\""));
}

TEST_CASE("a printed config without secrets loads back into the same config", "[config][printer]")
{
    auto first = load_ok(R"(
listen: { proxy: 127.0.0.1:0 }
store: { memory: {}, cache_ttl: 1500ms }
placeholders: ["{T}", "<T>"]
connections:
  slack:
    preset: slack
    client_id: s-id
    scopes: [chat:write, "channels:read"]
    token_source: authed_user
    extra_params: { user_scope: "search:read" }
  custom:
    authorization_url: https://x.example/a?tenant=1
    token_url: https://x.example/t
    client_id: "0123"
    content_type: json
    client_auth: basic
    allowed_hosts: ["*.x.example"]
    refresh_before: 90s
plugins:
  s: { connection: slack }
  own: { oauth: { preset: github, client_id: gh } }
upstream: { allow_addresses: [127.0.0.1:18080, "[::1]:443", 10.0.0.1], deny_private_addresses: false }
intercept:
  { ca_cert: ca.pem, ca_key: ca.key, other_hosts: tunnel, max_certificates: 20,
    certificate_lifetime: 3h }
limits: { max_body_bytes: 1000, max_header_bytes: 8KiB, idle_timeout: 2h }
log: { level: debug, format: text }
)");

    const std::string printed = print_config(first);
    auto second = load_ok(printed);

    CHECK(print_config(second) == printed);
    CHECK(second.connections.at("custom").client_id == "0123");
    CHECK(second.connections.at("slack").token_from == token_source::authed_user);
    CHECK(second.store.cache_ttl == first.store.cache_ttl);
    CHECK(second.limits.max_body_bytes == 1000);
    CHECK(second.intercept.max_certificates == 20);
    CHECK(second.intercept.certificate_lifetime == first.intercept.certificate_lifetime);
}
