#pragma once

// The TLS client side toward upstreams: one ssl::context per process (thread-safe for creating
// streams), verifying peers against the system store plus `upstream.ca_file`.

#include <boost/asio/ssl/context.hpp>

#include <string>

namespace oi::upstream {

/// Builds the client context. Throws at start-up when `ca_file` is set but cannot be loaded.
[[nodiscard]] boost::asio::ssl::context make_client_tls_context(const std::string& ca_file);

} // namespace oi::upstream
