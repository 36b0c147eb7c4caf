#pragma once

// One refresh of one grant, coordinated across replicas through the grant store (RFC 6749
// section 6, the refresh-token grant):
//
//   1. take the grant's refresh lock with a random owner token and a bounded lifetime; when
//      another owner holds it, poll the stored grant with growing, jittered delays until it
//      changes (another replica refreshed it), the lock frees up, or the wait bound runs out;
//   2. with the lock held, re-read the grant: if its version moved since the caller saw it, or it
//      needs re-authorization, nothing is left to do;
//   3. unless asked to ignore it, check the grant's refresh cooldown in the store: while another
//      worker or replica is backing off after a failed refresh, do not call the provider;
//   4. call the token endpoint; on success write the new grant only if the stored version is still
//      the one it was refreshed from (a refresh token absent from the answer keeps the old one, a
//      scope absent keeps the old scope); on a failure that only a new authorization can fix
//      (invalid_grant and the like), mark the grant `needs_reauth` the same way; on a failure
//      that may pass, start the cooldown so that the others back off too;
//   5. release the lock, only if still ours (compare-and-delete in the store).
//
// Runs on the caller's executor (one worker's io_context); never throws on the request path.
// Store and token-endpoint failures come back as refresh_status::failed with a detail in fixed
// words. No token, refresh token or response body is ever put into the outcome's texts.

#include "common/secret.hpp"
#include "config/config.hpp"
#include "oauth/token_response.hpp"
#include "store/grant_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace oi::token {

/// Calls the connection's token endpoint with the refresh-token grant; bounded by `timeout`.
/// The references must stay valid until the returned awaitable completes.
using token_caller = std::function<boost::asio::awaitable<oauth::token_outcome>(
    const config::connection& connection, const secret& refresh_token,
    std::chrono::milliseconds timeout)>;

enum class refresh_status {
    success,      // a new token was stored
    needs_reauth, // the provider refused the grant for good; it is now marked needs_reauth
    failed,       // transport, 5xx, 429, a malformed answer, or the store failed: back off
    skipped,      // someone else refreshed (or marked) the grant meanwhile, or nothing was due
    wait_expired, // another owner held the lock for longer than the wait bound
    cooling_down, // another worker or replica failed moments ago: not called, back off too
};

[[nodiscard]] std::string_view status_name(refresh_status s) noexcept;

struct refresh_limits {
    std::chrono::milliseconds call_timeout{10000}; // the token endpoint exchange
    std::chrono::milliseconds lock_ttl{15000};     // longer than call_timeout plus store writes
    std::chrono::milliseconds wait{10000};         // polling another owner's lock, at most
    std::chrono::milliseconds poll_first{25};      // first poll delay; doubles, with jitter
    std::chrono::milliseconds poll_max{500};
    /// After a failure that may pass, every worker and replica backs off this long (0: none).
    std::chrono::milliseconds cooldown{0};
    std::chrono::milliseconds cooldown_max{300000}; // caps a provider's Retry-After too
    bool honour_cooldown = true; // false: call the provider even while cooling down
};

struct refresh_outcome {
    refresh_status status = refresh_status::failed;
    std::shared_ptr<const store::grant> grant; // the grant as stored afterwards; null: unknown
    /// From a 429/503 answer's Retry-After, or what is left of the cooldown.
    std::optional<std::chrono::milliseconds> retry_after;
    std::string error;  // OAuth error code (safe to log)
    std::string detail; // fixed words (safe to log)
    unsigned http_status = 0;
    bool waited_for_lock = false;                    // another owner held the lock at first
    std::chrono::steady_clock::duration lock_wait{}; // how long, when it did
};

/// Refreshes the grant `key`, which the caller saw at `seen_version`. `connection` and `caller`
/// must outlive the awaitable; `store` belongs to the executor's worker.
[[nodiscard]] boost::asio::awaitable<refresh_outcome>
refresh_grant(store::grant_store& store, const token_caller& caller,
              const config::connection& connection, const store::grant_key& key,
              std::uint64_t seen_version, refresh_limits limits);

/// The grant after a successful answer: new access token, the new refresh token or else the old
/// one, expiry from expires_in (none when absent), scope as given or else the old one, the next
/// version, refreshed now, needs_reauth cleared.
[[nodiscard]] store::grant refreshed_grant(const store::grant& old, const oauth::token_set& tokens,
                                           store::clock::time_point now);

/// A delay drawn in [d/2, d] (at least 1ms), so that waiters and retries do not fall into step.
[[nodiscard]] std::chrono::milliseconds jittered(std::chrono::milliseconds d);

/// A random lock owner token: 128 bits from OpenSSL's CSPRNG, hex.
[[nodiscard]] std::string random_owner();

} // namespace oi::token
