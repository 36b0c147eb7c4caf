#pragma once

#include "store/grant.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <optional>

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
};

} // namespace oi::store
