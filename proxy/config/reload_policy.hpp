#pragma once

// What a configuration reload (SIGHUP, POST /v1/reload) may change, decided by comparing the
// running configuration with the new one. Pure functions: no I/O, no logging.
//
// Reloadable: connections (added, removed, allowed hosts, scopes, secrets...), plugins,
// placeholders, identity, public_url, admin_token, limits (except the ones below), upstream
// timeouts and address policy, intercept.other_hosts, log level and format, request id header.
//
// Restart-only, because the objects built from them live as long as the process:
//   listen.*                  the listening sockets are bound at start-up;
//   threads                   the workers and their io_contexts are created at start-up;
//   store.*                   every worker holds its own store client, grant cache and codec
//                             built from these (rotate encryption keys with a rolling restart:
//                             add the new key last everywhere, then move it first);
//   upstream.ca_file, upstream.pool_*
//                             the TLS trust store and the connection pools are built once;
//   intercept.ca_cert, intercept.ca_key, the presence of `intercept`
//                             the CA and its leaf cache are loaded once.
// A reload that changes one of these is refused as a whole (nothing is applied), naming the
// keys, instead of applying the rest and silently ignoring them.
//
// Refused as well: a changed token_url or client_id of a connection id that already exists.
// Grants are stored per connection id and do not record which client they were issued to, so
// the proxy would go on injecting the old client's tokens, possibly toward the new provider's
// hosts. Add the new client under a new connection id instead (the same holds across restarts).

#include "common/refusal.hpp"
#include "config/config.hpp"

#include <string>
#include <vector>

namespace oi::config {

/// One reason a reload is refused: the dotted path of the key and a message without values.
struct reload_conflict {
    std::string path;
    std::string message;
};

/// Every restart-only key that differs between `running` and `next`, and every connection whose
/// OAuth client changed. Empty: `next` may replace `running`.
[[nodiscard]] std::vector<reload_conflict> reload_conflicts(const config& running,
                                                            const config& next);

/// What a reload did, for the admin API and the SIGHUP log line.
struct reload_outcome {
    bool reloaded = false;
    refusal failure = refusal::config_invalid; // config_invalid or restart_required; when !reloaded
    std::vector<std::string> errors; // `FILE:LINE:COL: path: message` or `path: message`; no values
};

/// `path: message`, one line, for logs and the admin API.
[[nodiscard]] std::string format_conflict(const reload_conflict& conflict);

} // namespace oi::config
