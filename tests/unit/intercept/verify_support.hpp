#pragma once

// Test helpers: verify a leaf against a CA the way a TLS client does (OpenSSL X509_verify_cert
// with the CA as the only trust anchor, TLS server purpose, host or IP check).

#include "intercept/leaf_cache.hpp"

#include <boost/asio/ip/address.hpp>

#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <string>

namespace oi::intercept::test {

/// The X509_V_* result of verifying `leaf` for `host` (a DNS name or an IP literal).
inline int verify_leaf(X509* ca, X509* leaf, const std::string& host)
{
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, ca);
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, leaf, nullptr);
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
    boost::system::error_code not_ip;
    boost::asio::ip::make_address(host, not_ip);
    if (!not_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    } else {
        X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    }
    const int ok = X509_verify_cert(ctx);
    const int error = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return error;
}

} // namespace oi::intercept::test
