#include "intercept/certificate_authority.hpp"

#include "support/test_pki.hpp"
#include "verify_support.hpp"

#include <openssl/x509v3.h>

#include <catch2/catch.hpp>

#include <fstream>

using oi::intercept::certificate_authority;
using oi::intercept::leaf_host;
using oi::intercept::make_p256_key;
using oi::intercept::to_pem;
using namespace std::chrono_literals;

namespace {

std::string text_of(const X509_NAME* name, int nid)
{
    const int index = X509_NAME_get_index_by_NID(name, nid, -1);
    if (index < 0) {
        return {};
    }
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
    return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
            static_cast<std::size_t>(ASN1_STRING_length(data))};
}

bool is_critical(X509* cert, int nid)
{
    const int index = X509_get_ext_by_NID(cert, nid, -1);
    return index >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, index)) == 1;
}

std::vector<std::string> dns_names(X509* cert)
{
    std::vector<std::string> names;
    auto* sans =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
        if (name->type == GEN_DNS) {
            names.emplace_back(
                reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                ASN1_STRING_length(name->d.dNSName));
        } else {
            names.emplace_back("other");
        }
    }
    GENERAL_NAMES_free(sans);
    return names;
}

void write_file(const std::filesystem::path& path, const std::string& text)
{
    std::ofstream{path} << text;
}

} // namespace

TEST_CASE("a generated CA is a P-256 signing CA with a descriptive subject", "[intercept]")
{
    const auto now = std::chrono::system_clock::now();

    const auto ca = certificate_authority::generate(now);

    X509* cert = ca.certificate();
    CHECK(X509_get_version(cert) == X509_VERSION_3);
    CHECK(text_of(X509_get_subject_name(cert), NID_commonName) == "oauth-injector interception CA");
    CHECK(text_of(X509_get_subject_name(cert), NID_organizationName) == "oauth-injector");
    CHECK(EVP_PKEY_is_a(ca.key(), "EC") == 1);
    CHECK(EVP_PKEY_get_bits(ca.key()) == 256);
    CHECK((X509_get_extension_flags(cert) & EXFLAG_CA) != 0);
    CHECK(is_critical(cert, NID_basic_constraints));
    CHECK(is_critical(cert, NID_key_usage));
    CHECK(X509_get_key_usage(cert) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    CHECK(X509_get0_subject_key_id(cert) != nullptr);
    CHECK(ca.not_after() > now + std::chrono::days{3649});
    CHECK(ca.not_after() < now + std::chrono::days{3651});
    const BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
    CHECK(BN_num_bits(serial) > 64);
    BN_free(const_cast<BIGNUM*>(serial));
}

TEST_CASE("a leaf for a DNS name carries the server fields and verifies against the CA",
          "[intercept]")
{
    const auto now = std::chrono::system_clock::now();
    const auto ca = certificate_authority::generate(now);
    const auto key = make_p256_key();

    const auto leaf = ca.issue_leaf(leaf_host{"api.example.com", false}, key.get(), now, 7 * 24h);

    REQUIRE(leaf);
    CHECK(text_of(X509_get_subject_name(leaf.get()), NID_commonName) == "api.example.com");
    CHECK(dns_names(leaf.get()) == std::vector<std::string>{"api.example.com"});
    CHECK((X509_get_extension_flags(leaf.get()) & EXFLAG_CA) == 0);
    CHECK((X509_get_extended_key_usage(leaf.get()) & XKU_SSL_SERVER) != 0);
    CHECK(X509_get0_authority_key_id(leaf.get()) != nullptr);
    CHECK(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf.get()),
                                X509_get0_subject_key_id(ca.certificate())) == 0);
    CHECK(X509_get_signature_nid(leaf.get()) == NID_ecdsa_with_SHA256);
    CHECK(oi::intercept::not_after_of(leaf.get()) <= now + 7 * 24h);
    CHECK(oi::intercept::not_after_of(leaf.get()) > now + 7 * 24h - 1s);
    CHECK(X509_cmp_time(X509_get0_notBefore(leaf.get()), nullptr) < 0);
    CHECK(oi::intercept::test::verify_leaf(ca.certificate(), leaf.get(), "api.example.com") ==
          X509_V_OK);
    CHECK(oi::intercept::test::verify_leaf(ca.certificate(), leaf.get(), "other.example.com") ==
          X509_V_ERR_HOSTNAME_MISMATCH);
}

