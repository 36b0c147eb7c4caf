#pragma once

// The grant store on Redis: one string key per grant, `<key_prefix>:grant:<connection>:<user>`,
// whose value is the record sealed by grant_codec. load = GET and open, save = seal and SET,
// remove = DEL, ping = PING.
//
// Refresh coordination: the lock is `<key_prefix>:lock:<connection>:<user>`, taken by a Lua
// set-if-absent (with a time-to-live) holding the owner's random token and released by a Lua
// compare-and-delete, so only its owner releases it and a crashed owner's lock ends at its
// time-to-live. save_if_version reads and opens the record, checks its version, then writes with
// a Lua compare-and-set on the exact record bytes it read: any write in between (a refresh
// elsewhere, an admin import) makes it return false. The record is encrypted, so the version
// cannot be compared inside Redis. The refresh cooldown is
// `<key_prefix>:cooldown:<connection>:<user>`, set with `SET PX` and read with `PTTL`: Redis ends
// it by itself.
//
// Failover (Redis Sentinel, redis_client.hpp): each command below is idempotent, so when its
// connection breaks, times out, or meets a demoted primary, it is sent once more after the
// client reaches the primary again (waiting at most redis_options::failover_wait); an operation
// thus takes at most two command timeouts plus that wait. A client that is not connected when
// the operation starts fails at once (store_errc::unavailable): no waiting while Redis is down.
// Why each command may run twice: GET and PING read; SET writes a whole record (the same bytes
// twice); DEL of a deleted key does nothing (remove may then report false for a grant the first
// attempt deleted); the lock script treats a lock already held by the same owner token as taken
// (a plain `SET NX` would report our own lock as another owner's); the compare-and-delete finds
// its lock gone; the compare-and-set treats a record equal to its new one as written; the
// cooldown's `SET PX` restarts it with the same length, and `PTTL` reads.
// Replication: with `wait_replicas` > 0, save, remove and a successful save_if_version end with
// `WAIT`, and fail with store_errc::not_replicated when fewer replicas acknowledged in time: the
// write is on the primary but a failover right now could lose it (Redis replicates
// asynchronously), so the caller is not told it is safe. Locks are not waited for.
//
// Authorization state: `<key_prefix>:state:<id>`, written with `SET NX EX` and consumed with
// GETDEL (Redis 6.2 or later), which reads and deletes in one step: a state is taken once. The
// record is sealed with the codec (grant_codec::seal_state, bound to the state id), so the PKCE
// verifier and return_to are never in Redis in clear; one that does not open is taken anyway
// and reported as corrupt_record or unknown_key.
//
// Connection ids from the config never end a shared id with user text, and the record is
// authenticated against its (connection, user) pair, so even two pairs that spelled the same
// Redis key could not read each other's grant: the record would not open.
//
// Ownership and threads: one instance per worker, owning (with the factory holding a weak
// reference for shutdown) that worker's redis_client; the codec is shared, immutable, by all
// workers. Coroutines must be awaited on the worker's io_context thread.
// Errors: store_errc::unavailable or timeout from the client; corrupt_record or unknown_key when
// a stored record does not open (the caller logs it; the record is left in place); server_error
// for a Redis error reply; unexpected_reply for a reply of the wrong type.

#include "store/grant_codec.hpp"
#include "store/grant_store.hpp"
#include "store/redis_client.hpp"

#include <functional>
#include <memory>
#include <string>

namespace oi::store {

/// Told once per idempotent command sent again after a failover: whether the second attempt got
/// a reply (false also when the client found no primary to send it to). Runs on the worker's
/// thread; may be empty.
using retry_observer = std::function<void(bool succeeded)>;

/// `WAIT` after writes (see above); replicas == 0 turns it off.
struct replication_wait {
    std::uint64_t replicas = 0;
    std::chrono::milliseconds timeout{200};
};

class redis_grant_store final : public grant_store {
public:
    redis_grant_store(std::shared_ptr<redis_client> client,
                      std::shared_ptr<const grant_codec> codec, std::string key_prefix,
                      replication_wait wait = {}, retry_observer on_retry = {});

    boost::asio::awaitable<result<std::optional<grant>>> load(const grant_key& key) override;
    boost::asio::awaitable<result<void>> save(const grant_key& key, const grant& value) override;
    boost::asio::awaitable<result<bool>> remove(const grant_key& key) override;
    boost::asio::awaitable<result<void>> ping() override;
    boost::asio::awaitable<result<bool>> try_lock(const grant_key& key, std::string_view owner,
                                                  std::chrono::milliseconds ttl) override;
    boost::asio::awaitable<result<bool>> unlock(const grant_key& key,
                                                std::string_view owner) override;
    boost::asio::awaitable<result<bool>> save_if_version(const grant_key& key, const grant& value,
                                                         std::uint64_t expected_version) override;
    boost::asio::awaitable<result<void>> start_cooldown(const grant_key& key,
                                                        std::chrono::milliseconds length) override;
    boost::asio::awaitable<result<std::chrono::milliseconds>>
    cooldown_left(const grant_key& key) override;
    boost::asio::awaitable<result<bool>> put_state(std::string_view id, std::string_view record,
                                                   std::chrono::seconds ttl) override;
    boost::asio::awaitable<result<std::optional<std::string>>>
    take_state(std::string_view id) override;

    /// The Redis key of an authorization state.
    [[nodiscard]] static std::string state_key(std::string_view prefix, std::string_view id);

    /// The Redis key of a grant's refresh lock.
    [[nodiscard]] static std::string lock_key(std::string_view prefix, const grant_key& key);
    /// The Redis key of a grant's refresh cooldown.
    [[nodiscard]] static std::string cooldown_key(std::string_view prefix, const grant_key& key);

    /// The Redis key of a grant.
    [[nodiscard]] static std::string redis_key(std::string_view prefix, const grant_key& key);

    [[nodiscard]] redis_client& client() { return *client_; }

private:
    /// Sends a command that is safe to run twice, once more after a failover (see above).
    boost::asio::awaitable<result<redis_reply>> idempotent(std::span<const std::string_view> args);
    /// `WAIT` for the configured replicas after a write.
    boost::asio::awaitable<result<void>> confirm_replicated();
    /// `SET key value NX <unit> <amount>` (unit EX or PX, amount at least 1): true when set,
    /// false when the key already existed.
    boost::asio::awaitable<result<bool>> set_if_absent(std::string_view key, std::string_view value,
                                                       std::string_view unit, long long amount);

    std::shared_ptr<redis_client> client_;
    std::shared_ptr<const grant_codec> codec_;
    std::string key_prefix_;
    replication_wait wait_;
    retry_observer on_retry_;
};

} // namespace oi::store
