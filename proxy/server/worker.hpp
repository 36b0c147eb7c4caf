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
#include <thread>

namespace oi::server {

struct worker {
    boost::asio::io_context io{1};
    // Keeps io.run() going while the worker has no connection yet.
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> keep_running{
        io.get_executor()};
    std::unique_ptr<store::grant_store> store;
    std::unique_ptr<token::grant_service> grants;
    std::unique_ptr<upstream::connector> connector;
    std::unique_ptr<upstream::pool> pool;
    std::thread thread;
    runtime_ptr runtime; // replaced on this thread when the config is reloaded
    boost::asio::ssl::context* intercept_tls = nullptr; // set when `intercept` is configured
    const authflow::link_signer* links = nullptr;       // set when `listen.public` is configured
};

} // namespace oi::server