TEST_CASE("a leaf for an IP literal verifies for that address only", "[intercept]")
{
    const auto now = std::chrono::system_clock::now();
    const auto ca = certificate_authority::generate(now);
    const auto key = make_p256_key();

    const auto v4 = ca.issue_leaf(leaf_host{"127.0.0.1", true}, key.get(), now, 24h);
    const auto v6 = ca.issue_leaf(leaf_host{"::1", true}, key.get(), now, 24h);

    REQUIRE(v4);
    REQUIRE(v6);
    CHECK(dns_names(v4.get()) == std::vector<std::string>{"other"});
    CHECK(oi::intercept::test::verify_leaf(ca.certificate(), v4.get(), "127.0.0.1") == X509_V_OK);
    CHECK(oi::intercept::test::verify_leaf(ca.certificate(), v4.get(), "127.0.0.2") ==
          X509_V_ERR_IP_ADDRESS_MISMATCH);
    CHECK(oi::intercept::test::verify_leaf(ca.certificate(), v6.get(), "::1") == X509_V_OK);
}

TEST_CASE("a leaf never outlives its CA", "[intercept]")
{
    const auto now = std::chrono::system_clock::now();
    const auto ca = certificate_authority::generate(now - std::chrono::days{3650} + 48h);
    const auto key = make_p256_key();

    const auto leaf = ca.issue_leaf(leaf_host{"a.example", false}, key.get(), now, 7 * 24h);

    REQUIRE(leaf);
    CHECK(oi::intercept::not_after_of(leaf.get()) == ca.not_after());
}

TEST_CASE("a CA written as PEM loads back", "[intercept]")
{
    const oi::test::scoped_temp_dir dir;
    const auto ca = certificate_authority::generate();
    write_file(dir.path() / "ca.pem", *to_pem(ca.certificate()));
    write_file(dir.path() / "ca.key", *to_pem(ca.key()));

    const auto loaded = certificate_authority::load(dir.path() / "ca.pem", dir.path() / "ca.key");

    CHECK(X509_cmp(loaded.certificate(), ca.certificate()) == 0);
    CHECK(loaded.not_after() == ca.not_after());
}

TEST_CASE("loading refuses a missing file, a non-CA, and a key of another CA", "[intercept]")
{
    const oi::test::scoped_temp_dir dir;
    const auto ca = certificate_authority::generate();
    const auto other = certificate_authority::generate();
    const auto key = make_p256_key();
    const auto leaf = ca.issue_leaf(leaf_host{"a.example", false}, key.get(),
                                    std::chrono::system_clock::now(), 24h);
    write_file(dir.path() / "ca.pem", *to_pem(ca.certificate()));
    write_file(dir.path() / "ca.key", *to_pem(ca.key()));
    write_file(dir.path() / "other.key", *to_pem(other.key()));
    write_file(dir.path() / "leaf.pem", *to_pem(leaf.get()));
    write_file(dir.path() / "leaf.key", *to_pem(key.get()));
    write_file(dir.path() / "garbage.pem", "not a certificate\n");

    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(certificate_authority::load(dir.path() / "nope.pem", dir.path() / "ca.key"),
                      Contains("nope.pem") && Contains("cannot read"));
    CHECK_THROWS_WITH(certificate_authority::load(dir.path() / "ca.pem", dir.path() / "nope.key"),
                      Contains("nope.key"));
    CHECK_THROWS_WITH(
        certificate_authority::load(dir.path() / "garbage.pem", dir.path() / "ca.key"),
        Contains("not a PEM certificate"));
    CHECK_THROWS_WITH(certificate_authority::load(dir.path() / "leaf.pem", dir.path() / "leaf.key"),
                      Contains("not a CA certificate"));
    CHECK_THROWS_WITH(certificate_authority::load(dir.path() / "ca.pem", dir.path() / "other.key"),
                      Contains("does not belong"));
}

TEST_CASE("loading refuses an expired CA", "[intercept]")
{
    const oi::test::scoped_temp_dir dir;
    const auto ca = certificate_authority::generate();
    write_file(dir.path() / "ca.pem", *to_pem(ca.certificate()));
    write_file(dir.path() / "ca.key", *to_pem(ca.key()));

    CHECK_THROWS_WITH(certificate_authority::load(dir.path() / "ca.pem", dir.path() / "ca.key",
                                                  ca.not_after() + 1s),
                      Catch::Matchers::Contains("expired"));
}
