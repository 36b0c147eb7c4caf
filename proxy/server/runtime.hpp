#pragma once

// What every proxy session reads while it serves a request: the configuration and the objects
// derived from it (routes, placeholders). Immutable and shared by all workers. A reload
// (server::reload) builds a new one and publishes it in the runtime_slot; each request takes one
// snapshot when its head has arrived and keeps it to its end, so requests in flight finish with
// the configuration they started with and the old one is freed when the last of them ends.

#include "config/config.hpp"
#include "rewrite/rewriter.hpp"
#include "routing/routing.hpp"

#include <atomic>
#include <memory>

namespace oi::server {

struct runtime {
    explicit runtime(config::config c)
        : cfg(std::move(c)), routes(cfg), placeholders(cfg.placeholders)
    {}

    config::config cfg;
    routing::connection_registry routes;
    rewrite::placeholder_set placeholders;
};

using runtime_ptr = std::shared_ptr<const runtime>;

/// The runtime in force. Any thread: `get` is an atomic load, `set` an atomic store.
class runtime_slot {
public:
    explicit runtime_slot(runtime_ptr initial) : current_(std::move(initial)) {}

    [[nodiscard]] runtime_ptr get() const { return current_.load(std::memory_order_acquire); }
    void set(runtime_ptr next) { current_.store(std::move(next), std::memory_order_release); }

    /// The configuration part of the current runtime, sharing its ownership.
    [[nodiscard]] std::shared_ptr<const config::config> config() const
    {
        runtime_ptr rt = get();
        const config::config* cfg = &rt->cfg;
        return {std::move(rt), cfg};
    }

private:
    std::atomic<runtime_ptr> current_;
};

} // namespace oi::server
