#pragma once

// The interception CA: the certificate and private key that sign the leaf certificates the proxy
// presents inside intercepted CONNECT tunnels (SPEC.md `intercept.ca_cert`, `intercept.ca_key`).
//
// Made once at start-up (`load`) or by `oauth-injector ca init` (`generate`) and then only read:
// `issue_leaf` may be called from any thread at the same time. Loading throws std::runtime_error
// with a one-line reason (missing, unreadable, not a CA, expired, key does not match); issuing
// never throws and returns an empty handle when OpenSSL fails. The CA key may be EC or RSA; an
// encrypted key file is refused (the proxy has no way to ask for a passphrase).

#include "intercept/host_name.hpp"
#include "intercept/openssl_util.hpp"

#include <chrono>
#include <filesystem>
#include <memory>

namespace oi::intercept {

class certificate_authority {
public:
    using clock = std::chrono::system_clock;

    /// The subject of CAs made by `generate`.
    static constexpr const char* k_common_name = "oauth-injector interception CA";
    static constexpr const char* k_organization = "oauth-injector";
    static constexpr auto k_ca_lifetime = std::chrono::days{3650};

    /// Reads PEM files. Throws std::runtime_error naming the file and the reason.
    [[nodiscard]] static certificate_authority load(const std::filesystem::path& cert_file,
                                                    const std::filesystem::path& key_file,
                                                    clock::time_point now = clock::now());

    /// A new self-signed CA: EC P-256 key, X.509 v3, random 128-bit serial, valid from an hour
    /// ago for ten years, basicConstraints CA:TRUE and keyUsage keyCertSign+cRLSign (both
    /// critical), subject and authority key identifiers. Throws std::runtime_error on failure.
    [[nodiscard]] static certificate_authority generate(clock::time_point now = clock::now());

    /// A leaf for `host` carrying the public half of `leaf_key`: subject CN = host (when it fits
    /// the 64-character limit of RFC 5280 appendix A), a DNS or IP subjectAltName, basicConstraints
    /// CA:FALSE, keyUsage digitalSignature, extendedKeyUsage serverAuth, subject and authority key
    /// identifiers, valid from now-1h until min(CA notAfter, now+lifetime), signed with SHA-256.
    /// Empty on failure.
    [[nodiscard]] x509_ptr issue_leaf(const leaf_host& host, EVP_PKEY* leaf_key,
                                      clock::time_point now, std::chrono::seconds lifetime) const;

    [[nodiscard]] X509* certificate() const noexcept { return cert_.get(); }
    [[nodiscard]] EVP_PKEY* key() const noexcept { return key_.get(); }
    [[nodiscard]] clock::time_point not_after() const noexcept { return not_after_; }

private:
    certificate_authority(std::shared_ptr<X509> cert, std::shared_ptr<EVP_PKEY> key,
                          clock::time_point not_after);

    std::shared_ptr<X509> cert_;
    std::shared_ptr<EVP_PKEY> key_;
    clock::time_point not_after_;
};

} // namespace oi::intercept
