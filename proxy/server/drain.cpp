// server::drain: the graceful shutdown that SIGTERM and SIGINT start.

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
               {{"connections", active_connections_.load()},
                {"timeout_ms", static_cast<std::int64_t>(timeout.count())}});

    // No new connections; then every session learns it, on its own worker's thread.
    if (proxy_acceptor_) {
        asio::post(workers_.front()->io, [this] {
            error_code ignored;
            proxy_acceptor_->close(ignored);
        });
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
        drained_.wait_for(lock, timeout, [this] { return active_connections_.load() == 0; });
    lock.unlock();
    if (drained) {
        log::event(log::level::info, "drained");
    } else {
        log::event(log::level::warn, "drain_deadline",
                   {{"connections_cut", active_connections_.load()}});
    }
    stop();
}

} // namespace oi::server
