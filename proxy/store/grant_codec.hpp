#pragma once

// Encryption of grants at rest.
//
// A grant is stored as the text record "v1.<key id>.<base64url(nonce | ciphertext | tag)>":
// AES-256-GCM (NIST SP 800-38D) with a fresh random 96-bit nonce per record. The plaintext is a
// JSON object of all grant fields (times with millisecond precision). The additional
// authenticated data binds the record to its format version, its key id and its grant key
// (connection and user, each length-prefixed so that ("ab", "c") and ("a", "bc") differ), so a
// record copied under another user's key does not open.
//
// Authorization state records (the PKCE verifier and return_to of /oauth/start) are sealed the
// same way under their own format tag "s1", bound to the state id instead of a grant key.
//
// Keys rotate by configuration: the first key seals, every configured key opens. A record sealed
// with an older key still opens; `sealed_with_current_key` tells the caller to re-seal it on the
// next write.
//
// Ownership and threads: immutable after construction; one instance may be shared by all
// threads. Errors: the constructor throws std::invalid_argument (start-up only); `open` returns
// store_errc::unknown_key or store_errc::corrupt_record. No error text contains record bytes or
// key material.

#include "config/config.hpp"
#include "store/grant.hpp"

#include <boost/system/result.hpp>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace oi::store {

class grant_codec {
public:
    /// Throws std::invalid_argument when `keys` is empty, a key is not 32 bytes, or an id is
    /// empty, contains '.', or repeats.
    explicit grant_codec(std::vector<config::encryption_key> keys);
    ~grant_codec();

    grant_codec(const grant_codec&) = delete;
    grant_codec& operator=(const grant_codec&) = delete;

    /// Seals `value` under the first key, bound to `key`.
    [[nodiscard]] std::string seal(const grant_key& key, const grant& value) const;

    /// Opens a record made by `seal` for the same grant key with any configured key.
    [[nodiscard]] boost::system::result<grant> open(const grant_key& key,
                                                    std::string_view record) const;

    /// Whether `record` is sealed under the first (current) key; false: re-seal on next write.
    [[nodiscard]] bool sealed_with_current_key(std::string_view record) const noexcept;

    /// Seals an authorization state record (authflow/flow_state.hpp) under the first key, bound
    /// to its state id: "s1.<key id>.<base64url(nonce | ciphertext | tag)>".
    [[nodiscard]] std::string seal_state(std::string_view id, std::string_view record) const;

    /// Opens a record made by `seal_state` for the same state id with any configured key.
    [[nodiscard]] boost::system::result<secret> open_state(std::string_view id,
                                                           std::string_view record) const;

private:
    struct opened_text;

    [[nodiscard]] std::string seal_record(std::string_view format,
                                          std::initializer_list<std::string_view> bound_to,
                                          std::string_view plaintext) const;
    [[nodiscard]] boost::system::result<opened_text>
    open_record(std::string_view format, std::initializer_list<std::string_view> bound_to,
                std::string_view record) const;

    std::vector<config::encryption_key> keys_;
};

} // namespace oi::store
