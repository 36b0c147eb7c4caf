#include "config/printer.hpp"

#include <yaml-cpp/yaml.h>

#include <array>
#include <utility>

namespace oi::config {

namespace {

std::string masked(const secret& value)
{
    return value.empty() ? std::string() : std::string(k_masked);
}

/// The largest unit that states the duration exactly, as the loader reads it back.
std::string duration_text(duration d)
{
    const auto ms = d.count();
    if (ms != 0 && ms % 3'600'000 == 0) {
        return std::to_string(ms / 3'600'000) + "h";
    }
    if (ms != 0 && ms % 60'000 == 0) {
        return std::to_string(ms / 60'000) + "m";
    }
    if (ms % 1000 == 0) {
        return std::to_string(ms / 1000) + "s";
    }
    return std::to_string(ms) + "ms";
}

std::string size_text(std::uint64_t bytes)
{
    constexpr std::array<std::pair<std::uint64_t, const char*>, 3> k_units{
        {{1ULL << 30, "GiB"}, {1ULL << 20, "MiB"}, {1ULL << 10, "KiB"}}};
    for (const auto& [unit, name] : k_units) {
        if (bytes != 0 && bytes % unit == 0) {
            return std::to_string(bytes / unit) + name;
        }
    }
    return std::to_string(bytes);
}

/// host:port; `any_port` leaves out port 0 (an address exception for every port).
std::string endpoint_text(const endpoint& e, bool any_port = false)
{
    const bool ipv6 = e.host.find(':') != std::string::npos;
    std::string host = ipv6 ? "[" + e.host + "]" : e.host;
    return any_port && e.port == 0 ? host : host + ":" + std::to_string(e.port);
}

void strings(YAML::Emitter& out, const char* key, const std::vector<std::string>& values)
{
    out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const std::string& v : values) {
        out << v;
    }
    out << YAML::EndSeq;
}

void endpoints(YAML::Emitter& out, const char* key, const std::vector<endpoint>& values,
               bool any_port = false)
{
    out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const endpoint& e : values) {
        out << endpoint_text(e, any_port);
    }
    out << YAML::EndSeq;
}

void listen(YAML::Emitter& out, const listen_config& l)
{
    out << YAML::Key << "listen" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "proxy" << YAML::Value << endpoint_text(l.proxy);
    if (l.public_listener) {
        out << YAML::Key << "public" << YAML::Value << endpoint_text(*l.public_listener);
    }
    if (l.admin) {
        out << YAML::Key << "admin" << YAML::Value << endpoint_text(*l.admin);
    }
    out << YAML::EndMap;
}

void redis(YAML::Emitter& out, const redis_config& r)
{
    out << YAML::Key << "redis" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "url" << YAML::Value << r.url; // the loader removed any password
    out << YAML::Key << "password" << YAML::Value << masked(r.password);
    out << YAML::Key << "key_prefix" << YAML::Value << r.key_prefix;
    if (r.sentinel) {
        out << YAML::Key << "sentinel" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "master" << YAML::Value << r.sentinel->master;
        endpoints(out, "nodes", r.sentinel->nodes);
        out << YAML::EndMap;
    }
    out << YAML::EndMap;
}

void store(YAML::Emitter& out, const store_config& s)
{
    out << YAML::Key << "store" << YAML::Value << YAML::BeginMap;
    if (s.type == store_config::kind::memory) {
        out << YAML::Key << "memory" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::EndMap;
    } else {
        redis(out, s.redis);
    }
    out << YAML::Key << "encryption_keys" << YAML::Value << YAML::BeginSeq;
    for (const encryption_key& k : s.encryption_keys) {
        out << YAML::Flow << YAML::BeginMap << YAML::Key << "id" << YAML::Value << k.id << YAML::Key
            << "key" << YAML::Value << std::string(k_masked) << YAML::EndMap;
    }
    out << YAML::EndSeq;
    out << YAML::Key << "cache_ttl" << YAML::Value << duration_text(s.cache_ttl);
    out << YAML::Key << "cache_max_entries" << YAML::Value << s.cache_max_entries;
    out << YAML::Key << "refresh_timeout" << YAML::Value << duration_text(s.refresh_timeout);
    out << YAML::EndMap;
}

void identity(YAML::Emitter& out, const identity_config& i)
{
    out << YAML::Key << "identity" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "user_header" << YAML::Value << i.user_header;
    out << YAML::Key << "plugin_header" << YAML::Value << i.plugin_header;
    out << YAML::Key << "token_header" << YAML::Value << i.token_header;
    out << YAML::Key << "secret" << YAML::Value << masked(i.secret_key);
    out << YAML::Key << "max_ttl" << YAML::Value << duration_text(i.max_ttl);
    out << YAML::EndMap;
}

void connection_fields(YAML::Emitter& out, const connection& c)
{
    out << YAML::BeginMap;
    if (!c.preset.empty()) {
        out << YAML::Key << "preset" << YAML::Value << c.preset;
    }
    if (!c.tenant.empty()) {
        out << YAML::Key << "tenant" << YAML::Value << c.tenant;
    }
    out << YAML::Key << "authorization_url" << YAML::Value << c.authorization_url;
    out << YAML::Key << "token_url" << YAML::Value << c.token_url;
    if (!c.revocation_url.empty()) {
        out << YAML::Key << "revocation_url" << YAML::Value << c.revocation_url;
    }
    out << YAML::Key << "client_id" << YAML::Value << c.client_id;
    out << YAML::Key << "client_secret" << YAML::Value << masked(c.client_secret);
    strings(out, "scopes", c.scopes);
    out << YAML::Key << "scope_separator" << YAML::Value
        << (c.scope_separator == ',' ? "comma" : "space");
    out << YAML::Key << "prompt" << YAML::Value << c.prompt;
    out << YAML::Key << "access_type" << YAML::Value << c.access_type;
    out << YAML::Key << "content_type" << YAML::Value
        << (c.token_content_type == content_type::json ? "json" : "form");
    out << YAML::Key << "client_auth" << YAML::Value
        << (c.auth_method == client_auth::basic ? "basic" : "post");
    out << YAML::Key << "extra_params" << YAML::Value << YAML::Flow << YAML::BeginMap;
    for (const auto& [name, value] : c.extra_params) {
        out << YAML::Key << name << YAML::Value << value;
    }
    out << YAML::EndMap;
    strings(out, "allowed_hosts", c.allowed_hosts);
    out << YAML::Key << "on_missing_token" << YAML::Value
        << (c.missing == on_missing_token::reject ? "reject" : "empty");
    out << YAML::Key << "refresh_before" << YAML::Value << duration_text(c.refresh_before);
    out << YAML::Key << "token_source" << YAML::Value
        << (c.token_from == token_source::authed_user ? "authed_user" : "top_level");
    out << YAML::EndMap;
}

/// Shared connections under `connections`, plugins' own ones under their plugin.
void connections_and_plugins(YAML::Emitter& out, const config& c)
{
    out << YAML::Key << "connections" << YAML::Value << YAML::BeginMap;
    for (const auto& [id, conn] : c.connections) {
        if (!id.starts_with("plugin:")) {
            out << YAML::Key << id << YAML::Value;
            connection_fields(out, conn);
        }
    }
    out << YAML::EndMap;

    out << YAML::Key << "plugins" << YAML::Value << YAML::BeginMap;
    for (const auto& [id, p] : c.plugins) {
        out << YAML::Key << id << YAML::Value << YAML::BeginMap;
        if (p.connection_id.starts_with("plugin:")) {
            out << YAML::Key << "oauth" << YAML::Value;
            connection_fields(out, c.connections.at(p.connection_id));
        } else {
            out << YAML::Key << "connection" << YAML::Value << p.connection_id;
        }
        out << YAML::EndMap;
    }
    out << YAML::EndMap;
}

void upstream(YAML::Emitter& out, const upstream_config& u)
{
    out << YAML::Key << "upstream" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "ca_file" << YAML::Value << u.ca_file;
    out << YAML::Key << "connect_timeout" << YAML::Value << duration_text(u.connect_timeout);
    out << YAML::Key << "response_timeout" << YAML::Value << duration_text(u.response_timeout);
    out << YAML::Key << "deny_private_addresses" << YAML::Value << u.deny_private_addresses;
    endpoints(out, "allow_addresses", u.allow_addresses, true);
    out << YAML::Key << "pool_idle_timeout" << YAML::Value << duration_text(u.pool_idle_timeout);
    out << YAML::Key << "pool_max_idle_per_host" << YAML::Value << u.pool_max_idle_per_host;
    out << YAML::EndMap;
}

void intercept_limits_log(YAML::Emitter& out, const config& c)
{
    if (c.intercept.enabled) {
        const bool tunnel = c.intercept.other_hosts == intercept_config::other_hosts_mode::tunnel;
        out << YAML::Key << "intercept" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "ca_cert" << YAML::Value << c.intercept.ca_cert;
        out << YAML::Key << "ca_key" << YAML::Value << c.intercept.ca_key; // a path, not a key
        out << YAML::Key << "other_hosts" << YAML::Value << (tunnel ? "tunnel" : "deny");
        out << YAML::Key << "max_certificates" << YAML::Value << c.intercept.max_certificates;
        out << YAML::Key << "certificate_lifetime" << YAML::Value
            << duration_text(c.intercept.certificate_lifetime);
        out << YAML::EndMap;
    }

    const limits_config& l = c.limits;
    out << YAML::Key << "limits" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "max_header_bytes" << YAML::Value << size_text(l.max_header_bytes);
    out << YAML::Key << "max_body_bytes" << YAML::Value << size_text(l.max_body_bytes);
    out << YAML::Key << "idle_timeout" << YAML::Value << duration_text(l.idle_timeout);
    out << YAML::Key << "header_timeout" << YAML::Value << duration_text(l.header_timeout);
    out << YAML::Key << "max_connections" << YAML::Value << l.max_connections;
    out << YAML::Key << "shutdown_timeout" << YAML::Value << duration_text(l.shutdown_timeout);
    out << YAML::EndMap;

    const bool json = c.log.format == log_config::format_kind::json;
    out << YAML::Key << "log" << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "level" << YAML::Value << c.log.level;
    out << YAML::Key << "format" << YAML::Value << (json ? "json" : "text");
    out << YAML::Key << "request_id_header" << YAML::Value << c.log.request_id_header;
    out << YAML::Key << "include_user" << YAML::Value << c.log.include_user;
    out << YAML::EndMap;
}

} // namespace

std::string print_config(const config& c)
{
    YAML::Emitter out;
    out.SetBoolFormat(YAML::TrueFalseBool);
    out << YAML::BeginMap;
    listen(out, c.listen);
    out << YAML::Key << "public_url" << YAML::Value << c.public_url;
    strings(out, "return_to_origins", c.return_to_origins);
    out << YAML::Key << "admin_token" << YAML::Value << masked(c.admin_token);
    out << YAML::Key << "threads" << YAML::Value << c.threads;
    store(out, c.store);
    identity(out, c.identity);
    strings(out, "placeholders", c.placeholders);
    connections_and_plugins(out, c);
    upstream(out, c.upstream);
    intercept_limits_log(out, c);
    out << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

} // namespace oi::config
