#pragma once

// What /oauth/start leaves in the store for /oauth/callback under the random `state` value
// (RFC 6749 section 10.12): the connection, the user, the PKCE code_verifier and the return_to.
// Stored as a small JSON text through grant_store::put_state for k_state_lifetime and taken
// back, once, with grant_store::take_state. Pure functions, any thread.
//
// The record holds the code_verifier: the Redis store seals it (AES-256-GCM under the configured
// encryption keys, store/grant_codec.hpp) before it leaves the process.

#include "common/secret.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace oi::authflow {

/// How long a state waits for its callback (SPEC.md: 10 minutes).
inline constexpr std::chrono::seconds k_state_lifetime{600};
/// Random bytes in a state value (base64url: 43 characters).
inline constexpr std::size_t k_state_bytes = 32;

struct flow_state {
    std::string connection;
    std::string user;
    secret code_verifier;
    std::string return_to; // empty: none
};

/// The record's text (it holds the verifier, hence a secret).
[[nodiscard]] secret encode_flow_state(const flow_state& state);

/// nullopt when `record` is not a record made by encode_flow_state.
[[nodiscard]] std::optional<flow_state> decode_flow_state(std::string_view record);

/// Whether `value` can be a state we issued: 43 base64url characters. Anything else is refused
/// before the store is asked.
[[nodiscard]] bool plausible_state(std::string_view value) noexcept;

} // namespace oi::authflow
