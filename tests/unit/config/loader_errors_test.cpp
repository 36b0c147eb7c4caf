#include "config/loader.hpp"

#include "fake_env.hpp"

#include <catch2/catch.hpp>

using namespace oi::config;
using oi::config::testing::fake_env;
using oi::config::testing::load_errors;
using oi::config::testing::single_error;

namespace {

// A connection block that is valid on its own, to add broken keys to.
constexpr std::string_view k_memory_store = "store: { memory: {} }\n";

bool is_at(const config_error& e, int line, int column, std::string_view path)
{
    return e.line == line && e.column == column && e.path == path;
}

} // namespace

TEST_CASE("an error is formatted as file, line, column, path and message", "[config][errors]")
{
    config_error e{"a.yaml", 3, 5, "store.redis.url", "not a valid redis:// URL"};

    CHECK(format_error(e) == "a.yaml:3:5: store.redis.url: not a valid redis:// URL");
    CHECK(format_error(config_error{"a.yaml", 1, 2, "", "bad"}) == "a.yaml:1:2: bad");
    CHECK(format_error(config_error{"a.yaml", 0, 0, "", "cannot read"}) == "a.yaml: cannot read");
}

TEST_CASE("a YAML syntax error is reported at its position", "[config][errors]")
{
    auto e = single_error("store: { memory: {} }\nplaceholders: [a, b\nlog: {}\n");

    CHECK(e.file == "test.yaml");
    CHECK(e.line == 3); // where yaml-cpp notices that the list was never closed
    CHECK(e.path.empty());
}

TEST_CASE("an unknown key is reported at the key", "[config][errors]")
{
    auto e = single_error("store: { memory: {} }\nlimits:\n  max_body: 1MiB\n");

    CHECK(is_at(e, 3, 3, "limits.max_body"));
    CHECK(e.message == "unknown key");
}

TEST_CASE("an unknown top-level key is reported", "[config][errors]")
{
    auto e = single_error("store: { memory: {} }\nlisten_on: x\n");

    CHECK(is_at(e, 2, 1, "listen_on"));
}

TEST_CASE("a key given twice is reported at the second one", "[config][errors]")
{
    auto e = single_error("store: { memory: {} }\nlog:\n  level: info\n  level: debug\n");

    CHECK(is_at(e, 4, 3, "log.level"));
    CHECK_THAT(e.message, Catch::Contains("given twice"));
}

TEST_CASE("a key given under both of its spellings is reported", "[config][errors]")
{
    auto e = single_error(std::string(k_memory_store) + R"(connections:
  x:
    token_url: https://x.example/token
    authorization_url: https://x.example/auth
    tokenURL: https://x.example/token2
    client_id: id
    allowed_hosts: [x.example]
)");

    CHECK(is_at(e, 6, 5, "connections.x.token_url"));
    CHECK_THAT(e.message, Catch::Contains("tokenURL"));
}

TEST_CASE("an unset environment variable is reported at its scalar", "[config][errors]")
{
    auto e = single_error("store: { memory: {} }\nlisten:\n  admin: 127.0.0.1:9090\n"
                          "admin_token: x-${NO_SUCH_VAR}\n");

    CHECK(is_at(e, 4, 14, "admin_token"));
    CHECK(e.message == "environment variable NO_SUCH_VAR is not set");
}

TEST_CASE("bad values are reported at the value", "[config][errors]")
{
    auto errors = load_errors(std::string(k_memory_store) + R"(threads: 300
limits:
  max_header_bytes: 64KB
  idle_timeout: 60
  max_connections: 0
log: { level: loud, format: xml }
listen:
  proxy: localhost
public_url: ftp://x.example
)");

    REQUIRE(errors.size() == 8);
    CHECK(is_at(errors[0], 2, 10, "threads"));
    CHECK(is_at(errors[1], 4, 21, "limits.max_header_bytes"));
    CHECK(is_at(errors[2], 5, 17, "limits.idle_timeout"));
    CHECK(is_at(errors[3], 6, 20, "limits.max_connections"));
    CHECK(is_at(errors[4], 7, 15, "log.level"));
    CHECK(errors[4].message == "expected trace, debug, info, warn, error or off");
    CHECK(is_at(errors[5], 7, 29, "log.format"));
    CHECK(is_at(errors[6], 9, 10, "listen.proxy"));
    CHECK(is_at(errors[7], 10, 13, "public_url"));
}

