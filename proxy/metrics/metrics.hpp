#pragma once

// The proxy's Prometheus metrics (SPEC.md "Metrics", prefix `oauth_injector_`).
//
// Ownership: one `metrics` per process, made by the server at start-up from the config and
// shared by reference with every worker, listener and the admin API; it must outlive them.
// Threads: every recording call is safe from any thread and never locks or allocates. Label sets
// are resolved ahead (prometheus-cpp's Family::Add locks) into tables indexed by a plugin row, a
// connection row or an enum: at construction, and by `add_config` when a reload brings new
// plugins or connections. Rows are only ever appended, so an index obtained before a reload stays
// valid; every published table is kept until the metrics object dies (a few KB per reload). A
// series, once created, stays: Prometheus counters must not vanish. Label values come only from
// the config and from the enums below, never from requests, so cardinality is bounded:
// requests_total has (distinct plugin/connection pairs + 1) x (2 + refusal codes) series. Errors:
// none are reported; an index out of range (a programming error) is not counted.
//
// Families:
//   requests_total{plugin,connection,outcome}   proxy requests; outcome is `forwarded`,
//                                               `client_error` (the client went away) or a
//                                               refusal code; plugin `unknown` (connection
//                                               `none`) when there is no configured plugin
//   request_duration_seconds{outcome}           histogram; outcome forwarded|refused|client_error
//   upstream_duration_seconds                   histogram; until the upstream's response head
//   token_refresh_total{connection,result}      success|invalid_grant|error|skipped
//   token_refresh_duration_seconds{connection}  histogram; one refresh flight, lock wait included
//   token_refresh_lock_waits_total{connection}  flights that found another owner's refresh lock
//   token_refresh_lock_wait_seconds{connection} histogram; how long those flights waited
//                                               (these two histograms have series only for the
//                                               connections of the start-up configuration)
//   token_cache_lookups_total{result}           hit|miss|stale
//   store_errors_total{operation}               see store_op
//   store_duration_seconds{operation}           histogram
//   store_retries_total{result}                 idempotent commands sent again after the
//                                               connection broke under them (a failover):
//                                               success|failure of the second attempt
//   active_connections{listener}                gauge; proxy|public|admin
//   intercept_certificates_issued_total
//   config_reloads_total{result}                success|failure
//   upstream_connections_total{result}          new|reused|failed
//   refusals_total{code}                        every refusal made on any listener
//   authorizations_total{connection,result}     /oauth/start and /oauth/callback outcomes (see
//                                               authorization_result); connection `none` when
//                                               the link or state named none
//   token_revocations_total{connection,result}  revoked|failed, at disconnect (RFC 7009)

#include "common/refusal.hpp"
#include "config/config.hpp"
#include "metrics/histogram_family.hpp"

#include <prometheus/family.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Registry;
} // namespace prometheus

namespace oi::metrics {

inline constexpr std::size_t k_refusal_count = static_cast<std::size_t>(k_last_refusal) + 1;

/// The Content-Type of `serialize()`'s output (Prometheus text exposition format 0.0.4).
inline constexpr std::string_view k_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// How a proxy request ended: forwarded, the client went away, or one of the refusals.
class outcome {
public:
    static constexpr std::size_t k_count = 2 + k_refusal_count;

    [[nodiscard]] static constexpr outcome forwarded() noexcept { return outcome(0); }
    [[nodiscard]] static constexpr outcome client_error() noexcept { return outcome(1); }
    constexpr outcome(refusal r) noexcept : index_(2 + static_cast<std::size_t>(r)) {}

    [[nodiscard]] constexpr std::size_t index() const noexcept { return index_; }
    [[nodiscard]] constexpr bool is_refusal() const noexcept { return index_ >= 2; }

private:
    explicit constexpr outcome(std::size_t index) noexcept : index_(index) {}
    std::size_t index_;
};

enum class cache_result { hit, miss, stale };
enum class refresh_result { success, invalid_grant, error, skipped };
/// lock: the cross-replica refresh lock; state: OAuth state and PKCE records of /oauth/start.
enum class store_op { load, save, remove, ping, lock, state };
enum class listener { proxy, public_listener, admin };
enum class reload_result { success, failure };
enum class retry_result { success, failure };
enum class upstream_connection { new_connection, reused, failed };
/// started: /oauth/start redirected to the provider; connected: a grant was stored; denied: the
/// user refused (access_denied); provider_error: another error, or no code, on the callback;
/// exchange_failed: the token endpoint did not give a token; invalid_link / invalid_state:
/// forged, expired, replayed or unknown; store_error: the store did not answer.
enum class authorization_result {
    started,
    connected,
    denied,
    provider_error,
    exchange_failed,
    invalid_link,
    invalid_state,
    store_error
};
enum class revocation_result { revoked, failed };

[[nodiscard]] std::string_view label(cache_result r) noexcept;
[[nodiscard]] std::string_view label(refresh_result r) noexcept;
[[nodiscard]] std::string_view label(store_op op) noexcept;
[[nodiscard]] std::string_view label(listener l) noexcept;
[[nodiscard]] std::string_view label(reload_result r) noexcept;
[[nodiscard]] std::string_view label(upstream_connection r) noexcept;
[[nodiscard]] std::string_view label(outcome o) noexcept;
[[nodiscard]] std::string_view label(authorization_result r) noexcept;

class metrics {
public:
    explicit metrics(const config::config& cfg);
    ~metrics();
    metrics(const metrics&) = delete;
    metrics& operator=(const metrics&) = delete;

