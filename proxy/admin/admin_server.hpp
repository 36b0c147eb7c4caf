#pragma once

// The admin listener (`listen.admin`): accepts HTTP/1.1 connections and answers them with
// `handle` (router.hpp). Not on the request path: one worker is enough. The same machinery,
// with another handler, serves the public listener (public_listener.hpp).
//
// Ownership: made by the server at start-up. The io_context, config, store, metrics and hooks
// must outlive every run of the io_context after `start` (sessions keep running until they end
// or `stop` cancels them). The store must be an instance made for this io_context.
// Threads: every session and the accept loop run on the given io_context; `stop` may be called
// from any thread (it posts to the io_context).
// Limits: request head 16 KiB (431), body 64 KiB (413), 10 s to read each request including the
// wait for the next one on a kept-alive connection, 10 s to write each response.
// Errors: `listen` returns the bind error; accept errors are logged and retried after a pause;
// each request logs one `admin_request` (`public_request`) event (method, route template,
// status, duration), never the path or the Authorization header.

#include "admin/router.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

namespace oi::admin {

inline constexpr std::size_t k_max_head_bytes = std::size_t{16} * 1024;
inline constexpr std::size_t k_max_body_bytes = std::size_t{64} * 1024;
inline constexpr std::chrono::seconds k_io_timeout{10};

/// Answers one request read by the listener.
using request_handler = std::function<boost::asio::awaitable<handled>(const request&)>;

/// Which listener an admin_server is: where it binds, how it is counted and logged.
struct listener_options {
    std::optional<config::endpoint> address;
    metrics::listener kind = metrics::listener::admin;
    std::string_view log_event = "admin_request";
    /// Called on the io_context after each connection has closed. May be empty.
    std::function<void()> connection_closed;
};

class admin_server {
public:
    admin_server(boost::asio::io_context& ioc, const config::config& cfg, store::grant_store& store,
                 metrics::metrics& metrics, admin_hooks hooks);
    /// A listener with its own handler (the public listener). `handler` runs on `ioc`.
    admin_server(boost::asio::io_context& ioc, listener_options options, metrics::metrics& metrics,
                 request_handler handler);
    ~admin_server();
    admin_server(const admin_server&) = delete;
    admin_server& operator=(const admin_server&) = delete;

    /// Binds the listener's address, `cfg.listen.admin` for the admin API (port 0: any free port).
    /// Fails when the section is absent or the address cannot be bound.
    [[nodiscard]] boost::system::error_code listen();
    /// The bound port, after a successful `listen`.
    [[nodiscard]] std::uint16_t port() const;

    /// Starts accepting on the io_context.
    void start();
    /// Closes the listener and every open admin connection.
    void stop();
    /// Graceful shutdown: closes the listener and the connections waiting for a request; a
    /// request being served is answered with `Connection: close`, then its connection closes.
    void drain();
    /// Connections open now. Any thread.
    [[nodiscard]] std::size_t open_connections() const noexcept;

    struct state; // the implementation's shared state, defined in admin_server.cpp

private:
    std::shared_ptr<state> state_;
};

} // namespace oi::admin
