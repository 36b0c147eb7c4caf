#pragma once

// The public listener (`listen.public`): end users' browsers reach /oauth/start and
// /oauth/callback here (authflow/public_handler.hpp); every other request is a 404 refusal.
// It is an admin_server with another handler, so the same limits apply: request head 16 KiB,
// body 64 KiB, 10 s to read a request and 10 s to write an answer. Its connections count as
// active_connections{listener="public"} and its requests log `public_request` events.
//
// Ownership and threads: as admin_server; `ctx`'s references must outlive the listener, and its
// store and connector must belong to `ioc`.

#include "admin/admin_server.hpp"
#include "authflow/public_handler.hpp"

#include <memory>

namespace oi::admin {

[[nodiscard]] std::unique_ptr<admin_server> make_public_listener(boost::asio::io_context& ioc,
                                                                 authflow::public_context ctx);

} // namespace oi::admin