TEST_CASE("a zero size or duration limit is refused", "[config][errors]")
{
    auto errors = load_errors(std::string(k_memory_store) +
                              "limits: { max_body_bytes: 0, header_timeout: 0s }\n");

    REQUIRE(errors.size() == 2);
    CHECK(errors[0].path == "limits.max_body_bytes");
    CHECK(errors[0].message == "must be greater than zero");
    CHECK(errors[1].path == "limits.header_timeout");
}

TEST_CASE("the store needs exactly one of redis or memory", "[config][errors]")
{
    auto none = single_error("log: {}\n");
    auto both = single_error("store:\n  memory: {}\n  redis: {}\n  encryption_keys: []\n");

    CHECK(none.path == "store");
    CHECK(none.message == "required key is missing");
    CHECK(is_at(both, 1, 1, "store"));
    CHECK(both.message == "exactly one of redis or memory is required");
}

TEST_CASE("the redis store needs encryption keys", "[config][errors]")
{
    auto missing = single_error("store:\n  redis: { url: redis://h:6379 }\n");
    auto empty = single_error("store:\n  redis: {}\n  encryption_keys: []\n");

    CHECK(missing.path == "store.encryption_keys");
    CHECK(is_at(empty, 3, 20, "store.encryption_keys"));
}

TEST_CASE("bad encryption keys are described, not echoed", "[config][errors]")
{
    auto env = fake_env({{"SHORT", "c2hvcnQta2V5LXZhbHVl"}});

    auto errors = load_errors(R"(store:
  memory: {}
  encryption_keys:
    - { id: k1, key: "${SHORT}" }
    - { id: k1, key: "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=" }
    - { key: "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=" }
)",
                              env);

    REQUIRE(errors.size() == 3);
    CHECK(is_at(errors[0], 4, 22, "store.encryption_keys[0].key"));
    CHECK(errors[0].message == "must be standard base64 (with padding) of exactly 32 bytes");
    CHECK(is_at(errors[1], 5, 13, "store.encryption_keys[1].id"));
    CHECK(errors[2].path == "store.encryption_keys[2].id");
    for (const auto& e : errors) {
        CHECK(format_error(e).find("c2hvcnQta2V5LXZhbHVl") == std::string::npos);
    }
}

TEST_CASE("a bad redis URL is reported without its password", "[config][errors]")
{
    auto e = single_error("store:\n  redis: { url: \"redis://:hunter2@h:99999/0\" }\n"
                          "  encryption_keys: [{ id: k, key: "
                          "\"a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=\" }]\n");

    CHECK(is_at(e, 2, 17, "store.redis.url"));
    CHECK(format_error(e).find("hunter2") == std::string::npos);
}

TEST_CASE("identity settings are validated", "[config][errors]")
{
    auto errors = load_errors(std::string(k_memory_store) + R"(identity:
  user_header: "X User"
  secret: too-short
  max_ttl: 0s
)");

    REQUIRE(errors.size() == 3);
    CHECK(is_at(errors[0], 3, 16, "identity.user_header"));
    CHECK(is_at(errors[1], 4, 11, "identity.secret"));
    CHECK(errors[1].message.find("too-short") == std::string::npos);
    CHECK(is_at(errors[2], 5, 12, "identity.max_ttl"));
}

TEST_CASE("identity header names must differ", "[config][errors]")
{
    auto e = single_error(std::string(k_memory_store) +
                          "identity:\n  user_header: X-A\n  plugin_header: x-a\n");

    CHECK(e.path == "identity");
}

TEST_CASE("placeholders must be a non-empty list of short non-empty strings", "[config][errors]")
{
    auto empty = single_error(std::string(k_memory_store) + "placeholders: []\n");
    auto errors = load_errors(std::string(k_memory_store) + "placeholders: [\"\", \"" +
                              std::string(257, 'x') + "\", a, a]\n");

    CHECK(is_at(empty, 2, 15, "placeholders"));
    REQUIRE(errors.size() == 3);
    CHECK(errors[0].path == "placeholders[0]");
    CHECK(errors[1].path == "placeholders[1]");
    CHECK(errors[2].path == "placeholders[3]");
}

