#pragma once

// Loads the YAML configuration (SPEC.md "Configuration") into the plain structs of config.hpp.
// Called once at start-up (and by `check-config`) on the main thread; the resulting `config` is
// then read-only. Every problem found is reported, not only the first, each with its file, line,
// column and dotted path (`connections.google.token_url`, list items as
// `store.encryption_keys[0]`); messages describe bad secrets instead of repeating them. No
// exception escapes these functions.
//
// Besides SPEC.md's keys the loader accepts `store.redis.password` (instead of a password inside
// the URL), `store.cache_ttl` and `store.cache_max_entries` (the per-worker grant cache),
// `store.refresh_timeout` (default 10s: the longest a token refresh, or a request waiting for one,
// takes),
// `upstream.pool_idle_timeout` and `upstream.pool_max_idle_per_host` (0: no pooling),
// `limits.header_timeout` (default 30s), the plugin-manifest aliases inside a connection, and
// the connection keys `tenant`, `scope_separator` and `token_source`. A connection's `preset`
// fills its defaults (presets.hpp); keys the preset fills are then not required.

#include "config/config.hpp"
#include "config/env_substitution.hpp"

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace oi::config {

struct config_error {
    std::string file;
    int line = 0;   // 1-based; 0 when the error is about the file as a whole
    int column = 0; // 1-based
    std::string path;
    std::string message;
};

/// `FILE:LINE:COL: dotted.path: message`; the path part is left out for errors outside any key
/// (YAML syntax) and the position for errors about the whole file (unreadable).
[[nodiscard]] std::string format_error(const config_error& error);

using load_result = std::variant<config, std::vector<config_error>>;

/// Parses and validates `yaml`; `file_name` is used in errors and as config::source_path.
[[nodiscard]] load_result load_config_text(std::string_view yaml, std::string_view file_name,
                                           const env_lookup& env);

/// Reads `path` and loads it like load_config_text.
[[nodiscard]] load_result load_config_file(const std::string& path, const env_lookup& env);

} // namespace oi::config
