#include "intercept/certificate_authority.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>

#include <stdexcept>

namespace oi::intercept {

namespace {

using namespace std::chrono_literals;

constexpr auto k_backdate = 1h; // tolerate clients whose clocks run a little behind
constexpr int k_max_common_name = 64;

std::shared_ptr<X509> share_cert(x509_ptr cert)
{
    return {cert.release(), [](X509* p) { X509_free(p); }};
}

/// Refuses to prompt for a passphrase: an encrypted key fails to load instead.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/)
{
    return -1;
}

[[noreturn]] void fail(const std::filesystem::path& file, std::string_view reason)
{
    throw std::runtime_error(file.string() + ": " + std::string{reason});
}

x509_ptr read_cert(const std::filesystem::path& file)
{
    std::unique_ptr<BIO, decltype(&BIO_free)> bio{BIO_new_file(file.c_str(), "r"), &BIO_free};
    if (!bio) {
        fail(file, openssl_error("cannot read the interception CA certificate"));
    }
    x509_ptr cert{PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)};
    if (!cert) {
        fail(file, openssl_error("not a PEM certificate"));
    }
    return cert;
}

pkey_ptr read_key(const std::filesystem::path& file)
{
    std::unique_ptr<BIO, decltype(&BIO_free)> bio{BIO_new_file(file.c_str(), "r"), &BIO_free};
    if (!bio) {
        fail(file, openssl_error("cannot read the interception CA key"));
    }
    pkey_ptr key{PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr)};
    if (!key) {
        fail(file, openssl_error("not an unencrypted PEM private key"));
    }
    return key;
}

bool is_signing_ca(X509* cert)
{
    const std::uint32_t flags = X509_get_extension_flags(cert);
    if ((flags & EXFLAG_CA) == 0 || (flags & EXFLAG_INVALID) != 0) {
        return false;
    }
    return (flags & EXFLAG_KUSAGE) == 0 || (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) != 0;
}

bool add_name_entry(X509_NAME* name, const char* field, const std::string& value)
{
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.data()),
                                      static_cast<int>(value.size()), -1, 0) == 1;
}

/// subjectAltName built from parts rather than from OpenSSL's config syntax, so that no byte of
/// a client-chosen name is ever parsed as syntax. Critical when the subject is empty (RFC 5280
/// section 4.2.1.6).
bool add_subject_alt_name(X509* cert, const leaf_host& host, bool critical)
{
    GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
    GENERAL_NAME* name = GENERAL_NAME_new();
    bool ok = names != nullptr && name != nullptr;
    if (ok && host.is_ip) {
        boost::system::error_code ec;
        const auto address = boost::asio::ip::make_address(host.name, ec);
        ASN1_OCTET_STRING* octets = ASN1_OCTET_STRING_new();
        if (address.is_v4()) {
            const auto bytes = address.to_v4().to_bytes();
            ok = !ec && octets != nullptr &&
                 ASN1_OCTET_STRING_set(octets, bytes.data(), static_cast<int>(bytes.size())) == 1;
        } else {
            const auto bytes = address.to_v6().to_bytes();
            ok = !ec && octets != nullptr &&
                 ASN1_OCTET_STRING_set(octets, bytes.data(), static_cast<int>(bytes.size())) == 1;
        }
        GENERAL_NAME_set0_value(name, GEN_IPADD, octets);
    } else if (ok) {
        ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
        ok = dns != nullptr &&
             ASN1_STRING_set(dns, host.name.data(), static_cast<int>(host.name.size())) == 1;
        GENERAL_NAME_set0_value(name, GEN_DNS, dns);
    }
    if (ok) {
        ok = sk_GENERAL_NAME_push(names, name) > 0;
        if (ok) {
            name = nullptr; // owned by `names` now
            ok = X509_add1_ext_i2d(cert, NID_subject_alt_name, names, critical ? 1 : 0,
                                   X509V3_ADD_DEFAULT) == 1;
        }
    }
    GENERAL_NAME_free(name);
    GENERAL_NAMES_free(names);
    return ok;
}

} // namespace

