#pragma once

// RFC 3339 date-times for the admin API's `expires_at` fields: formatting (UTC, whole seconds,
// `2024-05-01T12:34:56Z`) and parsing of the full `date-time` production of RFC 3339 section 5.6
// (fractional seconds and numeric offsets accepted; leap seconds are not). Pure functions.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace oi::admin {

using sys_seconds = std::chrono::sys_seconds;

[[nodiscard]] std::string format_rfc3339(std::chrono::system_clock::time_point t);

/// The instant written in `text`, truncated to whole seconds; nullopt when `text` is not an
/// RFC 3339 date-time or names an impossible date.
[[nodiscard]] std::optional<sys_seconds> parse_rfc3339(std::string_view text) noexcept;

} // namespace oi::admin
