#include "intercept/leaf_cache.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <optional>
#include <stdexcept>

namespace oi::intercept {

namespace {

constexpr unsigned char k_http11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};

int select_http11(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_length,
                  const unsigned char* in, unsigned int in_length, void* /*arg*/)
{
    // `in` is the client's list of length-prefixed protocol names.
    for (unsigned int i = 0; i < in_length;) {
        const unsigned int length = in[i];
        if (i + 1 + length > in_length) {
            break;
        }
        if (length == sizeof k_http11 && std::equal(k_http11, k_http11 + length, in + i + 1)) {
            *out = in + i + 1;
            *out_length = static_cast<unsigned char>(length);
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + length;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

} // namespace

void configure_server_tls(boost::asio::ssl::context& context)
{
    SSL_CTX* native = context.native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_alpn_select_cb(native, select_http11, nullptr);
}

leaf_cache::leaf_cache(const certificate_authority& ca, options opts)
    : ca_(ca), leaf_key_(share_key(make_p256_key())), options_(std::move(opts))
{
    if (!leaf_key_) {
        throw std::runtime_error(openssl_error("cannot create the leaf certificate key"));
    }
    if (options_.max_entries == 0) {
        options_.max_entries = 1;
    }
}

leaf_cache::context_ptr leaf_cache::server_context_for(std::string_view raw_host)
{
    const auto host = normalize_host(raw_host);
    if (!host) {
        return nullptr;
    }
    const auto now = options_.now();

    // Find a live entry, or become the one thread that mints this host.
    std::optional<std::promise<context_ptr>> promise; // only made when this thread mints
    std::shared_future<context_ptr> existing;
    std::uint64_t generation = 0;
    {
        const std::lock_guard lock{mutex_};
        auto found = entries_.find(host->name);
        if (found != entries_.end() && found->second.expires > now) {
            lru_.splice(lru_.begin(), lru_, found->second.lru_position);
            existing = found->second.context;
        } else {
            promise.emplace();
            generation = start_mint(host->name, promise->get_future().share());
        }
    }
    if (existing.valid()) {
        return existing.get(); // ready, or another thread is minting it right now
    }

    auto context = mint(*host, now);
    const auto expires = now + options_.leaf_lifetime / 2;
    const auto ca_left = ca_.not_after() - now;
    finish(host->name, generation, context,
           std::min(expires, now + std::chrono::duration_cast<clock::duration>(ca_left / 2)));
    promise->set_value(context);
    return context;
}

leaf_cache::context_ptr leaf_cache::mint(const leaf_host& host, clock::time_point now)
{
    x509_ptr leaf = ca_.issue_leaf(host, leaf_key_.get(), now, options_.leaf_lifetime);
    if (!leaf) {
        return nullptr;
    }
    auto context =
        std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
    configure_server_tls(*context);
    SSL_CTX* native = context->native_handle();
    if (SSL_CTX_use_certificate(native, leaf.get()) != 1 ||
        SSL_CTX_use_PrivateKey(native, leaf_key_.get()) != 1) {
        ERR_clear_error();
        return nullptr;
    }
    if (options_.on_issued) {
        options_.on_issued();
    }
    return context;
}

void leaf_cache::finish(const std::string& key, std::uint64_t generation,
                        const context_ptr& context, clock::time_point expires)
{
    const std::lock_guard lock{mutex_};
    auto found = entries_.find(key);
    if (found == entries_.end() || found->second.generation != generation) {
        return; // evicted while minting; the callers waiting on it still get the context
    }
    if (context) {
        found->second.expires = expires;
        return;
    }
    lru_.erase(found->second.lru_position); // a failure is not cached: the next request retries
    entries_.erase(found);
}

std::uint64_t leaf_cache::start_mint(const std::string& key,
                                     std::shared_future<context_ptr> context)
{
    if (auto stale = entries_.find(key); stale != entries_.end()) {
        lru_.erase(stale->second.lru_position);
        entries_.erase(stale);
    }
    const auto generation = ++next_generation_;
    lru_.push_front(key);
    entries_.emplace(key,
                     entry{std::move(context), clock::time_point::max(), lru_.begin(), generation});
    evict_to_fit();
    return generation;
}

void leaf_cache::evict_to_fit()
{
    while (entries_.size() > options_.max_entries) {
        entries_.erase(lru_.back());
        lru_.pop_back();
    }
}

std::size_t leaf_cache::size() const
{
    const std::lock_guard lock{mutex_};
    return entries_.size();
}

X509* leaf_cache::leaf_of(const boost::asio::ssl::context& context) noexcept
{
    return SSL_CTX_get0_certificate(
        const_cast<boost::asio::ssl::context&>(context).native_handle());
}

} // namespace oi::intercept
