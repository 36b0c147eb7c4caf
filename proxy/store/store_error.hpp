#pragma once

// Error codes of the grant store (codec, Redis client, stores). Messages are fixed texts: they
// never carry record bytes, keys' material or secrets, so any of them may be logged.

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace oi::store {

enum class store_errc {
    unavailable = 1,  // not connected to the store, or the connection dropped mid-command
    timeout,          // the store did not answer within the command timeout
    corrupt_record,   // a stored record is malformed, tampered with, or sealed under another key
    unknown_key,      // a stored record names an encryption key id that is not configured
    server_error,     // the store answered a command with an error reply
    unexpected_reply, // the store answered with a reply of the wrong type
    auth_failed,      // AUTH or SELECT was refused while connecting
    stopped,          // the client was stopped
    not_primary,      // the node is not a writable primary (READONLY, MASTERDOWN, ROLE): failover
    not_replicated,   // a write reached the primary but not `wait_replicas` replicas in time
};

[[nodiscard]] const boost::system::error_category& store_category() noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(store_errc e) noexcept
{
    return {static_cast<int>(e), store_category()};
}

} // namespace oi::store

template <> struct boost::system::is_error_code_enum<oi::store::store_errc> : std::true_type {};
