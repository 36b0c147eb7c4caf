#pragma once

// Small owning handles and helpers over OpenSSL 3's certificate API, shared by the CA loader, the
// `ca init` writer and the leaf minter. Nothing here keeps state; every function is safe to call
// from any thread. Fallible helpers return an empty handle or std::nullopt and leave the reason in
// OpenSSL's error queue, which `openssl_error` turns into one line (and clears).

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace oi::intercept {

struct pkey_deleter {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct x509_deleter {
    void operator()(X509* p) const noexcept { X509_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
using x509_ptr = std::unique_ptr<X509, x509_deleter>;

/// Shares ownership of an EVP_PKEY (OpenSSL reference count), for keys used by several threads.
[[nodiscard]] std::shared_ptr<EVP_PKEY> share_key(pkey_ptr key);

/// `what` followed by the first queued OpenSSL reason, as one line; clears the error queue.
[[nodiscard]] std::string openssl_error(std::string_view what);

/// A fresh EC P-256 key pair (EVP_PKEY_Q_keygen).
[[nodiscard]] pkey_ptr make_p256_key();

/// Sets a random positive 128-bit serial number (RFC 5280 section 4.1.2.2 allows up to 20 octets).
[[nodiscard]] bool set_random_serial(X509* cert);

/// Sets notBefore and notAfter.
[[nodiscard]] bool set_validity(X509* cert, std::chrono::system_clock::time_point not_before,
                                std::chrono::system_clock::time_point not_after);

/// Adds an extension written in OpenSSL's config syntax (e.g. "critical,CA:TRUE"), with `issuer`
/// as the issuer certificate for authorityKeyIdentifier (nullptr: self-signed, `cert` itself).
[[nodiscard]] bool add_extension(X509* cert, X509* issuer, int nid, const char* value);

/// A certificate's notAfter as a time point, or std::nullopt when it cannot be read.
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> not_after_of(const X509* cert);

/// PEM text of a certificate or of a private key (unencrypted PKCS#8).
[[nodiscard]] std::optional<std::string> to_pem(X509* cert);
[[nodiscard]] std::optional<std::string> to_pem(EVP_PKEY* key);

} // namespace oi::intercept
