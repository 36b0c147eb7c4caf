#include "identity/identity.hpp"

#include "common/base64.hpp"
#include "identity/jwt.hpp"

#include <algorithm>
#include <cmath>
#include <strings.h>

namespace oi::identity {

namespace {

using std::chrono::system_clock;

bool is_valid_id(std::string_view id)
{
    return !id.empty() && id.size() <= k_max_id_bytes &&
           std::none_of(id.begin(), id.end(), [](char c) {
               auto byte = static_cast<unsigned char>(c);
               return byte < 0x20 || byte == 0x7f;
           });
}

resolution checked(std::string_view user, std::string_view plugin)
{
    if (!is_valid_id(user) || !is_valid_id(plugin)) {
        return identity_failure::invalid;
    }
    return identity{std::string(user), std::string(plugin)};
}

/// A NumericDate claim (RFC 7519 section 2) in whole seconds; nullopt when absent or not a number.
std::optional<double> numeric_date(const boost::json::object& claims, std::string_view name)
{
    const auto* value = claims.if_contains(name);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (value->is_int64()) {
        return static_cast<double>(value->as_int64());
    }
    if (value->is_uint64()) {
        return static_cast<double>(value->as_uint64());
    }
    if (value->is_double() && std::isfinite(value->as_double())) {
        return value->as_double();
    }
    return std::nullopt;
}

bool times_acceptable(const boost::json::object& claims, const config::identity_config& config,
                      system_clock::time_point now)
{
    const double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
    const double skew = static_cast<double>(k_clock_skew.count());
    const double max_ttl = std::chrono::duration<double>(config.max_ttl).count();

    // RFC 7519 section 4.1.4: the token must not be used at or after exp.
    auto exp = numeric_date(claims, "exp");
    if (!exp || now_s >= *exp + skew || *exp - now_s > max_ttl + skew) {
        return false;
    }
    if (claims.contains("nbf")) {
        auto nbf = numeric_date(claims, "nbf");
        if (!nbf || now_s + skew < *nbf) {
            return false;
        }
    }
    if (claims.contains("iat")) {
        auto iat = numeric_date(claims, "iat");
        if (!iat || now_s + skew < *iat) {
            return false;
        }
    }
    return true;
}

resolution from_jwt(const config::identity_config& config, std::string_view token,
                    system_clock::time_point now)
{
    auto claims = verify_hs256(token, config.secret_key);
    if (!claims || !times_acceptable(*claims, config, now)) {
        return identity_failure::invalid;
    }

    const auto* sub = claims->if_contains("sub");
    const auto* plugin = claims->if_contains("plugin");
    if (sub == nullptr || plugin == nullptr || !sub->is_string() || !plugin->is_string()) {
        return identity_failure::invalid;
    }
    return checked(sub->as_string(), plugin->as_string());
}

bool signed_mode(const config::identity_config& config)
{
    return !config.secret_key.empty();
}

std::string_view trim(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

} // namespace

resolution resolve_identity(const config::identity_config& config,
                            std::optional<std::string_view> user_header,
                            std::optional<std::string_view> plugin_header,
                            std::optional<std::string_view> token_header,
                            system_clock::time_point now)
{
    if (signed_mode(config)) {
        // Plain user and plugin headers are not evidence of anything once identities are signed.
        if (!token_header) {
            return identity_failure::required;
        }
        return from_jwt(config, *token_header, now);
    }

    if (!user_header || !plugin_header) {
        return identity_failure::required;
    }
    return checked(*user_header, *plugin_header);
}

resolution identity_from_proxy_authorization(const config::identity_config& config,
                                             std::string_view header_value,
                                             system_clock::time_point now)
{
    std::string_view value = trim(header_value);
    if (value.empty()) {
        return identity_failure::required;
    }

    // RFC 9110 section 11.4: credentials = auth-scheme [ 1*SP token68 ]; the scheme is
    // case-insensitive.
    auto space = value.find(' ');
    if (space == std::string_view::npos) {
        return identity_failure::invalid;
    }
    std::string scheme(value.substr(0, space));
    std::string_view credentials = trim(value.substr(space + 1));

    if (strcasecmp(scheme.c_str(), "Bearer") == 0) {
        if (!signed_mode(config)) {
            return identity_failure::invalid;
        }
        return from_jwt(config, credentials, now);
    }
    if (strcasecmp(scheme.c_str(), "Basic") != 0) {
        return identity_failure::invalid;
    }

    // RFC 7617 section 2: user-id ":" password; the user-id (here the plugin) has no colon.
    auto decoded = base64_decode(credentials);
    if (!decoded) {
        return identity_failure::invalid;
    }
    auto colon = decoded->find(':');
    if (colon == std::string::npos) {
        return identity_failure::invalid;
    }
    std::string_view plugin = std::string_view(*decoded).substr(0, colon);
    std::string_view password = std::string_view(*decoded).substr(colon + 1);
    if (signed_mode(config)) {
        return from_jwt(config, password, now);
    }
    return checked(password, plugin);
}

std::string sign_identity(const secret& key, std::string_view user, std::string_view plugin,
                          std::chrono::seconds ttl, system_clock::time_point now)
{
    const auto issued =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();

    boost::json::object claims;
    claims["sub"] = user;
    claims["plugin"] = plugin;
    claims["iat"] = issued;
    claims["exp"] = issued + ttl.count();
    return sign_hs256(key, claims);
}

} // namespace oi::identity