TEST_CASE("a connection's required keys are reported at the connection", "[config][errors]")
{
    auto errors =
        load_errors(std::string(k_memory_store) + "connections:\n  x:\n    prompt: consent\n");

    REQUIRE(errors.size() == 4);
    for (const auto& e : errors) {
        CHECK(e.line == 3);
        CHECK(e.column == 3);
        CHECK(e.message == "required key is missing");
    }
    CHECK(errors[0].path == "connections.x.authorization_url");
    CHECK(errors[3].path == "connections.x.allowed_hosts");
}

TEST_CASE("a connection's values are validated", "[config][errors]")
{
    auto errors = load_errors(std::string(k_memory_store) + R"(connections:
  bad:
    authorization_url: /auth
    token_url: ftp://x.example/token
    client_id: ""
    allowed_hosts: ["https://x.example"]
    client_auth: header
    on_missing_token: fail
    content_type: xml
    preset: dropbox
    refresh_before: soon
    extra_params: { state: x }
    scopes: ["a b"]
  "-dash": {}
)");

    std::vector<std::string> paths;
    for (const auto& e : errors) {
        paths.push_back(e.path);
    }
    CHECK(paths == std::vector<std::string>{
                       "connections.bad.authorization_url", "connections.bad.token_url",
                       "connections.bad.client_id", "connections.bad.allowed_hosts[0]",
                       "connections.bad.client_auth", "connections.bad.on_missing_token",
                       "connections.bad.content_type", "connections.bad.preset",
                       "connections.bad.refresh_before", "connections.bad.extra_params.state",
                       "connections.bad.scopes[0]", "connections.-dash"});
    CHECK(is_at(errors[0], 4, 24, "connections.bad.authorization_url"));
    CHECK(is_at(errors[9], 13, 21, "connections.bad.extra_params.state"));
}

TEST_CASE("allowed_hosts must not be empty", "[config][errors]")
{
    auto e = single_error(std::string(k_memory_store) + R"(connections:
  x:
    authorization_url: https://x.example/auth
    token_url: https://x.example/token
    client_id: id
    allowed_hosts: []
)");

    CHECK(is_at(e, 7, 20, "connections.x.allowed_hosts"));
}

TEST_CASE("a plugin needs exactly one of connection or oauth", "[config][errors]")
{
    auto errors = load_errors(std::string(k_memory_store) + R"(plugins:
  none: {}
  unknown: { connection: nope }
  own-ref: { connection: "plugin:none" }
  extra: { connection: x, color: blue }
)");

    REQUIRE(errors.size() == 5);
    CHECK(is_at(errors[0], 3, 3, "plugins.none"));
    CHECK(is_at(errors[1], 4, 26, "plugins.unknown.connection"));
    CHECK(errors[1].message == "no connection named nope under connections");
    CHECK(errors[2].path == "plugins.own-ref.connection");
    CHECK(is_at(errors[3], 6, 24, "plugins.extra.connection"));
    CHECK(is_at(errors[4], 6, 27, "plugins.extra.color"));
}

TEST_CASE("intercept needs its CA files and a known other_hosts mode", "[config][errors]")
{
    auto errors = load_errors(std::string(k_memory_store) + "intercept:\n  other_hosts: allow\n");

    REQUIRE(errors.size() == 3);
    CHECK(errors[0].path == "intercept.ca_cert");
    CHECK(errors[1].path == "intercept.ca_key");
    CHECK(is_at(errors[2], 3, 16, "intercept.other_hosts"));
}

TEST_CASE("the leaf certificate cache needs a positive bound and a lifetime of an hour or more",
          "[config][errors]")
{
    auto errors = load_errors(std::string(k_memory_store) +
                              "intercept:\n  ca_cert: a\n  ca_key: b\n  max_certificates: 0\n"
                              "  certificate_lifetime: 5m\n");

    REQUIRE(errors.size() == 2);
    CHECK(is_at(errors[0], 5, 21, "intercept.max_certificates"));
    CHECK(is_at(errors[1], 6, 25, "intercept.certificate_lifetime"));
}

