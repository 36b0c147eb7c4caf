#include "config/presets.hpp"

#include <algorithm>
#include <array>

namespace oi::config {

namespace {

// Sources, read when these were written:
// - Google: developers.google.com/identity/protocols/oauth2/web-server. A refresh token is only
//   issued with access_type=offline, and again on a later authorization only with
//   prompt=consent. Google refuses an authorization request without a scope.
// - Slack: api.slack.com/authentication/oauth-v2. Scopes are comma-separated; bot scopes go in
//   `scope`, user scopes in `user_scope` (extra_params); the user token comes back under
//   `authed_user`. auth.revoke is a Web API method, not RFC 7009.
// - GitHub: docs.github.com, "Authorizing OAuth apps". The token endpoint answers form-encoded
//   unless the request says `Accept: application/json` (the proxy always does, and reads either
//   shape). Revocation is DELETE /applications/{client_id}/grant, not RFC 7009.
// - Microsoft identity platform v2.0: learn.microsoft.com/entra/identity-platform/
//   v2-oauth2-auth-code-flow. Endpoints carry the tenant; a refresh token needs the
//   offline_access scope. No revocation endpoint.
const std::array<preset_spec, 4> k_presets{{
    {
        .name = "google",
        .authorization_url = "https://accounts.google.com/o/oauth2/v2/auth",
        .token_url = "https://oauth2.googleapis.com/token",
        .revocation_url = "https://oauth2.googleapis.com/revoke",
        .scopes = {},
        .allowed_hosts = {"www.googleapis.com", "*.googleapis.com"},
        .prompt = "consent",
        .access_type = "offline",
        .needs_scopes = true,
    },
    {
        .name = "slack",
        .authorization_url = "https://slack.com/oauth/v2/authorize",
        .token_url = "https://slack.com/api/oauth.v2.access",
        .allowed_hosts = {"slack.com"},
        .scope_separator = ',',
    },
    {
        .name = "github",
        .authorization_url = "https://github.com/login/oauth/authorize",
        .token_url = "https://github.com/login/oauth/access_token",
        .allowed_hosts = {"api.github.com", "uploads.github.com"},
    },
    {
        .name = "microsoft",
        .authorization_url = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
        .token_url = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        .scopes = {"offline_access", "User.Read"},
        .allowed_hosts = {"graph.microsoft.com"},
        .required_scope = "offline_access",
        .has_tenant = true,
    },
}};

std::string with_tenant(std::string_view url, std::string_view tenant)
{
    std::string out(url);
    constexpr std::string_view k_marker = "{tenant}";
    if (auto at = out.find(k_marker); at != std::string::npos) {
        out.replace(at, k_marker.size(), tenant);
    }
    return out;
}

} // namespace

std::span<const preset_spec> presets() noexcept
{
    return k_presets;
}

const preset_spec* find_preset(std::string_view name) noexcept
{
    auto it = std::find_if(k_presets.begin(), k_presets.end(),
                           [&](const preset_spec& p) { return p.name == name; });
    return it == k_presets.end() ? nullptr : &*it;
}

connection preset_defaults(const preset_spec& preset, std::string_view tenant)
{
    connection out;
    out.preset = std::string(preset.name);
    if (preset.has_tenant) {
        out.tenant = std::string(tenant.empty() ? k_default_tenant : tenant);
    }
    out.authorization_url = with_tenant(preset.authorization_url, out.tenant);
    out.token_url = with_tenant(preset.token_url, out.tenant);
    out.revocation_url = with_tenant(preset.revocation_url, out.tenant);
    out.scopes = std::vector<std::string>(preset.scopes.begin(), preset.scopes.end());
    out.scope_separator = preset.scope_separator;
    out.allowed_hosts =
        std::vector<std::string>(preset.allowed_hosts.begin(), preset.allowed_hosts.end());
    out.prompt = std::string(preset.prompt);
    out.access_type = std::string(preset.access_type);
    return out;
}

void finish_preset(const preset_spec& preset, connection& out)
{
    const std::string_view required = preset.required_scope;
    if (required.empty() ||
        std::find(out.scopes.begin(), out.scopes.end(), required) != out.scopes.end()) {
        return;
    }
    out.scopes.insert(out.scopes.begin(), std::string(required));
}

std::string scope_parameter(const connection& c)
{
    std::string out;
    for (const std::string& scope : c.scopes) {
        if (!out.empty()) {
            out += c.scope_separator;
        }
        out += scope;
    }
    return out;
}

bool is_valid_tenant(std::string_view tenant) noexcept
{
    if (tenant.empty() || tenant.size() > 64) {
        return false;
    }
    return std::all_of(tenant.begin(), tenant.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-';
    });
}

} // namespace oi::config
