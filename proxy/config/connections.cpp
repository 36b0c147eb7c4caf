// Readers for `connections:` (shared connections) and `plugins:` (each using a shared connection
// or carrying its own under `oauth`).

#include "config/presets.hpp"
#include "config/sections.hpp"
#include "config/value_checks.hpp"

#include <array>

namespace oi::config::detail {

namespace {

// The camelCase names are those of a plugin manifest's oauthConfig block (SPEC.md), accepted so
// that such a block pastes in unchanged.
constexpr std::array<key_spec, 18> k_connection_keys{{
    {"preset"},
    {"tenant"},
    {"authorization_url", "authorizationURL"},
    {"token_url", "tokenURL"},
    {"revocation_url"},
    {"client_id", "clientId"},
    {"client_secret", "clientSecret"},
    {"scopes"},
    {"prompt"},
    {"access_type", "accessType"},
    {"content_type", "contentType"},
    {"client_auth"},
    {"extra_params"},
    {"allowed_hosts"},
    {"on_missing_token"},
    {"refresh_before"},
    {"token_source"},
    {"scope_separator"},
}};

// Authorization-request parameters that the proxy sets itself (RFC 6749 section 4.1.1, RFC 7636
// section 4.3) or that have their own key; extra_params must not override them.
constexpr std::array<std::string_view, 9> k_reserved_params{
    "response_type",         "client_id", "redirect_uri", "scope", "state", "code_challenge",
    "code_challenge_method", "prompt",    "access_type"};

std::optional<std::string> read_url(yaml_reader& r, const entry& at)
{
    auto text = r.non_empty_string(at);
    if (!text) {
        return std::nullopt;
    }
    auto checked_url = check_http_url(*text);
    if (auto* err = std::get_if<value_error>(&checked_url)) {
        r.error(at, err->message);
        return std::nullopt;
    }
    return text;
}

void split_scopes(std::string_view text, std::vector<std::string>& out)
{
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t start = text.find_first_not_of(" \t", i);
        if (start == std::string_view::npos) {
            break;
        }
        std::size_t end = text.find_first_of(" \t", start);
        end = end == std::string_view::npos ? text.size() : end;
        out.emplace_back(text.substr(start, end - start));
        i = end;
    }
}

void read_scopes(yaml_reader& r, const entry& at, std::vector<std::string>& out)
{
    if (!at.value.IsSequence()) {
        if (auto text = r.string(at)) {
            split_scopes(*text, out);
        }
        return;
    }
    auto items = r.list(at);
    if (!items) {
        return;
    }
    for (const entry& item : *items) {
        auto text = r.non_empty_string(item);
        if (text && text->find_first_of(" \t") != std::string::npos) {
            r.error(item, "a scope in a list must not contain spaces");
        } else if (text) {
            out.push_back(std::move(*text));
        }
    }
}

void read_extra_params(yaml_reader& r, const entry& at, std::map<std::string, std::string>& out)
{
    auto map = r.free_map(at);
    if (!map) {
        return;
    }
    for (const entry& param : map->entries()) {
        auto reserved = std::find(k_reserved_params.begin(), k_reserved_params.end(), param.key);
        if (param.key.empty()) {
            r.error(param.key_mark, param.path, "a parameter name must not be empty");
        } else if (reserved != k_reserved_params.end()) {
            r.error(param.key_mark, param.path,
                    "this parameter is set by the proxy or by its own key, not by extra_params");
        } else if (auto value = r.string(param)) {
            out.emplace(param.key, std::move(*value));
        }
    }
}

void read_allowed_hosts(yaml_reader& r, const entry& at, std::vector<std::string>& out)
{
    auto items = r.list(at);
    if (!items) {
        return;
    }
    if (items->empty()) {
        r.error(at, "at least one allowed host is required");
        return;
    }
    for (const entry& item : *items) {
        auto text = r.non_empty_string(item);
        if (!text) {
            continue;
        }
        auto host = normalize_host_pattern(*text);
        if (auto* err = std::get_if<value_error>(&host)) {
            r.error(item, err->message);
        } else {
            out.push_back(std::get<std::string>(std::move(host)));
        }
    }
}

void read_enums(yaml_reader& r, const map_view& map, connection& out)
{
    constexpr std::array<std::string_view, 4> k_content_types{
        "form", "json", "application/x-www-form-urlencoded", "application/json"};
    constexpr std::array<std::string_view, 2> k_client_auth{"post", "basic"};
    constexpr std::array<std::string_view, 2> k_missing{"empty", "reject"};
    constexpr std::array<std::string_view, 2> k_token_sources{"top_level", "authed_user"};
    constexpr std::array<std::string_view, 2> k_separators{"space", "comma"};

    if (const entry* e = map.find("content_type")) {
        if (auto index = r.choice(*e, k_content_types)) {
            out.token_content_type = *index % 2 == 0 ? content_type::form : content_type::json;
        }
    }
    if (const entry* e = map.find("client_auth")) {
        if (auto index = r.choice(*e, k_client_auth)) {
            out.auth_method = *index == 0 ? client_auth::post : client_auth::basic;
        }
    }
    if (const entry* e = map.find("on_missing_token")) {
        if (auto index = r.choice(*e, k_missing)) {
            out.missing = *index == 0 ? on_missing_token::empty : on_missing_token::reject;
        }
    }
    if (const entry* e = map.find("token_source")) {
        if (auto index = r.choice(*e, k_token_sources)) {
            out.token_from = *index == 0 ? token_source::top_level : token_source::authed_user;
        }
    }
    if (const entry* e = map.find("scope_separator")) {
        if (auto index = r.choice(*e, k_separators)) {
            out.scope_separator = *index == 0 ? ' ' : ',';
        }
    }
}

/// The connection's `preset` (nullptr when none or unknown) and its `tenant`, checked.
const preset_spec* read_preset(yaml_reader& r, const map_view& map, std::string& tenant)
{
    const preset_spec* preset = nullptr;
    if (const entry* e = map.find("preset")) {
        std::vector<std::string_view> names;
        for (const preset_spec& p : presets()) {
            names.push_back(p.name);
        }
        if (auto index = r.choice(*e, names)) {
            preset = &presets()[*index];
        }
    }
    const entry* e = map.find("tenant");
    if (e == nullptr) {
        return preset;
    }
    auto text = r.non_empty_string(*e);
    if (preset == nullptr || !preset->has_tenant) {
        r.error(*e, "tenant is only used by the microsoft preset");
    } else if (text && !is_valid_tenant(*text)) {
        r.error(*e, "a tenant is a GUID, a domain name, common, organizations or consumers");
    } else if (text) {
        tenant = std::move(*text);
    }
    return preset;
}

/// Keys every connection needs unless its preset fills them.
void check_required(yaml_reader& r, const map_view& map, bool has_preset)
{
    for (std::string_view key : {"authorization_url", "token_url", "client_id", "allowed_hosts"}) {
        if (!map.find(key) && (key == "client_id" || !has_preset)) {
            r.missing(map, key);
        }
    }
}

/// What the preset needs once the connection's own keys are in.
void finish_connection(yaml_reader& r, const map_view& map, const preset_spec& preset,
                       connection& out)
{
    finish_preset(preset, out);
    if (preset.needs_scopes && out.scopes.empty()) {
        const std::string message = "the " + std::string(preset.name) +
                                    " preset needs at least one scope: the provider refuses "
                                    "an authorization request without one";
        if (const entry* e = map.find("scopes")) {
            r.error(*e, message);
        } else {
            r.error(map.mark(), join_path(map.path(), "scopes"), message);
        }
    }
}

/// One connection's map (shared, or a plugin's `oauth`), given its final id.
std::optional<connection> read_connection(yaml_reader& r, const entry& at, std::string id)
{
    auto map = r.fixed_map(at, k_connection_keys);
    if (!map) {
        return std::nullopt;
    }

    std::string tenant;
    const preset_spec* preset = read_preset(r, *map, tenant);
    connection out = preset ? preset_defaults(*preset, tenant) : connection{};
    out.id = std::move(id);
    check_required(r, *map, map->find("preset") != nullptr);

    auto url = [&](const entry& e) { return read_url(r, e); };
    auto text = [&](const entry& e) { return r.string(e); };
    assign(*map, "authorization_url", out.authorization_url, url);
    assign(*map, "token_url", out.token_url, url);
    assign(*map, "revocation_url", out.revocation_url, url);
    assign(*map, "client_id", out.client_id, [&](const entry& e) { return r.non_empty_string(e); });
    if (const entry* e = map->find("client_secret")) {
        if (auto value = r.string(*e)) {
            out.client_secret = secret(std::move(*value));
        }
    }
    assign(*map, "prompt", out.prompt, text);
    assign(*map, "access_type", out.access_type, text);
    assign(*map, "refresh_before", out.refresh_before,
           [&](const entry& e) { return r.duration(e, true); });
    read_enums(r, *map, out);
    // A connection's list replaces the preset's (README "Presets").
    if (const entry* e = map->find("scopes")) {
        out.scopes.clear();
        read_scopes(r, *e, out.scopes);
    }
    if (const entry* e = map->find("extra_params")) {
        read_extra_params(r, *e, out.extra_params);
    }
    if (const entry* e = map->find("allowed_hosts")) {
        out.allowed_hosts.clear();
        read_allowed_hosts(r, *e, out.allowed_hosts);
    }
    if (preset) {
        finish_connection(r, *map, *preset, out);
    }
    return out;
}

} // namespace

