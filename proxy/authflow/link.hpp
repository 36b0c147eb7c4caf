#pragma once

// Authorize links (SPEC.md "Admin API", `POST .../authorize-link`): a signed, short-lived
// `{public_url}/oauth/start?link=<token>` that sends one end user through one connection's
// authorization. The token is a compact JWS with HMAC-SHA256 (identity/jwt.hpp) whose claims are
// the connection, the user, the expiry, the optional return_to and a random nonce, under the
// audience `oauth-injector/authorize-link` so that no other token of the proxy passes for one.
//
// The signing key is derived, not configured: HKDF-SHA256 (RFC 5869) of the first store
// encryption key with the info label "oauth-injector authorize-link v1". Operators already keep
// that key secret, share it between replicas and rotate it; the label makes the HMAC key
// independent of the AES key it comes from, so neither use weakens the other. Rotating the
// encryption key invalidates links not yet used, which live 10 minutes at most. A memory store
// without encryption keys (tests, demos: one process) signs with a random key per process.
//
// Ownership and threads: immutable after construction; share it between threads. Errors: the
// factory throws at start-up only when OpenSSL fails; `verify` returns link_error.

#include "common/secret.hpp"
#include "config/config.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace oi::authflow {

using clock = std::chrono::system_clock;

/// How long a minted link may be used (SPEC.md: 10 minutes).
inline constexpr std::chrono::minutes k_link_lifetime{10};
/// Longest return_to accepted.
inline constexpr std::size_t k_max_return_to_bytes = 2048;

struct link_claims {
    std::string connection;
    std::string user;
    std::string return_to; // empty: none
    std::string nonce;
    clock::time_point expires_at{};
};

enum class link_error { invalid, expired };

/// A minted link: the URL to hand to the user and when it stops working.
struct minted_link {
    std::string url;
    clock::time_point expires_at{};
};

class link_signer {
public:
    /// Signs with `key` as the HMAC-SHA256 key.
    explicit link_signer(secret key);

    /// The key derivation described above.
    [[nodiscard]] static link_signer from_config(const config::store_config& store);

    [[nodiscard]] std::string sign(const link_claims& claims) const;

    /// The claims of a token signed with this key that has not expired at `now`.
    [[nodiscard]] boost::system::result<link_claims, link_error>
    verify(std::string_view token, clock::time_point now) const;

    /// A fresh link (new nonce, k_link_lifetime from `now`) on `public_url`.
    [[nodiscard]] minted_link mint(std::string_view public_url, std::string_view connection,
                                   std::string_view user, std::string_view return_to,
                                   clock::time_point now) const;

private:
    secret key_;
};

/// Whether `return_to` is an absolute http(s) URL, at most k_max_return_to_bytes, whose origin
/// is one of `origins` (normalized as config::url_origin does).
[[nodiscard]] bool return_to_allowed(std::string_view return_to,
                                     const std::vector<std::string>& origins);

} // namespace oi::authflow
