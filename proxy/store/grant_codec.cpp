#include "store/grant_codec.hpp"

#include "common/base64.hpp"
#include "store/store_error.hpp"

#include <boost/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>

namespace oi::store {
namespace {

constexpr std::string_view k_format = "v1";
constexpr std::string_view k_state_format = "s1"; // authorization state records
constexpr std::size_t k_key_bytes = 32;
constexpr std::size_t k_nonce_bytes = 12;
constexpr std::size_t k_tag_bytes = 16;

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

/// A std::string that is wiped before its memory is released (plaintext holds tokens).
struct wiped_string {
    std::string value;
    ~wiped_string() { OPENSSL_cleanse(value.data(), value.size()); }
};

// ---- plaintext -------------------------------------------------------------------------------

std::int64_t to_millis(clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

clock::time_point from_millis(std::int64_t ms)
{
    return clock::time_point{
        std::chrono::duration_cast<clock::duration>(std::chrono::milliseconds{ms})};
}

std::string to_json(const grant& g)
{
    const boost::json::object object{
        {"access_token", g.access_token.reveal()},
        {"refresh_token", g.refresh_token.reveal()},
        {"expires_at_ms", to_millis(g.expires_at)},
        {"scope", g.scope},
        {"token_type", g.token_type},
        {"version", g.version},
        {"refreshed_at_ms", to_millis(g.refreshed_at)},
        {"needs_reauth", g.needs_reauth},
    };
    return boost::json::serialize(object);
}

std::optional<grant> from_json(std::string_view text)
{
    boost::system::error_code ec;
    const boost::json::value parsed = boost::json::parse(text, ec);
    if (ec || !parsed.is_object()) {
        return std::nullopt;
    }
    const auto& object = parsed.get_object();

    const auto text_of = [&](std::string_view name) -> std::optional<std::string> {
        const auto* value = object.if_contains(name);
        if (!value || !value->is_string()) {
            return std::nullopt;
        }
        return std::string(value->get_string());
    };
    const auto int_of = [&](std::string_view name) -> std::optional<std::int64_t> {
        const auto* value = object.if_contains(name);
        if (!value || !value->is_int64()) {
            return std::nullopt;
        }
        return value->get_int64();
    };

    auto access = text_of("access_token");
    auto refresh = text_of("refresh_token");
    auto scope = text_of("scope");
    auto token_type = text_of("token_type");
    const auto expires = int_of("expires_at_ms");
    const auto refreshed = int_of("refreshed_at_ms");
    const auto* version = object.if_contains("version");
    const auto* needs_reauth = object.if_contains("needs_reauth");
    const bool version_ok =
        version && ((version->is_int64() && version->get_int64() >= 0) || version->is_uint64());
    if (!access || !refresh || !scope || !token_type || !expires || !refreshed || !version_ok ||
        !needs_reauth || !needs_reauth->is_bool()) {
        return std::nullopt;
    }

    grant g;
    g.access_token = secret{std::move(*access)};
    g.refresh_token = secret{std::move(*refresh)};
    g.expires_at = from_millis(*expires);
    g.scope = std::move(*scope);
    g.token_type = std::move(*token_type);
    g.version = version->is_uint64() ? version->get_uint64()
                                     : static_cast<std::uint64_t>(version->get_int64());
    g.refreshed_at = from_millis(*refreshed);
    g.needs_reauth = needs_reauth->get_bool();
    return g;
}

// ---- record framing --------------------------------------------------------------------------

/// "v1.<key id>" and the rest; std::nullopt when the record does not have that shape.
struct record_parts {
    std::string_view key_id;
    std::string_view payload;
};

std::optional<record_parts> split_record(std::string_view record,
                                         std::string_view format = k_format)
{
    if (!record.starts_with(format) || record.size() <= format.size() ||
        record[format.size()] != '.') {
        return std::nullopt;
    }
    const std::string_view rest = record.substr(format.size() + 1);
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos || dot == 0) {
        return std::nullopt;
    }
    return record_parts{rest.substr(0, dot), rest.substr(dot + 1)};
}

void append_length_prefixed(std::string& out, std::string_view field)
{
    const auto size = static_cast<std::uint32_t>(field.size());
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((size >> shift) & 0xff));
    }
    out.append(field);
}

