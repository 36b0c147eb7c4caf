#pragma once

// Compact JWS with HMAC-SHA256 (RFC 7515, RFC 7519), the only form of signed identity the proxy
// accepts: `HS256` is the sole algorithm, so a token cannot choose `none` or a public-key algorithm
// and have its signature checked the wrong way (RFC 8725 section 2.1). Pure functions, any thread.
// Checking the claims (expiry, subject) is the caller's job; see identity.hpp.

#include "common/secret.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace oi::identity {

/// Longest token looked at; anything longer is refused before any work is done.
inline constexpr std::size_t k_max_jwt_bytes = 8 * 1024;

/// `base64url(header).base64url(claims).base64url(HMAC-SHA256)` with header
/// `{"alg":"HS256","typ":"JWT"}`.
[[nodiscard]] std::string sign_hs256(const secret& key, const boost::json::object& claims);

/// The claims of a well-formed token whose header says exactly `alg: HS256` (no `crit`, `typ`
/// absent or JWT) and whose signature matches `key`; nullopt for anything else.
[[nodiscard]] std::optional<boost::json::object> verify_hs256(std::string_view token,
                                                              const secret& key);

} // namespace oi::identity
