#pragma once

#include "common/secret.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace oi::store {

using clock = std::chrono::system_clock;

/// What one user authorized on one connection. Stored encrypted (grant_codec.hpp).
struct grant {
    secret access_token;
    secret refresh_token;           // empty: none
    clock::time_point expires_at{}; // epoch (time_since_epoch()==0): unknown / does not expire
    std::string scope;              // space-separated
    std::string token_type = "Bearer";
    std::uint64_t version = 0; // incremented by every write of a new token
    clock::time_point refreshed_at{};
    bool needs_reauth = false;

    [[nodiscard]] bool has_expiry() const noexcept
    {
        return expires_at.time_since_epoch().count() != 0;
    }
};

/// Identifies a grant: the connection id (from the config) and the end user's id.
struct grant_key {
    std::string connection;
    std::string user;
};

} // namespace oi::store
