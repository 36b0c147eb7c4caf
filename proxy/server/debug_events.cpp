// The debug-level events of proxy_session (README "Logging"): the steps one request takes, each
// line carrying the request id. Every function checks the level first, so at `info` a call costs
// one relaxed atomic load and builds nothing. No value that could be a secret is logged: no
// token, no header value, no body byte; the user only with log.include_user.

#include "common/log.hpp"
#include "metrics/metrics.hpp"
#include "server/proxy_session.hpp"
#include "server/request_state.hpp"

namespace oi::server {

namespace {

bool debug_enabled() noexcept
{
    return log::enabled(log::level::debug);
}

/// The prefix of the connection id of a plugin's own connection (config::plugin).
constexpr std::string_view k_own_connection_prefix = "plugin:";

} // namespace

void proxy_session::debug_identity(const request_state& rq) const
{
    if (!debug_enabled()) {
        return;
    }
    const auto& id_cfg = rt_->cfg.identity;
    bool duplicated = false;
    const bool named = rq.single_field(head_, id_cfg.user_header, duplicated) ||
                       rq.single_field(head_, id_cfg.plugin_header, duplicated);
    const bool token = rq.single_field(head_, id_cfg.token_header, duplicated).has_value();
    const bool proxy_auth = rq.single_field(head_, "Proxy-Authorization", duplicated).has_value();
    // The same order of preference as establish_identity.
    const std::string_view source = tunnel_ && !token               ? "tunnel"
                                    : named || token || !proxy_auth ? "headers"
                                                                    : "proxy_authorization";
    const bool ok = !rq.rec.refused;
    const bool show_user = ok && rt_->cfg.log.include_user;
    log::event(log::level::debug, "identity_resolved",
               {{"request_id", rq.rec.request_id},
                {"result", ok ? std::string_view{"ok"} : refusal_code(*rq.rec.refused)},
                {"mode", id_cfg.secret_key.empty() ? "unsigned" : "signed"},
                {"source", source},
                {ok ? "plugin" : "", rq.plugin},
                {show_user ? "user" : "", rq.user}});
}

void proxy_session::debug_connection(const request_state& rq) const
{
    if (!debug_enabled()) {
        return;
    }
    if (rq.connection == nullptr) {
        log::event(log::level::debug, "connection_resolved",
                   {{"request_id", rq.rec.request_id},
                    {"result", "unknown_plugin"},
                    {"plugin", rq.plugin}});
        return;
    }
    const bool own = rq.connection->id.starts_with(k_own_connection_prefix);
    log::event(log::level::debug, "connection_resolved",
               {{"request_id", rq.rec.request_id},
                {"result", "ok"},
                {"plugin", rq.plugin},
                {"connection", rq.connection->id},
                {"kind", own ? "own" : "shared"}});
}

void proxy_session::debug_grant(const request_state& rq, const token::lookup_result& found) const
{
    if (!debug_enabled()) {
        return;
    }
    const token::lookup_trace& trace = found.trace;
    log::event(log::level::debug, "grant_lookup",
               {{"request_id", rq.rec.request_id},
                {"connection", rq.connection->id},
                {"result", token::label(found.status)},
                {"cache", metrics::label(static_cast<metrics::cache_result>(found.cache))},
                {"source", token::label(trace.source)},
                {"refresh", token::label(trace.refresh)},
                {"waited_for_refresh", trace.waited},
                {trace.outcome ? "refresh_result" : "",
                 trace.outcome ? token::status_name(*trace.outcome) : std::string_view{}}});
}

void proxy_session::debug_head_rewrites(const request_state& rq) const
{
    if (!debug_enabled() || !rq.host_allowed) {
        return;
    }
    const auto& placeholders = rt_->placeholders;
    if (const std::size_t n = placeholders.count(rq.target.origin_form); n > 0) {
        debug_rewrite(rq, "target", "", n);
    }
    for (const auto& field : head_.fields) {
        if (!request_state::forwarded(head_, rt_->cfg.identity, field)) {
            continue;
        }
        if (const std::size_t n = placeholders.count(field.value); n > 0) {
            debug_rewrite(rq, "header", field.name, n);
        }
    }
}

void proxy_session::debug_body_rewrite(const request_state& rq, std::string_view body) const
{
    if (debug_enabled()) {
        debug_rewrite(rq, "body", "", rt_->placeholders.count(body));
    }
}

void proxy_session::debug_rewrite(const request_state& rq, std::string_view where,
                                  std::string_view header, std::size_t count) const
{
    if (!debug_enabled() || count == 0) {
        return;
    }
    log::event(log::level::debug, "placeholders_replaced",
               {{"request_id", rq.rec.request_id},
                {"where", where},
                {header.empty() ? "" : "header", header},
                {"count", count}});
}

void proxy_session::debug_upstream(const request_state& rq, const upstream::pool::lease& lease,
                                   int attempt) const
{
    if (!debug_enabled() || !lease.connection.stream) {
        return;
    }
    const bool handshake = !lease.reused && lease.connection.tls;
    log::event(log::level::debug, "upstream_connection",
               {{"request_id", rq.rec.request_id},
                {"scheme", rq.target.scheme},
                {"host", rq.target.host},
                {"port", rq.target.port},
                {"connection", lease.reused ? "reused" : "new"},
                {"tls_handshake", handshake},
                {handshake ? "tls_resumed" : "", lease.connection.resumed},
                {"attempt", attempt + 1}});
}

void proxy_session::debug_tunnel(const request_state& rq, std::string_view decision) const
{
    if (!debug_enabled()) {
        return;
    }
    log::event(log::level::debug, "tunnel_decision",
               {{"request_id", rq.rec.request_id},
                {"host", rq.rec.host},
                {"port", rq.rec.port},
                {"decision", decision},
                {rq.connection != nullptr ? "connection" : "",
                 rq.connection != nullptr ? std::string_view{rq.connection->id} : ""}});
}

} // namespace oi::server
