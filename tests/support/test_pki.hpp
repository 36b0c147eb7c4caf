#pragma once

// Test certificates made at test time with OpenSSL 3: a CA and server certificates for given DNS
// names and IP addresses, written as PEM files into a private temporary directory.
//
// Used by integration tests that need TLS: an origin server presenting `server_cert`, a client or
// the proxy trusting `ca_cert`. Everything here runs on the calling thread. Failures (OpenSSL or
// file errors) throw std::runtime_error: this is test set-up code, never on the request path.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace oi::test {

/// A directory under the system temp dir, removed with its contents when the last owner goes.
class scoped_temp_dir {
public:
    explicit scoped_temp_dir(std::string_view prefix = "oi-test-");
    ~scoped_temp_dir();
    scoped_temp_dir(const scoped_temp_dir&) = delete;
    scoped_temp_dir& operator=(const scoped_temp_dir&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

/// The validity window of an issued certificate, relative to now. A negative `not_after` gives an
/// already expired certificate.
struct cert_validity {
    std::chrono::seconds not_before = std::chrono::hours{-1};
    std::chrono::seconds not_after = std::chrono::hours{24};
};

/// The PEM files of one issued certificate (leaf only) and its private key (mode 0600).
struct issued_cert {
    std::filesystem::path cert;
    std::filesystem::path key;
};

/// A self-signed EC P-256 CA whose certificate and key live as PEM files in `dir`. Issues server
/// certificates: X.509 v3 with subjectAltName, basicConstraints CA:FALSE, keyUsage
/// digitalSignature, extendedKeyUsage serverAuth, signed with SHA-256.
class test_ca {
public:
    /// Creates `dir` if needed and writes `<name>.pem` and `<name>.key` into it.
    test_ca(std::filesystem::path dir, std::string name = "ca",
            std::string common_name = "oauth-injector test CA");
    ~test_ca();
    test_ca(test_ca&&) noexcept;
    test_ca& operator=(test_ca&&) noexcept;

    [[nodiscard]] const std::filesystem::path& cert_file() const noexcept { return cert_file_; }
    [[nodiscard]] const std::filesystem::path& key_file() const noexcept { return key_file_; }

    /// Issues a server certificate for the names and IPs (IPv4 or IPv6 literals) into
    /// `<dir>/<name>.pem` and `<dir>/<name>.key`. The subject CN is the first name or IP.
    issued_cert issue(const std::string& name, const std::vector<std::string>& dns_names,
                      const std::vector<std::string>& ips, cert_validity validity = {}) const;

private:
    struct impl;
    std::filesystem::path dir_;
    std::filesystem::path cert_file_;
    std::filesystem::path key_file_;
    std::unique_ptr<impl> impl_;
};

/// A CA and one server certificate in a fresh temporary directory. The directory is removed when
/// the last copy of this struct goes away; the paths stay valid until then.
struct test_pki {
    std::filesystem::path dir;
    std::filesystem::path ca_cert;
    std::filesystem::path server_cert;
    std::filesystem::path server_key;
    std::shared_ptr<const scoped_temp_dir> owner;
};

/// A new CA and a server certificate for `dns_names` and `ips`, e.g. ({"localhost"},
/// {"127.0.0.1"}).
test_pki make_test_pki(const std::vector<std::string>& dns_names,
                       const std::vector<std::string>& ips);

/// A server certificate for the same names, signed by a new CA that nobody trusts, written as
/// `<pki.dir>/<name>.pem|.key`: for "upstream presents an untrusted certificate" tests.
issued_cert make_untrusted_cert(const test_pki& pki, const std::string& name,
                                const std::vector<std::string>& dns_names,
                                const std::vector<std::string>& ips);

} // namespace oi::test
