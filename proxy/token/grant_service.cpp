#include "token/grant_service.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace oi::token {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

grant_service::grant_service(asio::io_context& io, store::grant_store& store,
                             const config::store_config& cfg, lookup_observer observer)
    : io_(io), store_(store), cfg_(cfg), observer_(std::move(observer))
{
}

lookup_result grant_service::judge(const std::shared_ptr<const store::grant>& grant,
                                   cache_result how)
{
    lookup_result out;
    out.cache = how;
    if (!grant || grant->needs_reauth || grant->access_token.empty()) {
        return out;
    }
    if (grant->has_expiry() && grant->expires_at <= store::clock::now()) {
        return out;
    }
    out.status = lookup_status::found;
    out.grant = grant;
    return out;
}

asio::awaitable<lookup_result> grant_service::lookup(const config::connection& connection,
                                                     std::string_view user)
{
    key_buffer_.assign(connection.id).push_back('\n');
    key_buffer_.append(user);

    // Fresh in the cache: no store round trip.
    if (auto it = cache_.find(std::string_view{key_buffer_}); it != cache_.end()) {
        if (steady::now() - it->second.fetched_at < cfg_.cache_ttl) {
            if (observer_.on_cache) {
                observer_.on_cache(cache_result::hit);
            }
            co_return judge(it->second.grant, cache_result::hit);
        }
    }

    // Another lookup is already reading this grant: wait for its answer.
    std::string key = key_buffer_;
    if (auto it = loading_.find(std::string_view{key}); it != loading_.end()) {
        auto pending = it->second;
        auto [ec] = co_await pending->done.async_wait(asio::as_tuple(asio::use_awaitable));
        (void)ec; // cancellation is the signal
        co_return after_load(*pending, key);
    }

    auto pending = co_await load(key, connection, user);
    co_return after_load(*pending, key);
}

asio::awaitable<std::shared_ptr<grant_service::pending_load>>
grant_service::load(std::string key, const config::connection& connection, std::string_view user)
{
    auto pending = std::make_shared<pending_load>(io_);
    loading_.emplace(key, pending);

    const auto started = steady::now();
    // Named, not a temporary in the co_await expression: GCC 12 destroys such temporaries twice.
    const store::grant_key grant_key{connection.id, std::string{user}};
    auto loaded = co_await store_.load(grant_key);
    if (observer_.on_store) {
        observer_.on_store("load", steady::now() - started);
    }

    loading_.erase(key);
    if (loaded.has_value()) {
        if (loaded->has_value()) {
            pending->grant = std::make_shared<const store::grant>(std::move(**loaded));
        }
        remember(key, pending->grant);
    } else {
        pending->failed = true;
        if (observer_.on_store_error) {
            observer_.on_store_error("load");
        }
    }
    pending->done.cancel();
    co_return pending;
}

lookup_result grant_service::after_load(const pending_load& load, std::string_view key)
{
    if (!load.failed) {
        if (observer_.on_cache) {
            observer_.on_cache(cache_result::miss);
        }
        return judge(load.grant, cache_result::miss);
    }

    // The store did not answer: a cached grant that is still valid carries the request.
    if (auto it = cache_.find(key); it != cache_.end()) {
        lookup_result stale = judge(it->second.grant, cache_result::stale);
        if (stale.status == lookup_status::found) {
            if (observer_.on_cache) {
                observer_.on_cache(cache_result::stale);
            }
            return stale;
        }
    }
    lookup_result out;
    out.status = lookup_status::store_unavailable;
    return out;
}

void grant_service::remember(std::string_view key, std::shared_ptr<const store::grant> grant)
{
    const auto now = steady::now();
    if (auto it = cache_.find(key); it != cache_.end()) {
        it->second = entry{std::move(grant), now};
        return;
    }

    // Bounded: past the limit, expired entries go first, then arbitrary ones.
    if (cache_.size() >= cfg_.cache_max_entries) {
        std::erase_if(cache_, [&](const auto& kv) {
            return now - kv.second.fetched_at >= cfg_.cache_ttl;
        });
        while (cache_.size() >= cfg_.cache_max_entries && !cache_.empty()) {
            cache_.erase(cache_.begin());
        }
    }
    cache_.emplace(std::string{key}, entry{std::move(grant), now});
}

void grant_service::invalidate(std::string_view connection, std::string_view user)
{
    key_buffer_.assign(connection).push_back('\n');
    key_buffer_.append(user);
    if (auto it = cache_.find(std::string_view{key_buffer_}); it != cache_.end()) {
        cache_.erase(it);
    }
}

} // namespace oi::token
