#include "store/redis_grant_store.hpp"

#include "common/log.hpp"
#include "store/store_error.hpp"

#include <algorithm>
#include <array>
#include <string>

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

// Deletes the lock only when it still holds the caller's owner token.
constexpr std::string_view k_unlock_script =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
    "else return 0 end";

// Writes the new record only when the stored one is exactly the record that was read. A stored
// record equal to the new one means this very write already happened (records are sealed with a
// fresh random nonce, so no other writer produces the same bytes): that is a success too, which
// makes the script safe to run again after a lost reply.
constexpr std::string_view k_compare_and_set_script =
    "local v = redis.call('GET', KEYS[1]) "
    "if v == ARGV[2] then return 1 end "
    "if v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end "
    "return 0";

// Takes the lock for ARGV[1] unless another owner holds it. Finding the lock already held by
// ARGV[1] (a random token of one refresh attempt) means an earlier run of this script took it and
// its reply was lost: that is a success, which makes the script safe to run again. (A plain
// `SET NX` is not: run twice, the second run would report our own lock as someone else's.)
constexpr std::string_view k_lock_script =
    "local v = redis.call('GET', KEYS[1]) "
    "if v == ARGV[1] then return 1 end "
    "if v then return 0 end "
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1";

/// Failures after which one more attempt may succeed: the connection broke or timed out under
/// the command, or the node turned out not to be the primary (a failover).
bool worth_retrying(const boost::system::error_code& ec)
{
    return ec == store_errc::unavailable || ec == store_errc::timeout ||
           ec == store_errc::not_primary;
}

} // namespace

redis_grant_store::redis_grant_store(std::shared_ptr<redis_client> client,
                                     std::shared_ptr<const grant_codec> codec,
                                     std::string key_prefix, replication_wait wait,
                                     retry_observer on_retry)
    : client_(std::move(client)), codec_(std::move(codec)), key_prefix_(std::move(key_prefix)),
      wait_(wait), on_retry_(std::move(on_retry))
{}

boost::asio::awaitable<result<redis_reply>>
redis_grant_store::idempotent(std::span<const std::string_view> args)
{
    // A client that is not connected fails at once, and so does this: no primary is known, so
    // waiting here would only hold the request (it falls back to the grant cache instead).
    const bool was_connected = client_->connected();
    auto reply = co_await client_->command(args);
    if (reply || !was_connected || !worth_retrying(reply.error())) {
        co_return reply;
    }

    // The connection was lost under this command, most likely to a failover: wait, bounded by
    // the client's failover_wait, for the client to reach the primary again, then try once more.
    log::event(log::level::info, "store_retry", {{"error", reply.error().message()}});
    const bool reconnected = co_await client_->wait_ready();
    if (reconnected) {
        reply = co_await client_->command(args);
    }
    if (on_retry_) {
        on_retry_(reply.has_value());
    }
    if (log::enabled(log::level::debug)) {
        log::event(log::level::debug, "store_retry_result",
                   {{"result", !reconnected ? "not_reconnected"
                               : reply      ? "ok"
                                            : "failed"},
                    {reply ? "" : "error", reply ? std::string{} : reply.error().message()}});
    }
    co_return reply;
}

boost::asio::awaitable<result<void>> redis_grant_store::confirm_replicated()
{
    if (wait_.replicas == 0) {
        co_return result<void>{};
    }
    const std::string replicas = std::to_string(wait_.replicas);
    const std::string millis = std::to_string(std::max<long long>(1, wait_.timeout.count()));

    const auto reply =
        co_await client_->command(std::array<std::string_view, 3>{"WAIT", replicas, millis});

    if (!reply) {
        co_return reply.error();
    }
    if (const auto ec = unexpected(*reply, kind::integer)) {
        co_return *ec;
    }
    if (reply->integer < static_cast<long long>(wait_.replicas)) {
        log::event(log::level::warn, "store_not_replicated",
                   {{"acknowledged", reply->integer}, {"wanted", replicas}});
        co_return make_error_code(store_errc::not_replicated);
    }
    co_return result<void>{};
}

std::string redis_grant_store::redis_key(std::string_view prefix, const grant_key& key)
{
    std::string out(prefix);
    out.append(":grant:").append(key.connection).append(":").append(key.user);
    return out;
}

