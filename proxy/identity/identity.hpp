#pragma once

// Who a proxied request is for: the end user and the plugin (SPEC.md "How a request is handled",
// step 1). Two modes, chosen by the config:
//
// - unsigned (identity.secret empty): the plugin runner names user and plugin in two plain headers,
//   or in `Proxy-Authorization: Basic base64(plugin:user)` on a CONNECT. For trusted networks only.
// - signed (identity.secret set): only an HS256 JWT is accepted, in the token header or, on a
//   CONNECT, as `Proxy-Authorization: Bearer <jwt>` or as the password of `Basic`. Claims `sub`
//   (user) and `plugin` are required strings; `exp` is required and may lie at most
//   identity.max_ttl ahead; `nbf` and `iat` are honoured when present; clocks may differ by 30 s.
//
// Pure functions of their arguments (the clock is passed in), safe on any thread. Failures are a
// value: `required` (nothing usable was sent, refusal identity_required) or `invalid` (something
// was sent but is malformed, forged or expired, refusal identity_invalid). A user or plugin id is
// at most 256 bytes, non-empty and free of control characters.

#include "common/secret.hpp"
#include "config/config.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace oi::identity {

struct identity {
    std::string user;
    std::string plugin;
};

enum class identity_failure {
    required, // refusal::identity_required
    invalid,  // refusal::identity_invalid
};

inline constexpr std::size_t k_max_id_bytes = 256;
inline constexpr std::chrono::seconds k_clock_skew{30};

using resolution = std::variant<identity, identity_failure>;

/// From the identity headers of a request, as found (nullopt: absent). The caller refuses a
/// request that repeats an identity header before calling this, and removes the headers before
/// forwarding.
[[nodiscard]] resolution resolve_identity(const config::identity_config& config,
                                          std::optional<std::string_view> user_header,
                                          std::optional<std::string_view> plugin_header,
                                          std::optional<std::string_view> token_header,
                                          std::chrono::system_clock::time_point now);

/// From the `Proxy-Authorization` value of a CONNECT request.
[[nodiscard]] resolution
identity_from_proxy_authorization(const config::identity_config& config,
                                  std::string_view header_value,
                                  std::chrono::system_clock::time_point now);

/// A signed identity (HS256 JWT with sub, plugin, iat and exp = now + ttl), for
/// `oauth-injector identity sign` and tests.
[[nodiscard]] std::string sign_identity(const secret& key, std::string_view user,
                                        std::string_view plugin, std::chrono::seconds ttl,
                                        std::chrono::system_clock::time_point now);

} // namespace oi::identity
