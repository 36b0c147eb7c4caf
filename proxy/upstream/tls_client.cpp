#include "upstream/tls_client.hpp"

#include "upstream/tls_session_cache.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace oi::upstream {

namespace ssl = boost::asio::ssl;

namespace {

/// Whether `dir` holds certificates under their subject-hash names ("1a2b3c4d.0"), the names
/// OpenSSL's directory lookup opens.
bool has_hashed_certificates(const std::filesystem::path& dir)
{
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() >= 10 && name[8] == '.' &&
            std::all_of(name.begin(), name.begin() + 8,
                        [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; })) {
            return true;
        }
    }
    return false;
}

/// The system trust store, read lazily: from its directory of hashed names OpenSSL loads an
/// issuer when a chain first needs it, instead of parsing the whole bundle file (about 140
/// certificates, most of the start-up CPU time) before the proxy is ready. SSL_CERT_FILE and
/// SSL_CERT_DIR, when set, are used as OpenSSL's defaults use them; a system without a hashed
/// directory gets the bundle file.
void use_system_trust(ssl::context& ctx)
{
    const bool overridden = std::getenv(X509_get_default_cert_file_env()) != nullptr ||
                            std::getenv(X509_get_default_cert_dir_env()) != nullptr;
    const std::string dir = X509_get_default_cert_dir();
    boost::system::error_code ec;
    if (!overridden && has_hashed_certificates(dir)) {
        ctx.add_verify_path(dir, ec);
        if (!ec) {
            return;
        }
    }
    ctx.set_default_verify_paths();
}

} // namespace

ssl::context make_client_tls_context(const std::string& ca_file)
{
    ssl::context ctx{ssl::context::tls_client};

    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                    ssl::context::no_compression);
    ctx.set_verify_mode(ssl::verify_peer);
    use_system_trust(ctx);

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
    tls_session_cache::enable_on(ctx.native_handle());
    return ctx;
}

} // namespace oi::upstream
