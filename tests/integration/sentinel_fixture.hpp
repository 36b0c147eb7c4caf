#pragma once

// A Redis primary, two replicas and one Sentinel (or two) on loopback, with quick failover
// settings, for the Sentinel integration tests. The constructor returns once the replicas are in
// sync and the sentinel has seen them, so that `SENTINEL FAILOVER` has a replica to promote. Two
// replicas, so that after a failover the new primary still has one (the sentinel repoints it at
// once), and writes that WAIT for a replica can go on; the old primary rejoins only seconds later.

#include "support/redis_sentinel.hpp"
#include "support/redis_server.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace oi::test {

inline constexpr std::string_view k_sentinel_master = "oi-primary";

struct sentinel_cluster {
    /// `sentinels`: 1, or 2 for a second sentinel (`second`) monitoring the same primary.
    explicit sentinel_cluster(std::string password = "", int sentinels = 1)
        : password_(std::move(password)), a({.password = password_}),
          b({.password = password_, .replica_of = a.port()}),
          c({.password = password_, .replica_of = a.port()}), sentinel(sentinel_options())
    {
        if (sentinels > 1) {
            second = std::make_unique<redis_sentinel>(sentinel_options());
        }
        wait_until([&] { return replica_in_sync(b) && replica_in_sync(c); },
                   "the replicas did not sync");
        wait_until([&] { return sentinel_sees_replicas(sentinel); },
                   "the sentinel did not see the replicas");
        wait_until([&] { return !second || sentinel_sees_replicas(*second); },
                   "the second sentinel did not see the replicas");
    }

    [[nodiscard]] redis_sentinel_options sentinel_options() const
    {
        return {.master = std::string(k_sentinel_master),
                .primary_port = a.port(),
                .primary_password = password_};
    }

    /// A store config that names only the sentinel (and a URL host that is not a Redis at all,
    /// to show the address comes from the sentinel).
    [[nodiscard]] config::redis_config config(int database = 0) const
    {
        config::redis_config c;
        c.host = "127.0.0.1";
        c.port = free_tcp_port();
        c.database = database;
        c.password = secret{password_};
        c.sentinel = config::sentinel_config{std::string(k_sentinel_master), {sentinel.endpoint()}};
        if (second) {
            c.sentinel->nodes.push_back(second->endpoint());
        }
        return c;
    }

    /// True once the sentinel (`by`, else the first) names another primary than `before` and
    /// that server says it is a master.
    [[nodiscard]] bool switched_from(std::uint16_t before, const redis_sentinel* by = nullptr)
    {
        const std::uint16_t now = (by != nullptr ? *by : sentinel).primary_port();
        return now != 0 && now != before && role(now) == "master";
    }

    [[nodiscard]] std::string role(std::uint16_t port) const
    {
        const std::string reply = redis_command(port, {"ROLE"}, password_);
        return reply.substr(0, reply.find('\n'));
    }

    [[nodiscard]] bool replica_in_sync(const redis_server& server) const
    {
        const std::string info = redis_command(server.port(), {"INFO", "replication"}, password_);
        return info.find("master_link_status:up") != std::string::npos;
    }

    [[nodiscard]] bool sentinel_sees_replicas(const redis_sentinel& s) const
    {
        const std::string reply =
            redis_command(s.port(), {"SENTINEL", "REPLICAS", std::string(k_sentinel_master)});
        // Known, linked to its primary, and not flagged down or disconnected: promotable.
        return reply.find(std::to_string(b.port())) != std::string::npos &&
               reply.find(std::to_string(c.port())) != std::string::npos &&
               reply.find("master-link-status\nok") != std::string::npos &&
               reply.find("disconnected") == std::string::npos &&
               reply.find("s_down") == std::string::npos;
    }

    template <typename Condition>
    void wait_until(Condition condition, const char* what,
                    std::chrono::milliseconds limit = std::chrono::seconds(20))
    {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        auto backoff = std::chrono::milliseconds(10);
        while (!condition()) {
            if (std::chrono::steady_clock::now() > deadline) {
                throw std::runtime_error(std::string(what) + "; sentinel log:\n" +
                                         sentinel.log_text());
            }
            std::this_thread::sleep_for(backoff);
            backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
        }
    }

    std::string password_;
    redis_server a;
    redis_server b;
    redis_server c;
    redis_sentinel sentinel;
    std::unique_ptr<redis_sentinel> second; // with `sentinels` = 2
};

} // namespace oi::test
