#pragma once

// The effective configuration as YAML, for `check-config --print`: what the proxy would run
// with after `${...}` substitution, defaults and presets, in the config file's own key names so
// that an operator can compare it with what they wrote.
//
// Every secret is masked: client secrets, the admin token, the identity secret, the encryption
// keys and the Redis password (which the loader has already taken out of the URL) print as
// k_masked when set and as "" when empty, so the output tells whether a secret is set without
// showing it. Called on the main thread after a successful load; throws nothing but bad_alloc.

#include "config/config.hpp"

#include <string>
#include <string_view>

namespace oi::config {

/// What a non-empty secret prints as.
inline constexpr std::string_view k_masked = "********";

/// The whole configuration as a YAML document (ends with a newline).
[[nodiscard]] std::string print_config(const config& c);

} // namespace oi::config
