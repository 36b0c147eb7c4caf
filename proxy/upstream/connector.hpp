#pragma once

// Opens new upstream connections: DNS, the destination policy, TCP connect and TLS with full
// verification. Used by upstream_pool; one per worker, on that worker's io_context.

#include "common/byte_stream.hpp"
#include "common/refusal.hpp"
#include "config/config.hpp"
#include "upstream/tls_session_cache.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace oi::upstream {

struct destination {
    std::string_view scheme; // "http" or "https"
    std::string_view host;   // normalized: lower case, IPv6 without brackets
    std::uint16_t port = 0;
};

/// Either a connected stream, or the refusal to answer the client with and a log-safe detail.
struct connect_result {
    std::unique_ptr<byte_stream> stream;
    refusal failure = refusal::upstream_unreachable; // meaningful only when !stream
    std::string detail;
    bool tls = false;     // a TLS handshake was made
    bool resumed = false; // ... resuming an earlier TLS session (for the debug log)
};

class connector {
public:
    /// `tls` must have had tls_session_cache::enable_on (make_client_tls_context does it).
    connector(asio::io_context& io, asio::ssl::context& tls, const config::upstream_config& cfg);

    /// Resolves `to.host` once and connects only to the addresses that passed the destination
    /// policy (no second lookup between the check and the connect: no DNS rebinding).
    asio::awaitable<connect_result> connect(const destination& to);

    /// Replaces the timeouts and address policy for the next connects (a reload); a connect
    /// already running finishes with the one it started with. On the connector's io_context.
    void set_policy(std::shared_ptr<const config::upstream_config> policy);

private:
    asio::awaitable<connect_result> start_tls(boost::beast::tcp_stream tcp, const destination& to,
                                              config::duration timeout);

    asio::io_context& io_;
    asio::ssl::context& tls_;
    tls_session_cache sessions_;
    std::shared_ptr<const config::upstream_config> policy_; // non-owning until set_policy
};

} // namespace oi::upstream
