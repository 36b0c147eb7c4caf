#pragma once

// Keep-alive connections to upstreams, per worker: a request takes an idle connection to the same
// scheme, host and port when one is alive, otherwise the connector opens a new one. Connections
// come back only when their last exchange ended cleanly. No locks: one pool per worker thread.

#include "upstream/connector.hpp"

#include <chrono>
#include <deque>
#include <string>
#include <unordered_map>

namespace oi::upstream {

struct pool_limits {
    std::size_t max_idle_per_destination = 64;
    std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);
};

class pool {
public:
    pool(connector& connect, pool_limits limits);

    struct lease {
        connect_result connection;
        bool reused = false;
    };

    /// An idle connection to `to` (reused set), or an empty lease when there is none: then call
    /// connect_new(). Two steps so that the common case, reuse, needs no coroutine. With
    /// `check_idle`, an idle connection is first polled (one syscall) and dropped when the server
    /// closed it meanwhile; a caller that can send its request again on a new connection after a
    /// failure passes false, and so avoids that syscall on every reuse.
    lease take_idle(const destination& to, bool check_idle);

    /// A new connection to `to` (or why there is none).
    asio::awaitable<lease> connect_new(const destination& to);

    /// Gives back a connection whose last response was read completely and that may be reused.
    void release(const destination& to, std::unique_ptr<byte_stream> stream);

    /// Closes every idle connection (shutdown, reload).
    void clear();

private:
    struct idle_entry {
        std::unique_ptr<byte_stream> stream;
        std::chrono::steady_clock::time_point since;
    };

    struct string_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept
        {
            return std::hash<std::string_view>{}(s);
        }
    };

    std::string_view key_for(const destination& to);
    static bool still_open(byte_stream& stream);

    connector& connect_;
    pool_limits limits_;
    std::string key_buffer_;
    std::unordered_map<std::string, std::deque<idle_entry>, string_hash, std::equal_to<>> idle_;
};

} // namespace oi::upstream
