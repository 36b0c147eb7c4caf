#pragma once

// base64url without padding (RFC 4648 section 5), as used in stored grant records.
// Plain functions, thread-safe. Decoding refuses any character outside the alphabet.

#include <optional>
#include <string>
#include <string_view>

namespace oi::store::detail {

[[nodiscard]] std::string base64url_encode(std::string_view bytes);

/// std::nullopt when `text` is not unpadded base64url.
[[nodiscard]] std::optional<std::string> base64url_decode(std::string_view text);

} // namespace oi::store::detail
