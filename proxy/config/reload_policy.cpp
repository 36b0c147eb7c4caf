#include "config/reload_policy.hpp"

#include <tuple>

namespace oi::config {

namespace {

constexpr std::string_view k_restart = "differs from the running configuration and takes a restart";

bool same(const endpoint& a, const endpoint& b)
{
    return a.host == b.host && a.port == b.port;
}

bool same(const std::optional<endpoint>& a, const std::optional<endpoint>& b)
{
    return a.has_value() == b.has_value() && (!a || same(*a, *b));
}

bool same(const std::optional<sentinel_config>& a, const std::optional<sentinel_config>& b)
{
    if (a.has_value() != b.has_value()) {
        return false;
    }
    if (!a) {
        return true;
    }
    if (a->master != b->master || a->nodes.size() != b->nodes.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a->nodes.size(); ++i) {
        if (!same(a->nodes[i], b->nodes[i])) {
            return false;
        }
    }
    return true;
}

bool same_keys(const std::vector<encryption_key>& a, const std::vector<encryption_key>& b)
{
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].id != b[i].id || a[i].key != b[i].key) {
            return false;
        }
    }
    return true;
}

bool same_redis(const redis_config& a, const redis_config& b)
{
    return std::tie(a.host, a.port, a.database, a.username, a.key_prefix) ==
               std::tie(b.host, b.port, b.database, b.username, b.key_prefix) &&
           a.password.reveal() == b.password.reveal() && same(a.sentinel, b.sentinel);
}

class collector {
public:
    void check(bool unchanged, std::string path)
    {
        if (!unchanged) {
            out_.push_back({std::move(path), std::string{k_restart}});
        }
    }
    void add(std::string path, std::string message)
    {
        out_.push_back({std::move(path), std::move(message)});
    }
    std::vector<reload_conflict> take() { return std::move(out_); }

private:
    std::vector<reload_conflict> out_;
};

void check_store(collector& c, const store_config& a, const store_config& b)
{
    c.check(a.type == b.type, "store");
    c.check(a.type != store_config::kind::redis || same_redis(a.redis, b.redis), "store.redis");
    c.check(same_keys(a.encryption_keys, b.encryption_keys), "store.encryption_keys");
    c.check(a.cache_ttl == b.cache_ttl, "store.cache_ttl");
    c.check(a.cache_max_entries == b.cache_max_entries, "store.cache_max_entries");
    c.check(a.refresh_timeout == b.refresh_timeout, "store.refresh_timeout");
}

void check_connections(collector& c, const config& running, const config& next)
{
    for (const auto& [id, now] : next.connections) {
        const auto before = running.connections.find(id);
        if (before == running.connections.end()) {
            continue;
        }
        // Stored grants carry no trace of the client they were issued to (see the header).
        const std::string path = "connections." + id;
        if (before->second.token_url != now.token_url) {
            c.add(path + ".token_url",
                  "a connection's token endpoint cannot change while it holds grants issued by "
                  "the old one; add the new client under a new connection id");
        }
        if (before->second.client_id != now.client_id) {
            c.add(path + ".client_id",
                  "a connection's client cannot change while it holds grants issued to the old "
                  "one; add the new client under a new connection id");
        }
    }
}

} // namespace

std::vector<reload_conflict> reload_conflicts(const config& running, const config& next)
{
    collector c;
    c.check(same(running.listen.proxy, next.listen.proxy), "listen.proxy");
    c.check(same(running.listen.public_listener, next.listen.public_listener), "listen.public");
    c.check(same(running.listen.admin, next.listen.admin), "listen.admin");
    c.check(running.threads == next.threads, "threads");
    check_store(c, running.store, next.store);
    c.check(running.upstream.ca_file == next.upstream.ca_file, "upstream.ca_file");
    c.check(running.upstream.pool_idle_timeout == next.upstream.pool_idle_timeout,
            "upstream.pool_idle_timeout");
    c.check(running.upstream.pool_max_idle_per_host == next.upstream.pool_max_idle_per_host,
            "upstream.pool_max_idle_per_host");
    c.check(running.intercept.enabled == next.intercept.enabled, "intercept");
    c.check(running.intercept.ca_cert == next.intercept.ca_cert, "intercept.ca_cert");
    c.check(running.intercept.ca_key == next.intercept.ca_key, "intercept.ca_key");
    c.check(running.intercept.max_certificates == next.intercept.max_certificates,
            "intercept.max_certificates");
    c.check(running.intercept.certificate_lifetime == next.intercept.certificate_lifetime,
            "intercept.certificate_lifetime");
    check_connections(c, running, next);
    return c.take();
}

std::string format_conflict(const reload_conflict& conflict)
{
    return conflict.path + ": " + conflict.message;
}

} // namespace oi::config
