#include "config/loader.hpp"

#include "config/sections.hpp"
#include "config/value_checks.hpp"
#include "config/yaml_reader.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace oi::config {

namespace {

using detail::entry;
using detail::key_spec;

constexpr std::array<key_spec, 14> k_top_level_keys{{
    {"listen"},
    {"public_url"},
    {"return_to_origins"},
    {"admin_token"},
    {"threads"},
    {"store"},
    {"identity"},
    {"placeholders"},
    {"connections"},
    {"plugins"},
    {"upstream"},
    {"intercept"},
    {"limits"},
    {"log"},
}};

std::optional<std::string> read_public_url(detail::yaml_reader& r, const entry& at)
{
    auto text = r.non_empty_string(at);
    if (!text) {
        return std::nullopt;
    }
    auto url = check_http_url(*text);
    if (auto* err = std::get_if<value_error>(&url)) {
        r.error(at, err->message);
        return std::nullopt;
    }
    if (text->find_first_of("?#") != std::string::npos) {
        r.error(at, "public_url must not have a query or fragment");
        return std::nullopt;
    }
    // redirect_uri is public_url + "/oauth/callback": drop a trailing slash.
    if (text->ends_with('/')) {
        text->pop_back();
    }
    return text;
}

std::vector<std::string> read_return_to_origins(detail::yaml_reader& r, const entry& at)
{
    std::vector<std::string> out;
    auto items = r.list(at);
    if (!items) {
        return out;
    }
    for (const entry& item : *items) {
        auto text = r.non_empty_string(item);
        if (!text) {
            continue;
        }
        auto origin = url_origin(*text, true);
        if (auto* err = std::get_if<value_error>(&origin)) {
            r.error(item, err->message);
        } else {
            out.push_back(std::move(std::get<std::string>(origin)));
        }
    }
    return out;
}

/// Reads the root map into `out`, section by section.
void read_root(detail::yaml_reader& r, const YAML::Node& root, config& out)
{
    const entry root_at = detail::root_entry(root);
    if (!root.IsMap()) {
        r.error(root_at.value_mark, "", "the configuration must be a map of sections");
        return;
    }
    auto map = r.fixed_map(root_at, k_top_level_keys);
    if (!map) {
        return;
    }

    using namespace detail;
    if (const entry* e = map->find("listen")) {
        read_listen(r, *e, out.listen);
    }
    assign(*map, "public_url", out.public_url,
           [&](const entry& e) { return read_public_url(r, e); });
    if (const entry* e = map->find("return_to_origins")) {
        out.return_to_origins = read_return_to_origins(r, *e);
    }
    bool admin_token_readable = true;
    if (const entry* e = map->find("admin_token")) {
        auto value = r.string(*e);
        admin_token_readable = value.has_value();
        if (value) {
            out.admin_token = secret(std::move(*value));
        }
    }
    assign(*map, "threads", out.threads, [&](const entry& e) -> std::optional<unsigned> {
        auto n = r.integer(e, 0, 256);
        return n ? std::optional<unsigned>(static_cast<unsigned>(*n)) : std::nullopt;
    });
    if (const entry* e = map->find("store")) {
        read_store(r, *e, out.store);
    } else {
        r.missing(*map, "store");
    }
    if (const entry* e = map->find("identity")) {
        read_identity(r, *e, out.identity);
    }
    if (const entry* e = map->find("placeholders")) {
        read_placeholders(r, *e, out.placeholders);
    }
    if (const entry* e = map->find("connections")) {
        read_connections(r, *e, out.connections);
    }
    if (const entry* e = map->find("plugins")) {
        read_plugins(r, *e, out.plugins, out.connections);
    }
    if (const entry* e = map->find("upstream")) {
        read_upstream(r, *e, out.upstream);
    }
    if (const entry* e = map->find("intercept")) {
        read_intercept(r, *e, out.intercept);
    }
    if (const entry* e = map->find("limits")) {
        read_limits(r, *e, out.limits);
    }
    if (const entry* e = map->find("log")) {
        read_log(r, *e, out.log);
    }

    if (out.listen.admin && out.admin_token.empty() && admin_token_readable) {
        const entry* token = map->find("admin_token");
        if (token) {
            r.error(*token, "must not be empty when listen.admin is set");
        } else {
            r.error(map->mark(), "admin_token", "required when listen.admin is set");
        }
    }
}

} // namespace

std::string format_error(const config_error& error)
{
    std::string out = error.file;
    if (error.line > 0) {
        out += ':' + std::to_string(error.line) + ':' + std::to_string(error.column);
    }
    out += ": ";
    if (!error.path.empty()) {
        out += error.path;
        out += ": ";
    }
    out += error.message;
    return out;
}

load_result load_config_text(std::string_view yaml, std::string_view file_name,
                             const env_lookup& env)
{
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
        return std::vector<config_error>{
            config_error{std::string(file_name), e.mark.line + 1, e.mark.column + 1, "", e.msg}};
    }

    detail::yaml_reader reader(file_name, env);
    config out;
    out.source_path = std::string(file_name);
    try {
        read_root(reader, root, out);
    } catch (const YAML::Exception& e) {
        // yaml-cpp only throws on misuse; reported rather than let out of a loader.
        reader.error(e.mark, "", "could not read the document: " + e.msg);
    }

    if (reader.has_errors()) {
        return reader.take_errors();
    }
    return out;
}

load_result load_config_file(const std::string& path, const env_lookup& env)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::vector<config_error>{config_error{
            path, 0, 0, "", std::string("cannot read the file: ") + std::strerror(errno)}};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return load_config_text(text.str(), path, env);
}

} // namespace oi::config
