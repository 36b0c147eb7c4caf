#include "identity/jwt.hpp"

#include "common/base64.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <strings.h>

namespace oi::identity {

namespace {

constexpr std::size_t k_sha256_bytes = 32;

std::string hmac_sha256(const secret& key, std::string_view data)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    const unsigned char* result = HMAC(
        EVP_sha256(), key.reveal().data(), static_cast<int>(key.reveal().size()),
        reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data(), &length);
    if (result == nullptr || length != k_sha256_bytes) {
        return {};
    }
    return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

std::optional<boost::json::object> decode_object(std::string_view part)
{
    auto text = base64url_decode(part);
    if (!text) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(*text, ec);
    if (ec || !value.is_object()) {
        return std::nullopt;
    }
    return std::move(value.as_object());
}

/// RFC 8725 section 3.1: the algorithm is fixed, never taken from the token.
bool header_acceptable(const boost::json::object& header)
{
    const auto* alg = header.if_contains("alg");
    if (alg == nullptr || !alg->is_string() || alg->as_string() != "HS256") {
        return false;
    }
    // RFC 7515 section 4.1.11: extensions we do not understand must make the token invalid.
    if (header.contains("crit")) {
        return false;
    }
    const auto* typ = header.if_contains("typ");
    return typ == nullptr || (typ->is_string() && strcasecmp(typ->as_string().c_str(), "JWT") == 0);
}

} // namespace

std::string sign_hs256(const secret& key, const boost::json::object& claims)
{
    std::string token = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
    token += '.';
    token += base64url_encode(boost::json::serialize(claims));

    std::string signature = hmac_sha256(key, token);
    token += '.';
    token += base64url_encode(signature);
    return token;
}

std::optional<boost::json::object> verify_hs256(std::string_view token, const secret& key)
{
    if (token.size() > k_max_jwt_bytes || key.empty()) {
        return std::nullopt;
    }
    auto first_dot = token.find('.');
    auto last_dot = token.rfind('.');
    if (first_dot == std::string_view::npos || first_dot == last_dot) {
        return std::nullopt;
    }
    std::string_view signed_part = token.substr(0, last_dot);
    std::string_view header_part = token.substr(0, first_dot);
    std::string_view claims_part = signed_part.substr(first_dot + 1);
    if (claims_part.find('.') != std::string_view::npos) {
        return std::nullopt;
    }

    auto header = decode_object(header_part);
    if (!header || !header_acceptable(*header)) {
        return std::nullopt;
    }

    auto signature = base64url_decode(token.substr(last_dot + 1));
    std::string expected = hmac_sha256(key, signed_part);
    if (!signature || expected.empty() || !constant_time_equal(*signature, expected)) {
        return std::nullopt;
    }

    return decode_object(claims_part);
}

} // namespace oi::identity
