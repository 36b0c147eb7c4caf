#pragma once

// Built-in connection presets (`preset:` in a connection): the endpoints, default scopes,
// allowed hosts and quirks of well-known providers, taken from their public documentation.
// Pure data and pure functions, used by the loader on the loading thread; no errors are raised
// here (the loader words them, knowing the YAML position).
//
// Semantics, also in README "Presets": a preset fills a connection's defaults first, then every
// key the connection writes replaces the preset's value as a whole (a `scopes` list replaces the
// preset's list, it does not extend it). Keys a preset fills stop being required. After the
// connection's keys are read, finish_preset applies what a provider needs whatever the
// connection says (Microsoft's `offline_access` scope).

#include "config/config.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace oi::config {

/// One provider's defaults. URLs may contain `{tenant}`, replaced by the connection's tenant.
struct preset_spec {
    std::string_view name;
    std::string_view authorization_url;
    std::string_view token_url;
    std::string_view revocation_url; // empty: the provider has no RFC 7009 endpoint
    std::vector<std::string_view> scopes;
    std::vector<std::string_view> allowed_hosts;
    std::string_view prompt;
    std::string_view access_type;
    char scope_separator = ' ';
    std::string_view required_scope; // added to any scope list that lacks it
    bool needs_scopes = false;       // the provider refuses an authorization without a scope
    bool has_tenant = false;         // `tenant` is accepted (default "common")
};

/// The presets in the order the loader lists them in errors.
[[nodiscard]] std::span<const preset_spec> presets() noexcept;

/// The preset called `name`, or nullptr.
[[nodiscard]] const preset_spec* find_preset(std::string_view name) noexcept;

/// The default tenant of presets with has_tenant: work, school and personal accounts.
inline constexpr std::string_view k_default_tenant = "common";

/// A connection holding the preset's defaults, with `{tenant}` replaced by `tenant` (ignored
/// unless the preset has_tenant; empty means k_default_tenant).
[[nodiscard]] connection preset_defaults(const preset_spec& preset, std::string_view tenant);

/// What the provider needs whatever the connection wrote: adds the required scope when missing.
void finish_preset(const preset_spec& preset, connection& out);

/// The scopes as sent in an authorization request's `scope` parameter: joined with the
/// connection's scope_separator (RFC 6749 section 3.3 uses spaces; Slack commas).
[[nodiscard]] std::string scope_parameter(const connection& c);

/// A tenant as Microsoft's endpoints take it: a GUID, a domain name, or one of common,
/// organizations and consumers; letters, digits, '.' and '-', 1 to 64 characters.
[[nodiscard]] bool is_valid_tenant(std::string_view tenant) noexcept;

} // namespace oi::config
