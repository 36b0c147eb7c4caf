#pragma once

// Parsing of the config's quantities with units: durations (`500ms`, `30s`, `5m`, `1h`) and byte
// sizes (`512`, `512B`, `64KiB`, `16MiB`, `1GiB`). Pure functions, usable from any thread (the
// CLI uses parse_duration for `identity sign --ttl`). Errors are reported as std::nullopt; the
// caller words the message because it knows where the value came from.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace oi::config {

/// A non-negative whole number followed by exactly one unit: ms, s, m or h. No unit, a fraction,
/// a sign, spaces or an overflow of std::chrono::milliseconds give nullopt.
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

/// A non-negative whole number of bytes, optionally followed by B, KiB, MiB or GiB (powers of
/// 1024). Anything else, including overflow of 64 bits, gives nullopt.
[[nodiscard]] std::optional<std::uint64_t> parse_size(std::string_view text);

} // namespace oi::config
