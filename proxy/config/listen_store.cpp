// Readers for the `listen` and `store` sections.

#include "config/sections.hpp"
#include "config/value_checks.hpp"

#include <array>
#include <set>

namespace oi::config::detail {

namespace {

std::optional<endpoint> read_endpoint(yaml_reader& r, const entry& at, bool allow_port_zero)
{
    auto text = r.non_empty_string(at);
    if (!text) {
        return std::nullopt;
    }
    auto parsed = parse_endpoint(*text, allow_port_zero);
    if (auto* err = std::get_if<value_error>(&parsed)) {
        r.error(at, err->message);
        return std::nullopt;
    }
    return std::get<endpoint>(parsed);
}

void read_sentinel(yaml_reader& r, const entry& at, redis_config& out)
{
    constexpr std::array<key_spec, 3> k_keys{{{"master"}, {"nodes"}, {"password"}}};
    auto map = r.fixed_map(at, k_keys);
    if (!map) {
        return;
    }

    sentinel_config sentinel;
    assign(*map, "master", sentinel.master, [&](const entry& e) { return r.non_empty_string(e); });
    if (!map->find("master")) {
        r.missing(*map, "master");
    }
    if (const entry* nodes = map->find("nodes")) {
        if (auto items = r.list(*nodes)) {
            for (const entry& item : *items) {
                if (auto ep = read_endpoint(r, item, false)) {
                    sentinel.nodes.push_back(std::move(*ep));
                }
            }
            if (items->empty()) {
                r.error(*nodes, "at least one sentinel node is required");
            }
        }
    } else {
        r.missing(*map, "nodes");
    }
    if (const entry* password = map->find("password")) {
        if (auto text = r.string(*password)) {
            sentinel.password = secret(std::move(*text));
        }
    }
    out.sentinel = std::move(sentinel);
}

void read_redis(yaml_reader& r, const entry& at, redis_config& out)
{
    constexpr std::array<key_spec, 6> k_keys{
        {{"url"}, {"key_prefix"}, {"sentinel"}, {"password"}, {"wait_replicas"}, {"wait_timeout"}}};
    auto map = r.fixed_map(at, k_keys);
    if (!map) {
        return;
    }

    if (const entry* url = map->find("url")) {
        if (auto text = r.non_empty_string(*url)) {
            if (auto err = parse_redis_url(*text, out)) {
                r.error(*url, err->message);
            }
        }
    }
    if (const entry* password = map->find("password")) {
        if (auto text = r.string(*password)) {
            if (!out.password.empty()) {
                r.error(*password, "the password is given both here and in the url");
            } else {
                out.password = secret(std::move(*text));
            }
        }
    }
    assign(*map, "key_prefix", out.key_prefix, [&](const entry& e) { return r.string(e); });
    if (const entry* sentinel = map->find("sentinel")) {
        read_sentinel(r, *sentinel, out);
    }
    assign(*map, "wait_replicas", out.wait_replicas,
           [&](const entry& e) { return r.integer(e, 0, 16); });
    assign(*map, "wait_timeout", out.wait_timeout,
           [&](const entry& e) { return r.duration(e, false); });
}

void read_encryption_keys(yaml_reader& r, const entry& at, std::vector<encryption_key>& out)
{
    auto items = r.list(at);
    if (!items) {
        return;
    }

    constexpr std::array<key_spec, 2> k_keys{{{"id"}, {"key"}}};
    std::set<std::string> ids;
    for (const entry& item : *items) {
        auto map = r.fixed_map(item, k_keys);
        if (!map) {
            continue;
        }
        const entry* id = map->find("id");
        const entry* key = map->find("key");
        if (!id) {
            r.missing(*map, "id");
        }
        if (!key) {
            r.missing(*map, "key");
        }
        if (!id || !key) {
            continue;
        }

        auto id_text = r.non_empty_string(*id);
        auto key_text = r.non_empty_string(*key);
        if (id_text && !ids.insert(*id_text).second) {
            r.error(*id, "encryption key id " + *id_text + " is used twice");
            id_text.reset();
        }
        if (!key_text) {
            continue;
        }
        auto decoded = decode_key_base64(*key_text);
        if (auto* err = std::get_if<value_error>(&decoded)) {
            r.error(*key, err->message);
            continue;
        }
        if (id_text) {
            out.push_back(encryption_key{std::move(*id_text), std::get<std::string>(decoded)});
        }
    }
}

} // namespace

void read_listen(yaml_reader& r, const entry& at, listen_config& out)
{
    constexpr std::array<key_spec, 3> k_keys{{{"proxy"}, {"public"}, {"admin"}}};
    auto map = r.fixed_map(at, k_keys);
    if (!map) {
        return;
    }

    assign(*map, "proxy", out.proxy, [&](const entry& e) { return read_endpoint(r, e, true); });
    if (const entry* e = map->find("public")) {
        out.public_listener = read_endpoint(r, *e, true);
    }
    if (const entry* e = map->find("admin")) {
        out.admin = read_endpoint(r, *e, true);
    }

    // Two listeners on one fixed port would only fail later, at bind time.
    const std::array<std::pair<const char*, const endpoint*>, 3> listeners{{
        {"proxy", &out.proxy},
        {"public", out.public_listener ? &*out.public_listener : nullptr},
        {"admin", out.admin ? &*out.admin : nullptr},
    }};
    for (std::size_t i = 0; i < listeners.size(); ++i) {
        for (std::size_t j = i + 1; j < listeners.size(); ++j) {
            const endpoint* a = listeners[i].second;
            const endpoint* b = listeners[j].second;
            if (a && b && a->port != 0 && a->port == b->port && a->host == b->host) {
                const entry* later = map->find(listeners[j].first);
                r.error(*later, std::string("the same address as listen.") + listeners[i].first);
            }
        }
    }
}

void read_store(yaml_reader& r, const entry& at, store_config& out)
{
    constexpr std::array<key_spec, 6> k_keys{{{"redis"},
                                              {"memory"},
                                              {"encryption_keys"},
                                              {"cache_ttl"},
                                              {"cache_max_entries"},
                                              {"refresh_timeout"}}};
    auto map = r.fixed_map(at, k_keys);
    if (!map) {
        return;
    }

    const entry* redis = map->find("redis");
    const entry* memory = map->find("memory");
    if ((redis != nullptr) == (memory != nullptr)) {
        r.error(map->mark(), map->path(), "exactly one of redis or memory is required");
        redis = nullptr; // no redis-only checks on top of this error
    }
    if (redis) {
        out.type = store_config::kind::redis;
        read_redis(r, *redis, out.redis);
    } else if (memory) {
        out.type = store_config::kind::memory;
        constexpr std::array<key_spec, 0> k_no_keys{};
        (void)r.fixed_map(*memory, k_no_keys);
    }

    assign(*map, "cache_ttl", out.cache_ttl, [&](const entry& e) { return r.duration(e, false); });
    assign(*map, "cache_max_entries", out.cache_max_entries,
           [&](const entry& e) { return r.integer(e, 1, 100'000'000); });
    assign(*map, "refresh_timeout", out.refresh_timeout,
           [&](const entry& e) { return r.duration(e, false); });

    if (const entry* keys = map->find("encryption_keys")) {
        read_encryption_keys(r, *keys, out.encryption_keys);
        bool none = keys->value.IsNull() || (keys->value.IsSequence() && keys->value.size() == 0);
        if (redis && none) {
            r.error(*keys, "at least one encryption key is required with the redis store");
        }
    } else if (redis) {
        r.missing(*map, "encryption_keys");
    }
}

} // namespace oi::config::detail
