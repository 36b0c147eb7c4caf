#pragma once

// The grant store on Redis: one string key per grant, `<key_prefix>:grant:<connection>:<user>`,
// whose value is the record sealed by grant_codec. load = GET and open, save = seal and SET,
// remove = DEL, ping = PING.
//
// Refresh coordination: the lock is `<key_prefix>:lock:<connection>:<user>`, taken with
// `SET NX PX` holding the owner's random token and released by a Lua compare-and-delete, so only
// its owner releases it and a crashed owner's lock ends at its time-to-live. save_if_version
// reads and opens the record, checks its version, then writes with a Lua compare-and-set on the
// exact record bytes it read: any write in between (a refresh elsewhere, an admin import) makes
// it return false. The record is encrypted, so the version cannot be compared inside Redis.
// The refresh cooldown is `<key_prefix>:cooldown:<connection>:<user>`, set with `SET PX` and
// read with `PTTL`: Redis ends it by itself.
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

#include <memory>
#include <string>

namespace oi::store {

class redis_grant_store final : public grant_store {
public:
    redis_grant_store(std::shared_ptr<redis_client> client,
                      std::shared_ptr<const grant_codec> codec, std::string key_prefix);

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

    /// The Redis key of a grant's refresh lock.
    [[nodiscard]] static std::string lock_key(std::string_view prefix, const grant_key& key);
    /// The Redis key of a grant's refresh cooldown.
    [[nodiscard]] static std::string cooldown_key(std::string_view prefix, const grant_key& key);

    /// The Redis key of a grant.
    [[nodiscard]] static std::string redis_key(std::string_view prefix, const grant_key& key);

    [[nodiscard]] redis_client& client() { return *client_; }

private:
    std::shared_ptr<redis_client> client_;
    std::shared_ptr<const grant_codec> codec_;
    std::string key_prefix_;
};

} // namespace oi::store
