#include "token/grant_service.hpp"

#include "common/log.hpp"
#include "store/memory_grant_store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using oi::secret;
using oi::store::grant;
using oi::store::grant_key;
using oi::token::lookup_result;
using oi::token::lookup_status;

asio::awaitable<void> pause(std::chrono::milliseconds d)
{
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(asio::use_awaitable);
}

/// A token endpoint in process: counts calls, answers after `latency` with `answer`.
struct fake_endpoint {
    int calls = 0;
    std::chrono::milliseconds latency = 20ms;
    std::optional<oi::oauth::token_failure> failure;
    bool rotate = true;
    bool with_scope = false;
    std::vector<std::string> refresh_tokens_seen;

    oi::token::token_caller caller()
    {
        return [this](const oi::config::connection&, const secret& refresh_token,
                      std::chrono::milliseconds) { return answer(refresh_token.reveal()); };
    }

    asio::awaitable<oi::oauth::token_outcome> answer(std::string used)
    {
        ++calls;
        refresh_tokens_seen.push_back(std::move(used));
        co_await pause(latency);
        if (failure) {
            co_return *failure;
        }
        oi::oauth::token_set set;
        set.access_token = secret{"at-" + std::to_string(calls)};
        if (rotate) {
            set.refresh_token = secret{"rt-" + std::to_string(calls)};
        }
        set.expires_in = std::chrono::seconds{3600};
        if (with_scope) {
            set.scope = "read write";
        }
        set.token_type = "Bearer";
        co_return set;
    }
};

struct fixture {
    asio::io_context io;
    std::shared_ptr<oi::store::memory_grant_backend> backend =
        std::make_shared<oi::store::memory_grant_backend>();
    oi::store::memory_grant_store store{backend};
    oi::config::store_config cfg;
    oi::config::connection connection;
    fake_endpoint endpoint;
    std::unique_ptr<oi::token::grant_service> service;
    const grant_key key{"google", "alice"};

    fixture()
    {
        cfg.type = oi::config::store_config::kind::memory;
        cfg.refresh_timeout = 2s;
        connection.id = "google";
        connection.refresh_before = 60s;
        service = std::make_unique<oi::token::grant_service>(
            io, store, cfg, oi::token::lookup_observer{}, endpoint.caller());
    }

    /// Stores a grant whose access token expires `in` from now (negative: already expired).
    void put(std::chrono::seconds in, std::uint64_t version = 1)
    {
        grant g;
        g.access_token = secret{"at-0"};
        g.refresh_token = secret{"rt-0"};
        g.expires_at = oi::store::clock::now() + in;
        g.scope = "read";
        g.version = version;
        backend->put(key, g);
    }

    /// Starts `n` lookups at once; returns their results once everything on the io has finished.
    std::vector<lookup_result> lookups(int n)
    {
        std::vector<lookup_result> out(static_cast<std::size_t>(n));
        for (auto& slot : out) {
            asio::co_spawn(
                io,
                [this, &slot]() -> asio::awaitable<void> {
                    slot = co_await service->lookup(connection, "alice");
                },
                asio::detached);
        }
        io.run();
        io.restart();
        return out;
    }

    grant stored() const { return *backend->find(key); }

    /// Runs an on-demand refresh alongside `n` lookups; returns its result.
    oi::token::refresh_now_result refresh_now_with(int n, std::vector<lookup_result>& looked)
    {
        oi::token::refresh_now_result out;
        asio::co_spawn(
            io,
            [this, &out]() -> asio::awaitable<void> {
                out = co_await service->refresh_now(connection, "alice");
            },
            asio::detached);
        looked = lookups(n);
        return out;
    }
};

bool has_token(const lookup_result& r, std::string_view token)
{
    return r.status == lookup_status::found && r.grant->access_token.reveal() == token;
}

} // namespace

TEST_CASE("fifty concurrent lookups of an expired grant share one refresh", "[token][refresh]")
{
    fixture f;
    f.put(-1s);

    const auto results = f.lookups(50);

    CHECK(f.endpoint.calls == 1);
    int served_new = 0;
    for (const auto& r : results) {
        served_new += has_token(r, "at-1") ? 1 : 0;
    }
    CHECK(served_new == 50);
    const grant g = f.stored();
    CHECK(g.version == 2);
    CHECK((g.refresh_token == secret{"rt-1"}));
    CHECK(g.expires_at > oi::store::clock::now() + 3500s);
    CHECK(f.service->refreshes_in_flight() == 0);
}