void read_connections(yaml_reader& r, const entry& at, std::map<std::string, connection>& out)
{
    auto map = r.free_map(at);
    if (!map) {
        return;
    }
    for (const entry& e : map->entries()) {
        if (!is_valid_id(e.key)) {
            r.error(e.key_mark, e.path, "a connection id must match [A-Za-z0-9][A-Za-z0-9._-]*");
            continue;
        }
        // Plugins' own connections are named "plugin:<id>"; a shared one named "plugin" could
        // then share store keys with them ("plugin" + user "x:u" against "plugin:x" + user "u").
        if (e.key == "plugin") {
            r.error(e.key_mark, e.path, "the connection id 'plugin' is reserved");
            continue;
        }
        if (auto c = read_connection(r, e, e.key)) {
            out.emplace(e.key, std::move(*c));
        }
    }
}

void read_plugins(yaml_reader& r, const entry& at, std::map<std::string, plugin>& plugins,
                  std::map<std::string, connection>& connections)
{
    auto map = r.free_map(at);
    if (!map) {
        return;
    }

    constexpr std::array<key_spec, 2> k_plugin_keys{{{"connection"}, {"oauth"}}};
    for (const entry& e : map->entries()) {
        if (!is_valid_id(e.key)) {
            r.error(e.key_mark, e.path, "a plugin id must match [A-Za-z0-9][A-Za-z0-9._-]*");
            continue;
        }
        auto fields = r.fixed_map(e, k_plugin_keys);
        if (!fields) {
            continue;
        }

        const entry* shared = fields->find("connection");
        const entry* own = fields->find("oauth");
        if ((shared != nullptr) == (own != nullptr)) {
            r.error(e.key_mark, e.path, "exactly one of connection or oauth is required");
            continue;
        }
        if (own) {
            std::string id = "plugin:" + e.key;
            if (auto c = read_connection(r, *own, id)) {
                connections.emplace(id, std::move(*c));
                plugins.emplace(e.key, plugin{e.key, std::move(id)});
            }
            continue;
        }

        auto name = r.non_empty_string(*shared);
        if (!name) {
            continue;
        }
        if (name->starts_with("plugin:") || !connections.contains(*name)) {
            r.error(*shared, "no connection named " + *name + " under connections");
            continue;
        }
        plugins.emplace(e.key, plugin{e.key, std::move(*name)});
    }
}

} // namespace oi::config::detail
