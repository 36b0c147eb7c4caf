#include "intercept/sni_selector.hpp"

#include <openssl/err.h>

#include <string>

namespace oi::intercept {

namespace {

void free_fallback(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*idx*/, long /*argl*/,
                   void* /*argp*/)
{
    delete static_cast<std::string*>(ptr);
}

/// The SSL ex_data slot holding each connection's fallback host (a heap std::string, freed with
/// the SSL object).
int fallback_index()
{
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_fallback);
    return index;
}

int select_leaf(SSL* ssl, int* alert, void* arg)
{
    auto& cache = *static_cast<leaf_cache*>(arg);

    std::string_view host;
    if (const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name); sni != nullptr) {
        host = sni;
    } else if (const auto* fallback =
                   static_cast<const std::string*>(SSL_get_ex_data(ssl, fallback_index()));
               fallback != nullptr) {
        host = *fallback;
    }

    const auto context = host.empty() ? nullptr : cache.server_context_for(host);
    if (!context || SSL_set_SSL_CTX(ssl, context->native_handle()) == nullptr) {
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    // SSL_set_SSL_CTX took its own reference on the native context: eviction from the cache
    // while this connection lives is harmless.
    return SSL_TLSEXT_ERR_OK;
}

} // namespace

void install_sni_selector(boost::asio::ssl::context& base, leaf_cache& cache)
{
    configure_server_tls(base);
    SSL_CTX_set_tlsext_servername_callback(base.native_handle(), select_leaf);
    SSL_CTX_set_tlsext_servername_arg(base.native_handle(), &cache);
}

boost::asio::ssl::context make_interception_context(leaf_cache& cache)
{
    boost::asio::ssl::context base{boost::asio::ssl::context::tls_server};
    install_sni_selector(base, cache);
    return base;
}

bool set_fallback_host(SSL* ssl, std::string_view host)
{
    auto* previous = static_cast<std::string*>(SSL_get_ex_data(ssl, fallback_index()));
    auto* value = new std::string{host};
    if (SSL_set_ex_data(ssl, fallback_index(), value) != 1) {
        delete value;
        ERR_clear_error();
        return false;
    }
    delete previous;
    return true;
}

} // namespace oi::intercept
