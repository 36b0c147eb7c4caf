#pragma once

// Helpers for the store's integration tests: drive a single-threaded io_context from the test
// thread until a coroutine finishes or a condition holds, within a bound. The io_context never
// runs out of work while a redis_client is started, so these step it with run_one_for.

#include "store/redis_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>

namespace oi::test {

/// Redis client options with short timeouts and reconnect delays, for tests.
inline store::redis_options fast_redis_options()
{
    using namespace std::chrono_literals;
    store::redis_options o;
    o.connect_timeout = 1000ms;
    o.command_timeout = 1000ms;
    o.reconnect_min = 20ms;
    o.reconnect_max = 200ms;
    return o;
}

/// Runs `task` on `io` and returns its value; throws std::runtime_error after `limit`.
template <typename T>
T run_task(boost::asio::io_context& io, boost::asio::awaitable<T> task,
           std::chrono::milliseconds limit = std::chrono::seconds(10))
{
    std::optional<T> value;
    std::exception_ptr failure;
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T v) {
        failure = e;
        value.emplace(std::move(v));
    });

    const auto deadline = std::chrono::steady_clock::now() + limit;
    io.restart();
    while (!value && !failure && std::chrono::steady_clock::now() < deadline) {
        io.run_one_for(std::chrono::milliseconds(50));
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
    if (!value) {
        throw std::runtime_error("run_task: the coroutine did not finish in time");
    }
    return std::move(*value);
}

/// Runs `io` until `condition()` holds; returns false when `limit` passes first.
template <typename Condition>
bool run_until(boost::asio::io_context& io, Condition condition,
               std::chrono::milliseconds limit = std::chrono::seconds(10))
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    io.restart();
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        io.run_one_for(std::chrono::milliseconds(20));
    }
    return true;
}

} // namespace oi::test
