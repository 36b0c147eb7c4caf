#include "common/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace oi {

namespace {

bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/// Decodes standard base64 whose length is a multiple of 4 and whose padding is `padding` bytes.
std::optional<std::string> decode_block(std::string_view text, std::size_t padding)
{
    std::string out(text.size() / 4 * 3, '\0');
    int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (written < 0 || static_cast<std::size_t>(written) != out.size()) {
        return std::nullopt;
    }
    // EVP_DecodeBlock writes a zero byte for each `=`; they are not part of the data.
    out.resize(out.size() - padding);
    return out;
}

} // namespace

std::string base64url_encode(std::string_view bytes)
{
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
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
    auto is_url_char = [](char c) { return is_alnum(c) || c == '-' || c == '_'; };
    if (text.size() % 4 == 1 || !std::all_of(text.begin(), text.end(), is_url_char)) {
        return std::nullopt;
    }

    std::string standard(text);
    std::replace(standard.begin(), standard.end(), '-', '+');
    std::replace(standard.begin(), standard.end(), '_', '/');
    std::size_t padding = (4 - standard.size() % 4) % 4;
    standard.append(padding, '=');
    return decode_block(standard, padding);
}

std::optional<std::string> base64_decode(std::string_view text)
{
    std::size_t padding = 0;
    while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
        ++padding;
    }
    auto is_char = [](char c) { return is_alnum(c) || c == '+' || c == '/'; };
    if (text.size() % 4 != 0 ||
        !std::all_of(text.begin(), text.end() - static_cast<std::ptrdiff_t>(padding), is_char)) {
        return std::nullopt;
    }
    return decode_block(text, padding);
}

} // namespace oi