TEST_CASE("a lookup's trace says where its grant came from and what it did about a refresh",
          "[token][refresh]")
{
    using oi::token::grant_source;
    using oi::token::refresh_step;
    fixture f;
    f.put(-1s);

    const auto first = f.lookups(3);
    const auto later = f.lookups(1);

    CHECK(first[0].trace.source == grant_source::store);
    const auto started = std::count_if(first.begin(), first.end(), [](const lookup_result& r) {
        return r.trace.refresh == refresh_step::started;
    });
    const auto joined = std::count_if(first.begin(), first.end(), [](const lookup_result& r) {
        return r.trace.refresh == refresh_step::joined;
    });
    CHECK(started == 1);
    CHECK(joined == 2);
    for (const auto& r : first) {
        CHECK(r.trace.waited);
        CHECK(r.trace.outcome == oi::token::refresh_status::success);
    }
    CHECK(later[0].trace.source == grant_source::cache);
    CHECK(later[0].trace.refresh == refresh_step::none);
    CHECK_FALSE(later[0].trace.waited);
    CHECK(oi::token::label(later[0].trace.source) == "cache");
}

TEST_CASE("a token that is still valid is served at once while the refresh runs",
          "[token][refresh]")
{
    fixture f;
    f.put(30s); // inside refresh_before (60s), not expired

    const auto results = f.lookups(5);

    for (const auto& r : results) {
        CHECK(has_token(r, "at-0"));
    }
    CHECK(f.endpoint.calls == 1);
    CHECK(f.stored().version == 2);
}

TEST_CASE("an answer without refresh token or scope keeps the old ones", "[token][refresh]")
{
    fixture f;
    f.endpoint.rotate = false;
    f.put(-1s);

    const auto results = f.lookups(1);

    CHECK(has_token(results[0], "at-1"));
    const grant g = f.stored();
    CHECK((g.refresh_token == secret{"rt-0"}));
    CHECK(g.scope == "read");
}

TEST_CASE("an answer with a scope replaces the stored scope", "[token][refresh]")
{
    fixture f;
    f.endpoint.with_scope = true;
    f.put(-1s);

    (void)f.lookups(1);

    CHECK(f.stored().scope == "read write");
}

TEST_CASE("successive expiries use the rotated refresh token each time", "[token][refresh]")
{
    fixture f;
    f.cfg.cache_ttl = 0ms; // every lookup reads the store
    f.put(-1s);

    (void)f.lookups(3);
    grant g = f.stored();
    g.expires_at = oi::store::clock::now() - 1s;
    f.backend->put(f.key, g);
    (void)f.lookups(3);

    REQUIRE(f.endpoint.calls == 2);
    CHECK(f.endpoint.refresh_tokens_seen[0] == "rt-0");
    CHECK(f.endpoint.refresh_tokens_seen[1] == "rt-1");
}

TEST_CASE("invalid_grant marks the grant needs_reauth and the provider is not called again",
          "[token][refresh]")
{
    fixture f;
    f.cfg.cache_ttl = 0ms;
    f.endpoint.failure = oi::oauth::token_failure{oi::oauth::token_failure_kind::oauth_error,
                                                  "invalid_grant", 400, std::nullopt, "refused"};
    f.put(-1s);

    const auto first = f.lookups(10);
    const auto second = f.lookups(10);

    CHECK(f.endpoint.calls == 1);
    CHECK(first[0].status == lookup_status::missing);
    CHECK(second[9].status == lookup_status::missing);
    const grant g = f.stored();
    CHECK(g.needs_reauth);
    CHECK(g.version == 2);
}

TEST_CASE("a server error keeps serving the valid old token and backs off", "[token][refresh]")
{
    fixture f;
    f.endpoint.failure = oi::oauth::token_failure{oi::oauth::token_failure_kind::server_error, "",
                                                  500, std::nullopt, "server error"};
    f.put(30s);

    const auto first = f.lookups(3);
    const auto second = f.lookups(3);

    CHECK(has_token(first[0], "at-0"));
    CHECK(has_token(second[2], "at-0"));
    CHECK(f.endpoint.calls == 1); // the second round is inside the backoff
    CHECK(second[2].trace.refresh == oi::token::refresh_step::backing_off);
    CHECK(f.stored().version == 1);
    CHECK_FALSE(f.stored().needs_reauth);
}

