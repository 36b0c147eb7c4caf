#pragma once

// What one proxied request did, reported once when it ends: the access log line and the request
// metrics are both made from it. Holds no secret, by construction: only ids from the config, the
// upstream host, sizes, timings and the outcome; the end user's id only when the operator set
// `log.include_user` (it never reaches a metric label).

#include "common/refusal.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace oi::server {

struct exchange_record {
    std::string request_id;
    std::string plugin;     // as configured; empty when the identity was not established
    std::string connection; // connection id; empty when none
    std::string user;       // end user id; empty unless log.include_user
    bool plugin_known = false;
    std::string method;
    std::string scheme;
    std::string host;
    std::uint16_t port = 0;
    unsigned status = 0;
    std::optional<refusal> refused; // set when the proxy answered itself
    bool client_aborted = false;    // the client went away before the end
    bool upstream_reused = false;
    bool token_injected = false;
    std::size_t replacements = 0;
    std::uint64_t request_body_bytes = 0;
    std::uint64_t response_body_bytes = 0;
    std::chrono::steady_clock::time_point started{};
    std::chrono::steady_clock::duration upstream_time{}; // until the response head arrived
    std::string detail;                                  // log-safe reason for a refusal or failure
};

} // namespace oi::server
