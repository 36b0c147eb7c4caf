#pragma once

// Client-side TLS sessions toward upstreams, so that a new connection to a server seen before
// resumes its session instead of doing a full handshake (RFC 8446 section 2.2; TLS 1.2 session
// tickets, RFC 5077). One cache per worker, touched only on its thread: no locks.
//
// A session is offered again only to what the first handshake proved: the same host (the SNI
// name and the name the certificate was verified for) and port. Every upstream connection uses
// the process's one client context, so the trust settings are the same for every entry.
//
// A TLS 1.3 ticket is used once (RFC 8446 appendix C.4: clients should not reuse a ticket) and
// the resumed connection brings fresh ones; a TLS 1.2 session serves until it expires. A
// handshake that fails drops what was kept for its destination.

#include <openssl/ssl.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace oi::upstream {

/// Destinations (host:port) whose sessions a worker keeps.
inline constexpr std::size_t k_tls_session_destinations = 1000;

/// Tickets kept per destination: the server sends two after a full handshake (OpenSSL's
/// default), one more per resumption; a few spare ones cover connections opened together.
inline constexpr std::size_t k_tickets_per_destination = 4;

class tls_session_cache {
public:
    /// Remembers sessions for at most `max_destinations` host:port pairs; 0 disables resumption.
    explicit tls_session_cache(std::size_t max_destinations);
    tls_session_cache(const tls_session_cache&) = delete;
    tls_session_cache& operator=(const tls_session_cache&) = delete;

    /// Makes `ctx` hand new sessions to the cache its connections were prepared by. Once, on the
    /// process's client context, before any connection.
    static void enable_on(SSL_CTX* ctx);

    /// Before the handshake of a connection to host:port: offers a remembered session and has
    /// the sessions the server sends on this connection remembered.
    void prepare(SSL* ssl, std::string_view host, std::uint16_t port);

    /// After a failed handshake: forgets the destination's sessions.
    void forget(std::string_view host, std::uint16_t port);

    /// Destinations with sessions kept (tests and diagnostics).
    [[nodiscard]] std::size_t size() const noexcept { return sessions_.size(); }

private:
    struct session_free {
        void operator()(SSL_SESSION* s) const noexcept { SSL_SESSION_free(s); }
    };
    using session_ptr = std::unique_ptr<SSL_SESSION, session_free>;

    struct string_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept
        {
            return std::hash<std::string_view>{}(s);
        }
    };

    static int on_new_session(SSL* ssl, SSL_SESSION* session);
    void remember(const std::string& key, SSL_SESSION* session);
    std::string_view key_for(std::string_view host, std::uint16_t port);

    std::size_t max_destinations_;
    std::string key_buffer_;
    std::unordered_map<std::string, std::deque<session_ptr>, string_hash, std::equal_to<>>
        sessions_;
};

} // namespace oi::upstream