TEST_CASE("a request waits for a slow refresh no longer than refresh_timeout", "[token][refresh]")
{
    fixture f;
    f.cfg.refresh_timeout = 150ms;
    f.endpoint.latency = 600ms; // ignores the timeout it is given
    f.put(-1s);
    std::chrono::steady_clock::duration waited{};

    asio::co_spawn(
        f.io,
        [&]() -> asio::awaitable<void> {
            const auto started = std::chrono::steady_clock::now();
            auto r = co_await f.service->lookup(f.connection, "alice");
            waited = std::chrono::steady_clock::now() - started;
            CHECK(r.status == lookup_status::missing);
        },
        asio::detached);
    f.io.run();

    CHECK(waited >= 140ms);
    CHECK(waited < 400ms);
}

TEST_CASE("a waiter picks up the grant refreshed by the lock's other owner", "[token][refresh]")
{
    fixture f;
    f.put(-1s);
    REQUIRE(f.backend->try_lock(f.key, "other-replica", 5s));
    // The other replica finishes its refresh a little later and releases its lock.
    asio::co_spawn(
        f.io,
        [&]() -> asio::awaitable<void> {
            co_await pause(100ms);
            grant g = f.stored();
            g.access_token = secret{"at-other"};
            g.expires_at = oi::store::clock::now() + 3600s;
            g.version = 2;
            f.backend->put(f.key, g);
            (void)f.backend->unlock(f.key, "other-replica");
        },
        asio::detached);

    const auto results = f.lookups(5);

    CHECK(f.endpoint.calls == 0);
    for (const auto& r : results) {
        CHECK(has_token(r, "at-other"));
    }
}

TEST_CASE("the memory store's lock is released only by its owner and ends at its TTL",
          "[token][refresh][store]")
{
    oi::store::memory_grant_backend backend;
    const grant_key key{"c", "u"};

    const bool first = backend.try_lock(key, "a", 50ms);
    const bool second = backend.try_lock(key, "b", 50ms);
    const bool wrong_owner = backend.unlock(key, "b");
    const bool right_owner = backend.unlock(key, "a");
    const bool again = backend.try_lock(key, "b", 1ms);
    std::this_thread::sleep_for(5ms); // the TTL itself is under test
    const bool after_ttl = backend.try_lock(key, "c", 50ms);

    CHECK(first);
    CHECK_FALSE(second);
    CHECK_FALSE(wrong_owner);
    CHECK(right_owner);
    CHECK(again);
    CHECK(after_ttl);
}

TEST_CASE("save_if_version writes only over the expected version", "[token][refresh][store]")
{
    oi::store::memory_grant_backend backend;
    const grant_key key{"c", "u"};
    grant g;
    g.version = 3;
    backend.put(key, g);
    grant next = g;
    next.version = 4;

    const bool stale = backend.put_if_version(key, next, 2);
    const bool current = backend.put_if_version(key, next, 3);
    const bool missing = backend.put_if_version(grant_key{"c", "nobody"}, next, 3);

    CHECK_FALSE(stale);
    CHECK(current);
    CHECK_FALSE(missing);
    CHECK(backend.find(key)->version == 4);
}

TEST_CASE("an on-demand refresh shares the flight of the requests waiting for the grant",
          "[token][refresh]")
{
    fixture f;
    f.put(-1s);
    std::vector<lookup_result> looked;

    const auto r = f.refresh_now_with(5, looked);

    CHECK(f.endpoint.calls == 1);
    REQUIRE(r.status.has_value());
    CHECK(*r.status == oi::token::refresh_status::success);
    CHECK(r.grant->access_token.reveal() == "at-1");
    for (const auto& l : looked) {
        CHECK(has_token(l, "at-1"));
    }
}

