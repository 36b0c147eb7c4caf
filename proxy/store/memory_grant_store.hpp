#pragma once

// An in-process grant store for tests and demos (`store: { memory: {} }`): grants live in one
// process-wide map, unencrypted, and are lost on exit. Every worker's memory_grant_store shares
// one memory_grant_backend.
//
// Ownership and threads: the backend is shared (shared_ptr) by the factory and every worker's
// store; its mutex makes it safe from any thread. The store's coroutines complete without
// suspending. Errors: none; `ping` always succeeds. The refresh lock is process-wide (the backend
// is), with the same owner and time-to-live rules as on Redis; so is authorization state.

#include "store/grant_store.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace oi::store {

class memory_grant_backend {
public:
    [[nodiscard]] std::optional<grant> find(const grant_key& key) const;
    void put(const grant_key& key, const grant& value);
    bool erase(const grant_key& key);
    [[nodiscard]] std::size_t size() const;

    /// Refresh coordination, atomic under the backend's mutex (see grant_store).
    bool try_lock(const grant_key& key, std::string_view owner, std::chrono::milliseconds ttl);
    bool unlock(const grant_key& key, std::string_view owner);
    bool put_if_version(const grant_key& key, const grant& value, std::uint64_t expected);
    void start_cooldown(const grant_key& key, std::chrono::milliseconds length);
    [[nodiscard]] std::chrono::milliseconds cooldown_left(const grant_key& key) const;

    /// Authorization state, single use, atomic under the backend's mutex (see grant_store).
    bool put_state(std::string_view id, std::string_view record, std::chrono::seconds ttl);
    std::optional<std::string> take_state(std::string_view id);

private:
    struct lock_entry {
        std::string owner;
        std::chrono::steady_clock::time_point expires;
    };

    mutable std::mutex mutex_;
    std::map<std::pair<std::string, std::string>, grant> grants_;
    std::map<std::pair<std::string, std::string>, lock_entry> locks_;
    std::map<std::pair<std::string, std::string>, std::chrono::steady_clock::time_point> cooldowns_;
    struct state_entry {
        std::string record;
        std::chrono::steady_clock::time_point expires;
    };
    std::map<std::string, state_entry, std::less<>> states_; // expired ones dropped on put
};

class memory_grant_store final : public grant_store {
public:
    explicit memory_grant_store(std::shared_ptr<memory_grant_backend> backend);

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

private:
    std::shared_ptr<memory_grant_backend> backend_;
};

} // namespace oi::store
