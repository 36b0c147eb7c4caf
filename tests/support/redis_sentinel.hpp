#pragma once

// A real redis-sentinel for integration tests.
//
// Owned by one test. It writes a sentinel config (which Sentinel rewrites as it learns) into a
// private temporary directory, runs `redis-sentinel` (or $OI_REDIS_SENTINEL) on 127.0.0.1 on a
// free port, monitoring the primary on `primary_port` as `master` with the given quorum and quick
// failover settings (loopback only), and returns once it answers PING. The sentinel learns the
// replicas from the primary. `stop()` and the destructor stop it. Failures to start throw
// std::runtime_error with the sentinel's log. Not thread-safe.

#include "config/config.hpp"
#include "support/process.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace oi::test {

struct redis_sentinel_options {
    std::string master = "mymaster";
    std::uint16_t primary_port = 0;
    std::string primary_password; // the data nodes' password (`sentinel auth-pass`)
    std::string password;         // the sentinel's own `requirepass`; empty: none
    int quorum = 1;
    std::chrono::milliseconds down_after{500};
    std::chrono::milliseconds failover_timeout{2000};
    std::chrono::milliseconds start_timeout{10000};
};

class redis_sentinel {
public:
    explicit redis_sentinel(redis_sentinel_options options);
    ~redis_sentinel();

    redis_sentinel(const redis_sentinel&) = delete;
    redis_sentinel& operator=(const redis_sentinel&) = delete;

    /// Stops the sentinel (for good).
    void stop();

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] config::endpoint endpoint() const { return {"127.0.0.1", port_}; }
    /// The port of the primary this sentinel names now (0 when it names none).
    [[nodiscard]] std::uint16_t primary_port() const;
    /// The sentinel's own log, for failure messages.
    [[nodiscard]] std::string log_text() const;

private:
    void launch();

    redis_sentinel_options options_;
    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    std::unique_ptr<process> process_;
};

} // namespace oi::test
