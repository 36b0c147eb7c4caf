#include "config/loader.hpp"

#include "fake_env.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using namespace oi::config;
using oi::config::testing::fake_env;
using oi::config::testing::k_test_key_b64;
using oi::config::testing::load_ok;

TEST_CASE("a config with only a memory store gets every documented default", "[config][loader]")
{
    auto c = load_ok("store: { memory: {} }\n");

    CHECK(c.source_path == "test.yaml");
    CHECK(c.store.type == store_config::kind::memory);
    CHECK(c.listen.proxy.host == "127.0.0.1");
    CHECK(c.listen.proxy.port == 8080);
    CHECK_FALSE(c.listen.admin);
    CHECK(c.public_url == "http://127.0.0.1:8081");
    CHECK(c.identity.user_header == "X-Plugin-User");
    CHECK(c.identity.secret_key.empty());
    CHECK(c.identity.max_ttl == 10min);
    CHECK(c.placeholders.size() == 2);
    CHECK(c.limits.max_body_bytes == 16u * 1024 * 1024);
    CHECK(c.limits.header_timeout == 30s);
    CHECK_FALSE(c.intercept.enabled);
    CHECK(c.upstream.deny_private_addresses);
}

TEST_CASE("every section is read into its struct", "[config][loader]")
{
    auto env = fake_env({{"ADMIN", "admin-tok"},
                         {"KEY", std::string(k_test_key_b64)},
                         {"SECRET", std::string(40, 's')}});

    auto c = load_ok(R"(
listen:
  proxy: 127.0.0.1:0
  public: "[::1]:8081"
  admin: localhost:9090
public_url: https://auth.example.com/
admin_token: ${ADMIN}
threads: 4
store:
  redis:
    url: redis://:pw@redis.internal:6380/3
    key_prefix: oi-test
    sentinel: { master: mymaster, nodes: [10.0.0.1:26379, "[::1]:26380"] }
  cache_ttl: 2s
  cache_max_entries: 500
  encryption_keys:
    - { id: k2, key: "${KEY}" }
    - { id: k1, key: "${KEY}" }
identity:
  user_header: X-User
  plugin_header: X-Plugin
  token_header: X-Token
  secret: ${SECRET}
  max_ttl: 2m
placeholders: ["$$TOKEN"]
upstream:
  ca_file: /etc/extra.pem
  connect_timeout: 500ms
  response_timeout: 2m
  deny_private_addresses: false
  allow_addresses: [127.0.0.1:18080, 10.1.2.3, "[::1]:443"]
  pool_idle_timeout: 10s
  pool_max_idle_per_host: 0
intercept:
  { ca_cert: ca.pem, ca_key: ca.key, other_hosts: tunnel, max_certificates: 500,
    certificate_lifetime: 2h }
limits:
  max_header_bytes: 8KiB
  max_body_bytes: 1GiB
  idle_timeout: 5s
  header_timeout: 1s
  max_connections: 50
log: { level: debug, format: text }
)",
                     env);

    CHECK(c.listen.proxy.port == 0);
    CHECK(c.listen.public_listener->host == "::1");
    CHECK(c.listen.admin->host == "localhost");
    CHECK(c.public_url == "https://auth.example.com");
    CHECK(c.admin_token.reveal() == "admin-tok");
    CHECK(c.threads == 4);
    CHECK(c.store.type == store_config::kind::redis);
    CHECK(c.store.redis.url == "redis://redis.internal:6380/3");
    CHECK(c.store.redis.password.reveal() == "pw");
    CHECK(c.store.redis.key_prefix == "oi-test");
    CHECK(c.store.redis.sentinel->master == "mymaster");
    CHECK(c.store.redis.sentinel->nodes.size() == 2);
    CHECK(c.store.cache_ttl == 2s);
    CHECK(c.store.cache_max_entries == 500);
    REQUIRE(c.store.encryption_keys.size() == 2);
    CHECK(c.store.encryption_keys[0].id == "k2");
    CHECK(c.store.encryption_keys[0].key == std::string(32, 'k'));
    CHECK(c.identity.user_header == "X-User");
    CHECK(c.identity.secret_key.size() == 40);
    CHECK(c.identity.max_ttl == 2min);
    CHECK(c.placeholders == std::vector<std::string>{"$TOKEN"});
    CHECK(c.upstream.ca_file == "/etc/extra.pem");
    CHECK(c.upstream.connect_timeout == 500ms);
    CHECK_FALSE(c.upstream.deny_private_addresses);
    REQUIRE(c.upstream.allow_addresses.size() == 3);
    CHECK(c.upstream.allow_addresses[0].port == 18080);
    CHECK(c.upstream.allow_addresses[1].port == 0);
    CHECK(c.upstream.allow_addresses[2].host == "::1");
    CHECK(c.upstream.pool_idle_timeout == 10s);
    CHECK(c.upstream.pool_max_idle_per_host == 0);
    CHECK(c.intercept.enabled);
    CHECK(c.intercept.other_hosts == intercept_config::other_hosts_mode::tunnel);
    CHECK(c.intercept.max_certificates == 500);
    CHECK(c.intercept.certificate_lifetime == 2h);
    CHECK(c.limits.max_header_bytes == 8192);
    CHECK(c.limits.max_body_bytes == 1024u * 1024 * 1024);
    CHECK(c.limits.header_timeout == 1s);
    CHECK(c.limits.max_connections == 50);
    CHECK(c.log.level == "debug");
    CHECK(c.log.format == log_config::format_kind::text);
}

