#pragma once

// `${NAME}` substitution in config scalars. Runs once per scalar at start-up, on the thread that
// loads the config. Errors come back as a message for the loader to place at the scalar's line;
// the message names the variable but never contains its value.
//
// Syntax: `${NAME}` is the variable's value (unset is an error); `${NAME:-default}` is the value,
// or `default` when the variable is unset or empty (as in POSIX sh); `$$` is a literal `$`; a `$`
// followed by anything else is kept as it is. NAME is [A-Za-z_][A-Za-z0-9_]*. Substituted text is
// not scanned again, and a default cannot itself contain `${`.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace oi::config {

/// Looks up one environment variable; nullopt when it is not set.
using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;

/// The real process environment (std::getenv).
[[nodiscard]] env_lookup process_env();

struct substitution_error {
    std::string message;
};

[[nodiscard]] std::variant<std::string, substitution_error> substitute_env(std::string_view text,
                                                                           const env_lookup& env);

} // namespace oi::config
