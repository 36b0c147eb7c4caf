#include "token/grant_service.hpp"

#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace oi::token {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

grant_service::grant_service(asio::io_context& io, store::grant_store& store,
                             const config::store_config& cfg, lookup_observer observer,
                             token_caller caller)
    : io_(io), store_(store), cfg_(cfg), observer_(std::move(observer)), caller_(std::move(caller))
{}

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

const grant_service::entry* grant_service::fresh_entry(const config::connection& connection,
                                                       std::string_view user)
{
    key_buffer_.assign(connection.id).push_back('\n');
    key_buffer_.append(user);
    const auto it = cache_.find(std::string_view{key_buffer_});
    if (it == cache_.end() || steady::now() - it->second.fetched_at >= cfg_.cache_ttl) {
        return nullptr;
    }
    return &it->second;
}

std::optional<lookup_result> grant_service::cached(const config::connection& connection,
                                                   std::string_view user)
{
    const entry* fresh = fresh_entry(connection, user);
    if (fresh == nullptr || (fresh->grant && caller_ && refresh_due(*fresh->grant, connection))) {
        return std::nullopt;
    }
    if (observer_.on_cache) {
        observer_.on_cache(cache_result::hit);
    }
    return judge(fresh->grant, cache_result::hit);
}

asio::awaitable<lookup_result> grant_service::lookup(const config::connection& connection,
                                                     std::string_view user)
{
    // Fresh in the cache: no store round trip.
    if (const entry* fresh = fresh_entry(connection, user)) {
        if (observer_.on_cache) {
            observer_.on_cache(cache_result::hit);
        }
        auto grant = fresh->grant;
        lookup_trace trace;
        if (grant && caller_ && refresh_due(*grant, connection)) {
            const std::string key = key_buffer_;
            grant = co_await refreshed(connection, user, key, std::move(grant), trace);
        }
        lookup_result out = judge(grant, cache_result::hit);
        out.trace = trace;
        co_return out;
    }

    // Another lookup is already reading this grant: wait for its answer; else read it.
    std::string key = key_buffer_;
    std::shared_ptr<pending_load> pending;
    lookup_trace trace;
    trace.source = grant_source::store;
    if (auto it = loading_.find(std::string_view{key}); it != loading_.end()) {
        trace.source = grant_source::shared_load;
        pending = it->second;
        auto [ec] = co_await pending->done.async_wait(asio::as_tuple(asio::use_awaitable));
        (void)ec; // cancellation is the signal
    } else {
        pending = co_await load(key, connection, user);
    }
    if (pending->failed) {
        lookup_result out = after_load(*pending, key);
        out.trace = trace;
        co_return out;
    }

    if (observer_.on_cache) {
        observer_.on_cache(cache_result::miss);
    }
    auto grant = pending->grant;
    if (grant && caller_ && refresh_due(*grant, connection)) {
        grant = co_await refreshed(connection, user, key, std::move(grant), trace);
    }
    lookup_result out = judge(grant, cache_result::miss);
    out.trace = trace;
    co_return out;
}

bool grant_service::refresh_due(const store::grant& grant, const config::connection& connection)
{
    return !grant.needs_reauth && !grant.refresh_token.empty() && grant.has_expiry() &&
           grant.expires_at - connection.refresh_before <= store::clock::now();
}

asio::awaitable<std::shared_ptr<const store::grant>>
grant_service::refreshed(const config::connection& connection, std::string_view user,
                         const std::string& key, std::shared_ptr<const store::grant> grant,
                         lookup_trace& trace)
{
    // Backing off after a transient failure: the old grant is all there is.
    const auto now = steady::now();
    if (auto b = backoffs_.find(std::string_view{key});
        b != backoffs_.end() && b->second.next_attempt > now) {
        trace.refresh = refresh_step::backing_off;
        co_return grant;
    }

    trace.refresh =
        flights_.contains(std::string_view{key}) ? refresh_step::joined : refresh_step::started;
    const std::shared_ptr<flight> f = join_flight(connection, user, key, grant);

    // A token that still works is served now; the refresh goes on without this request.
    if (grant->expires_at > store::clock::now()) {
        co_return grant;
    }

    // Expired: wait for the flight, at most until its bound.
    trace.waited = true;
    auto [ec] = co_await f->done.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec; // cancelled: finished; expired: the bound ran out
    if (f->finished) {
        trace.outcome = f->outcome.status;
    }
    if (f->finished && f->grant) {
        co_return f->grant;
    }
    co_return grant;
}

std::shared_ptr<grant_service::flight>
grant_service::join_flight(const config::connection& connection, std::string_view user,
                           const std::string& key, const std::shared_ptr<const store::grant>& grant,
                           bool on_demand)
{
    if (auto it = flights_.find(std::string_view{key}); it != flights_.end()) {
        return it->second;
    }
    auto f = std::make_shared<flight>(io_, steady::now() + cfg_.refresh_timeout);
    flights_.emplace(key, f);
    store::grant_key grant_key{connection.id, std::string{user}};
    asio::co_spawn(io_, run_flight(f, connection, std::move(grant_key), key, grant, on_demand),
                   [this, f, key](const std::exception_ptr& e) {
                       if (e && !f->finished) {
                           // Out of memory or a bug: do not leave requests waiting on it.
                           flights_.erase(key);
                           f->finished = true;
                           f->done.cancel();
                           log::event(log::level::error, "token_refresh_failed_internally");
                       }
                   });
    return f;
}

