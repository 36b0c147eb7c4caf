#pragma once

// The name a leaf certificate is minted for, taken from a TLS server_name (SNI) or a CONNECT
// authority. Pure functions, any thread; an unusable name gives std::nullopt.

#include <optional>
#include <string>
#include <string_view>

namespace oi::intercept {

/// A host ready to be put in a certificate: a lower-case DNS name without a trailing dot, or an
/// IP literal in its canonical text form (IPv6 without brackets).
struct leaf_host {
    std::string name;
    bool is_ip = false;

    friend bool operator==(const leaf_host&, const leaf_host&) = default;
};

/// Normalizes `raw`: strips a `:port` suffix (Go clients append one to SNI; CONNECT authorities
/// carry one), IPv6 brackets, one trailing dot, and lower-cases. Accepts DNS names whose labels
/// are 1-63 characters of letters, digits, '-' and '_' (RFC 1123 section 2.1, plus the underscore
/// that real service names use), at most 253 characters; and IPv4/IPv6 literals without a zone.
[[nodiscard]] std::optional<leaf_host> normalize_host(std::string_view raw);

} // namespace oi::intercept
