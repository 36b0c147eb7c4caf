// server::reload: SIGHUP and POST /v1/reload. What a reload may change is decided in
// config/reload_policy.hpp; this file reads the file, applies the decision and reports it.

#include "common/log.hpp"
#include "config/loader.hpp"
#include "metrics/metrics.hpp"
#include "server/server.hpp"

#include <boost/asio/post.hpp>

#include <variant>

namespace oi::server {

namespace {

std::string joined(const std::vector<std::string>& lines)
{
    std::string out;
    for (const auto& line : lines) {
        if (!out.empty()) {
            out += "; ";
        }
        out += line;
    }
    return out;
}

/// Whether pooled upstream connections were opened under a policy that no longer holds.
bool address_policy_changed(const config::upstream_config& a, const config::upstream_config& b)
{
    if (a.deny_private_addresses != b.deny_private_addresses ||
        a.allow_addresses.size() != b.allow_addresses.size()) {
        return true;
    }
    for (std::size_t i = 0; i < a.allow_addresses.size(); ++i) {
        if (a.allow_addresses[i].host != b.allow_addresses[i].host ||
            a.allow_addresses[i].port != b.allow_addresses[i].port) {
            return true;
        }
    }
    return false;
}

} // namespace

config::reload_outcome server::reload()
{
    const std::lock_guard lock{reload_mutex_};
    config::reload_outcome out;
    const runtime_ptr running = current_.get();

    // Read and validate the file again: every error, as `check-config` prints them.
    auto loaded = config::load_config_file(startup_->cfg.source_path, config::process_env());
    if (auto* errors = std::get_if<std::vector<config::config_error>>(&loaded)) {
        for (const auto& error : *errors) {
            out.errors.push_back(config::format_error(error));
        }
    } else {
        // Keys only a restart applies are refused, never silently ignored.
        for (const auto& conflict :
             config::reload_conflicts(running->cfg, std::get<config::config>(loaded))) {
            out.errors.push_back(config::format_conflict(conflict));
            out.failure = refusal::restart_required;
        }
    }
    if (!out.errors.empty()) {
        metrics_->config_reload(metrics::reload_result::failure);
        log::event(log::level::error, "config_reload",
                   {{"result", "failure"},
                    {"reason", refusal_code(out.failure)},
                    {"file", startup_->cfg.source_path},
                    {"errors", joined(out.errors)}});
        return out;
    }

    apply(std::make_shared<const runtime>(std::get<config::config>(std::move(loaded))));
    out.reloaded = true;
    return out;
}

void server::apply(const runtime_ptr& next)
{
    // Series for new plugins and connections exist before any request can count in them.
    metrics_->add_config(next->cfg);
    log::reconfigure(log::parse_level(next->cfg.log.level).value_or(log::level::info),
                     next->cfg.log.format == config::log_config::format_kind::json);

    const bool drop_pools =
        address_policy_changed(current_.get()->cfg.upstream, next->cfg.upstream);
    current_.set(next);

    // Token endpoint calls go through the workers' connectors: give them the new policy too.
    for (auto& w : workers_) {
        std::shared_ptr<const config::upstream_config> policy{next, &next->cfg.upstream};
        asio::post(w->io, [&w = *w, policy = std::move(policy), drop_pools] {
            w.connector->set_policy(policy);
            if (drop_pools) {
                w.pool->clear();
            }
        });
    }

    metrics_->config_reload(metrics::reload_result::success);
    log::event(log::level::info, "config_reload",
               {{"result", "success"},
                {"file", next->cfg.source_path},
                {"plugins", next->cfg.plugins.size()},
                {"connections", next->cfg.connections.size()}});
}

} // namespace oi::server
