#pragma once

// The running proxy: worker threads, the proxy listener, the admin listener, and the objects
// they share (runtime, metrics, TLS context, store factory). main() builds one, starts it and
// waits; tests do the same in-process or through the binary.
//
// Threads: start() spawns `threads` workers (0: one per core), each running its own io_context.
// The proxy listener accepts on worker 0 and hands each connection to the next worker in turn.
// Errors: start() throws std::runtime_error with a one-line reason (bind failure, bad CA file);
// nothing after start() throws.

#include "config/config.hpp"
#include "config/reload_policy.hpp"
#include "server/exchange_record.hpp"
#include "server/runtime.hpp"
#include "server/worker.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace oi::metrics {
class metrics;
}
namespace oi::store {
class store_factory;
}
namespace oi::admin {
class admin_server;
}
namespace oi::authflow {
class link_signer;
}
namespace oi::intercept {
class certificate_authority;
class leaf_cache;
} // namespace oi::intercept

namespace oi::server {

class server {
public:
    explicit server(config::config cfg);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Binds the listeners and starts the workers.
    void start();
    /// Blocks until SIGINT or SIGTERM, reloading on SIGHUP, then shuts down gracefully (drain).
    void wait();
    /// Graceful shutdown: /readyz answers 503, the proxy and public listeners close, idle
    /// connections close at once, requests in flight may finish (their responses say
    /// `Connection: close`) until `limits.shutdown_timeout`; then stop() cuts what is left,
    /// tunnels included. The admin listener stays open meanwhile so that load balancers can read
    /// /readyz. Any thread but a worker's.
    void drain();
    /// Stops accepting, closes connections and joins the workers. Idempotent.
    void stop();

    /// Reads the config file again and, when it is valid and changes no restart-only key
    /// (config/reload_policy.hpp), makes it the one new requests use. Any thread; reloads are
    /// serialized. Logs a `config_reload` event and counts config_reloads_total{result}.
    config::reload_outcome reload();

    [[nodiscard]] std::uint16_t proxy_port() const noexcept { return proxy_port_; }
    [[nodiscard]] std::uint16_t admin_port() const noexcept;
    [[nodiscard]] std::uint16_t public_port() const noexcept;

private:
    void load_interception();
    void build_workers();
    void bind_proxy_listener();
    boost::asio::awaitable<void> accept_loop();
    void start_session(worker& w, boost::asio::ip::tcp::socket socket);
    void record(const exchange_record& rec);
    void record_refresh(std::string_view connection, const token::refresh_outcome& out,
                        std::chrono::steady_clock::duration took);
    void invalidate_grant(const std::string& connection, const std::string& user);
    void connection_ended(); // a proxy or public connection closed: wakes a drain (drain.cpp)
    [[nodiscard]] std::uint64_t open_connections() const noexcept; // proxy and public

    void apply(const runtime_ptr& next);

    runtime_ptr startup_; // what the workers, stores and listeners were built from
    runtime_slot current_;
    std::mutex reload_mutex_;
    std::unique_ptr<metrics::metrics> metrics_;
    boost::asio::ssl::context tls_;
    std::unique_ptr<store::store_factory> stores_;
    std::unique_ptr<const authflow::link_signer> links_; // authorize links (authflow/link.hpp)
    std::unique_ptr<intercept::certificate_authority> ca_;
    std::unique_ptr<intercept::leaf_cache> leaves_;
    std::unique_ptr<boost::asio::ssl::context> intercept_tls_;
    std::vector<std::unique_ptr<worker>> workers_;
    std::unique_ptr<boost::asio::ip::tcp::acceptor> proxy_acceptor_;
    std::unique_ptr<admin::admin_server> admin_;
    std::unique_ptr<admin::admin_server> public_; // listen.public: /oauth/start, /oauth/callback
    std::uint16_t proxy_port_ = 0;
    std::size_t next_worker_ = 0;
    std::atomic<std::uint64_t> active_connections_{0};
    std::atomic<bool> stopped_{false};
    std::atomic<bool> draining_{false};
    std::mutex drain_mutex_;
    std::condition_variable drained_; // a connection ended while draining
};

} // namespace oi::server
