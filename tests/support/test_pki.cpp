#include "support/test_pki.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <stdexcept>
#include <system_error>

namespace oi::test {
namespace {

struct pkey_deleter {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct x509_deleter {
    void operator()(X509* p) const { X509_free(p); }
};
struct bio_deleter {
    void operator()(BIO* p) const { BIO_free_all(p); }
};
struct names_deleter {
    void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
struct bignum_deleter {
    void operator()(BIGNUM* p) const { BN_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
using x509_ptr = std::unique_ptr<X509, x509_deleter>;
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;
using names_ptr = std::unique_ptr<GENERAL_NAMES, names_deleter>;
using bignum_ptr = std::unique_ptr<BIGNUM, bignum_deleter>;

[[noreturn]] void fail(const std::string& what)
{
    std::string message = "test_pki: " + what;
    if (const unsigned long code = ERR_get_error(); code != 0) {
        std::string detail(256, '\0');
        ERR_error_string_n(code, detail.data(), detail.size());
        message += ": " + std::string(detail.c_str());
    }
    ERR_clear_error();
    throw std::runtime_error(message);
}

void check(bool ok, const std::string& what)
{
    if (!ok) {
        fail(what);
    }
}

pkey_ptr make_p256_key()
{
    pkey_ptr key{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
    check(key != nullptr, "EC P-256 key generation");
    return key;
}

void set_common_name(X509_NAME* name, const std::string& common_name)
{
    const auto* bytes = reinterpret_cast<const unsigned char*>(common_name.c_str());
    check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("oauth-injector tests"),
                                     -1, -1, 0) == 1,
          "subject O");
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, bytes, -1, -1, 0) == 1,
          "subject CN");
}

void set_random_serial(X509* cert)
{
    bignum_ptr serial{BN_new()};
    check(serial && BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1,
          "serial number");
    check(BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) != nullptr,
          "serial number");
}

// Adds one extension given in OpenSSL's configuration syntax, e.g. "critical,CA:TRUE".
void add_extension(X509* cert, X509* issuer, int nid, const char* value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    check(ext != nullptr, std::string("extension ") + OBJ_nid2sn(nid));
    const int added = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    check(added == 1, std::string("adding extension ") + OBJ_nid2sn(nid));
}

// subjectAltName is built from GENERAL_NAME values rather than a configuration string so that
// IPv6 literals and unusual names need no escaping.
void add_subject_alt_names(X509* cert, const std::vector<std::string>& dns_names,
                           const std::vector<std::string>& ips)
{
    names_ptr names{GENERAL_NAMES_new()};
    check(names != nullptr, "subjectAltName");
    for (const auto& dns : dns_names) {
        GENERAL_NAME* name = GENERAL_NAME_new();
        ASN1_IA5STRING* text = ASN1_IA5STRING_new();
        check(name && text && ASN1_STRING_set(text, dns.data(), static_cast<int>(dns.size())) == 1,
              "DNS name " + dns);
        GENERAL_NAME_set0_value(name, GEN_DNS, text);
        sk_GENERAL_NAME_push(names.get(), name);
    }
    for (const auto& ip : ips) {
        ASN1_OCTET_STRING* address = a2i_IPADDRESS(ip.c_str());
        check(address != nullptr, "IP address " + ip);
        GENERAL_NAME* name = GENERAL_NAME_new();
        check(name != nullptr, "IP address " + ip);
        GENERAL_NAME_set0_value(name, GEN_IPADD, address);
        sk_GENERAL_NAME_push(names.get(), name);
    }
    check(X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, 0) == 1, "subjectAltName");
}

x509_ptr make_cert_skeleton(EVP_PKEY* key, const std::string& common_name, cert_validity validity)
{
    x509_ptr cert{X509_new()};
    check(cert != nullptr, "X509_new");
    check(X509_set_version(cert.get(), X509_VERSION_3) == 1, "version");
    set_random_serial(cert.get());
    check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), validity.not_before.count()) != nullptr,
          "notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), validity.not_after.count()) != nullptr,
          "notAfter");
    check(X509_set_pubkey(cert.get(), key) == 1, "public key");
    set_common_name(X509_get_subject_name(cert.get()), common_name);
    return cert;
}