certificate_authority::certificate_authority(std::shared_ptr<X509> cert,
                                             std::shared_ptr<EVP_PKEY> key,
                                             clock::time_point not_after)
    : cert_(std::move(cert)), key_(std::move(key)), not_after_(not_after)
{}

certificate_authority certificate_authority::load(const std::filesystem::path& cert_file,
                                                  const std::filesystem::path& key_file,
                                                  clock::time_point now)
{
    x509_ptr cert = read_cert(cert_file);
    pkey_ptr key = read_key(key_file);

    if (!is_signing_ca(cert.get())) {
        fail(cert_file, "not a CA certificate (needs basicConstraints CA:TRUE and keyCertSign)");
    }
    const auto not_after = not_after_of(cert.get());
    if (!not_after || *not_after <= now) {
        fail(cert_file, "the interception CA certificate has expired");
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        fail(key_file, "this key does not belong to the CA certificate " + cert_file.string());
    }
    return {share_cert(std::move(cert)), share_key(std::move(key)), *not_after};
}

certificate_authority certificate_authority::generate(clock::time_point now)
{
    pkey_ptr key = make_p256_key();
    x509_ptr cert{X509_new()};
    if (!key || !cert) {
        throw std::runtime_error(openssl_error("cannot create a CA key"));
    }
    X509_NAME* subject = X509_get_subject_name(cert.get());
    const auto not_after = now + k_ca_lifetime;
    const bool built =
        X509_set_version(cert.get(), X509_VERSION_3) == 1 && set_random_serial(cert.get()) &&
        set_validity(cert.get(), now - k_backdate, not_after) &&
        add_name_entry(subject, "CN", k_common_name) &&
        add_name_entry(subject, "O", k_organization) &&
        X509_set_issuer_name(cert.get(), subject) == 1 &&
        X509_set_pubkey(cert.get(), key.get()) == 1 &&
        add_extension(cert.get(), nullptr, NID_basic_constraints, "critical,CA:TRUE") &&
        add_extension(cert.get(), nullptr, NID_key_usage, "critical,keyCertSign,cRLSign") &&
        add_extension(cert.get(), nullptr, NID_subject_key_identifier, "hash") &&
        add_extension(cert.get(), nullptr, NID_authority_key_identifier, "keyid:always") &&
        X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
    if (!built) {
        throw std::runtime_error(openssl_error("cannot build the CA certificate"));
    }
    const auto stored_not_after = not_after_of(cert.get()).value_or(not_after);
    return {share_cert(std::move(cert)), share_key(std::move(key)), stored_not_after};
}

x509_ptr certificate_authority::issue_leaf(const leaf_host& host, EVP_PKEY* leaf_key,
                                           clock::time_point now,
                                           std::chrono::seconds lifetime) const
{
    x509_ptr cert{X509_new()};
    if (!cert) {
        return {};
    }
    X509_NAME* subject = X509_get_subject_name(cert.get());
    const bool named = host.name.size() > static_cast<std::size_t>(k_max_common_name) ||
                       add_name_entry(subject, "CN", host.name);
    const bool built =
        named && X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
        set_random_serial(cert.get()) &&
        set_validity(cert.get(), now - k_backdate, std::min(not_after_, now + lifetime)) &&
        X509_set_issuer_name(cert.get(), X509_get_subject_name(cert_.get())) == 1 &&
        X509_set_pubkey(cert.get(), leaf_key) == 1 &&
        add_extension(cert.get(), cert_.get(), NID_basic_constraints, "critical,CA:FALSE") &&
        add_extension(cert.get(), cert_.get(), NID_key_usage, "critical,digitalSignature") &&
        add_extension(cert.get(), cert_.get(), NID_ext_key_usage, "serverAuth") &&
        add_extension(cert.get(), cert_.get(), NID_subject_key_identifier, "hash") &&
        add_extension(cert.get(), cert_.get(), NID_authority_key_identifier, "keyid,issuer") &&
        add_subject_alt_name(cert.get(), host, X509_NAME_entry_count(subject) == 0) &&
        X509_sign(cert.get(), key_.get(), EVP_sha256()) > 0;
    if (!built) {
        ERR_clear_error();
        return {};
    }
    return cert;
}

} // namespace oi::intercept
