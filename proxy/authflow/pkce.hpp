#pragma once

// Random values of the authorization flow and PKCE (RFC 7636). Pure functions, any thread.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace oi::authflow {

/// `bytes` bytes from OpenSSL's CSPRNG, base64url without padding; nullopt when the CSPRNG
/// fails (the caller refuses rather than use a guessable value).
[[nodiscard]] std::optional<std::string> random_token(std::size_t bytes);

/// A code_verifier: 32 random bytes, base64url, so 43 characters of the unreserved set
/// (RFC 7636 section 4.1, the construction it recommends).
[[nodiscard]] std::optional<std::string> new_code_verifier();

/// BASE64URL(SHA256(ASCII(code_verifier))) (RFC 7636 section 4.2, method S256).
[[nodiscard]] std::string s256_challenge(std::string_view code_verifier);

} // namespace oi::authflow
