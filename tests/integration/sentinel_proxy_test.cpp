// A Sentinel failover run through the real proxy binary while requests flow: many users, a loop
// of requests for a bounded time, the failover in the middle, new grants imported throughout.
// It prints the figures (requests that failed, grants lost) on one summary line.

#include "integration/proxy_fixture.hpp"
#include "integration/sentinel_fixture.hpp"

#include <catch2/catch.hpp>

#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <stop_token>
#include <thread>

using namespace oi::test;
using namespace std::chrono_literals;

namespace {

constexpr int k_users = 60;
constexpr int k_request_threads = 4;

std::string grant_json(const std::string& user)
{
    return R"({"access_token":"at-)" + user + R"(","expires_in":3600})";
}

std::string user_name(int n)
{
    return "user-" + std::to_string(n);
}

/// Counts of what happened while the load ran.
struct run_figures {
    std::mutex mutex;
    std::map<unsigned, int> statuses;      // proxied requests by status (0: no response)
    std::vector<std::string> acknowledged; // grants imported with 200 during the run
    int imports_refused = 0;

    void count_request(unsigned status)
    {
        const std::lock_guard lock(mutex);
        ++statuses[status];
    }
    [[nodiscard]] int requests() const
    {
        int n = 0;
        for (const auto& [status, count] : statuses) {
            n += count;
        }
        return n;
    }
};

unsigned proxied_status(proxy_fixture& f, const std::string& user)
{
    try {
        return http_exchange(f.proxy_port,
                             f.proxied_get(f.plain.url("/"), "calendar", user,
                                           "Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}\r\n"))
            .status;
    } catch (const std::runtime_error&) {
        return 0;
    }
}

/// Whether the store holds the user's grant. A 503 (store unreachable) is not an answer: asked
/// again, within a bound, so that an outage is not counted as a loss.
bool grant_present(proxy_fixture& f, const std::string& user)
{
    const std::string request = "GET /v1/connections/google/grants/" + user +
                                " HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer " +
                                std::string{k_admin_token} + "\r\n\r\n";
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    auto response = http_exchange(f.admin_port, request);
    while (response.status == 503 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        response = http_exchange(f.admin_port, request);
    }
    return response.status == 200 && response.body.find(R"("connected":true)") != std::string::npos;
}

} // namespace

