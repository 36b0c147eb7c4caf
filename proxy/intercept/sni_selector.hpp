#pragma once

// Picks the leaf certificate of an intercepted TLS handshake from the client's SNI.
//
// How the proxy session uses it (one base context per process, one call per tunnel):
//
//     boost::asio::ssl::context base = make_interception_context(cache);   // at start-up
//     ...
//     boost::asio::ssl::stream<tcp::socket> tls{std::move(socket), base};   // per CONNECT
//     set_fallback_host(tls.native_handle(), connect_host);   // used when the client sends no SNI
//     auto [ec] = co_await tls.async_handshake(ssl::stream_base::server, as_tuple(use_awaitable));
//
// During the handshake, OpenSSL's servername callback (RFC 6066 section 3) takes the SNI name,
// or the fallback host when there is none (clients send no SNI for IP literals), strips a
// `:port` (Go clients append one), asks the leaf_cache for that host's context and switches the
// connection to it (SSL_set_SSL_CTX). An unusable name or a failed mint aborts the handshake
// with an `unrecognized_name` alert; the session then sees an error_code from async_handshake.
//
// The callback runs on the thread doing the handshake and may block it while another thread
// mints the same host (see leaf_cache). The leaf_cache must outlive every context it is
// installed on.

#include "intercept/leaf_cache.hpp"

#include <boost/asio/ssl/context.hpp>

#include <openssl/ssl.h>

#include <string_view>

namespace oi::intercept {

/// Installs the SNI callback for `cache` on `base` and configures it like every leaf context
/// (configure_server_tls). `base` needs no certificate of its own.
void install_sni_selector(boost::asio::ssl::context& base, leaf_cache& cache);

/// A new server context with the SNI callback installed: the base for all intercepted tunnels.
/// Thread-safe to share: streams made from it can live on any worker thread.
[[nodiscard]] boost::asio::ssl::context make_interception_context(leaf_cache& cache);

/// The host (usually the CONNECT authority, a port is fine) to mint for when this connection's
/// client sends no SNI. Call before the handshake. False when OpenSSL cannot store it.
bool set_fallback_host(SSL* ssl, std::string_view host);

} // namespace oi::intercept
