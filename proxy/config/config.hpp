#pragma once

// The proxy's configuration as plain data. `load_config` (loader.hpp) fills it from YAML once;
// nothing else in the proxy reads YAML. Field defaults here are the documented defaults of
// SPEC.md and config/oauth-injector.yaml.

#include "common/secret.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace oi::config {

using duration = std::chrono::milliseconds;

/// host:port as written in the config (a listener or an address exception).
struct endpoint {
    std::string host;
    std::uint16_t port = 0;
};

struct listen_config {
    endpoint proxy{"127.0.0.1", 8080};
    std::optional<endpoint> public_listener{}; // YAML key `public`
    std::optional<endpoint> admin{};
};

struct encryption_key {
    std::string id;
    std::string key; // 32 raw bytes (decoded from base64 by the loader)
};

struct sentinel_config {
    std::string master;
    std::vector<endpoint> nodes;
    secret password; // for the sentinels themselves (their `requirepass`); empty: none
};

struct redis_config {
    std::string url = "redis://127.0.0.1:6379/0"; // as written, password removed
    std::string host = "127.0.0.1";               // parsed from url
    std::uint16_t port = 6379;
    int database = 0;
    std::optional<std::string> username;
    secret password;
    std::string key_prefix = "oauth-injector";
    std::optional<sentinel_config> sentinel;
    // After each grant write or delete, `WAIT wait_replicas wait_timeout`: the write fails
    // (store_unavailable) unless that many replicas acknowledged it. 0: no WAIT.
    std::uint64_t wait_replicas = 0;
    duration wait_timeout = std::chrono::milliseconds(200);
};

struct store_config {
    enum class kind { redis, memory };
    kind type = kind::redis;
    redis_config redis;
    std::vector<encryption_key> encryption_keys;  // first encrypts, all decrypt
    duration cache_ttl = std::chrono::seconds(5); // how long a worker trusts a cached grant
    std::uint64_t cache_max_entries = 100000;     // per worker
    // Bounds one token refresh (the token endpoint exchange) and how long a request waits for
    // one; the cross-replica refresh lock lives this long plus a margin.
    duration refresh_timeout = std::chrono::seconds(10);
};

struct identity_config {
    std::string user_header = "X-Plugin-User";
    std::string plugin_header = "X-Plugin-Id";
    std::string token_header = "X-Plugin-Identity";
    secret secret_key; // YAML key `secret`; empty: unsigned mode
    duration max_ttl = std::chrono::minutes(10);
};

enum class content_type { form, json };
enum class client_auth { post, basic };
enum class on_missing_token { empty, reject };
/// Where a token endpoint's answer carries the token to inject: at the top level (RFC 6749
/// section 5.1), or under Slack OAuth v2's `authed_user` (the user token, as opposed to the bot
/// token at the top level). See oauth::token_response_options.
enum class token_source { top_level, authed_user };

/// One OAuth client registration. A shared connection lives under `connections:`; a plugin's own
/// connection (under `plugins.<id>.oauth`) gets the id `plugin:<plugin id>`. With a `preset`, the
/// loader has already merged the preset's defaults in (config/presets.hpp): these are the
/// effective values.
struct connection {
    std::string id;
    std::string preset; // empty when none
    std::string tenant; // microsoft preset only: the tenant in its endpoints
    std::string authorization_url;
    std::string token_url;
    std::string revocation_url; // empty when none
    std::string client_id;
    secret client_secret; // empty: public client
    std::vector<std::string> scopes;
    char scope_separator = ' '; // joins `scopes` in the authorization request (Slack: ',')
    std::string prompt;         // empty: not sent
    std::string access_type;    // empty: not sent
    content_type token_content_type = content_type::form;
    client_auth auth_method = client_auth::post;
    std::map<std::string, std::string> extra_params;
    std::vector<std::string> allowed_hosts; // lower-case; may start with "*."; never empty
    on_missing_token missing = on_missing_token::empty;
    token_source token_from = token_source::top_level; // YAML key `token_source`
    duration refresh_before = std::chrono::seconds(60);
};

struct plugin {
    std::string id;
    std::string connection_id; // a key of config::connections (own connection: "plugin:<id>")
};

struct upstream_config {
    std::string ca_file;
    duration connect_timeout = std::chrono::seconds(5);
    duration response_timeout = std::chrono::seconds(60);
    bool deny_private_addresses = true;
    std::vector<endpoint> allow_addresses; // port 0: any port
    duration pool_idle_timeout = std::chrono::seconds(30);
    std::uint64_t pool_max_idle_per_host = 64;
};

struct intercept_config {
    std::string ca_cert;
    std::string ca_key;
    enum class other_hosts_mode { deny, tunnel };
    other_hosts_mode other_hosts = other_hosts_mode::deny;
    std::uint64_t max_certificates = 10'000; // hosts whose leaf is kept (least recently used go)
    duration certificate_lifetime = std::chrono::hours(24 * 7); // a leaf is reused for half of it
    bool enabled = false; // true when the `intercept` section is present
};

struct limits_config {
    std::uint64_t max_header_bytes = 64 * 1024;
    std::uint64_t max_body_bytes = 16 * 1024 * 1024;
    duration idle_timeout = std::chrono::seconds(60);
    duration header_timeout = std::chrono::seconds(30); // whole request head must arrive in this
    std::uint64_t max_connections = 10000;
    // SIGTERM: how long requests in flight may still run before their connections are cut.
    duration shutdown_timeout = std::chrono::seconds(30);
};

struct log_config {
    enum class format_kind { json, text };
    std::string level = "info";
    format_kind format = format_kind::json;
    // Carries the request id to the upstream; empty: not sent. A well-formed incoming value is
    // kept (the runner's id), anything else is replaced by the proxy's own.
    std::string request_id_header = "X-Request-Id";
    bool include_user = false; // the end user's id in the access log line
};

struct config {
    std::string source_path; // the file it was loaded from
    listen_config listen;
    std::string public_url = "http://127.0.0.1:8081";
    // Origins (`scheme://host[:port]`, normalized by url_origin) that an authorize link's
    // return_to may point into; empty: return_to is refused.
    std::vector<std::string> return_to_origins;
    secret admin_token;
    unsigned threads = 0; // 0: one per core
    store_config store;
    identity_config identity;
    std::vector<std::string> placeholders{"{OAUTH_PLUGIN_ACCESS_TOKEN}",
                                          "<OAUTH_PLUGIN_ACCESS_TOKEN>"};
    std::map<std::string, connection> connections; // shared ones and plugins' own ones
    std::map<std::string, plugin> plugins;
    upstream_config upstream;
    intercept_config intercept;
    limits_config limits;
    log_config log;
};

} // namespace oi::config
