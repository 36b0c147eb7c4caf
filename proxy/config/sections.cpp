// Readers for the `identity`, `placeholders`, `upstream`, `intercept`, `limits` and `log`
// sections.

#include "config/sections.hpp"
#include "config/value_checks.hpp"

#include <array>
#include <set>

namespace oi::config::detail {

namespace {

constexpr std::size_t k_max_placeholder_bytes = 256;

// RFC 7518 section 3.2: an HS256 key must be at least as long as the hash output.
constexpr std::size_t k_min_identity_secret_bytes = 32;

std::string lower(std::string_view text)
{
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

std::optional<std::string> read_header_name(yaml_reader& r, const entry& at)
{
    auto name = r.non_empty_string(at);
    if (name && !is_http_token(*name)) {
        r.error(at, "not a valid HTTP header name");
        return std::nullopt;
    }
    return name;
}

} // namespace

void read_identity(yaml_reader& r, const entry& at, identity_config& out)
{
    constexpr std::array<key_spec, 5> k_keys{
        {{"user_header"}, {"plugin_header"}, {"token_header"}, {"secret"}, {"max_ttl"}}};
    auto map = r.fixed_map(at, k_keys);
    if (!map) {
        return;
    }

    auto header = [&](const entry& e) { return read_header_name(r, e); };
    assign(*map, "user_header", out.user_header, header);
    assign(*map, "plugin_header", out.plugin_header, header);
    assign(*map, "token_header", out.token_header, header);
    assign(*map, "max_ttl", out.max_ttl, [&](const entry& e) { return r.duration(e, false); });
    if (const entry* e = map->find("secret")) {
        if (auto value = r.string(*e)) {
            if (!value->empty() && value->size() < k_min_identity_secret_bytes) {
                r.error(*e, "the identity secret must be at least 32 bytes long (HS256)");
            } else {
                out.secret_key = secret(std::move(*value));
            }
        }
    }

    std::set<std::string> names{lower(out.user_header), lower(out.plugin_header),
                                lower(out.token_header)};
    if (names.size() != 3) {
        r.error(map->mark(), map->path(),
                "user_header, plugin_header and token_header must be different headers");
    }
}

void read_placeholders(yaml_reader& r, const entry& at, std::vector<std::string>& out)
{
    auto items = r.list(at);
    if (!items) {
        return;
    }
    if (items->empty()) {
        r.error(at, "at least one placeholder is required");
        return;
    }

    std::vector<std::string> placeholders;
    for (const entry& item : *items) {
        auto text = r.non_empty_string(item);
        if (!text) {
            continue;
        }
        if (text->size() > k_max_placeholder_bytes) {
            r.error(item, "a placeholder may be at most 256 bytes long");
        } else if (std::find(placeholders.begin(), placeholders.end(), *text) !=
                   placeholders.end()) {
            r.error(item, "placeholder listed twice");
        } else {
            placeholders.push_back(std::move(*text));
        }
    }
    out = std::move(placeholders);
}

void read_upstream(yaml_reader& r, const entry& at, upstream_config& out)
{
    constexpr std::array<key_spec, 7> k_keys{{{"ca_file"},
                                              {"connect_timeout"},
                                              {"response_timeout"},
                                              {"deny_private_addresses"},
                                              {"allow_addresses"},
                                              {"pool_idle_timeout"},
                                              {"pool_max_idle_per_host"}}};
    auto map = r.fixed_map(at, k_keys);
    if (!map) {
        return;
    }

    auto positive_duration = [&](const entry& e) { return r.duration(e, false); };
    assign(*map, "ca_file", out.ca_file, [&](const entry& e) { return r.string(e); });
    assign(*map, "connect_timeout", out.connect_timeout, positive_duration);
    assign(*map, "response_timeout", out.response_timeout, positive_duration);
    assign(*map, "deny_private_addresses", out.deny_private_addresses,
           [&](const entry& e) { return r.boolean(e); });
    assign(*map, "pool_idle_timeout", out.pool_idle_timeout, positive_duration);
    assign(*map, "pool_max_idle_per_host", out.pool_max_idle_per_host,
           [&](const entry& e) { return r.integer(e, 0, 100'000); });

    const entry* allow = map->find("allow_addresses");
    if (!allow) {
        return;
    }
    auto items = r.list(*allow);
    if (!items) {
        return;
    }
    for (const entry& item : *items) {
        auto text = r.non_empty_string(item);
        if (!text) {
            continue;
        }
        auto parsed = parse_address_exception(*text);
        if (auto* err = std::get_if<value_error>(&parsed)) {
            r.error(item, err->message);
        } else {
            out.allow_addresses.push_back(std::get<endpoint>(parsed));
        }
    }
}

void read_intercept(yaml_reader& r, const entry& at, intercept_config& out)
{
    constexpr std::array<key_spec, 5> k_keys{
        {{"ca_cert"}, {"ca_key"}, {"other_hosts"}, {"max_certificates"}, {"certificate_lifetime"}}};
    auto map = r.fixed_map(at, k_keys);
    if (!map) {
        return;
    }

    out.enabled = true;
    for (std::string_view key : {"ca_cert", "ca_key"}) {
        if (!map->find(key)) {
            r.missing(*map, key);
        }
    }
    auto file = [&](const entry& e) { return r.non_empty_string(e); };
    assign(*map, "ca_cert", out.ca_cert, file);
    assign(*map, "ca_key", out.ca_key, file);

    constexpr std::array<std::string_view, 2> k_modes{"deny", "tunnel"};
    if (const entry* e = map->find("other_hosts")) {
        if (auto index = r.choice(*e, k_modes)) {
            out.other_hosts = *index == 0 ? intercept_config::other_hosts_mode::deny
                                          : intercept_config::other_hosts_mode::tunnel;
        }
    }

    // A leaf is minted for each host and reused for half of its life: a lifetime under an hour
    // would mint one for nearly every tunnel; over 397 days, TLS clients refuse the leaf (the
    // CA/Browser Forum's limit).
    assign(*map, "max_certificates", out.max_certificates,
           [&](const entry& e) { return r.integer(e, 1, 10'000'000); });
    assign(*map, "certificate_lifetime", out.certificate_lifetime,
           [&](const entry& e) -> std::optional<duration> {
               auto lifetime = r.duration(e, false);
               if (lifetime &&
                   (*lifetime < std::chrono::hours(1) || *lifetime > std::chrono::hours(9528))) {
                   r.error(e, "must be from 1h to 9528h (397 days)");
                   return std::nullopt;
               }
               return lifetime;
           });
}

void read_limits(yaml_reader& r, const entry& at, limits_config& out)
{
    constexpr std::array<key_spec, 6> k_keys{{{"max_header_bytes"},
                                              {"max_body_bytes"},
                                              {"idle_timeout"},
                                              {"header_timeout"},
                                              {"max_connections"},
                                              {"shutdown_timeout"}}};
    auto map = r.fixed_map(at, k_keys);
    if (!map) {
        return;
    }

    auto size = [&](const entry& e) { return r.size(e); };
    auto positive_duration = [&](const entry& e) { return r.duration(e, false); };
    assign(*map, "max_header_bytes", out.max_header_bytes, size);
    assign(*map, "max_body_bytes", out.max_body_bytes, size);
    assign(*map, "idle_timeout", out.idle_timeout, positive_duration);
    assign(*map, "header_timeout", out.header_timeout, positive_duration);
    assign(*map, "shutdown_timeout", out.shutdown_timeout,
           [&](const entry& e) { return r.duration(e, true); });
    assign(*map, "max_connections", out.max_connections,
           [&](const entry& e) { return r.integer(e, 1, 10'000'000); });
}

void read_log(yaml_reader& r, const entry& at, log_config& out)
{
    constexpr std::array<key_spec, 4> k_keys{
        {{"level"}, {"format"}, {"request_id_header"}, {"include_user"}}};
    auto map = r.fixed_map(at, k_keys);
    if (!map) {
        return;
    }

    constexpr std::array<std::string_view, 6> k_levels{"trace", "debug", "info",
                                                       "warn",  "error", "off"};
    constexpr std::array<std::string_view, 2> k_formats{"json", "text"};
    if (const entry* e = map->find("level")) {
        if (auto index = r.choice(*e, k_levels)) {
            out.level = std::string(k_levels[*index]);
        }
    }
    if (const entry* e = map->find("format")) {
        if (auto index = r.choice(*e, k_formats)) {
            out.format =
                *index == 0 ? log_config::format_kind::json : log_config::format_kind::text;
        }
    }
    if (const entry* e = map->find("request_id_header")) {
        auto name = r.string(*e);
        if (name && !name->empty() && !is_http_token(*name)) {
            r.error(*e, "not a valid HTTP header name (empty: do not send the request id)");
        } else if (name) {
            out.request_id_header = std::move(*name);
        }
    }
    assign(*map, "include_user", out.include_user, [&](const entry& e) { return r.boolean(e); });
}

} // namespace oi::config::detail
