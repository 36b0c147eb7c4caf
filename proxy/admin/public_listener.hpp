#pragma once

// The public listener (`listen.public`): end users' browsers reach /oauth/start and
// /oauth/callback here (authflow/public_handler.hpp); every other request is a 404 refusal.
// It is an admin_server with another handler, so the same limits apply: request head 16 KiB,
// body 64 KiB, 10 s to read a request and 10 s to write an answer. Its connections count as
// active_connections{listener="public"} and its requests log `public_request` events.
//
// Each request is served with the configuration in force when it arrived (`current_config`), so
// connections added or changed by a reload get working links and callbacks, and a removed one
// is refused with `connection_not_configured`. On SIGTERM the server drains it like the proxy
// listener (admin_server::drain).
//
// Ownership and threads: as admin_server; the services' references must outlive the listener,
// and its store and connector must belong to `ioc`.

#include "admin/admin_server.hpp"
#include "authflow/public_handler.hpp"

#include <memory>

namespace oi::admin {

/// What the public listener serves requests with, apart from the configuration.
struct public_services {
    store::grant_store& store;
    upstream::connector& connector;
    metrics::metrics& metrics;
    const authflow::link_signer& links;
    /// A grant was written: drop it from in-process caches. May be empty.
    std::function<void(const store::grant_key&)> grant_changed;
    /// The configuration in force now; called once per request.
    std::function<std::shared_ptr<const config::config>()> current_config;
    /// A connection of this listener closed (the server's drain waits for them). May be empty.
    std::function<void()> connection_closed;
};

[[nodiscard]] std::unique_ptr<admin_server> make_public_listener(boost::asio::io_context& ioc,
                                                                 const config::endpoint& address,
                                                                 public_services services);

} // namespace oi::admin
