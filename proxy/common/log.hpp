#pragma once

// Structured logging: every line is one event name plus typed fields, written either as a JSON
// object per line or as `key=value` text. Lines start with `ts` (RFC 3339 UTC, milliseconds),
// `level` and `event`, in that order, then the fields in the order given.
//
// Ownership and threads: one process-wide logger, configured once by `init` at start-up and then
// used from any thread. Lines are formatted on the calling thread and handed to an spdlog async
// logger whose single background thread writes them to stderr, so a worker never waits on the
// terminal or a pipe. When the queue (k_queue_size lines) is full, the oldest unwritten lines are
// dropped rather than stalling the workers. Before `init`, lines go synchronously to stderr.
//
// Errors: logging never throws and never reports failure; a line that cannot be written is lost.
//
// String values are written byte for byte (escaped, but not checked to be UTF-8).
//
// Secrets: `field` has no constructor for `oi::secret`, so a token cannot be passed as a field
// value by accident; field keys are expected to be literals and are not escaped in text mode.

#include "common/secret.hpp"

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace oi::log {

enum class level { trace, debug, info, warn, error, off };

inline constexpr std::size_t k_queue_size = 8192;

/// "trace", "debug", "info", "warn" (or "warning"), "error", "off"; nullopt for anything else.
[[nodiscard]] std::optional<level> parse_level(std::string_view name) noexcept;
[[nodiscard]] std::string_view level_name(level l) noexcept;

/// Configures the process-wide logger. Call once at start-up, before workers start.
void init(level min_level, bool json);

/// Changes the level and format of a running logger (a configuration reload). Any thread.
void reconfigure(level min_level, bool json) noexcept;

/// Asks the writer thread to flush its sink. Lines still queued at a normal exit are written when
/// the writer is joined during static destruction; after a crash they are lost.
void flush();

/// True when a line at `l` would be written: a cheap check before building expensive fields.
[[nodiscard]] bool enabled(level l) noexcept;

/// One `key: value` pair of an event. String values are views: they must live until `event`
/// returns, which they do when the field list is written inline in the call.
struct field {
    using value_type = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;

    std::string_view key;
    value_type value;

    field(std::string_view k, std::string_view v) noexcept : key(k), value(v) {}
    field(std::string_view k, const char* v) noexcept : key(k), value(std::string_view(v)) {}
    field(std::string_view k, const std::string& v) noexcept : key(k), value(std::string_view(v)) {}
    template <std::signed_integral T>
    requires(!std::same_as<T, bool>) field(std::string_view k, T v)
    noexcept : key(k), value(static_cast<std::int64_t>(v)) {}
    template <std::unsigned_integral T>
    requires(!std::same_as<T, bool>) field(std::string_view k, T v)
    noexcept : key(k), value(static_cast<std::uint64_t>(v)) {}
    field(std::string_view k, double v) noexcept : key(k), value(v) {}
    field(std::string_view k, bool v) noexcept : key(k), value(v) {}

    /// Secrets are never logged.
    field(std::string_view k, const secret& v) = delete;
};

/// Writes one line when `l` is enabled. Fields whose key is empty are skipped.
void event(level l, std::string_view name, std::initializer_list<field> fields = {});

/// Formats a line exactly as `event` would write it (without the trailing newline), with the
/// given timestamp text. Exposed for tests and for tools that print events themselves.
[[nodiscard]] std::string format_line(bool json, std::string_view ts, level l,
                                      std::string_view name, std::initializer_list<field> fields);

/// The current UTC time as RFC 3339 with milliseconds, e.g. `2024-05-01T12:34:56.789Z`.
[[nodiscard]] std::string now_rfc3339();

/// A random 64-bit request id as 16 lower-case hex characters, from a thread-local PRNG seeded
/// from std::random_device. Unique enough to correlate lines; not a secret and not a nonce.
[[nodiscard]] std::string new_request_id();

/// For tests: while alive, every line from any thread is also kept in memory (synchronously,
/// in the order written) instead of going to stderr, at `min_level` and above. Restores the
/// previous logger and level when destroyed. Only one capture may be alive at a time.
class capture {
public:
    explicit capture(level min_level = level::trace, bool json = true);
    ~capture();
    capture(const capture&) = delete;
    capture& operator=(const capture&) = delete;

    [[nodiscard]] std::vector<std::string> lines() const;
    /// All lines joined with '\n'.
    [[nodiscard]] std::string text() const;
    /// True when any captured line contains `needle` (for "no secret was logged" assertions).
    [[nodiscard]] bool contains(std::string_view needle) const;

private:
    struct state;
    std::unique_ptr<state> state_;
};

} // namespace oi::log
