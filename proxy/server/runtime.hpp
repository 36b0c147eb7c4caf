#pragma once

// What every proxy session reads while it serves a request: the configuration and the objects
// derived from it once at start-up (routes, placeholders). Immutable and shared by all workers;
// a config reload builds a new one and sessions pick it up at their next request.

#include "config/config.hpp"
#include "rewrite/rewriter.hpp"
#include "routing/routing.hpp"

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

} // namespace oi::server
