#pragma once

// Child processes for integration tests (redis-server, the proxy binary), and loopback port
// helpers.
//
// A `process` is owned by one test. It starts the program with posix_spawnp, with the parent's
// environment plus overrides, and sends its stdout and stderr to files in a private temporary
// directory (removed by the destructor) so that a test can show them when it fails. `stop()`
// sends SIGTERM (and SIGCONT, in case the child is paused), waits up to a bound, then SIGKILLs
// and reaps; the destructor calls it. Waiting for exit uses a pidfd, so nothing sleeps. A
// sanitized child's reports (ASan, LeakSanitizer and UBSan to log files in that directory,
// support/sanitizer_log.hpp; TSan on stderr) fail the running test when the child is destroyed.
// Set-up failures throw std::runtime_error; nothing here is thread-safe.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace oi::test {

struct process_options {
    std::string program;                                  // a path, or a name found on PATH
    std::vector<std::string> args;                        // argv[1...]
    std::vector<std::pair<std::string, std::string>> env; // set or replaced in the child
    std::filesystem::path working_dir;                    // empty: the test's own
    bool fail_on_sanitizer_report = true; // a sanitizer report fails the running test
};

/// How a child ended.
struct exit_status {
    bool exited = false; // true: `code` is the exit code; false: killed by `signal`
    int code = 0;
    int signal = 0;

    [[nodiscard]] bool success() const { return exited && code == 0; }
};

class process {
public:
    explicit process(process_options options);
    ~process();

    process(const process&) = delete;
    process& operator=(const process&) = delete;

    [[nodiscard]] pid_t pid() const { return pid_; }
    /// False once the child has exited (it is then reaped).
    [[nodiscard]] bool running();
    /// Sends `sig` to a running child.
    void signal(int sig);
    /// Waits up to `timeout` for the child to exit by itself.
    std::optional<exit_status> wait_exit(std::chrono::milliseconds timeout);
    /// SIGTERM, then SIGKILL after `grace`; returns how it ended. Idempotent.
    exit_status stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

    [[nodiscard]] std::string stdout_text() const;
    [[nodiscard]] std::string stderr_text() const;
    /// What an ASan+UBSan build of the child wrote to its sanitizer log files, else the first
    /// ThreadSanitizer report it wrote to stderr (scripts/tsan.sh), or "" when there is none.
    [[nodiscard]] std::string sanitizer_report() const;
    [[nodiscard]] const std::filesystem::path& output_dir() const { return dir_; }

private:
    bool reap(bool block);
    /// Fails the running test when the child wrote a sanitizer report (called at destruction,
    /// after the child has ended, so that reports made while shutting down count too).
    void fail_on_sanitizer_report() const;

    std::string program_;
    bool fail_on_sanitizer_report_ = true;
    pid_t pid_ = -1;
    int pidfd_ = -1;
    std::optional<exit_status> status_;
    std::filesystem::path dir_;
};

/// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
[[nodiscard]] std::uint16_t free_tcp_port();

/// Polls a TCP connect to host:port with a short growing backoff until it succeeds or `timeout`
/// passes; returns whether it connected.
[[nodiscard]] bool wait_for_tcp(std::uint16_t port, std::chrono::milliseconds timeout,
                                const std::string& host = "127.0.0.1");

/// A fresh private directory under $TMPDIR (or /tmp), named after `prefix`.
[[nodiscard]] std::filesystem::path make_temp_dir(const std::string& prefix);

} // namespace oi::test
