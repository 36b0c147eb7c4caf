#include "authflow/link.hpp"

#include "authflow/pkce.hpp"
#include "config/value_checks.hpp"
#include "identity/jwt.hpp"

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace oi::authflow {

namespace {

constexpr std::string_view k_audience = "oauth-injector/authorize-link";
constexpr std::string_view k_hkdf_info = "oauth-injector authorize-link v1";
constexpr std::size_t k_key_bytes = 32;
constexpr std::size_t k_nonce_bytes = 16;

/// RFC 5869 HKDF-SHA256 with an empty salt (the input is already a uniformly random key).
secret hkdf_sha256(std::string_view input_key, std::string_view info)
{
    std::array<unsigned char, k_key_bytes> out{};
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
    std::size_t length = out.size();
    const bool ok =
        ctx != nullptr && EVP_PKEY_derive_init(ctx) == 1 &&
        EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) == 1 &&
        EVP_PKEY_CTX_set1_hkdf_key(ctx, reinterpret_cast<const unsigned char*>(input_key.data()),
                                   static_cast<int>(input_key.size())) == 1 &&
        EVP_PKEY_CTX_add1_hkdf_info(ctx, reinterpret_cast<const unsigned char*>(info.data()),
                                    static_cast<int>(info.size())) == 1 &&
        EVP_PKEY_derive(ctx, out.data(), &length) == 1 && length == out.size();
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        throw std::runtime_error("cannot derive the authorize-link key (HKDF failed)");
    }
    return secret{std::string(reinterpret_cast<const char*>(out.data()), out.size())};
}

std::string string_claim(const boost::json::object& claims, std::string_view name)
{
    const auto* value = claims.if_contains(name);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string{};
}

} // namespace

link_signer::link_signer(secret key) : key_(std::move(key)) {}

link_signer link_signer::from_config(const config::store_config& store)
{
    if (!store.encryption_keys.empty()) {
        return link_signer{hkdf_sha256(store.encryption_keys.front().key, k_hkdf_info)};
    }
    auto random = random_token(k_key_bytes);
    if (!random) {
        throw std::runtime_error("cannot draw a random authorize-link key");
    }
    return link_signer{secret{std::move(*random)}};
}

std::string link_signer::sign(const link_claims& claims) const
{
    boost::json::object object;
    object["aud"] = k_audience;
    object["c"] = claims.connection;
    object["u"] = claims.user;
    object["exp"] =
        std::chrono::duration_cast<std::chrono::seconds>(claims.expires_at.time_since_epoch())
            .count();
    if (!claims.return_to.empty()) {
        object["r"] = claims.return_to;
    }
    object["n"] = claims.nonce;
    return identity::sign_hs256(key_, object);
}

boost::system::result<link_claims, link_error> link_signer::verify(std::string_view token,
                                                                   clock::time_point now) const
{
    const std::optional<boost::json::object> claims = identity::verify_hs256(token, key_);
    if (!claims || string_claim(*claims, "aud") != k_audience) {
        return link_error::invalid;
    }
    const auto* exp = claims->if_contains("exp");
    if (exp == nullptr || !exp->is_int64()) {
        return link_error::invalid;
    }

    link_claims out;
    out.connection = string_claim(*claims, "c");
    out.user = string_claim(*claims, "u");
    out.return_to = string_claim(*claims, "r");
    out.nonce = string_claim(*claims, "n");
    out.expires_at = clock::time_point{std::chrono::seconds{exp->as_int64()}};
    if (out.connection.empty() || out.user.empty() || out.nonce.empty()) {
        return link_error::invalid;
    }
    if (now >= out.expires_at) {
        return link_error::expired;
    }
    return out;
}

minted_link link_signer::mint(std::string_view public_url, std::string_view connection,
                              std::string_view user, std::string_view return_to,
                              clock::time_point now) const
{
    link_claims claims{std::string(connection), std::string(user), std::string(return_to),
                       random_token(k_nonce_bytes).value_or(std::string{}),
                       std::chrono::time_point_cast<std::chrono::seconds>(now) + k_link_lifetime};
    // Without a nonce the link would still be sound (the state drawn at /oauth/start is what
    // must be unguessable); a CSPRNG failure must not break minting, so it is tolerated here.
    if (claims.nonce.empty()) {
        claims.nonce = "-";
    }

    // A JWS is base64url and dots only: nothing in it needs percent-encoding in a query.
    std::string url(public_url);
    url += "/oauth/start?link=";
    url += sign(claims);
    return {std::move(url), claims.expires_at};
}

bool return_to_allowed(std::string_view return_to, const std::vector<std::string>& origins)
{
    if (return_to.size() > k_max_return_to_bytes) {
        return false;
    }
    const auto origin = config::url_origin(return_to, false);
    const auto* text = std::get_if<std::string>(&origin);
    return text != nullptr && std::find(origins.begin(), origins.end(), *text) != origins.end();
}

} // namespace oi::authflow