TEST_CASE("a sentinel failover while requests flow loses no acknowledged grant",
          "[sentinel][proxy][integration]")
{
    const bool kill_primary = GENERATE(false, true);
    sentinel_cluster cluster;
    proxy_fixture f;
    f.start("", "  cache_ttl: 500ms\n",
            "    sentinel: { master: " + std::string(k_sentinel_master) +
                ", nodes: [127.0.0.1:" + std::to_string(cluster.sentinel.port()) +
                "] }\n    wait_replicas: 1\n    wait_timeout: 500ms");
    REQUIRE(wait_until_ready(f.admin_port));
    for (int n = 0; n < k_users; ++n) {
        REQUIRE(f.put_grant("google", user_name(n), grant_json(user_name(n))) == 200);
    }

    // Requests for every user, and grant imports for new users, until told to stop. However
    // this test ends (a failed wait throws), the jthreads are asked to stop and joined.
    run_figures figures;
    std::vector<std::jthread> load;
    const auto join_load = [&] {
        for (auto& thread : load) {
            thread.request_stop();
        }
        load.clear();
    };
    for (int t = 0; t < k_request_threads; ++t) {
        load.emplace_back([&, t](const std::stop_token& stop) {
            for (int i = t; !stop.stop_requested(); i += k_request_threads) {
                figures.count_request(proxied_status(f, user_name(i % k_users)));
            }
        });
    }
    load.emplace_back([&](const std::stop_token& stop) {
        for (int i = 0; !stop.stop_requested(); ++i) {
            const std::string user = "new-" + std::to_string(i);
            const unsigned status = f.put_grant("google", user, grant_json(user));
            const std::lock_guard lock(figures.mutex);
            if (status == 200) {
                figures.acknowledged.push_back(user);
            } else {
                ++figures.imports_refused;
            }
        }
    });

    // Fail over in the middle, then let the load run on the new primary for a while.
    std::this_thread::sleep_for(1500ms); // load before the failover: a duration, not a wait
    const std::uint16_t old_primary = cluster.sentinel.primary_port();
    const auto failover_started = std::chrono::steady_clock::now();
    if (kill_primary) {
        cluster.a.stop();
    } else {
        REQUIRE(redis_command(cluster.sentinel.port(),
                              {"SENTINEL", "FAILOVER", std::string(k_sentinel_master)}) == "OK");
    }
    cluster.wait_until([&] { return cluster.switched_from(old_primary); }, "no failover");
    const auto failover_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - failover_started);
    std::this_thread::sleep_for(1500ms); // load after the failover: a duration, not a wait
    join_load();

    // Every request now succeeds, and every acknowledged grant is still there.
    int after_ok = 0;
    for (int n = 0; n < k_users; ++n) {
        after_ok += proxied_status(f, user_name(n)) == 200 ? 1 : 0;
    }
    int lost = 0;
    for (int n = 0; n < k_users; ++n) {
        lost += grant_present(f, user_name(n)) ? 0 : 1;
    }
    int lost_during = 0;
    for (const auto& user : figures.acknowledged) {
        lost_during += grant_present(f, user) ? 0 : 1;
    }
    const int requests = figures.requests();
    const int ok = figures.statuses[200];
    std::cout << "sentinel failover run ("
              << (kill_primary ? "primary killed" : "SENTINEL FAILOVER") << ", "
              << failover_ms.count() << " ms to switch): " << requests << " requests, "
              << requests - ok << " failed (" << figures.statuses[503] << " x 503, "
              << figures.statuses[0] << " without response); grants written before: " << k_users
              << ", lost: " << lost << "; imported during the run: " << figures.acknowledged.size()
              << " acknowledged, " << figures.imports_refused
              << " refused, acknowledged lost: " << lost_during << "\n";

    if (lost + lost_during > 0) {
        // The proxy's own account of its store connections, to tell a loss from an outage.
        std::istringstream log(f.proxy->stdout_text() + f.proxy->stderr_text());
        for (std::string line; std::getline(log, line);) {
            if (line.find("\"redis_") != std::string::npos ||
                line.find("\"sentinel_") != std::string::npos) {
                std::cout << line << "\n";
            }
        }
    }
    CHECK(after_ok == k_users);
    CHECK(lost == 0);
    CHECK(lost_during == 0);
    CHECK(requests > 0);
}

TEST_CASE("a sentinel whose name does not resolve in time is skipped for the next one",
          "[sentinel][proxy][integration]")
{
    sentinel_cluster cluster;
    proxy_fixture f;
    proxy_fixture::config_options o;
    o.redis_extra = "    sentinel: { master: " + std::string(k_sentinel_master) +
                    ", nodes: [hung-sentinel.oi-test:26379, 127.0.0.1:" +
                    std::to_string(cluster.sentinel.port()) + "] }\n";

    // Without a bound on the lookup the workers would wait 12 s for the first sentinel, past the
    // 10 s that start() gives the proxy to become ready.
    f.start(o, {{"LD_PRELOAD", OI_REBINDING_RESOLVER},
                {"ASAN_OPTIONS", "verify_asan_link_order=0"},
                {"OI_HANG_NAME", "hung-sentinel.oi-test"},
                {"OI_HANG_SECONDS", "12"}});

    CHECK(f.put_grant("google", "alice", grant_json("alice")) == 200);
    const std::string log = f.proxy->stderr_text();
    CHECK(log.find("\"sentinel_query_failed\"") != std::string::npos);
    CHECK(log.find("\"hung-sentinel.oi-test\"") != std::string::npos);
}
