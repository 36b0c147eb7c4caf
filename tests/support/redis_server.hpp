#pragma once

// A real redis-server for integration tests.
//
// Owned by one test. It runs `redis-server` (or $OI_REDIS_SERVER) on 127.0.0.1 on a free port,
// with no persistence, in a private temporary directory, optionally with a password, and returns
// from the constructor once the server answers PING. `stop()` and `restart()` (same port, same
// password) let a test take Redis away and bring it back; `pause()` and `resume()` (SIGSTOP and
// SIGCONT) make it unresponsive while its socket stays open. The destructor stops it. Failures to
// start throw std::runtime_error with the server's log. Not thread-safe.

#include "config/config.hpp"
#include "support/process.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace oi::test {

struct redis_server_options {
    std::string password; // empty: no AUTH required
    std::chrono::milliseconds start_timeout{10000};
};

class redis_server {
public:
    explicit redis_server(redis_server_options options = {});
    ~redis_server();

    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;

    void stop();
    /// Starts again on the same port (after `stop`, or stops first).
    void restart();
    void pause();
    void resume();
    [[nodiscard]] bool running() const;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    /// redis://[:password@]127.0.0.1:<port>/0
    [[nodiscard]] std::string url() const;
    /// The store configuration the config loader would produce for `url()` and `database`.
    [[nodiscard]] config::redis_config config(int database = 0) const;
    /// The server's own log, for failure messages (it never contains the password).
    [[nodiscard]] std::string log_text() const;

private:
    void launch();
    bool answers_ping() const;

    redis_server_options options_;
    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    std::unique_ptr<process> process_;
};

} // namespace oi::test