    // ---- index lookups: once per request, read-only, no lock ----

    /// The plugin's row (with its current connection), or `unknown_plugin()` when the id is not
    /// in the config.
    [[nodiscard]] std::size_t plugin_index(std::string_view plugin_id) const noexcept;
    [[nodiscard]] static constexpr std::size_t unknown_plugin() noexcept { return 0; }
    /// The connection's row, or `no_connection()` when the id is not in the config.
    [[nodiscard]] std::size_t connection_index(std::string_view connection_id) const noexcept;
    [[nodiscard]] static constexpr std::size_t no_connection() noexcept { return SIZE_MAX; }

    /// Creates the series of the plugins and connections in `cfg` that have none yet (a reload).
    /// Any thread; serialized with other calls of add_config.
    void add_config(const config::config& cfg);

    // ---- recording: any thread, never locks or allocates ----

    /// One proxy request has ended. A refusal outcome also counts in refusals_total.
    void request_done(std::size_t plugin, outcome o, double seconds) noexcept;
    void upstream_response(double seconds) noexcept;
    void upstream_connection_used(upstream_connection r) noexcept;
    void token_refresh(std::size_t connection, refresh_result r) noexcept;
    /// How long one refresh flight took, from its start to its outcome.
    void token_refresh_duration(std::size_t connection, double seconds) noexcept;
    /// A refresh flight found another owner's lock and waited `seconds` for it.
    void token_refresh_lock_wait(std::size_t connection, double seconds) noexcept;
    void cache_lookup(cache_result r) noexcept;
    void store_call(store_op op, double seconds) noexcept;
    void store_error(store_op op) noexcept;
    /// An idempotent store command was sent again after a failover; `r`: how that ended.
    void store_retry(retry_result r) noexcept;
    void connection_opened(listener l) noexcept;
    void connection_closed(listener l) noexcept;
    void certificate_issued() noexcept;
    void config_reload(reload_result r) noexcept;
    /// A refusal made outside the proxy request path (admin or public listener).
    void refused(refusal r) noexcept;
    /// `connection` may be connection_count(): counted under connection `none`.
    void authorization(std::size_t connection, authorization_result r) noexcept;
    void revocation(std::size_t connection, revocation_result r) noexcept;

    /// The Prometheus text exposition of every family (for GET /metrics).
    [[nodiscard]] std::string serialize() const;

private:
    struct label_table; // plugin and connection rows; defined in metrics.cpp

    [[nodiscard]] const label_table& table() const noexcept;
    std::size_t add_request_row(label_table& t, const std::string& plugin,
                                const std::string& connection);

    std::shared_ptr<prometheus::Registry> registry_;
    prometheus::Family<prometheus::Counter>* requests_family_ = nullptr;
    prometheus::Family<prometheus::Counter>* refresh_family_ = nullptr;
    prometheus::Family<prometheus::Counter>* lock_waits_family_ = nullptr;
    std::mutex tables_mutex_; // add_config
    std::vector<std::unique_ptr<const label_table>> tables_;
    std::atomic<const label_table*> table_{nullptr}; // the newest of tables_
    std::array<prometheus::Counter*, 3> cache_{};
    std::array<prometheus::Counter*, 6> store_errors_{};
    std::array<prometheus::Counter*, 2> store_retries_{};
    std::array<prometheus::Gauge*, 3> active_{};
    prometheus::Counter* certificates_ = nullptr;
    std::array<prometheus::Counter*, 2> reloads_{};
    std::array<prometheus::Counter*, 3> upstream_connections_{};
    std::array<prometheus::Counter*, k_refusal_count> refusals_{};
    std::vector<prometheus::Counter*> authorizations_; // [connection (or none) * 8 + result]
    std::vector<prometheus::Counter*> revocations_;    // [connection * 2 + result]
    std::size_t flow_connections_ = 0; // connections with authorization and revocation series

    histogram_family request_duration_;
    histogram_family upstream_duration_;
    histogram_family store_duration_;
    histogram_family refresh_duration_;
    histogram_family lock_wait_duration_;
};

} // namespace oi::metrics