boost::asio::awaitable<result<std::optional<grant>>> redis_grant_store::load(const grant_key& key)
{
    const std::string redis_key_text = redis_key(key_prefix_, key);

    const auto reply = co_await idempotent(std::array<std::string_view, 2>{"GET", redis_key_text});

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
        co_await idempotent(std::array<std::string_view, 3>{"SET", redis_key_text, record});

    if (!reply) {
        co_return reply.error();
    }
    if (const auto ec = unexpected(*reply, kind::status)) {
        co_return *ec;
    }
    co_return co_await confirm_replicated();
}

boost::asio::awaitable<result<bool>> redis_grant_store::remove(const grant_key& key)
{
    const std::string redis_key_text = redis_key(key_prefix_, key);

    const auto reply = co_await idempotent(std::array<std::string_view, 2>{"DEL", redis_key_text});

    if (!reply) {
        co_return result<bool>(boost::system::in_place_error, reply.error());
    }
    if (const auto ec = unexpected(*reply, kind::integer)) {
        co_return result<bool>(boost::system::in_place_error, *ec);
    }
    if (const auto replicated = co_await confirm_replicated(); !replicated) {
        co_return result<bool>(boost::system::in_place_error, replicated.error());
    }
    co_return reply->integer > 0;
}

std::string redis_grant_store::lock_key(std::string_view prefix, const grant_key& key)
{
    std::string out(prefix);
    out.append(":lock:").append(key.connection).append(":").append(key.user);
    return out;
}

boost::asio::awaitable<result<bool>> redis_grant_store::try_lock(const grant_key& key,
                                                                 std::string_view owner,
                                                                 std::chrono::milliseconds ttl)
{
    const std::string lock = lock_key(key_prefix_, key);
    const std::string millis = std::to_string(std::max<long long>(1, ttl.count()));

    const auto reply = co_await idempotent(
        std::array<std::string_view, 6>{"EVAL", k_lock_script, "1", lock, owner, millis});

    if (!reply) {
        co_return result<bool>(boost::system::in_place_error, reply.error());
    }
    if (const auto ec = unexpected(*reply, kind::integer)) {
        co_return result<bool>(boost::system::in_place_error, *ec);
    }
    co_return reply->integer == 1;
}

boost::asio::awaitable<result<bool>> redis_grant_store::unlock(const grant_key& key,
                                                               std::string_view owner)
{
    const std::string lock = lock_key(key_prefix_, key);

    // Safe to run twice: the second run finds the lock gone (or someone else's) and leaves it.
    const auto reply = co_await idempotent(
        std::array<std::string_view, 5>{"EVAL", k_unlock_script, "1", lock, owner});

    if (!reply) {
        co_return result<bool>(boost::system::in_place_error, reply.error());
    }
    if (const auto ec = unexpected(*reply, kind::integer)) {
        co_return result<bool>(boost::system::in_place_error, *ec);
    }
    co_return reply->integer == 1;
}

boost::asio::awaitable<result<bool>>
redis_grant_store::save_if_version(const grant_key& key, const grant& value,
                                   std::uint64_t expected_version)
{
    const std::string redis_key_text = redis_key(key_prefix_, key);

    // Read the record as it is now and check its version.
    const auto current =
        co_await idempotent(std::array<std::string_view, 2>{"GET", redis_key_text});
    if (!current) {
        co_return result<bool>(boost::system::in_place_error, current.error());
    }
    if (current->type == kind::nil) {
        co_return false;
    }
    if (const auto ec = unexpected(*current, kind::string)) {
        co_return result<bool>(boost::system::in_place_error, *ec);
    }
    const auto opened = codec_->open(key, current->str);
    if (!opened) {
        co_return result<bool>(boost::system::in_place_error, opened.error());
    }
    if (opened->version != expected_version) {
        co_return false;
    }

    // Write only if nobody wrote since that read.
    const std::string record = codec_->seal(key, value);
    const auto reply = co_await idempotent(std::array<std::string_view, 6>{
        "EVAL", k_compare_and_set_script, "1", redis_key_text, current->str, record});

    if (!reply) {
        co_return result<bool>(boost::system::in_place_error, reply.error());
    }
    if (const auto ec = unexpected(*reply, kind::integer)) {
        co_return result<bool>(boost::system::in_place_error, *ec);
    }
    if (reply->integer != 1) {
        co_return false;
    }
    if (const auto replicated = co_await confirm_replicated(); !replicated) {
        co_return result<bool>(boost::system::in_place_error, replicated.error());
    }
    co_return true;
}

