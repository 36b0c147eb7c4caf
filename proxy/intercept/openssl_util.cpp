#include "intercept/openssl_util.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <array>
#include <ctime>

namespace oi::intercept {

namespace {

struct bio_deleter {
    void operator()(BIO* p) const noexcept { BIO_free(p); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

struct bn_deleter {
    void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};

std::optional<std::string> drain(BIO* bio)
{
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    if (size <= 0 || data == nullptr) {
        return std::nullopt;
    }
    return std::string{data, static_cast<std::size_t>(size)};
}

} // namespace

std::shared_ptr<EVP_PKEY> share_key(pkey_ptr key)
{
    return {key.release(), [](EVP_PKEY* p) { EVP_PKEY_free(p); }};
}

std::string openssl_error(std::string_view what)
{
    std::string line{what};
    const unsigned long code = ERR_peek_error();
    if (code != 0) {
        std::array<char, 256> text{};
        ERR_error_string_n(code, text.data(), text.size());
        line += " (";
        line += text.data();
        line += ')';
    }
    ERR_clear_error();
    return line;
}

pkey_ptr make_p256_key()
{
    return pkey_ptr{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
}

bool set_random_serial(X509* cert)
{
    std::unique_ptr<BIGNUM, bn_deleter> serial{BN_new()};
    if (!serial || BN_rand(serial.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
        return false;
    }
    if (BN_is_zero(serial.get()) && BN_one(serial.get()) != 1) {
        return false;
    }
    return BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) != nullptr;
}

bool set_validity(X509* cert, std::chrono::system_clock::time_point not_before,
                  std::chrono::system_clock::time_point not_after)
{
    using std::chrono::system_clock;
    return ASN1_TIME_set(X509_getm_notBefore(cert), system_clock::to_time_t(not_before)) !=
               nullptr &&
           ASN1_TIME_set(X509_getm_notAfter(cert), system_clock::to_time_t(not_after)) != nullptr;
}

bool add_extension(X509* cert, X509* issuer, int nid, const char* value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr) {
        return false;
    }
    const bool added = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return added;
}

std::optional<std::chrono::system_clock::time_point> not_after_of(const X509* cert)
{
    std::tm tm{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
        return std::nullopt;
    }
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::optional<std::string> to_pem(X509* cert)
{
    bio_ptr bio{BIO_new(BIO_s_mem())};
    if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
        return std::nullopt;
    }
    return drain(bio.get());
}

std::optional<std::string> to_pem(EVP_PKEY* key)
{
    bio_ptr bio{BIO_new(BIO_s_mem())};
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        return std::nullopt;
    }
    return drain(bio.get());
}

} // namespace oi::intercept
