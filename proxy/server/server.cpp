#include "server/server.hpp"

#include "admin/admin_server.hpp"
#include "admin/public_listener.hpp"
#include "authflow/link.hpp"
#include "common/log.hpp"
#include "intercept/certificate_authority.hpp"
#include "intercept/leaf_cache.hpp"
#include "intercept/sni_selector.hpp"
#include "metrics/metrics.hpp"
#include "server/proxy_session.hpp"
#include "store/store_factory.hpp"
#include "token/endpoint_caller.hpp"
#include "upstream/tls_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <stdexcept>

namespace oi::server {

namespace tcp = boost::asio::ip;

namespace {

using steady = std::chrono::steady_clock;

double seconds(steady::duration d)
{
    return std::chrono::duration<double>(d).count();
}

metrics::refresh_result refresh_metric(token::refresh_status s)
{
    switch (s) {
    case token::refresh_status::success:
        return metrics::refresh_result::success;
    case token::refresh_status::needs_reauth:
        return metrics::refresh_result::invalid_grant;
    case token::refresh_status::failed:
        return metrics::refresh_result::error;
    case token::refresh_status::skipped:
    case token::refresh_status::cooling_down:
    case token::refresh_status::wait_expired: // the lock's owner is still at it: its own outcome
        return metrics::refresh_result::skipped;
    }
    return metrics::refresh_result::error;
}

unsigned worker_count(unsigned configured)
{
    if (configured != 0) {
        return configured;
    }
    const unsigned cores = std::thread::hardware_concurrency();
    return cores == 0 ? 1 : cores;
}

tcp::tcp::endpoint endpoint_of(const config::endpoint& e)
{
    error_code ec;
    const auto address = asio::ip::make_address(e.host, ec);
    if (ec) {
        throw std::runtime_error("listen address '" + e.host + "' is not an IP address");
    }
    return {address, e.port};
}

std::unique_ptr<tcp::tcp::acceptor> bind_acceptor(asio::io_context& io, const config::endpoint& e,
                                                  std::string_view what)
{
    auto acceptor = std::make_unique<tcp::tcp::acceptor>(io);
    const auto ep = endpoint_of(e);
    error_code ec;
    acceptor->open(ep.protocol(), ec);
    if (!ec) {
        acceptor->set_option(tcp::tcp::acceptor::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor->bind(ep, ec);
    }
    if (!ec) {
        acceptor->listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        throw std::runtime_error("cannot listen on " + e.host + ":" + std::to_string(e.port) +
                                 " (" + std::string{what} + "): " + ec.message());
    }
    return acceptor;
}

asio::awaitable<void> run_session(std::unique_ptr<proxy_session> session)
{
    co_await session->run();
}

} // namespace

server::server(config::config cfg)
    : startup_(std::make_shared<const runtime>(std::move(cfg))), current_(startup_),
      metrics_(std::make_unique<metrics::metrics>(startup_->cfg)),
      tls_(upstream::make_client_tls_context(startup_->cfg.upstream.ca_file)),
      stores_(std::make_unique<store::store_factory>(
          startup_->cfg.store, store::redis_options{},
          [m = metrics_.get()](bool ok) {
              m->store_retry(ok ? metrics::retry_result::success : metrics::retry_result::failure);
          })),
      links_(std::make_unique<const authflow::link_signer>(
          authflow::link_signer::from_config(startup_->cfg.store)))
{
    load_interception();
    build_workers();
}

void server::load_interception()
{
    const auto& cfg = startup_->cfg.intercept;
    if (!cfg.enabled) {
        return;
    }
    // Throws with a one-line reason when the CA is missing, unreadable or not a CA.
    ca_ = std::make_unique<intercept::certificate_authority>(
        intercept::certificate_authority::load(cfg.ca_cert, cfg.ca_key));
    intercept::leaf_cache::options options;
    options.max_entries = cfg.max_certificates;
    options.leaf_lifetime =
        std::chrono::duration_cast<std::chrono::seconds>(cfg.certificate_lifetime);
    options.on_issued = [this] { metrics_->certificate_issued(); };
    leaves_ = std::make_unique<intercept::leaf_cache>(*ca_, std::move(options));
    intercept_tls_ =
        std::make_unique<asio::ssl::context>(intercept::make_interception_context(*leaves_));
}

server::~server()
{
    stop();
}

void server::build_workers()
{
    const auto& cfg = startup_->cfg;
    const unsigned n = worker_count(cfg.threads);
    for (unsigned i = 0; i < n; ++i) {
        auto w = std::make_unique<worker>();
        w->intercept_tls = intercept_tls_.get();
        w->links = cfg.listen.public_listener ? links_.get() : nullptr;
        w->store = stores_->make(w->io);
        w->connector = std::make_unique<upstream::connector>(w->io, tls_, cfg.upstream);
        w->grants = std::make_unique<token::grant_service>(
            w->io, *w->store, cfg.store,
            token::lookup_observer{
                [this](token::cache_result r) {
                    metrics_->cache_lookup(static_cast<metrics::cache_result>(r));
                },
                [this](std::string_view, steady::duration d) {
                    metrics_->store_call(metrics::store_op::load, seconds(d));
                },
                [this](std::string_view) {
                    metrics_->store_error(metrics::store_op::load);
                    log::event(log::level::warn, "store_error", {{"operation", "load"}});
                },
                [this](std::string_view connection, const token::refresh_outcome& out,
                       steady::duration took) { record_refresh(connection, out, took); },
            },
            token::make_endpoint_caller(*w->connector));
        w->pool = std::make_unique<upstream::pool>(
            *w->connector,
            upstream::pool_limits{static_cast<std::size_t>(cfg.upstream.pool_max_idle_per_host),
                                  cfg.upstream.pool_idle_timeout});
        workers_.push_back(std::move(w));
    }
}

void server::start()
{
    const auto& cfg = startup_->cfg;
    auto& first = *workers_.front();

    proxy_acceptor_ = bind_acceptor(first.io, cfg.listen.proxy, "proxy");
    proxy_port_ = proxy_acceptor_->local_endpoint().port();

    if (cfg.listen.admin) {
        admin_ = std::make_unique<admin::admin_server>(
            first.io, cfg, *first.store, *metrics_,
            admin::admin_hooks{
                [this](const store::grant_key& key) { invalidate_grant(key.connection, key.user); },
                [this] { return !draining_.load(); },
                [&first](const config::connection& connection, const store::grant_key& key) {
                    return first.grants->refresh_now(connection, key.user);
                },
                links_.get(), first.connector.get(), [this] { return current_.config(); },
                [this] { return reload(); }});
        if (const auto ec = admin_->listen()) {
            throw std::runtime_error("cannot listen on the admin address: " + ec.message());
        }
        admin_->start();
    }
    if (cfg.listen.public_listener) {
        public_ = admin::make_public_listener(
            first.io, *cfg.listen.public_listener,
            admin::public_services{
                *first.store, *first.connector, *metrics_, *links_,
                [this](const store::grant_key& key) { invalidate_grant(key.connection, key.user); },
                [this] { return current_.config(); }, [this] { connection_ended(); }});
        if (const auto ec = public_->listen()) {
            throw std::runtime_error("cannot listen on the public address: " + ec.message());
        }
        public_->start();
    }

    asio::co_spawn(first.io, accept_loop(), asio::detached);
    for (auto& w : workers_) {
        w->thread = std::thread([&io = w->io] { io.run(); });
    }

    log::event(log::level::info, "listening",
               {{"proxy_port", proxy_port_},
                {"admin_port", admin_port()},
                {"public_port", public_port()},
                {"workers", workers_.size()}});
}

std::uint16_t server::admin_port() const noexcept
{
    return admin_ ? admin_->port() : 0;
}

std::uint16_t server::public_port() const noexcept
{
    return public_ ? public_->port() : 0;
}

asio::awaitable<void> server::accept_loop()
{
    for (;;) {
        // Each connection goes to the next worker in turn; its socket lives on that worker.
        worker& target = *workers_[next_worker_];
        next_worker_ = (next_worker_ + 1) % workers_.size();

        auto [ec, socket] =
            co_await proxy_acceptor_->async_accept(target.io, asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted || stopped_) {
            co_return;
        }
        if (ec) {
            // Out of descriptors and the like: say so and keep accepting.
            log::event(log::level::error, "accept_failed", {{"error", ec.message()}});
            continue;
        }

        const auto max_connections = current_.get()->cfg.limits.max_connections;
        if (active_connections_.load(std::memory_order_relaxed) >= max_connections) {
            metrics_->refused(refusal::overloaded);
            const std::string response =
                refusal_response(refusal::overloaded, "too many connections", true);
            error_code ignored;
            socket.non_blocking(true, ignored);
            (void)socket.send(asio::buffer(response), 0, ignored);
            socket.close(ignored);
            continue;
        }
        start_session(target, std::move(socket));
    }
}

void server::start_session(worker& w, tcp::tcp::socket socket)
{
    error_code ignored;
    socket.set_option(tcp::tcp::no_delay(true), ignored);
    active_connections_.fetch_add(1, std::memory_order_relaxed);
    metrics_->connection_opened(metrics::listener::proxy);

    auto stream = std::make_unique<tcp_byte_stream>(boost::beast::tcp_stream{std::move(socket)});
    auto session = std::make_unique<proxy_session>(
        w, std::move(stream), [this] { return current_.get(); },
        [this](const exchange_record& rec) { record(rec); });

    asio::co_spawn(w.io, run_session(std::move(session)), [this](std::exception_ptr e) {
        active_connections_.fetch_sub(1, std::memory_order_relaxed);
        metrics_->connection_closed(metrics::listener::proxy);
        connection_ended();
        if (e) {
            // A bug, not a client's doing: keep serving the others, and say it loudly.
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log::event(log::level::error, "session_failed", {{"error", ex.what()}});
            }
        }
    });
}

void server::record(const exchange_record& rec)
{
    const metrics::outcome outcome = rec.refused          ? metrics::outcome(*rec.refused)
                                     : rec.client_aborted ? metrics::outcome::client_error()
                                                          : metrics::outcome::forwarded();
    const double total = seconds(steady::now() - rec.started);
    const std::size_t plugin =
        rec.plugin_known ? metrics_->plugin_index(rec.plugin) : metrics_->unknown_plugin();
    metrics_->request_done(plugin, outcome, total);
    if (!rec.refused && rec.upstream_time.count() > 0) {
        metrics_->upstream_response(seconds(rec.upstream_time));
        metrics_->upstream_connection_used(rec.upstream_reused
                                               ? metrics::upstream_connection::reused
                                               : metrics::upstream_connection::new_connection);
    }

    const log::level lvl =
        rec.refused && refusal_status(*rec.refused) >= 500 ? log::level::warn : log::level::info;
    if (!log::enabled(lvl)) {
        return;
    }
    log::event(lvl, "request",
               {{"request_id", rec.request_id},
                {rec.user.empty() ? "" : "user", rec.user},
                {"plugin", rec.plugin},
                {"connection", rec.connection},
                {"method", rec.method},
                {"scheme", rec.scheme},
                {"host", rec.host},
                {"port", rec.port},
                {"status", rec.status},
                {"outcome", metrics::label(outcome)},
                {"injected", rec.token_injected},
                {"reused", rec.upstream_reused},
                {"bytes_in", rec.request_body_bytes},
                {"bytes_out", rec.response_body_bytes},
                {"upstream_ms", seconds(rec.upstream_time) * 1000.0},
                {"duration_ms", total * 1000.0},
                {"detail", rec.detail}});
}

void server::record_refresh(std::string_view connection, const token::refresh_outcome& out,
                            steady::duration took)
{
    const std::size_t index = metrics_->connection_index(connection);
    metrics_->token_refresh(index, refresh_metric(out.status));
    metrics_->token_refresh_duration(index, seconds(took));
    if (out.waited_for_lock) {
        metrics_->token_refresh_lock_wait(index, seconds(out.lock_wait));
    }
}

void server::invalidate_grant(const std::string& connection, const std::string& user)
{
    for (auto& w : workers_) {
        asio::post(w->io, [&w = *w, connection, user] { w.grants->invalidate(connection, user); });
    }
}

void server::wait()
{
    // SIGHUP reloads the configuration (and waits for the next signal); SIGINT or SIGTERM stop.
    asio::io_context signals_io;
    asio::signal_set signals{signals_io, SIGINT, SIGTERM, SIGHUP};
    int received = SIGHUP;
    while (received == SIGHUP) {
        signals.async_wait(
            [&received](const error_code& ec, int number) { received = ec ? SIGTERM : number; });
        signals_io.restart();
        signals_io.run();
        if (received == SIGHUP) {
            (void)reload();
        }
    }
    log::event(log::level::info, "stopping",
               {{"signal", received == SIGINT ? "SIGINT" : "SIGTERM"}});
    drain();
}

void server::stop()
{
    if (stopped_.exchange(true)) {
        return;
    }
    if (!workers_.empty() && proxy_acceptor_) {
        asio::post(workers_.front()->io, [this] {
            error_code ignored;
            proxy_acceptor_->close(ignored);
            if (admin_) {
                admin_->stop();
            }
            if (public_) {
                public_->stop();
            }
        });
    }
    for (auto& w : workers_) {
        asio::post(w->io, [&w = *w] { w.pool->clear(); });
        w->io.stop();
    }
    for (auto& w : workers_) {
        if (w->thread.joinable()) {
            w->thread.join();
        }
    }
    for (auto& w : workers_) {
        w->io.destroy_pending_handlers();
    }
    stores_->stop_all();
    log::flush();
}

} // namespace oi::server
