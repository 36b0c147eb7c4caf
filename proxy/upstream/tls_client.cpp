#include "upstream/tls_client.hpp"

#include <openssl/ssl.h>

#include <stdexcept>

namespace oi::upstream {

namespace ssl = boost::asio::ssl;

ssl::context make_client_tls_context(const std::string& ca_file)
{
    ssl::context ctx{ssl::context::tls_client};

    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                    ssl::context::no_compression);
    ctx.set_verify_mode(ssl::verify_peer);
    ctx.set_default_verify_paths();

    if (!ca_file.empty()) {
        boost::system::error_code ec;
        ctx.load_verify_file(ca_file, ec);
        if (ec) {
            throw std::runtime_error("upstream.ca_file: cannot load " + ca_file + ": " +
                                     ec.message());
        }
    }

    // We speak HTTP/1.1 upstream; say so, so that no server picks h2 (RFC 7301).
    static constexpr unsigned char k_alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(ctx.native_handle(), k_alpn, sizeof(k_alpn));

    // Resumed sessions save a full handshake on every new pooled connection.
    SSL_CTX_set_session_cache_mode(ctx.native_handle(), SSL_SESS_CACHE_CLIENT);
    return ctx;
}

} // namespace oi::upstream
