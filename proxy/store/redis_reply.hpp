#pragma once

// A Redis reply as plain data, copied out of hiredis's reply objects so that it outlives them.
// Shared by the command client (redis_client.hpp) and the sentinel connections
// (resp_connection.hpp).

#include <string>
#include <vector>

struct redisReply; // hiredis

namespace oi::store {

struct redis_reply {
    enum class kind { nil, string, integer, array, status, error };

    kind type = kind::nil;
    std::string str; // string, status and error replies
    long long integer = 0;
    std::vector<redis_reply> elements;
};

/// A deep copy of a hiredis reply.
[[nodiscard]] redis_reply to_redis_reply(const redisReply& r);

} // namespace oi::store
