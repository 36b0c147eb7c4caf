#pragma once

// Leaf certificates for intercepted hosts, minted on first use and kept as ready TLS server
// contexts. One per process, shared by every worker thread (all members are thread-safe).
//
// - Bounded: at most `max_entries` hosts (least recently used evicted first).
// - Expiry: an entry is dropped after half of its leaf's lifetime, so a context handed out is
//   always valid for days to come (or half the CA's remaining life, when the CA expires first).
// - Single flight: concurrent requests for one host mint once; the others block on the first
//   (minting an ECDSA P-256 leaf takes well under a millisecond).
// - One EC P-256 key, made at construction, is shared by all leaves: minting then costs one
//   signature, no key generation. The key lives only in memory and every leaf is short-lived.
//
// Errors: `server_context_for` returns nullptr for a name that cannot go into a certificate or
// when OpenSSL fails; it never throws. The constructor throws at start-up when OpenSSL cannot
// make a key.

#include "intercept/certificate_authority.hpp"

#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace oi::intercept {

class leaf_cache {
public:
    using clock = std::chrono::system_clock;
    using context_ptr = std::shared_ptr<boost::asio::ssl::context>;

    static constexpr std::size_t k_default_max_entries = 10'000;
    static constexpr std::chrono::seconds k_default_leaf_lifetime = std::chrono::days{7};

    struct options {
        std::size_t max_entries = k_default_max_entries;
        std::chrono::seconds leaf_lifetime = k_default_leaf_lifetime;
        /// Called once per minted leaf, on the minting thread (e.g. metrics certificate_issued).
        std::function<void()> on_issued;
        /// The clock for validity and expiry; tests replace it.
        std::function<clock::time_point()> now = [] { return clock::now(); };
    };

    /// Keeps a copy of `ca` (its certificate and key are shared, not copied).
    leaf_cache(const certificate_authority& ca, options opts);
    explicit leaf_cache(const certificate_authority& ca) : leaf_cache(ca, options{}) {}

    leaf_cache(const leaf_cache&) = delete;
    leaf_cache& operator=(const leaf_cache&) = delete;

    /// A TLS server context (TLS 1.2 or later, ALPN answering `http/1.1`) presenting a leaf for
    /// `host`, which is normalized first (normalize_host: port, brackets, trailing dot, case).
    /// nullptr when the name is unusable or minting failed.
    [[nodiscard]] context_ptr server_context_for(std::string_view host);

    /// Hosts currently cached (including ones being minted).
    [[nodiscard]] std::size_t size() const;

    /// The leaf inside a context returned by server_context_for (for tests and diagnostics).
    [[nodiscard]] static X509* leaf_of(const boost::asio::ssl::context& context) noexcept;

private:
    struct entry {
        std::shared_future<context_ptr> context;
        clock::time_point expires;
        std::list<std::string>::iterator lru_position;
        std::uint64_t generation = 0;
    };

    /// Under the lock: replaces any stale entry for `key` by a pending one; returns its generation.
    std::uint64_t start_mint(const std::string& key, std::shared_future<context_ptr> context);
    context_ptr mint(const leaf_host& host, clock::time_point now);
    void finish(const std::string& key, std::uint64_t generation, const context_ptr& context,
                clock::time_point expires);
    void evict_to_fit();

    certificate_authority ca_;
    std::shared_ptr<EVP_PKEY> leaf_key_;
    options options_;

    mutable std::mutex mutex_;
    std::unordered_map<std::string, entry> entries_;
    std::list<std::string> lru_; // front: most recently used
    std::uint64_t next_generation_ = 0;
};

/// Configures `context` as an interception server context: TLS 1.2 minimum and ALPN selecting
/// `http/1.1` when the client offers it (RFC 7301 section 3.2: no ALPN answer otherwise, so that
/// clients offering only h2 still get HTTP/1.1 rather than a failed handshake).
void configure_server_tls(boost::asio::ssl::context& context);

} // namespace oi::intercept
