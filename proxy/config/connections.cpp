// Readers for `connections:` (shared connections) and `plugins:` (each using a shared connection
// or carrying its own under `oauth`).

#include "config/sections.hpp"
#include "config/value_checks.hpp"

#include <array>

namespace oi::config::detail {

namespace {

// The camelCase names are those of a plugin manifest's oauthConfig block (SPEC.md), accepted so
// that such a block pastes in unchanged.
constexpr std::array<key_spec, 15> k_connection_keys{{
    {"preset"},
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
    constexpr std::array<std::string_view, 4> k_presets{"google", "slack", "github", "microsoft"};
    constexpr std::array<std::string_view, 4> k_content_types{
        "form", "json", "application/x-www-form-urlencoded", "application/json"};
    constexpr std::array<std::string_view, 2> k_client_auth{"post", "basic"};
    constexpr std::array<std::string_view, 2> k_missing{"empty", "reject"};

    if (const entry* e = map.find("preset")) {
        if (auto index = r.choice(*e, k_presets)) {
            out.preset = std::string(k_presets[*index]);
        }
    }
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
}

/// One connection's map (shared, or a plugin's `oauth`), given its final id.
std::optional<connection> read_connection(yaml_reader& r, const entry& at, std::string id)
{
    auto map = r.fixed_map(at, k_connection_keys);
    if (!map) {
        return std::nullopt;
    }

    connection out;
    out.id = std::move(id);
    for (std::string_view key : {"authorization_url", "token_url", "client_id", "allowed_hosts"}) {
        if (!map->find(key)) {
            r.missing(*map, key);
        }
    }

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
    if (const entry* e = map->find("scopes")) {
        read_scopes(r, *e, out.scopes);
    }
    if (const entry* e = map->find("extra_params")) {
        read_extra_params(r, *e, out.extra_params);
    }
    if (const entry* e = map->find("allowed_hosts")) {
        read_allowed_hosts(r, *e, out.allowed_hosts);
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
