#include "store/base64url.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace oi::store::detail {

std::string base64url_encode(std::string_view bytes)
{
    // EVP_EncodeBlock writes standard base64 with padding; translate to the URL alphabet.
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                        reinterpret_cast<const unsigned char*>(bytes.data()),
                                        static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(written));

    while (!out.empty() && out.back() == '=') {
        out.pop_back();
    }
    std::replace(out.begin(), out.end(), '+', '-');
    std::replace(out.begin(), out.end(), '/', '_');
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text)
{
    // Refuse padding, whitespace and the standard alphabet's '+' and '/', which EVP accepts.
    const auto in_alphabet = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    };
    if (text.size() % 4 == 1 || !std::all_of(text.begin(), text.end(), in_alphabet)) {
        return std::nullopt;
    }

    std::string padded(text);
    std::replace(padded.begin(), padded.end(), '-', '+');
    std::replace(padded.begin(), padded.end(), '_', '/');
    const std::size_t padding = (4 - padded.size() % 4) % 4;
    padded.append(padding, '=');

    std::string out(padded.size() / 4 * 3, '\0');
    const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                        reinterpret_cast<const unsigned char*>(padded.data()),
                                        static_cast<int>(padded.size()));
    if (written < 0) {
        return std::nullopt;
    }

    // EVP_DecodeBlock counts the zero bytes that padding stands for.
    out.resize(static_cast<std::size_t>(written) - padding);
    return out;
}

} // namespace oi::store::detail