std::string redis_grant_store::cooldown_key(std::string_view prefix, const grant_key& key)
{
    std::string out(prefix);
    out.append(":cooldown:").append(key.connection).append(":").append(key.user);
    return out;
}

boost::asio::awaitable<result<void>>
redis_grant_store::start_cooldown(const grant_key& key, std::chrono::milliseconds length)
{
    const std::string name = cooldown_key(key_prefix_, key);
    const std::string millis = std::to_string(std::max<long long>(1, length.count()));

    const auto reply =
        co_await idempotent(std::array<std::string_view, 5>{"SET", name, "1", "PX", millis});

    if (!reply) {
        co_return reply.error();
    }
    if (const auto ec = unexpected(*reply, kind::status)) {
        co_return *ec;
    }
    co_return result<void>{};
}

boost::asio::awaitable<result<std::chrono::milliseconds>>
redis_grant_store::cooldown_left(const grant_key& key)
{
    const std::string name = cooldown_key(key_prefix_, key);

    const auto reply = co_await idempotent(std::array<std::string_view, 2>{"PTTL", name});

    if (!reply) {
        co_return result<std::chrono::milliseconds>(boost::system::in_place_error, reply.error());
    }
    if (const auto ec = unexpected(*reply, kind::integer)) {
        co_return result<std::chrono::milliseconds>(boost::system::in_place_error, *ec);
    }
    // -2: no such key; -1: no time-to-live (never written so by us).
    co_return std::chrono::milliseconds{std::max<long long>(0, reply->integer)};
}

std::string redis_grant_store::state_key(std::string_view prefix, std::string_view id)
{
    std::string out(prefix);
    out.append(":state:").append(id);
    return out;
}

boost::asio::awaitable<result<bool>>
redis_grant_store::put_state(std::string_view id, std::string_view record, std::chrono::seconds ttl)
{
    const std::string key = state_key(key_prefix_, id);
    // Sealed like a grant: the record holds the PKCE verifier and return_to.
    const std::string sealed = codec_->seal_state(id, record);
    co_return co_await set_if_absent(key, sealed, "EX", ttl.count());
}

boost::asio::awaitable<result<bool>> redis_grant_store::set_if_absent(std::string_view key,
                                                                      std::string_view value,
                                                                      std::string_view unit,
                                                                      long long amount)
{
    const std::string expiry = std::to_string(std::max<long long>(1, amount));

    const auto reply = co_await client_->command(
        std::array<std::string_view, 6>{"SET", key, value, "NX", unit, expiry});

    if (!reply) {
        co_return result<bool>(boost::system::in_place_error, reply.error());
    }
    if (reply->type == kind::nil) {
        co_return false;
    }
    if (const auto ec = unexpected(*reply, kind::status)) {
        co_return result<bool>(boost::system::in_place_error, *ec);
    }
    co_return true;
}

boost::asio::awaitable<result<std::optional<std::string>>>
redis_grant_store::take_state(std::string_view id)
{
    using out_type = result<std::optional<std::string>>;
    const std::string key = state_key(key_prefix_, id);

    const auto reply = co_await client_->command(std::array<std::string_view, 2>{"GETDEL", key});

    if (!reply) {
        co_return out_type(boost::system::in_place_error, reply.error());
    }
    if (reply->type == kind::nil) {
        co_return std::optional<std::string>{};
    }
    if (const auto ec = unexpected(*reply, kind::string)) {
        co_return out_type(boost::system::in_place_error, *ec);
    }
    auto opened = codec_->open_state(id, reply->str);
    if (!opened) {
        co_return out_type(boost::system::in_place_error, opened.error());
    }
    co_return std::optional<std::string>(opened->reveal());
}

boost::asio::awaitable<result<void>> redis_grant_store::ping()
{
    const auto reply = co_await idempotent(std::array<std::string_view, 1>{"PING"});

    if (!reply) {
        co_return reply.error();
    }
    if (const auto ec = unexpected(*reply, kind::status)) {
        co_return *ec;
    }
    co_return result<void>{};
}

} // namespace oi::store