/// The additional authenticated data: format, key id, then what the record is bound to.
std::string associated_data(std::string_view format, std::string_view key_id,
                            std::initializer_list<std::string_view> bound_to)
{
    std::string aad;
    append_length_prefixed(aad, format);
    append_length_prefixed(aad, key_id);
    for (const std::string_view field : bound_to) {
        append_length_prefixed(aad, field);
    }
    return aad;
}

const unsigned char* bytes(std::string_view s)
{
    return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* bytes(std::string& s)
{
    return reinterpret_cast<unsigned char*>(s.data());
}

// ---- AES-256-GCM -----------------------------------------------------------------------------

/// nonce | ciphertext | tag. Throws only when OpenSSL itself fails (no entropy, out of memory).
std::string encrypt(std::string_view key, std::string_view aad, std::string_view plaintext)
{
    std::string out(k_nonce_bytes + plaintext.size() + k_tag_bytes, '\0');
    if (RAND_bytes(bytes(out), static_cast<int>(k_nonce_bytes)) != 1) {
        throw std::runtime_error("grant_codec: RAND_bytes failed");
    }

    cipher_ctx ctx{EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free};
    int length = 0;
    const bool ok =
        ctx &&
        EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(out)) == 1 &&
        EVP_EncryptUpdate(ctx.get(), nullptr, &length, bytes(aad), static_cast<int>(aad.size())) ==
            1 &&
        EVP_EncryptUpdate(ctx.get(), bytes(out) + k_nonce_bytes, &length, bytes(plaintext),
                          static_cast<int>(plaintext.size())) == 1 &&
        EVP_EncryptFinal_ex(ctx.get(), bytes(out) + k_nonce_bytes + length, &length) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(k_tag_bytes),
                            bytes(out) + k_nonce_bytes + plaintext.size()) == 1;
    if (!ok) {
        throw std::runtime_error("grant_codec: AES-256-GCM encryption failed");
    }
    return out;
}

/// std::nullopt when the tag does not verify (wrong key, tampered, other grant key).
std::optional<wiped_string> decrypt(std::string_view key, std::string_view aad,
                                    std::string_view sealed)
{
    if (sealed.size() < k_nonce_bytes + k_tag_bytes) {
        return std::nullopt;
    }
    const auto nonce = sealed.substr(0, k_nonce_bytes);
    const auto ciphertext =
        sealed.substr(k_nonce_bytes, sealed.size() - k_nonce_bytes - k_tag_bytes);
    std::string tag(sealed.substr(sealed.size() - k_tag_bytes));

    wiped_string plaintext{std::string(ciphertext.size(), '\0')};
    cipher_ctx ctx{EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free};
    int length = 0;
    const bool ok =
        ctx &&
        EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(nonce)) == 1 &&
        EVP_DecryptUpdate(ctx.get(), nullptr, &length, bytes(aad), static_cast<int>(aad.size())) ==
            1 &&
        EVP_DecryptUpdate(ctx.get(), bytes(plaintext.value), &length, bytes(ciphertext),
                          static_cast<int>(ciphertext.size())) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(k_tag_bytes),
                            tag.data()) == 1 &&
        EVP_DecryptFinal_ex(ctx.get(), bytes(plaintext.value) + length, &length) == 1;
    if (!ok) {
        return std::nullopt;
    }
    return plaintext;
}

} // namespace

