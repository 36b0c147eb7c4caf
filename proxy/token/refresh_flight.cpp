#include "token/refresh_flight.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/rand.h>

#include <array>
#include <random>

namespace oi::token {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

refresh_outcome failure(std::string detail)
{
    refresh_outcome out;
    out.status = refresh_status::failed;
    out.detail = std::move(detail);
    return out;
}

refresh_outcome settled(refresh_status status, std::shared_ptr<const store::grant> grant,
                        std::string detail)
{
    refresh_outcome out;
    out.status = status;
    out.grant = std::move(grant);
    out.detail = std::move(detail);
    return out;
}

asio::awaitable<void> pause(std::chrono::milliseconds d)
{
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

/// Takes the lock, or waits for whoever holds it. Returns nullopt once the lock is ours; an
/// outcome when there is nothing left to do (the grant changed, the wait ran out, the store
/// failed).
asio::awaitable<std::optional<refresh_outcome>>
acquire(store::grant_store& store, const store::grant_key& key, const std::string& owner,
        std::uint64_t seen_version, const refresh_limits& limits, bool& waited)
{
    const auto deadline = steady::now() + limits.wait;
    auto delay = limits.poll_first;
    for (;;) {
        auto locked = co_await store.try_lock(key, owner, limits.lock_ttl);
        if (!locked) {
            co_return failure("the refresh lock could not be taken: store error");
        }
        if (*locked) {
            co_return std::nullopt;
        }
        waited = true;

        // Another owner is refreshing: look again a little later, never past the bound.
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
        if (left.count() <= 0) {
            co_return settled(refresh_status::wait_expired, nullptr,
                              "another owner held the refresh lock past the wait bound");
        }
        co_await pause(std::min(jittered(delay), left));
        delay = std::min(delay * 2, limits.poll_max);

        auto current = co_await store.load(key);
        if (!current) {
            co_return failure("the grant could not be re-read: store error");
        }
        if (!current->has_value() || (*current)->version != seen_version) {
            auto grant = current->has_value()
                             ? std::make_shared<const store::grant>(std::move(**current))
                             : nullptr;
            co_return settled(refresh_status::skipped, std::move(grant),
                              "refreshed elsewhere while waiting");
        }
    }
}

/// Makes every worker and replica back off from this grant for `length`, or the provider's
/// Retry-After when longer. Best effort: without it, each worker still backs off on its own.
asio::awaitable<void> start_cooldown(store::grant_store& store, const store::grant_key& key,
                                     const refresh_limits& limits,
                                     std::optional<std::chrono::milliseconds> retry_after)
{
    auto length = limits.cooldown;
    if (retry_after && *retry_after > length) {
        length = std::min(*retry_after, limits.cooldown_max);
    }
    if (length.count() > 0) {
        (void)co_await store.start_cooldown(key, length);
    }
}

/// With the lock held: re-read, call the provider, write if the version is still current.
asio::awaitable<refresh_outcome>
refresh_locked(store::grant_store& store, const token_caller& caller,
               const config::connection& connection, const store::grant_key& key,
               std::uint64_t seen_version, const refresh_limits& limits)
{
    // Another replica may have refreshed between our read and our lock.
    auto loaded = co_await store.load(key);
    if (!loaded) {
        co_return failure("the grant could not be re-read: store error");
    }
    if (!loaded->has_value()) {
        co_return settled(refresh_status::skipped, nullptr, "the grant was removed");
    }
    const store::grant current = std::move(**loaded);
    if (current.version != seen_version || current.needs_reauth || current.refresh_token.empty()) {
        co_return settled(refresh_status::skipped, std::make_shared<const store::grant>(current),
                          "the grant changed before the refresh");
    }

    if (limits.honour_cooldown) {
        // A store error here is not a reason to withhold the refresh: only a known cooldown is.
        const auto left = co_await store.cooldown_left(key);
        if (left && left->count() > 0) {
            refresh_outcome out = settled(refresh_status::cooling_down, nullptr,
                                          "another worker or replica failed to refresh it "
                                          "moments ago");
            out.retry_after = *left;
            co_return out;
        }
    }

    const oauth::token_outcome answer =
        co_await caller(connection, current.refresh_token, limits.call_timeout);

    refresh_outcome out;
    store::grant next;
    if (const auto* tokens = std::get_if<oauth::token_set>(&answer)) {
        next = refreshed_grant(current, *tokens, store::clock::now());
        out.status = refresh_status::success;
    } else {
        const auto& failed = std::get<oauth::token_failure>(answer);
        out.error = failed.error;
        out.detail = failed.detail;
        out.http_status = failed.http_status;
        out.retry_after = failed.retry_after;
        if (!oauth::needs_reauthorization(failed)) {
            out.status = refresh_status::failed;
            co_await start_cooldown(store, key, limits, out.retry_after);
            co_return out;
        }
        // The provider refuses this grant for good: stop calling it until the user re-authorizes.
        next = current;
        next.needs_reauth = true;
        next.version = current.version + 1;
        out.status = refresh_status::needs_reauth;
    }

    auto saved = co_await store.save_if_version(key, next, current.version);
    if (!saved) {
        out.status = refresh_status::failed;
        out.detail = "the refreshed grant could not be saved: store error";
        co_return out;
    }
    if (!*saved) {
        // Someone wrote the grant meanwhile (an admin import, a lock that outlived its TTL).
        auto now_stored = co_await store.load(key);
        out.status = refresh_status::skipped;
        out.detail = "the grant changed during the refresh; the stored one wins";
        if (now_stored && now_stored->has_value()) {
            out.grant = std::make_shared<const store::grant>(std::move(**now_stored));
        }
        co_return out;
    }
    out.grant = std::make_shared<const store::grant>(std::move(next));
    co_return out;
}

} // namespace

std::string_view status_name(refresh_status s) noexcept
{
    switch (s) {
    case refresh_status::success:
        return "success";
    case refresh_status::needs_reauth:
        return "needs_reauth";
    case refresh_status::failed:
        return "failed";
    case refresh_status::skipped:
        return "skipped";
    case refresh_status::wait_expired:
        return "wait_expired";
    case refresh_status::cooling_down:
        return "cooling_down";
    }
    return "failed";
}

store::grant refreshed_grant(const store::grant& old, const oauth::token_set& tokens,
                             store::clock::time_point now)
{
    store::grant next = old;
    next.access_token = tokens.access_token;
    // RFC 6749 section 6: the server MAY issue a new refresh token; without one, keep the old.
    if (!tokens.refresh_token.empty()) {
        next.refresh_token = tokens.refresh_token;
    }
    next.expires_at =
        tokens.expires_in
            ? std::chrono::time_point_cast<store::clock::duration>(now + *tokens.expires_in)
            : store::clock::time_point{};
    // RFC 6749 section 5.1: scope absent means identical to the scope requested.
    if (tokens.scope) {
        next.scope = *tokens.scope;
    }
    if (!tokens.token_type.empty()) {
        next.token_type = tokens.token_type;
    }
    next.version = old.version + 1;
    next.refreshed_at = now;
    next.needs_reauth = false;
    return next;
}

std::chrono::milliseconds jittered(std::chrono::milliseconds d)
{
    using rep = std::chrono::milliseconds::rep;
    thread_local std::minstd_rand random{std::random_device{}()};
    const rep half = std::max<rep>(1, d.count() / 2);
    std::uniform_int_distribution<rep> pick(half, std::max<rep>(half, d.count()));
    return std::chrono::milliseconds{pick(random)};
}

std::string random_owner()
{
    std::array<unsigned char, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        // The CSPRNG failing is extraordinary; fall back to a seeded generator so the lock still
        // has an owner that is unique in practice.
        std::random_device device;
        for (auto& b : bytes) {
            b = static_cast<unsigned char>(device());
        }
    }
    static constexpr std::string_view k_hex = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const unsigned char b : bytes) {
        out.push_back(k_hex[b >> 4]);
        out.push_back(k_hex[b & 0x0f]);
    }
    return out;
}

asio::awaitable<refresh_outcome> refresh_grant(store::grant_store& store,
                                               const token_caller& caller,
                                               const config::connection& connection,
                                               const store::grant_key& key,
                                               std::uint64_t seen_version, refresh_limits limits)
{
    const std::string owner = random_owner();

    bool waited = false;
    const auto started = steady::now();
    auto done = co_await acquire(store, key, owner, seen_version, limits, waited);
    const auto lock_wait = waited ? steady::now() - started : steady::duration{};
    if (done) {
        done->waited_for_lock = waited;
        done->lock_wait = lock_wait;
        co_return std::move(*done);
    }

    refresh_outcome out =
        co_await refresh_locked(store, caller, connection, key, seen_version, limits);
    out.waited_for_lock = waited;
    out.lock_wait = lock_wait;

    // Released only if still ours; if it expired meanwhile, the next owner's lock stays.
    (void)co_await store.unlock(key, owner);
    co_return out;
}

} // namespace oi::token
