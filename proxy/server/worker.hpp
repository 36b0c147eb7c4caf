#pragma once

// A worker: one thread running one io_context, with everything a proxy session touches on its
// hot path owned per worker so that nothing there takes a lock: the store client, the grant
// cache, the upstream connector and connection pool.

#include "authflow/link.hpp"
#include "server/runtime.hpp"
#include "store/grant_store.hpp"
#include "token/grant_service.hpp"
#include "upstream/pool.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <set>
#include <thread>

namespace oi::server {

class proxy_session;

/// An io_context whose suspended coroutines can be destroyed on purpose, after its thread has
/// stopped and while everything they refer to (the worker's store, pool, session set) still
/// exists; the plain destructor would do it only after those members are gone.
class worker_io_context : public boost::asio::io_context {
public:
    using io_context::io_context;
    /// Destroys every pending handler (sessions cut at the shutdown deadline). Idempotent; the
    /// services stay usable for the sockets and timers that are closed afterwards.
    void destroy_pending_handlers() { shutdown(); }
};

struct worker {
    worker_io_context io{1};
    // Keeps io.run() going while the worker has no connection yet.
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> keep_running{
        io.get_executor()};
    std::unique_ptr<store::grant_store> store;
    std::unique_ptr<token::grant_service> grants;
    std::unique_ptr<upstream::connector> connector;
    std::unique_ptr<upstream::pool> pool;
    std::thread thread;
    boost::asio::ssl::context* intercept_tls = nullptr; // set when `intercept` is configured
    const authflow::link_signer* links = nullptr;       // set when `listen.public` is configured
    // Sessions running on this worker (tunnels' inner ones too), for a graceful shutdown; both
    // are touched on this worker's thread only.
    std::set<proxy_session*> sessions;
    bool draining = false; // SIGTERM: finish the request in flight, then close
};

} // namespace oi::server
