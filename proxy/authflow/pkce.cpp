#include "authflow/pkce.hpp"

#include "common/base64.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <vector>

namespace oi::authflow {

namespace {

constexpr std::size_t k_verifier_bytes = 32;

} // namespace

std::optional<std::string> random_token(std::size_t bytes)
{
    std::vector<unsigned char> raw(bytes);
    if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
        return std::nullopt;
    }
    return base64url_encode(
        std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
}

std::optional<std::string> new_code_verifier()
{
    return random_token(k_verifier_bytes);
}

std::string s256_challenge(std::string_view code_verifier)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(code_verifier.data(), code_verifier.size(), digest.data(), &length, EVP_sha256(),
                   nullptr) != 1) {
        return {};
    }
    return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), length));
}

} // namespace oi::authflow
