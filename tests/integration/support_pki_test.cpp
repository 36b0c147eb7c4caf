// Checks the test PKI with OpenSSL's own verifier, so that TLS tests fail for the product's
// reasons, not because of a malformed test certificate.

#include "support/test_pki.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <catch2/catch.hpp>

#include <memory>

namespace {

struct x509_deleter {
    void operator()(X509* p) const { X509_free(p); }
};
using x509_ptr = std::unique_ptr<X509, x509_deleter>;

x509_ptr load_cert(const std::filesystem::path& file)
{
    std::unique_ptr<BIO, decltype(&BIO_free)> in{BIO_new_file(file.c_str(), "r"), &BIO_free};
    REQUIRE(in != nullptr);
    x509_ptr cert{PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr)};
    REQUIRE(cert != nullptr);
    return cert;
}

// Verifies `leaf` against `ca` as a TLS server certificate; returns the X509_V_ code.
int verify(const std::filesystem::path& leaf, const std::filesystem::path& ca)
{
    const auto leaf_cert = load_cert(leaf);
    const auto ca_cert = load_cert(ca);
    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store{X509_STORE_new(),
                                                                  &X509_STORE_free};
    REQUIRE(X509_STORE_add_cert(store.get(), ca_cert.get()) == 1);
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx{X509_STORE_CTX_new(),
                                                                        &X509_STORE_CTX_free};
    REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), leaf_cert.get(), nullptr) == 1);
    X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);

    X509_verify_cert(ctx.get());
    return X509_STORE_CTX_get_error(ctx.get());
}

} // namespace

TEST_CASE("a test server certificate verifies against its CA for its names and IPs",
          "[support][pki]")
{
    const auto pki =
        oi::test::make_test_pki({"localhost", "api.example.test"}, {"127.0.0.1", "::1"});

    const int result = verify(pki.server_cert, pki.ca_cert);

    CHECK(result == X509_V_OK);
    const auto cert = load_cert(pki.server_cert);
    CHECK(X509_check_host(cert.get(), "api.example.test", 0, 0, nullptr) == 1);
    CHECK(X509_check_host(cert.get(), "other.example.test", 0, 0, nullptr) == 0);
    CHECK(X509_check_ip_asc(cert.get(), "127.0.0.1", 0) == 1);
    CHECK(X509_check_ip_asc(cert.get(), "::1", 0) == 1);
    CHECK(X509_check_ca(cert.get()) == 0);
    CHECK(X509_check_ca(load_cert(pki.ca_cert).get()) == 1);
    CHECK(X509_get_version(cert.get()) == X509_VERSION_3);
}

TEST_CASE("a test private key is readable by its owner only", "[support][pki]")
{
    const auto pki = oi::test::make_test_pki({"localhost"}, {});

    const auto perms = std::filesystem::status(pki.server_key).permissions();

    CHECK((perms & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
}

TEST_CASE("a certificate from another CA does not verify against the test CA", "[support][pki]")
{
    const auto pki = oi::test::make_test_pki({"localhost"}, {"127.0.0.1"});

    const auto untrusted = oi::test::make_untrusted_cert(pki, "rogue", {"localhost"}, {});

    CHECK(verify(untrusted.cert, pki.ca_cert) == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    CHECK(std::filesystem::exists(untrusted.key));
}

TEST_CASE("an expired test certificate is rejected as expired", "[support][pki]")
{
    const oi::test::scoped_temp_dir dir;
    const oi::test::test_ca ca{dir.path()};

    const auto expired =
        ca.issue("expired", {"localhost"}, {}, {std::chrono::hours{-48}, std::chrono::hours{-24}});

    CHECK(verify(expired.cert, ca.cert_file()) == X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_CASE("the PKI directory is removed when the last copy goes away", "[support][pki]")
{
    std::filesystem::path dir;
    {
        const auto pki = oi::test::make_test_pki({"localhost"}, {});
        const auto copy = pki;
        dir = copy.dir;
        REQUIRE(std::filesystem::exists(copy.ca_cert));
    }

    CHECK_FALSE(std::filesystem::exists(dir));
}
