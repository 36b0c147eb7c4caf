#pragma once

// Finds the grant for (connection, user) on behalf of the proxy session: from the worker's
// in-process cache, else from the store. Concurrent lookups of one grant on a worker share one
// store read. When the store fails, a cached grant whose token is still valid is served.
//
// Refresh: a grant whose access token expires within the connection's `refresh_before` (and has a
// refresh token, and does not need re-authorization) is refreshed by one flight per grant per
// worker (refresh_flight.hpp coordinates the workers and replicas through the store's lock).
// While the old token is still valid, requests keep using it and do not wait; once it has
// expired, requests wait for the flight, at most `store.refresh_timeout`, and then see the missing
// grant behaviour. After a transient failure (transport, 5xx, 429, store) the grant backs off
// with jitter (Retry-After when given), on every worker and replica through the store's
// cooldown; after a refusal only re-authorization helps and the grant is stored with
// needs_reauth, so the provider is not called again.
//
// One instance per worker, used only from that worker's io_context thread: no locks. Refresh
// flights run detached on that io_context and hold no reference into a request.

#include "config/config.hpp"
#include "store/grant_store.hpp"
#include "token/refresh_flight.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace oi::token {

enum class lookup_status {
    found,             // `grant` holds a usable grant
    missing,           // no grant, needs re-authorization, or the access token has expired
    store_unavailable, // the store failed and nothing usable is cached
};

enum class cache_result { hit, miss, stale };

/// Where a lookup's grant came from: the worker's cache, its own store read, or a read that
/// another lookup of the same grant had already started.
enum class grant_source { cache, store, shared_load };
/// What a lookup did about a refresh: nothing (not due), nothing because the grant is backing off
/// after a failure, started a flight, or joined the flight another request started.
enum class refresh_step { none, backing_off, started, joined };

/// How one lookup went, for the debug log (README "Logging"): set on every lookup, read only
/// when debug events are enabled.
struct lookup_trace {
    grant_source source = grant_source::cache;
    refresh_step refresh = refresh_step::none;
    bool waited = false; // the token had expired: the lookup waited for the flight
    std::optional<refresh_status> outcome; // the flight's outcome, when it waited and it ended
};

struct lookup_result {
    lookup_status status = lookup_status::missing;
    std::shared_ptr<const store::grant> grant;
    cache_result cache = cache_result::miss;
    lookup_trace trace;
};

[[nodiscard]] std::string_view label(lookup_status s) noexcept;
[[nodiscard]] std::string_view label(grant_source s) noexcept;
[[nodiscard]] std::string_view label(refresh_step s) noexcept;

/// Observes lookups for metrics and logs; all members may be empty.
struct lookup_observer {
    std::function<void(cache_result)> on_cache;
    std::function<void(std::string_view operation, std::chrono::steady_clock::duration)> on_store;
    std::function<void(std::string_view operation)> on_store_error;
    /// One refresh flight has ended after `took` (a log event is written by the service itself).
    std::function<void(std::string_view connection, const refresh_outcome&,
                       std::chrono::steady_clock::duration took)>
        on_refresh;
};

/// What an on-demand refresh (the admin API's `POST .../refresh`) came to.
struct refresh_now_result {
    bool store_failed = false; // the grant could not be read: nothing else is known
    /// The refresh's outcome; nullopt when none was run: no grant, or a grant that needs
    /// re-authorization or has no refresh token.
    std::optional<refresh_status> status;
    /// The flight did not end within `store.refresh_timeout`; it goes on in the background.
    bool still_running = false;
    std::shared_ptr<const store::grant> grant; // the grant as known afterwards; null: none
    std::string error;                         // OAuth error code of a failure (safe to log)
    std::string detail;                        // fixed words (safe to log)
};

/// Per-grant backoff after a transient refresh failure: 1s, 2s, 4s... up to 5 minutes, each
/// drawn in [d/2, d]; a Retry-After longer than that wins. The worker whose call failed also
/// starts the grant's cooldown in the store for as long, so that the other workers and replicas
/// back off with it instead of each calling the failing provider once.
inline constexpr std::chrono::milliseconds k_backoff_first{1000};
inline constexpr std::chrono::milliseconds k_backoff_max{300000};
/// The refresh lock outlives the refresh bound by this much, covering the store writes.
inline constexpr std::chrono::milliseconds k_lock_margin{5000};

class grant_service {
public:
    /// An empty `caller` disables refreshing (grants are then served until they expire).
    grant_service(boost::asio::io_context& io, store::grant_store& store,
                  const config::store_config& cfg, lookup_observer observer = {},
                  token_caller caller = {});