TEST_CASE("upstream address exceptions and booleans are validated", "[config][errors]")
{
    auto errors = load_errors(std::string(k_memory_store) + R"(upstream:
  deny_private_addresses: yes
  allow_addresses: [localhost:80, 10.0.0.1]
)");

    REQUIRE(errors.size() == 2);
    CHECK(is_at(errors[0], 3, 27, "upstream.deny_private_addresses"));
    CHECK(is_at(errors[1], 4, 21, "upstream.allow_addresses[0]"));
}

TEST_CASE("two listeners on the same fixed address are refused", "[config][errors]")
{
    auto same = single_error(std::string(k_memory_store) +
                             "listen: { proxy: 127.0.0.1:8080, public: 127.0.0.1:8080 }\n");
    auto ephemeral = oi::config::testing::load_ok(
        std::string(k_memory_store) + "listen: { proxy: 127.0.0.1:0, public: 127.0.0.1:0 }\n");

    CHECK(is_at(same, 2, 42, "listen.public"));
    CHECK(same.message == "the same address as listen.proxy");
    CHECK(ephemeral.listen.public_listener->port == 0);
}

TEST_CASE("an admin listener needs an admin token", "[config][errors]")
{
    auto missing = single_error(std::string(k_memory_store) + "listen: { admin: 127.0.0.1:0 }\n");
    auto empty = single_error(std::string(k_memory_store) +
                              "listen: { admin: 127.0.0.1:0 }\nadmin_token: ${T:-}\n");

    CHECK(missing.path == "admin_token");
    CHECK(is_at(empty, 3, 14, "admin_token"));
}

TEST_CASE("a value of the wrong shape is reported", "[config][errors]")
{
    auto errors = load_errors(std::string(k_memory_store) + "limits: [1, 2]\nthreads: { a: 1 }\n");

    REQUIRE(errors.size() == 2);
    CHECK(is_at(errors[0], 2, 9, "limits"));
    CHECK(errors[0].message == "expected a map of keys to values");
    CHECK(is_at(errors[1], 3, 10, "threads"));
}

TEST_CASE("a document that is not a map is refused", "[config][errors]")
{
    auto e = single_error("- a\n- b\n");

    CHECK(e.message == "the configuration must be a map of sections");
}

TEST_CASE("an empty value is reported at its key", "[config][errors]")
{
    auto e = single_error("store: { memory: {} }\nlisten:\n  proxy:\nlog: {}\n");

    CHECK(is_at(e, 3, 3, "listen.proxy"));
    CHECK(e.message == "must not be empty");
}

TEST_CASE("an unreadable file is one error naming the file", "[config][errors]")
{
    auto result = load_config_file("/nonexistent/oauth-injector.yaml", process_env());

    auto& errors = std::get<std::vector<config_error>>(result);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].file == "/nonexistent/oauth-injector.yaml");
    CHECK(errors[0].line == 0);
}

TEST_CASE("client secrets and tokens never appear in errors", "[config][errors]")
{
    auto env = fake_env({{"S", "very-secret-value"}});

    auto errors = load_errors(std::string(k_memory_store) + R"(admin_token: { nested: "${S}" }
connections:
  x:
    client_secret: [ "${S}" ]
)",
                              env);

    for (const auto& e : errors) {
        CHECK(format_error(e).find("very-secret-value") == std::string::npos);
    }
}

TEST_CASE("a shared connection may not be named 'plugin', the prefix of plugins' own connections",
          "[config][errors]")
{
    auto e = single_error(std::string(k_memory_store) + R"(connections:
  plugin:
    token_url: https://x.example/token
    authorization_url: https://x.example/auth
    client_id: id
    allowed_hosts: [x.example]
)");

    CHECK(is_at(e, 3, 3, "connections.plugin"));
    CHECK_THAT(e.message, Catch::Contains("reserved"));
}

TEST_CASE("a return_to origin with a path or another scheme is refused", "[config][errors]")
{
    auto errors = load_errors(std::string(k_memory_store) +
                              "return_to_origins: [https://chat.example.com/done, ftp://x]\n");

    REQUIRE(errors.size() == 2);
    CHECK(errors[0].path == "return_to_origins[0]");
    CHECK(errors[1].path == "return_to_origins[1]");
}
