#pragma once

// A real redis-server for integration tests.
//
// Owned by one test. It runs `redis-server` (or $OI_REDIS_SERVER) on 127.0.0.1 on a free port,
// with no persistence, in a private temporary directory, optionally with a password, and returns
// from the constructor once the server answers PING. `stop()` and `restart()` (same port, same
// password) let a test take Redis away and bring it back; `pause()` and `resume()` (SIGSTOP and
// SIGCONT) make it unresponsive while its socket stays open. With `replica_of` it starts as a
// replica of that port (same password, also used as `masterauth` so that a failover can turn
// any server into a replica of any other). The destructor stops it. Failures to start throw
// std::runtime_error with the server's log. Not thread-safe.
//
// `redis_command` sends one command over a fresh blocking hiredis connection (1 s timeouts) and
// returns the reply as text, for tests to arrange and inspect servers and sentinels.

#include "config/config.hpp"
#include "support/process.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace oi::test {

struct redis_server_options {
    std::string password; // empty: no AUTH required
    std::chrono::milliseconds start_timeout{10000};
    std::uint16_t replica_of = 0; // a primary's port on 127.0.0.1; 0: start as a primary
};

/// Sends `args` to 127.0.0.1:`port` (after AUTH when `password` is set, and SELECT when
/// `database` is not 0) and returns the reply:
/// a string, status or integer as its text, an error as "-" and its text, nil as "(nil)", an
/// array as its elements' texts joined by '\n'. Throws std::runtime_error when it cannot connect.
[[nodiscard]] std::string redis_command(std::uint16_t port, const std::vector<std::string>& args,
                                        const std::string& password = "", int database = 0);

/// True when a server (or sentinel) on 127.0.0.1:`port` answers PING (+PONG, or -NOAUTH).
[[nodiscard]] bool redis_answers_ping(std::uint16_t port);

/// Calls `launch(port)` with a port that was free, up to three times (a free port can be taken
/// before the child binds it); returns the port that worked, or removes `dir` and rethrows.
std::uint16_t launch_on_free_port(const std::filesystem::path& dir,
                                  const std::function<void(std::uint16_t)>& launch);

/// Starts `spawn` and waits until 127.0.0.1:`port` answers PING; throws std::runtime_error
/// with `log()` when the child exits or `limit` passes first.
[[nodiscard]] std::unique_ptr<process> spawn_until_ping(process_options spawn, std::uint16_t port,
                                                        std::chrono::milliseconds limit,
                                                        const std::function<std::string()>& log);

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

    redis_server_options options_;
    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    std::unique_ptr<process> process_;
};

} // namespace oi::test