    boost::asio::awaitable<lookup_result> lookup(const config::connection& connection,
                                                 std::string_view user);

    /// What lookup() would answer when the cache alone answers it at once (a fresh entry, no
    /// refresh due): no coroutine for the common case. Otherwise nullopt: call lookup().
    std::optional<lookup_result> cached(const config::connection& connection,
                                        std::string_view user);

    /// Refreshes the grant now, whatever its expiry and any backoff, through the same
    /// single-flight path as lookups (joining a flight already running for it). Waits at most
    /// `store.refresh_timeout` for the outcome.
    boost::asio::awaitable<refresh_now_result> refresh_now(const config::connection& connection,
                                                           std::string_view user);

    /// Forgets a cached grant (the admin API changed it).
    void invalidate(std::string_view connection, std::string_view user);
    /// Refresh flights running now on this worker.
    [[nodiscard]] std::size_t refreshes_in_flight() const noexcept { return flights_.size(); }

private:
    struct entry {
        std::shared_ptr<const store::grant> grant; // null: known to be absent
        std::chrono::steady_clock::time_point fetched_at;
    };

    struct string_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept
        {
            return std::hash<std::string_view>{}(s);
        }
    };

    /// One store read shared by every lookup of the same grant that arrives meanwhile.
    struct pending_load {
        explicit pending_load(boost::asio::io_context& io)
            : done(io, boost::asio::steady_timer::time_point::max())
        {}
        boost::asio::steady_timer done; // cancelled when the read has finished
        bool failed = false;
        std::shared_ptr<const store::grant> grant;
    };

    /// One refresh of one grant on this worker, shared by every request that needs it.
    struct flight {
        flight(boost::asio::io_context& io, std::chrono::steady_clock::time_point bound)
            : done(io, bound)
        {}
        boost::asio::steady_timer done; // cancelled when finished; expires at the wait bound
        bool finished = false;
        std::shared_ptr<const store::grant> grant; // the grant to serve afterwards
        refresh_outcome outcome;                   // set when finished (its grant left empty)
    };

    struct backoff {
        std::chrono::steady_clock::time_point next_attempt;
        unsigned failures = 0;
    };

    boost::asio::awaitable<std::shared_ptr<const store::grant>>
    refreshed(const config::connection& connection, std::string_view user, const std::string& key,
              std::shared_ptr<const store::grant> grant, lookup_trace& trace);
    /// `on_demand`: an operator asked; the shared cooldown does not hold the flight back.
    std::shared_ptr<flight> join_flight(const config::connection& connection, std::string_view user,
                                        const std::string& key,
                                        const std::shared_ptr<const store::grant>& grant,
                                        bool on_demand = false);
    boost::asio::awaitable<void>
    run_flight(std::shared_ptr<flight> f, config::connection connection, store::grant_key grant_key,
               std::string key, std::shared_ptr<const store::grant> seen, bool on_demand);
    /// The backoff after the grant's next failure: 1s, 2s, 4s... up to k_backoff_max, jittered.
    [[nodiscard]] std::chrono::milliseconds next_backoff(std::string_view key) const;
    void after_flight(const std::string& key, const config::connection& connection,
                      const refresh_outcome& out, std::chrono::milliseconds backoff,
                      std::chrono::steady_clock::duration took);
    [[nodiscard]] static bool refresh_due(const store::grant& grant,
                                          const config::connection& connection);

    boost::asio::awaitable<std::shared_ptr<pending_load>>
    load(std::string key, const config::connection& connection, std::string_view user);
    lookup_result after_load(const pending_load& load, std::string_view key);
    void remember(std::string_view key, std::shared_ptr<const store::grant> grant);
    static lookup_result judge(const std::shared_ptr<const store::grant>& grant, cache_result how);

    boost::asio::io_context& io_;
    store::grant_store& store_;
    const config::store_config& cfg_;
    lookup_observer observer_;
    token_caller caller_;
    /// The cache entry for (connection, user) when it is younger than `cache_ttl`; sets
    /// key_buffer_ to its key either way.
    const entry* fresh_entry(const config::connection& connection, std::string_view user);

    std::string key_buffer_;
    std::unordered_map<std::string, entry, string_hash, std::equal_to<>> cache_;
    // Loads in flight; waiters sleep on the timer, which the loader cancels when done.
    std::unordered_map<std::string, std::shared_ptr<pending_load>, string_hash, std::equal_to<>>
        loading_;
    std::unordered_map<std::string, std::shared_ptr<flight>, string_hash, std::equal_to<>> flights_;
    std::unordered_map<std::string, backoff, string_hash, std::equal_to<>> backoffs_;
};

} // namespace oi::token
