#include "store/redis_grant_store.hpp"

#include "store/store_error.hpp"

#include <array>

namespace oi::store {
namespace {

using kind = redis_reply::kind;

/// The reply as an error when it is a Redis error reply or not of kind `expected`.
std::optional<boost::system::error_code> unexpected(const redis_reply& reply, kind expected)
{
    if (reply.type == kind::error) {
        return make_error_code(store_errc::server_error);
    }
    if (reply.type != expected) {
        return make_error_code(store_errc::unexpected_reply);
    }
    return std::nullopt;
}

} // namespace

redis_grant_store::redis_grant_store(std::shared_ptr<redis_client> client,
                                     std::shared_ptr<const grant_codec> codec,
                                     std::string key_prefix)
    : client_(std::move(client)), codec_(std::move(codec)), key_prefix_(std::move(key_prefix))
{}

std::string redis_grant_store::redis_key(std::string_view prefix, const grant_key& key)
{
    std::string out(prefix);
    out.append(":grant:").append(key.connection).append(":").append(key.user);
    return out;
}

boost::asio::awaitable<result<std::optional<grant>>> redis_grant_store::load(const grant_key& key)
{
    const std::string redis_key_text = redis_key(key_prefix_, key);

    const auto reply =
        co_await client_->command(std::array<std::string_view, 2>{"GET", redis_key_text});

    if (!reply) {
        co_return reply.error();
    }
    if (reply->type == kind::nil) {
        co_return std::optional<grant>{};
    }
    if (const auto ec = unexpected(*reply, kind::string)) {
        co_return *ec;
    }
    auto opened = codec_->open(key, reply->str);
    if (!opened) {
        co_return opened.error();
    }
    co_return std::optional<grant>(std::move(*opened));
}

boost::asio::awaitable<result<void>> redis_grant_store::save(const grant_key& key,
                                                             const grant& value)
{
    const std::string redis_key_text = redis_key(key_prefix_, key);
    const std::string record = codec_->seal(key, value);

    const auto reply =
        co_await client_->command(std::array<std::string_view, 3>{"SET", redis_key_text, record});

    if (!reply) {
        co_return reply.error();
    }
    if (const auto ec = unexpected(*reply, kind::status)) {
        co_return *ec;
    }
    co_return result<void>{};
}

boost::asio::awaitable<result<bool>> redis_grant_store::remove(const grant_key& key)
{
    const std::string redis_key_text = redis_key(key_prefix_, key);

    const auto reply =
        co_await client_->command(std::array<std::string_view, 2>{"DEL", redis_key_text});

    if (!reply) {
        co_return result<bool>(boost::system::in_place_error, reply.error());
    }
    if (const auto ec = unexpected(*reply, kind::integer)) {
        co_return result<bool>(boost::system::in_place_error, *ec);
    }
    co_return reply->integer > 0;
}

boost::asio::awaitable<result<void>> redis_grant_store::ping()
{
    const auto reply = co_await client_->command(std::array<std::string_view, 1>{"PING"});

    if (!reply) {
        co_return reply.error();
    }
    if (const auto ec = unexpected(*reply, kind::status)) {
        co_return *ec;
    }
    co_return result<void>{};
}

} // namespace oi::store
