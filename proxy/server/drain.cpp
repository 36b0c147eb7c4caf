// server::drain: the graceful shutdown that SIGTERM and SIGINT start, for the proxy and
// public listeners (the admin listener stays open for /readyz until stop()).

#include "admin/admin_server.hpp"
#include "common/log.hpp"
#include "server/proxy_session.hpp"
#include "server/server.hpp"

#include <boost/asio/post.hpp>

namespace oi::server {

void server::drain()
{
    if (stopped_ || draining_.exchange(true)) {
        return;
    }
    const auto timeout = current_.get()->cfg.limits.shutdown_timeout;
    log::event(log::level::info, "draining",
               {{"connections", open_connections()},
                {"timeout_ms", static_cast<std::int64_t>(timeout.count())}});

    // No new connections; then every session learns it, on its own worker's thread.
    if (proxy_acceptor_) {
        asio::post(workers_.front()->io, [this] {
            error_code ignored;
            proxy_acceptor_->close(ignored);
        });
    }
    if (public_) {
        public_->drain();
    }
    for (auto& w : workers_) {
        asio::post(w->io, [&w = *w] {
            w.draining = true;
            for (proxy_session* session : w.sessions) {
                session->drain();
            }
        });
    }

    // Requests in flight finish, up to the deadline.
    std::unique_lock lock{drain_mutex_};
    const bool drained =
        drained_.wait_for(lock, timeout, [this] { return open_connections() == 0; });
    lock.unlock();
    if (drained) {
        log::event(log::level::info, "drained");
    } else {
        log::event(log::level::warn, "drain_deadline", {{"connections_cut", open_connections()}});
    }
    stop();
}

void server::connection_ended()
{
    if (draining_.load()) {
        const std::lock_guard lock{drain_mutex_};
        drained_.notify_all();
    }
}

std::uint64_t server::open_connections() const noexcept
{
    return active_connections_.load() + (public_ ? public_->open_connections() : 0);
}

} // namespace oi::server