TEST_CASE("a redis password may be given on its own", "[config][loader]")
{
    auto env = fake_env({{"REDIS_PASSWORD", "p@ss:word"}});

    auto c = load_ok(std::string(R"(
store:
  redis: { url: "redis://127.0.0.1:6379/0", password: "${REDIS_PASSWORD}" }
  encryption_keys: [{ id: k1, key: ")") +
                         std::string(k_test_key_b64) + "\" }]\n",
                     env);

    CHECK(c.store.redis.password.reveal() == "p@ss:word");
}

TEST_CASE("a sentinel block takes its own password and writes can wait for replicas",
          "[config][loader]")
{
    auto env = fake_env({{"SENTINEL_PASSWORD", "sentinel-pw"}});

    auto c = load_ok(std::string(R"(
store:
  redis:
    url: "redis://:data-pw@ignored:6379/2"
    sentinel: { master: m1, nodes: [127.0.0.1:26379], password: "${SENTINEL_PASSWORD}" }
    wait_replicas: 1
    wait_timeout: 300ms
  encryption_keys: [{ id: k1, key: ")") +
                         std::string(k_test_key_b64) + "\" }]\n",
                     env);

    REQUIRE(c.store.redis.sentinel);
    CHECK(c.store.redis.sentinel->password.reveal() == "sentinel-pw");
    CHECK(c.store.redis.password.reveal() == "data-pw");
    CHECK(c.store.redis.database == 2);
    CHECK(c.store.redis.wait_replicas == 1);
    CHECK(c.store.redis.wait_timeout == 300ms);
}

TEST_CASE("a connection is read with all its keys", "[config][loader]")
{
    auto env = fake_env({{"CID", "client-1"}, {"CSECRET", "shh"}});

    auto c = load_ok(R"(
store: { memory: }
connections:
  google:
    preset: google
    authorization_url: https://accounts.google.com/o/oauth2/v2/auth
    token_url: https://oauth2.googleapis.com/token
    revocation_url: https://oauth2.googleapis.com/revoke
    client_id: ${CID}
    client_secret: ${CSECRET}
    scopes: "openid  email https://www.googleapis.com/auth/calendar"
    prompt: consent
    access_type: offline
    content_type: json
    client_auth: basic
    extra_params: { hd: example.com, login_hint: "${HINT:-}" }
    allowed_hosts: [WWW.GoogleAPIs.com, "*.googleapis.com."]
    on_missing_token: reject
    refresh_before: 2m
)",
                     env);

    const connection& g = c.connections.at("google");
    CHECK(g.id == "google");
    CHECK(g.preset == "google");
    CHECK(g.revocation_url == "https://oauth2.googleapis.com/revoke");
    CHECK(g.client_id == "client-1");
    CHECK(g.client_secret.reveal() == "shh");
    CHECK(g.scopes ==
          std::vector<std::string>{"openid", "email", "https://www.googleapis.com/auth/calendar"});
    CHECK(g.prompt == "consent");
    CHECK(g.access_type == "offline");
    CHECK(g.token_content_type == content_type::json);
    CHECK(g.auth_method == client_auth::basic);
    CHECK(g.extra_params ==
          std::map<std::string, std::string>{{"hd", "example.com"}, {"login_hint", ""}});
    CHECK(g.allowed_hosts == std::vector<std::string>{"www.googleapis.com", "*.googleapis.com"});
    CHECK(g.missing == on_missing_token::reject);
    CHECK(g.refresh_before == 2min);
}

TEST_CASE("a connection gets the documented defaults", "[config][loader]")
{
    auto c = load_ok(R"(
store: { memory: {} }
connections:
  x:
    authorization_url: https://x.example/auth
    token_url: https://x.example/token
    client_id: id
    allowed_hosts: [api.x.example]
)");

    const connection& x = c.connections.at("x");
    CHECK(x.client_secret.empty());
    CHECK(x.scopes.empty());
    CHECK(x.token_content_type == content_type::form);
    CHECK(x.auth_method == client_auth::post);
    CHECK(x.missing == on_missing_token::empty);
    CHECK(x.refresh_before == 60s);
}

TEST_CASE("a plugin manifest's oauthConfig block pastes in unchanged", "[config][loader]")
{
    auto c = load_ok(R"(
store: { memory: {} }
plugins:
  slack-send:
    oauth:
      authorizationURL: https://slack.com/oauth/v2/authorize
      tokenURL: https://slack.com/api/oauth.v2.access
      clientId: abc
      clientSecret: def
      scopes: [chat:write, channels:read]
      contentType: application/json
      prompt: consent
      accessType: offline
      allowed_hosts: [slack.com]
)");

    const connection& s = c.connections.at("plugin:slack-send");
    CHECK(s.authorization_url == "https://slack.com/oauth/v2/authorize");
    CHECK(s.token_url == "https://slack.com/api/oauth.v2.access");
    CHECK(s.client_id == "abc");
    CHECK(s.client_secret.reveal() == "def");
    CHECK(s.scopes == std::vector<std::string>{"chat:write", "channels:read"});
    CHECK(s.token_content_type == content_type::json);
    CHECK(s.access_type == "offline");
}

TEST_CASE("content_type accepts the short names and the media types", "[config][loader]")
{
    auto read = [](std::string_view value) {
        auto c = load_ok(std::string(R"(
store: { memory: {} }
connections:
  x:
    authorization_url: https://x.example/auth
    token_url: https://x.example/token
    client_id: id
    allowed_hosts: [x.example]
    content_type: )") + std::string(value) +
                         "\n");
        return c.connections.at("x").token_content_type;
    };

    CHECK(read("form") == content_type::form);
    CHECK(read("application/x-www-form-urlencoded") == content_type::form);
    CHECK(read("json") == content_type::json);
    CHECK(read("application/json") == content_type::json);
}

TEST_CASE("plugins use a shared connection or carry their own", "[config][loader]")
{
    auto c = load_ok(R"(
store: { memory: {} }
plugins:
  cal: { connection: google }
  drive: { connection: google }
  own:
    oauth:
      authorization_url: https://o.example/auth
      token_url: https://o.example/token
      client_id: o
      allowed_hosts: [api.o.example]
connections:
  google:
    authorization_url: https://accounts.google.com/o/oauth2/v2/auth
    token_url: https://oauth2.googleapis.com/token
    client_id: g
    allowed_hosts: [www.googleapis.com]
)");

    CHECK(c.plugins.at("cal").connection_id == "google");
    CHECK(c.plugins.at("drive").connection_id == "google");
    CHECK(c.plugins.at("own").connection_id == "plugin:own");
    CHECK(c.plugins.at("own").id == "own");
    CHECK(c.connections.at("plugin:own").id == "plugin:own");
    CHECK(c.connections.size() == 2);
}

TEST_CASE("return_to_origins are read as normalized origins", "[config][loader]")
{
    auto c = load_ok(R"(
store: { memory: {} }
return_to_origins: ["https://Chat.Example.com:443", "http://127.0.0.1:3000/"]
)");

    REQUIRE(c.return_to_origins.size() == 2);
    CHECK(c.return_to_origins[0] == "https://chat.example.com");
    CHECK(c.return_to_origins[1] == "http://127.0.0.1:3000");
}