asio::awaitable<refresh_now_result> grant_service::refresh_now(const config::connection& connection,
                                                               std::string_view user)
{
    refresh_now_result out;
    key_buffer_.assign(connection.id).push_back('\n');
    key_buffer_.append(user);
    const std::string key = key_buffer_;

    // Read the grant as stored now, not as cached: the admin wants the current one refreshed.
    const store::grant_key grant_key{connection.id, std::string{user}};
    auto loaded = co_await store_.load(grant_key);
    if (!loaded) {
        if (observer_.on_store_error) {
            observer_.on_store_error("load");
        }
        out.store_failed = true;
        co_return out;
    }
    if (!loaded->has_value()) {
        remember(key, nullptr);
        co_return out;
    }
    auto grant = std::make_shared<const store::grant>(std::move(**loaded));
    remember(key, grant);
    out.grant = grant;
    if (!caller_ || grant->needs_reauth || grant->refresh_token.empty()) {
        co_return out;
    }

    // The same flight as the requests' (an explicit request overrides the backoff).
    const std::shared_ptr<flight> f = join_flight(connection, user, key, grant, true);
    auto [ec] = co_await f->done.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec; // cancelled: finished; expired: the bound ran out
    if (!f->finished) {
        out.still_running = true;
        co_return out;
    }
    out.status = f->outcome.status;
    out.error = f->outcome.error;
    out.detail = f->outcome.detail;
    if (f->grant) {
        out.grant = f->grant;
    }
    co_return out;
}

asio::awaitable<void> grant_service::run_flight(std::shared_ptr<flight> f,
                                                config::connection connection,
                                                store::grant_key grant_key, std::string key,
                                                std::shared_ptr<const store::grant> seen,
                                                bool on_demand)
{
    const auto started = steady::now();
    refresh_limits limits;
    limits.call_timeout = cfg_.refresh_timeout;
    limits.lock_ttl = cfg_.refresh_timeout + k_lock_margin;
    limits.wait = cfg_.refresh_timeout;
    limits.cooldown = next_backoff(key);
    limits.cooldown_max = k_backoff_max;
    limits.honour_cooldown = !on_demand;

    const refresh_outcome out =
        co_await refresh_grant(store_, caller_, connection, grant_key, seen->version, limits);

    f->finished = true;
    f->grant = out.grant ? out.grant : seen;
    if (out.grant) {
        remember(key, out.grant);
    }
    after_flight(key, connection, out, limits.cooldown, steady::now() - started);
    f->outcome = out;
    f->outcome.grant = nullptr;
    flights_.erase(key);
    f->done.cancel();
}

std::chrono::milliseconds grant_service::next_backoff(std::string_view key) const
{
    const auto b = backoffs_.find(key);
    const unsigned failures = b == backoffs_.end() ? 0U : b->second.failures;
    const std::chrono::milliseconds doubled = k_backoff_first * (1LL << std::min(failures, 20U));
    return jittered(std::min(k_backoff_max, doubled));
}

void grant_service::after_flight(const std::string& key, const config::connection& connection,
                                 const refresh_outcome& out, std::chrono::milliseconds backoff,
                                 steady::duration took)
{
    // Transient failures, ours or another's (the cooldown), back off per grant; anything else
    // clears the backoff.
    if (out.status == refresh_status::failed || out.status == refresh_status::cooling_down) {
        auto& b = backoffs_[key];
        b.failures = std::min(b.failures + 1, 20U);
        auto delay = backoff;
        if (out.retry_after && *out.retry_after > delay) {
            delay = std::min(*out.retry_after, std::chrono::milliseconds{k_backoff_max});
        }
        b.next_attempt = steady::now() + delay;
    } else {
        backoffs_.erase(key);
    }

    if (observer_.on_refresh) {
        observer_.on_refresh(connection.id, out, took);
    }
    const bool bad = out.status == refresh_status::failed ||
                     out.status == refresh_status::needs_reauth ||
                     out.status == refresh_status::wait_expired;
    log::event(bad ? log::level::warn : log::level::info, "token_refresh",
               {{"connection", connection.id},
                {"result", status_name(out.status)},
                {"duration_ms", std::chrono::duration<double, std::milli>(took).count()},
                {"waited_for_lock", out.waited_for_lock},
                {"lock_wait_ms", std::chrono::duration<double, std::milli>(out.lock_wait).count()},
                {"http_status", out.http_status},
                {"error", out.error},
                {"detail", out.detail}});
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
        std::erase_if(cache_,
                      [&](const auto& kv) { return now - kv.second.fetched_at >= cfg_.cache_ttl; });
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
