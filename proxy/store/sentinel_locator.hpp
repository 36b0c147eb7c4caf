#pragma once

// Finds the current Redis primary through Redis Sentinel, and hears about failovers.
//
// `discover` asks the configured sentinels in turn, starting with the one that answered last,
// `SENTINEL get-master-addr-by-name <master>` over a fresh connection each (name lookup and
// connect, then the reply, each within `timeout`), and returns the first address one of them gives.
// A sentinel that is down, times out, refuses AUTH or does not know the master is skipped (and
// logged). `watch` subscribes on one sentinel to the start and the end of a promotion
// (`+failover-state-send-slaveof-noone`, `+promoted-slave`: published by the sentinel that leads
// the failover) and to the end of the failover (`+switch-master`, published by every sentinel), and
// calls `on_event` for each of our master; it returns when the subscription breaks, or after
// `k_watch_idle` of silence (the caller subscribes again, which also notices a sentinel that died
// without closing its socket). The first subscription goes to the sentinel that answered discovery;
// when a subscription cannot be made or breaks, the next one goes to the next configured sentinel
// (in turn), so that losing one sentinel does not leave the worker deaf. Every connection to a
// sentinel (its name's lookup included) is bounded by `timeout`. See
// https://redis.io/docs/reference/sentinel-clients/ for the discovery protocol.
//
// Ownership and threads: owned by one redis_client, used from its io_context's thread only;
// `stop` closes the connections in use so that pending calls end at once.
// Errors: store_errc::unavailable when no sentinel gave an address; `watch` returns the error
// that ended the subscription. Log lines name the sentinel's host and port, never a password.

#include "config/config.hpp"
#include "store/resp_connection.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace oi::store {

inline constexpr std::chrono::seconds k_watch_idle{30};

/// A failover of our master as a sentinel announced it.
struct failover_event {
    enum class kind {
        promoting, // `primary` is being promoted: the old primary must not take writes any more
        switched,  // `primary` is the new primary (promoted, or the failover ended)
    };
    kind what = kind::switched;
    config::endpoint primary;
};
using failover_handler = std::function<void(const failover_event&)>;

class sentinel_locator {
public:
    sentinel_locator(boost::asio::any_io_executor ex, config::sentinel_config config,
                     std::chrono::milliseconds timeout);

    boost::asio::awaitable<boost::system::result<config::endpoint>> discover();
    boost::asio::awaitable<boost::system::error_code> watch(const failover_handler& on_event);
    void stop();

    [[nodiscard]] const std::string& master() const { return config_.master; }

private:
    boost::asio::awaitable<boost::system::result<config::endpoint>>
    ask(resp_connection& connection, const config::endpoint& node);
    boost::asio::awaitable<boost::system::error_code> open(resp_connection& connection,
                                                           const config::endpoint& node);
    /// Subscribes on `node` and reads its messages until the connection ends; `subscribed` tells
    /// whether the subscription was confirmed.
    boost::asio::awaitable<boost::system::error_code> subscription(resp_connection& connection,
                                                                   const config::endpoint& node,
                                                                   const failover_handler& on_event,
                                                                   bool& subscribed);
    void handle_message(const redis_reply& message, const failover_handler& on_event) const;

    boost::asio::any_io_executor ex_;
    config::sentinel_config config_;
    std::chrono::milliseconds timeout_;
    std::size_t preferred_ = 0;           // the node that answered last
    std::size_t watched_ = SIZE_MAX;      // the node subscribed to; SIZE_MAX: none yet
    resp_connection* querying_ = nullptr; // open while `discover` runs
    resp_connection* watching_ = nullptr; // open while `watch` runs
    bool stopped_ = false;
};

} // namespace oi::store
