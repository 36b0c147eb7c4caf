#include "store/redis_reply.hpp"

#include <hiredis/hiredis.h>

namespace oi::store {

redis_reply to_redis_reply(const redisReply& r)
{
    redis_reply out;
    switch (r.type) {
    case REDIS_REPLY_STRING:
        out.type = redis_reply::kind::string;
        break;
    case REDIS_REPLY_STATUS:
        out.type = redis_reply::kind::status;
        break;
    case REDIS_REPLY_ERROR:
        out.type = redis_reply::kind::error;
        break;
    case REDIS_REPLY_INTEGER:
        out.type = redis_reply::kind::integer;
        out.integer = r.integer;
        break;
    case REDIS_REPLY_ARRAY:
        out.type = redis_reply::kind::array;
        for (std::size_t i = 0; i < r.elements; ++i) {
            out.elements.push_back(to_redis_reply(*r.element[i]));
        }
        break;
    default:
        out.type = redis_reply::kind::nil;
        break;
    }
    if (r.str) {
        out.str.assign(r.str, r.len);
    }
    return out;
}

} // namespace oi::store
