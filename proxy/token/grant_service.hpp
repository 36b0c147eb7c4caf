#pragma once

// Finds the grant for (connection, user) on behalf of the proxy session: from the worker's
// in-process cache, else from the store. Concurrent lookups of one grant on a worker share one
// store read. When the store fails, a cached grant whose token is still valid is served.
//
// One instance per worker, used only from that worker's io_context thread: no locks.

#include "config/config.hpp"
#include "store/grant_store.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>

namespace oi::token {

enum class lookup_status {
    found,             // `grant` holds a usable grant
    missing,           // no grant, needs re-authorization, or the access token has expired
    store_unavailable, // the store failed and nothing usable is cached
};

enum class cache_result { hit, miss, stale };

struct lookup_result {
    lookup_status status = lookup_status::missing;
    std::shared_ptr<const store::grant> grant;
    cache_result cache = cache_result::miss;
};

/// Observes lookups for metrics and logs; all members may be empty.
struct lookup_observer {
    std::function<void(cache_result)> on_cache;
    std::function<void(std::string_view operation, std::chrono::steady_clock::duration)> on_store;
    std::function<void(std::string_view operation)> on_store_error;
};

class grant_service {
public:
    grant_service(boost::asio::io_context& io, store::grant_store& store,
                  const config::store_config& cfg, lookup_observer observer = {});

    boost::asio::awaitable<lookup_result> lookup(const config::connection& connection,
                                                 std::string_view user);

    /// Forgets a cached grant (the admin API changed it).
    void invalidate(std::string_view connection, std::string_view user);

    [[nodiscard]] std::size_t cached_entries() const noexcept { return cache_.size(); }

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
        {
        }
        boost::asio::steady_timer done; // cancelled when the read has finished
        bool failed = false;
        std::shared_ptr<const store::grant> grant;
    };

    boost::asio::awaitable<std::shared_ptr<pending_load>> load(std::string key,
                                                               const config::connection& connection,
                                                               std::string_view user);
    lookup_result after_load(const pending_load& load, std::string_view key);
    void remember(std::string_view key, std::shared_ptr<const store::grant> grant);
    static lookup_result judge(const std::shared_ptr<const store::grant>& grant, cache_result how);

    boost::asio::io_context& io_;
    store::grant_store& store_;
    const config::store_config& cfg_;
    lookup_observer observer_;
    std::string key_buffer_;
    std::unordered_map<std::string, entry, string_hash, std::equal_to<>> cache_;
    // Loads in flight; waiters sleep on the timer, which the loader cancels when done.
    std::unordered_map<std::string, std::shared_ptr<pending_load>, string_hash, std::equal_to<>>
        loading_;
};

} // namespace oi::token