TEST_CASE("an on-demand refresh runs for a valid token and despite the backoff", "[token][refresh]")
{
    fixture f;
    f.endpoint.failure = oi::oauth::token_failure{oi::oauth::token_failure_kind::server_error, "",
                                                  503, std::nullopt, "server error"};
    f.put(30s);
    (void)f.lookups(1); // fails and backs off
    std::vector<lookup_result> looked;

    const auto r = f.refresh_now_with(0, looked);

    CHECK(f.endpoint.calls == 2);
    REQUIRE(r.status.has_value());
    CHECK(*r.status == oi::token::refresh_status::failed);
    CHECK(r.grant->access_token.reveal() == "at-0");
}

TEST_CASE("an on-demand refresh of a grant that needs re-authorization calls nobody",
          "[token][refresh]")
{
    fixture f;
    f.put(-1s);
    grant g = f.stored();
    g.needs_reauth = true;
    f.backend->put(f.key, g);
    std::vector<lookup_result> looked;

    const auto r = f.refresh_now_with(0, looked);

    CHECK(f.endpoint.calls == 0);
    CHECK_FALSE(r.status.has_value());
    REQUIRE(r.grant != nullptr);
    CHECK(r.grant->needs_reauth);
}

TEST_CASE("each refresh outcome is logged once with its result and never a token",
          "[token][refresh]")
{
    fixture f;
    f.put(-1s);
    const oi::log::capture logs(oi::log::level::info);

    (void)f.lookups(10);
    f.endpoint.failure = oi::oauth::token_failure{oi::oauth::token_failure_kind::oauth_error,
                                                  "invalid_grant", 400, std::nullopt, "refused"};
    f.put(-1s, 5);
    f.service->invalidate("google", "alice");
    (void)f.lookups(10);

    const auto lines = logs.lines();
    const auto refresh_events = std::count_if(lines.begin(), lines.end(), [](const auto& l) {
        return l.find(R"("event":"token_refresh")") != std::string::npos;
    });
    CHECK(refresh_events == 2);
    CHECK(logs.contains(R"("result":"success")"));
    CHECK(logs.contains(R"("result":"needs_reauth")"));
    CHECK(logs.contains(R"("error":"invalid_grant")"));
    for (const char* secret : {"at-0", "rt-0", "at-1", "rt-1"}) {
        CHECK_FALSE(logs.contains(secret));
    }
}

TEST_CASE("a failed refresh cools the grant down for the other workers too", "[token][refresh]")
{
    fixture f;
    f.endpoint.failure = oi::oauth::token_failure{oi::oauth::token_failure_kind::server_error, "",
                                                  500, std::nullopt, "server error"};
    f.put(30s);
    oi::token::grant_service other_worker(f.io, f.store, f.cfg, oi::token::lookup_observer{},
                                          f.endpoint.caller());
    std::vector<lookup_result> others(3);

    (void)f.lookups(3); // this worker calls, fails and starts the cooldown
    for (auto& slot : others) {
        asio::co_spawn(
            f.io,
            [&]() -> asio::awaitable<void> {
                slot = co_await other_worker.lookup(f.connection, "alice");
            },
            asio::detached);
    }
    f.io.run();

    CHECK(f.endpoint.calls == 1);
    CHECK(f.backend->cooldown_left(f.key) > 0ms);
    for (const auto& r : others) {
        CHECK(has_token(r, "at-0"));
    }
}

TEST_CASE("the cache answers a fresh grant at once and leaves misses and due refreshes to lookup",
          "[token][cache]")
{
    fixture f;
    f.put(3600s);
    CHECK_FALSE(f.service->cached(f.connection, "alice").has_value()); // not read yet

    REQUIRE(has_token(f.lookups(1).front(), "at-0"));
    const auto hit = f.service->cached(f.connection, "alice");
    REQUIRE(hit.has_value());
    CHECK(has_token(*hit, "at-0"));
    CHECK(hit->cache == oi::token::cache_result::hit);
    CHECK_FALSE(f.service->cached(f.connection, "bob").has_value());

    // Inside refresh_before (the refresh failed, so the cached grant stays due): only lookup()
    // may start or skip a refresh.
    fixture due;
    due.endpoint.failure = oi::oauth::token_failure{oi::oauth::token_failure_kind::server_error, "",
                                                    500, std::nullopt, "server error"};
    due.put(30s);
    REQUIRE(has_token(due.lookups(1).front(), "at-0"));
    CHECK_FALSE(due.service->cached(due.connection, "alice").has_value());
}