grant_codec::grant_codec(std::vector<config::encryption_key> keys) : keys_(std::move(keys))
{
    if (keys_.empty()) {
        throw std::invalid_argument("store.encryption_keys: at least one key is required");
    }
    std::set<std::string_view> ids;
    for (const auto& k : keys_) {
        if (k.id.empty() || k.id.find('.') != std::string::npos) {
            throw std::invalid_argument("store.encryption_keys: a key id must be non-empty and "
                                        "must not contain '.'");
        }
        if (k.key.size() != k_key_bytes) {
            throw std::invalid_argument("store.encryption_keys: key '" + k.id +
                                        "' must be 32 bytes");
        }
        if (!ids.insert(k.id).second) {
            throw std::invalid_argument("store.encryption_keys: duplicate key id '" + k.id + "'");
        }
    }
}

grant_codec::~grant_codec()
{
    for (auto& k : keys_) {
        OPENSSL_cleanse(k.key.data(), k.key.size());
    }
}

/// Opened plaintext (it holds tokens or a PKCE verifier), wiped before its memory is released.
struct grant_codec::opened_text {
    explicit opened_text(std::string text) : value(std::move(text)) {}
    opened_text(opened_text&& other) noexcept : value(std::move(other.value)) {}
    opened_text(const opened_text&) = delete;
    opened_text& operator=(const opened_text&) = delete;
    opened_text& operator=(opened_text&&) = delete;
    ~opened_text() { OPENSSL_cleanse(value.data(), value.size()); }

    std::string value;
};

std::string grant_codec::seal(const grant_key& key, const grant& value) const
{
    const wiped_string plaintext{to_json(value)};
    return seal_record(k_format, {key.connection, key.user}, plaintext.value);
}

boost::system::result<grant> grant_codec::open(const grant_key& key, std::string_view record) const
{
    const auto plaintext = open_record(k_format, {key.connection, key.user}, record);
    if (!plaintext) {
        return plaintext.error();
    }
    auto parsed = from_json(plaintext->value);
    if (!parsed) {
        return make_error_code(store_errc::corrupt_record);
    }
    return std::move(*parsed);
}

std::string grant_codec::seal_state(std::string_view id, std::string_view record) const
{
    return seal_record(k_state_format, {id}, record);
}

boost::system::result<secret> grant_codec::open_state(std::string_view id,
                                                      std::string_view record) const
{
    auto plaintext = open_record(k_state_format, {id}, record);
    if (!plaintext) {
        return plaintext.error();
    }
    return secret{std::move(plaintext->value)};
}

std::string grant_codec::seal_record(std::string_view format,
                                     std::initializer_list<std::string_view> bound_to,
                                     std::string_view plaintext) const
{
    const auto& current = keys_.front();
    const std::string sealed =
        encrypt(current.key, associated_data(format, current.id, bound_to), plaintext);

    std::string record(format);
    record.append(".").append(current.id).append(".").append(base64url_encode(sealed));
    return record;
}

boost::system::result<grant_codec::opened_text>
grant_codec::open_record(std::string_view format, std::initializer_list<std::string_view> bound_to,
                         std::string_view record) const
{
    const auto parts = split_record(record, format);
    if (!parts) {
        return make_error_code(store_errc::corrupt_record);
    }
    const auto match = std::find_if(keys_.begin(), keys_.end(),
                                    [&](const auto& k) { return k.id == parts->key_id; });
    if (match == keys_.end()) {
        return make_error_code(store_errc::unknown_key);
    }

    const auto sealed = base64url_decode(parts->payload);
    if (!sealed) {
        return make_error_code(store_errc::corrupt_record);
    }
    auto plaintext = decrypt(match->key, associated_data(format, match->id, bound_to), *sealed);
    if (!plaintext) {
        return make_error_code(store_errc::corrupt_record);
    }
    return opened_text{std::move(plaintext->value)};
}

bool grant_codec::sealed_with_current_key(std::string_view record) const noexcept
{
    const auto parts = split_record(record);
    return parts && parts->key_id == keys_.front().id;
}

} // namespace oi::store
