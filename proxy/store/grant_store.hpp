#pragma once

#include "store/grant.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <boost/system/errc.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace oi::store {

template <typename T> using result = boost::system::result<T>;

/// Where grants live. An instance belongs to one worker: it is created on that worker's
/// io_context and its coroutines must be awaited from that io_context's thread only.
/// A missing grant is `std::nullopt`, not an error; errors mean the store could not answer
/// (connection refused, timeout, a record that does not decrypt).
class grant_store {
public:
    virtual ~grant_store() = default;

    virtual boost::asio::awaitable<result<std::optional<grant>>> load(const grant_key& key) = 0;
    virtual boost::asio::awaitable<result<void>> save(const grant_key& key, const grant& value) = 0;
    /// Returns whether a grant was there.
    virtual boost::asio::awaitable<result<bool>> remove(const grant_key& key) = 0;
    /// Round trip to the store, for /readyz.
    virtual boost::asio::awaitable<result<void>> ping() = 0;

    // ---- refresh coordination (token/refresh_flight.hpp) ----
    // The defaults fail with errc::operation_not_supported: a store that cannot coordinate
    // refreshes across processes says so, and the caller then does not refresh through it.

    /// Takes the refresh lock of `key` for `owner` (a random token) for at most `ttl`; false when
    /// another owner holds it.
    virtual boost::asio::awaitable<result<bool>>
    try_lock(const grant_key& key, std::string_view owner, std::chrono::milliseconds ttl);
    /// Releases the lock only when `owner` still holds it (compare-and-delete); returns whether
    /// it did.
    virtual boost::asio::awaitable<result<bool>> unlock(const grant_key& key,
                                                        std::string_view owner);
    /// Saves `value` only when the stored grant exists and still has `expected_version`;
    /// returns whether it did.
    virtual boost::asio::awaitable<result<bool>>
    save_if_version(const grant_key& key, const grant& value, std::uint64_t expected_version);
    /// Starts (or restarts) the grant's refresh cooldown for `length`: set after a refresh failed
    /// for a reason that may pass, so that every worker and replica backs off, not only the one
    /// that called the provider.
    virtual boost::asio::awaitable<result<void>> start_cooldown(const grant_key& key,
                                                                std::chrono::milliseconds length);
    /// What is left of the grant's refresh cooldown; zero when there is none.
    virtual boost::asio::awaitable<result<std::chrono::milliseconds>>
    cooldown_left(const grant_key& key);

    // ---- authorization state (authflow/, /oauth/start and /oauth/callback) ----
    // The defaults fail with errc::operation_not_supported, like the refresh coordination.

    /// Stores `record` under the random state `id` for `ttl`, unless that id is already taken
    /// (returns false then: the caller draws another id).
    virtual boost::asio::awaitable<result<bool>>
    put_state(std::string_view id, std::string_view record, std::chrono::seconds ttl);
    /// Removes and returns the record of `id` in one atomic step, so that of two callers with the
    /// same id at most one gets it (RFC 6749 section 10.12: a state is good for one callback).
    /// nullopt: unknown, already taken, or expired.
    virtual boost::asio::awaitable<result<std::optional<std::string>>>
    take_state(std::string_view id);
};

inline boost::asio::awaitable<result<bool>>
grant_store::try_lock(const grant_key&, std::string_view, std::chrono::milliseconds)
{
    co_return result<bool>(boost::system::in_place_error,
                           make_error_code(boost::system::errc::operation_not_supported));
}

inline boost::asio::awaitable<result<bool>> grant_store::unlock(const grant_key&, std::string_view)
{
    co_return result<bool>(boost::system::in_place_error,
                           make_error_code(boost::system::errc::operation_not_supported));
}

inline boost::asio::awaitable<result<bool>>
grant_store::save_if_version(const grant_key&, const grant&, std::uint64_t)
{
    co_return result<bool>(boost::system::in_place_error,
                           make_error_code(boost::system::errc::operation_not_supported));
}

inline boost::asio::awaitable<result<void>> grant_store::start_cooldown(const grant_key&,
                                                                        std::chrono::milliseconds)
{
    co_return result<void>(boost::system::in_place_error,
                           make_error_code(boost::system::errc::operation_not_supported));
}

inline boost::asio::awaitable<result<std::chrono::milliseconds>>
grant_store::cooldown_left(const grant_key&)
{
    co_return result<std::chrono::milliseconds>(
        boost::system::in_place_error,
        make_error_code(boost::system::errc::operation_not_supported));
}

inline boost::asio::awaitable<result<bool>>
grant_store::put_state(std::string_view, std::string_view, std::chrono::seconds)
{
    co_return result<bool>(boost::system::in_place_error,
                           make_error_code(boost::system::errc::operation_not_supported));
}

inline boost::asio::awaitable<result<std::optional<std::string>>>
grant_store::take_state(std::string_view)
{
    co_return result<std::optional<std::string>>(
        boost::system::in_place_error,
        make_error_code(boost::system::errc::operation_not_supported));
}

} // namespace oi::store
