#include "intercept/leaf_cache.hpp"

#include "verify_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <barrier>
#include <thread>
#include <vector>

using oi::intercept::certificate_authority;
using oi::intercept::leaf_cache;
using namespace std::chrono_literals;

namespace {

/// A leaf_cache with a hand-driven clock and a mint counter.
struct counted_cache {
    certificate_authority ca = certificate_authority::generate();
    std::atomic<int> mints{0};
    std::atomic<std::chrono::system_clock::time_point> now{std::chrono::system_clock::now()};
    leaf_cache cache;

    explicit counted_cache(std::size_t max_entries = 100, std::chrono::seconds lifetime = 7 * 24h)
        : cache(ca, leaf_cache::options{max_entries, lifetime, [this] { ++mints; },
                                        [this] { return now.load(); }})
    {}
};

} // namespace

TEST_CASE("a host's context is minted once and then served from the cache", "[intercept]")
{
    counted_cache f;

    const auto first = f.cache.server_context_for("api.example.com");
    const auto second = f.cache.server_context_for("API.example.com.:443");

    REQUIRE(first);
    CHECK(first == second);
    CHECK(f.mints == 1);
    CHECK(oi::intercept::test::verify_leaf(f.ca.certificate(), leaf_cache::leaf_of(*first),
                                           "api.example.com") == X509_V_OK);
}

TEST_CASE("different hosts get different leaves signed by the same CA", "[intercept]")
{
    counted_cache f;

    const auto a = f.cache.server_context_for("a.example");
    const auto ip = f.cache.server_context_for("[::1]:443");

    REQUIRE(a);
    REQUIRE(ip);
    CHECK(a != ip);
    CHECK(f.mints == 2);
    CHECK(oi::intercept::test::verify_leaf(f.ca.certificate(), leaf_cache::leaf_of(*ip), "::1") ==
          X509_V_OK);
}

TEST_CASE("an unusable host name gets no context and is not cached", "[intercept]")
{
    counted_cache f;

    const auto context = f.cache.server_context_for("a.com,DNS:evil.com");

    CHECK_FALSE(context);
    CHECK(f.mints == 0);
    CHECK(f.cache.size() == 0);
}

TEST_CASE("the cache holds at most max_entries hosts, evicting the least recently used",
          "[intercept]")
{
    counted_cache f{3};
    const auto a = f.cache.server_context_for("a.example");
    static_cast<void>(f.cache.server_context_for("b.example"));
    static_cast<void>(f.cache.server_context_for("c.example"));
    static_cast<void>(f.cache.server_context_for("a.example")); // a is now the most recently used

    static_cast<void>(f.cache.server_context_for("d.example")); // evicts b

    CHECK(f.cache.size() == 3);
    CHECK(f.mints == 4);
    CHECK(f.cache.server_context_for("a.example") == a);
    CHECK(f.mints == 4);
    static_cast<void>(f.cache.server_context_for("b.example"));
    CHECK(f.mints == 5);
}

TEST_CASE("an entry expires after half of its leaf's lifetime, well before the leaf does",
          "[intercept]")
{
    counted_cache f{100, 10h};
    const auto start = f.now.load();
    const auto first = f.cache.server_context_for("a.example");
    const auto leaf_expiry = oi::intercept::not_after_of(leaf_cache::leaf_of(*first));

    f.now = start + 5h - 1s;
    const auto before = f.cache.server_context_for("a.example");
    f.now = start + 5h;
    const auto after = f.cache.server_context_for("a.example");

    CHECK(before == first);
    CHECK(after != first);
    CHECK(f.mints == 2);
    CHECK(leaf_expiry == std::chrono::floor<std::chrono::seconds>(start + 10h));
}

TEST_CASE("concurrent requests for one host mint a single leaf", "[intercept]")
{
    counted_cache f;
    constexpr int k_threads = 8;
    std::barrier start{k_threads};
    std::vector<leaf_cache::context_ptr> results(k_threads);
    std::vector<std::thread> threads;

    for (int i = 0; i < k_threads; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            results[i] = f.cache.server_context_for("same.example");
        });
    }
    for (auto& t : threads) {
        t.join();
    }

    CHECK(f.mints == 1);
    REQUIRE(results[0]);
    for (const auto& r : results) {
        CHECK(r == results[0]);
    }
}