void write_pem_cert(const std::filesystem::path& path, X509* cert)
{
    bio_ptr out{BIO_new_file(path.c_str(), "w")};
    check(out && PEM_write_bio_X509(out.get(), cert) == 1, "writing " + path.string());
}

void write_pem_key(const std::filesystem::path& path, EVP_PKEY* key)
{
    {
        bio_ptr out{BIO_new_file(path.c_str(), "w")};
        check(out != nullptr, "writing " + path.string());
        std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                               std::filesystem::perms::owner_write);
        check(PEM_write_bio_PrivateKey(out.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
              "writing " + path.string());
    }
}

} // namespace

scoped_temp_dir::scoped_temp_dir(std::string_view prefix)
{
    std::string pattern = (std::filesystem::temp_directory_path() / prefix).string() + "XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    }
    path_ = pattern;
}

scoped_temp_dir::~scoped_temp_dir()
{
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

struct test_ca::impl {
    pkey_ptr key;
    x509_ptr cert;
};

test_ca::test_ca(std::filesystem::path dir, std::string name, std::string common_name)
    : dir_(std::move(dir)), cert_file_(dir_ / (name + ".pem")), key_file_(dir_ / (name + ".key")),
      impl_(std::make_unique<impl>())
{
    std::filesystem::create_directories(dir_);
    impl_->key = make_p256_key();
    impl_->cert = make_cert_skeleton(impl_->key.get(), common_name,
                                     {std::chrono::hours{-1}, std::chrono::hours{24 * 30}});
    X509* cert = impl_->cert.get();
    check(X509_set_issuer_name(cert, X509_get_subject_name(cert)) == 1, "CA issuer");

    add_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_extension(cert, cert, NID_subject_key_identifier, "hash");
    add_extension(cert, cert, NID_authority_key_identifier, "keyid:always");
    check(X509_sign(cert, impl_->key.get(), EVP_sha256()) > 0, "signing the CA");

    write_pem_cert(cert_file_, cert);
    write_pem_key(key_file_, impl_->key.get());
}

test_ca::~test_ca() = default;
test_ca::test_ca(test_ca&&) noexcept = default;
test_ca& test_ca::operator=(test_ca&&) noexcept = default;

issued_cert test_ca::issue(const std::string& name, const std::vector<std::string>& dns_names,
                           const std::vector<std::string>& ips, cert_validity validity) const
{
    if (dns_names.empty() && ips.empty()) {
        throw std::invalid_argument("test_ca::issue: no DNS name and no IP address");
    }
    const std::string common_name = dns_names.empty() ? ips.front() : dns_names.front();

    pkey_ptr key = make_p256_key();
    x509_ptr cert = make_cert_skeleton(key.get(), common_name, validity);
    check(X509_set_issuer_name(cert.get(), X509_get_subject_name(impl_->cert.get())) == 1,
          "issuer");

    add_extension(cert.get(), impl_->cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), impl_->cert.get(), NID_key_usage, "critical,digitalSignature");
    add_extension(cert.get(), impl_->cert.get(), NID_ext_key_usage, "serverAuth");
    add_extension(cert.get(), impl_->cert.get(), NID_subject_key_identifier, "hash");
    add_extension(cert.get(), impl_->cert.get(), NID_authority_key_identifier, "keyid:always");
    add_subject_alt_names(cert.get(), dns_names, ips);
    check(X509_sign(cert.get(), impl_->key.get(), EVP_sha256()) > 0, "signing " + name);

    issued_cert files{dir_ / (name + ".pem"), dir_ / (name + ".key")};
    write_pem_cert(files.cert, cert.get());
    write_pem_key(files.key, key.get());
    return files;
}

test_pki make_test_pki(const std::vector<std::string>& dns_names,
                       const std::vector<std::string>& ips)
{
    auto owner = std::make_shared<const scoped_temp_dir>("oi-pki-");
    const test_ca ca{owner->path()};
    const issued_cert server = ca.issue("server", dns_names, ips);
    return test_pki{owner->path(), ca.cert_file(), server.cert, server.key, owner};
}

issued_cert make_untrusted_cert(const test_pki& pki, const std::string& name,
                                const std::vector<std::string>& dns_names,
                                const std::vector<std::string>& ips)
{
    const test_ca other{pki.dir, name + "-ca", "untrusted test CA"};
    return other.issue(name, dns_names, ips);
}

} // namespace oi::test
