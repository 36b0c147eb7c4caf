#include "upstream/tls_session_cache.hpp"

#include <ctime>

namespace oi::upstream {

namespace {

/// What a connection's sessions are remembered under, carried by its SSL object.
struct binding {
    tls_session_cache* cache;
    std::string key;
};

void free_binding(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*idx*/, long /*argl*/,
                  void* /*argp*/)
{
    delete static_cast<binding*>(ptr);
}

int binding_index()
{
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, &free_binding);
    return index;
}

bool still_usable(SSL_SESSION* session)
{
    const auto ends = static_cast<std::time_t>(SSL_SESSION_get_time(session)) +
                      static_cast<std::time_t>(SSL_SESSION_get_timeout(session));
    return SSL_SESSION_is_resumable(session) == 1 && ends > std::time(nullptr);
}

} // namespace

tls_session_cache::tls_session_cache(std::size_t max_destinations)
    : max_destinations_(max_destinations)
{}

void tls_session_cache::enable_on(SSL_CTX* ctx)
{
    // The client side keeps no internal store: sessions are found by destination here, never by
    // OpenSSL's session id lookup.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, &tls_session_cache::on_new_session);
    (void)binding_index(); // allocated now, at start-up, not on a worker thread
}

std::string_view tls_session_cache::key_for(std::string_view host, std::uint16_t port)
{
    key_buffer_.assign(host).push_back(':');
    key_buffer_.append(std::to_string(port));
    return key_buffer_;
}

void tls_session_cache::prepare(SSL* ssl, std::string_view host, std::uint16_t port)
{
    if (max_destinations_ == 0) {
        return;
    }
    const std::string_view key = key_for(host, port);
    SSL_set_ex_data(ssl, binding_index(), new binding{this, std::string{key}});

    const auto it = sessions_.find(key);
    if (it == sessions_.end()) {
        return;
    }
    auto& kept = it->second;
    while (!kept.empty()) {
        session_ptr newest = std::move(kept.back());
        kept.pop_back();
        if (!still_usable(newest.get())) {
            continue;
        }
        SSL_set_session(ssl, newest.get()); // takes a reference of its own
        if (SSL_SESSION_get_protocol_version(newest.get()) < TLS1_3_VERSION) {
            kept.push_back(std::move(newest)); // a TLS 1.2 session may be resumed again
        }
        return;
    }
}

void tls_session_cache::forget(std::string_view host, std::uint16_t port)
{
    if (const auto it = sessions_.find(key_for(host, port)); it != sessions_.end()) {
        sessions_.erase(it);
    }
}

int tls_session_cache::on_new_session(SSL* ssl, SSL_SESSION* session)
{
    auto* bound = static_cast<binding*>(SSL_get_ex_data(ssl, binding_index()));
    if (bound == nullptr) {
        return 0; // not a connection prepared by a cache: OpenSSL keeps ownership
    }
    // A copy: the object handed over stays the connection's current session, and OpenSSL marks
    // that one unresumable when the connection ends without a close_notify (upstreams that
    // answer "Connection: close" and hang up), which would spoil the newest ticket of each
    // connection.
    if (SSL_SESSION* copy = SSL_SESSION_dup(session)) {
        bound->cache->remember(bound->key, copy);
    }
    return 0; // OpenSSL keeps (and frees) its own reference
}

void tls_session_cache::remember(const std::string& key, SSL_SESSION* session)
{
    auto it = sessions_.find(std::string_view{key});
    if (it == sessions_.end()) {
        if (sessions_.size() >= max_destinations_) {
            sessions_.erase(sessions_.begin()); // any one: a bound, not a ranking
        }
        it = sessions_.emplace(key, std::deque<session_ptr>{}).first;
    }
    auto& kept = it->second;
    kept.emplace_back(session);
    if (kept.size() > k_tickets_per_destination) {
        kept.pop_front();
    }
}

} // namespace oi::upstream
