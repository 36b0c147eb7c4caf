#pragma once

// Base64 as the proxy needs it: base64url without padding for JWTs (RFC 7515 section 2)
// and stored grant records, and standard base64 with padding for `Proxy-Authorization: Basic`
// (RFC 7617 section 2). Pure functions on OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock; malformed
// input gives nullopt.

#include <optional>
#include <string>
#include <string_view>

namespace oi {

[[nodiscard]] std::string base64url_encode(std::string_view bytes);

/// Only the URL-safe alphabet, no padding, no whitespace.
[[nodiscard]] std::optional<std::string> base64url_decode(std::string_view text);

/// Only the standard alphabet, length a multiple of 4, at most two `=` at the end.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);

} // namespace oi
