#include "common/secret.hpp"

#include <openssl/crypto.h>

namespace oi {

bool constant_time_equal(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size()) {
        return false;
    }
    return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace oi
