#include "admin/router.hpp"

#include "admin/grant_actions.hpp"
#include "admin/grant_json.hpp"
#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/url/parse.hpp>

#include <cctype>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace oi::admin {

namespace {

namespace asio = boost::asio;
using asio::awaitable;

constexpr std::string_view k_route_healthz = "/healthz";
constexpr std::string_view k_route_readyz = "/readyz";
constexpr std::string_view k_route_metrics = "/metrics";
constexpr std::string_view k_route_connections = "/v1/connections";
constexpr std::string_view k_route_grant = "/v1/connections/{c}/grants/{user}";
constexpr std::string_view k_route_refresh = "/v1/connections/{c}/grants/{user}/refresh";
constexpr std::string_view k_route_reload = "/v1/reload";
constexpr std::string_view k_route_other = "other";

// User ids are opaque to the proxy but end up in store keys and log fields: keep them sane.
constexpr std::size_t k_max_user_bytes = 256;

} // namespace

namespace detail {

response json_response(http::status status, std::string body, const request& req)
{
    response res{status, req.version()};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

handled refuse(const admin_context& ctx, const request& req, refusal r, std::string_view message,
               std::string_view route)
{
    ctx.metrics.refused(r);
    return {error_response(r, message, req.version(), req.keep_alive()), route};
}

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void log_store_error(std::string_view op, const boost::system::error_code& ec)
{
    log::event(log::level::warn, "admin_store_error",
               {{"operation", op}, {"error", ec.message()}, {"category", ec.category().name()}});
}

} // namespace detail

namespace {

using detail::json_response;
using detail::log_store_error;
using detail::refuse;
using detail::seconds_since;

handled method_not_allowed(const admin_context& ctx, const request& req, std::string_view allow,
                           std::string_view route)
{
    handled h = refuse(ctx, req, refusal::method_not_allowed, "method not allowed", route);
    h.res.set(http::field::allow, allow);
    return h;
}

bool authorized(const request& req, const config::config& cfg)
{
    // An unset admin token disables the API instead of accepting an empty bearer.
    if (cfg.admin_token.empty()) {
        return false;
    }
    const auto it = req.find(http::field::authorization);
    if (it == req.end()) {
        return false;
    }

    // RFC 9110 section 11.1: the auth scheme is case-insensitive; RFC 6750 section 2.1: Bearer.
    const std::string_view value = it->value();
    constexpr std::string_view k_scheme = "bearer ";
    if (value.size() <= k_scheme.size()) {
        return false;
    }
    for (std::size_t i = 0; i < k_scheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(value[i])) != k_scheme[i]) {
            return false;
        }
    }
    std::string_view token = value.substr(k_scheme.size());
    while (!token.empty() && token.front() == ' ') {
        token.remove_prefix(1);
    }
    return constant_time_equal(token, cfg.admin_token.reveal());
}

bool valid_user(std::string_view user) noexcept
{
    if (user.empty() || user.size() > k_max_user_bytes) {
        return false;
    }
    for (const unsigned char c : user) {
        if (c < 0x20 || c == 0x7f) {
            return false;
        }
    }
    return true;
}

// Pings the store, answering false when it fails or does not answer within the bound. The ping
// runs as its own coroutine so that a store that ignores cancellation cannot hold /readyz.
awaitable<bool> store_ready(const admin_context& ctx)
{
    struct ping_state {
        explicit ping_state(const asio::any_io_executor& ex) : timer(ex) {}
        asio::steady_timer timer;
        std::optional<bool> ok;
    };
    const auto ex = co_await asio::this_coro::executor;
    auto state = std::make_shared<ping_state>(ex);
    state->timer.expires_after(ctx.ready_timeout);

    const auto start = std::chrono::steady_clock::now();
    asio::co_spawn(
        ex,
        [state, &ctx, start]() -> awaitable<void> {
            const store::result<void> r = co_await ctx.store.ping();
            ctx.metrics.store_call(metrics::store_op::ping, seconds_since(start));
            if (!r) {
                ctx.metrics.store_error(metrics::store_op::ping);
                log_store_error("ping", r.error());
            }
            state->ok = r.has_value();
            state->timer.cancel();
        },
        asio::detached);
    if (!state->ok) {
        co_await state->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }

    if (!state->ok) {
        ctx.metrics.store_error(metrics::store_op::ping);
        log::event(log::level::warn, "admin_store_error",
                   {{"operation", "ping"}, {"error", "timeout"}});
    }
    co_return state->ok.value_or(false);
}

awaitable<handled> readyz(const request& req, const admin_context& ctx)
{
    const bool store_ok = co_await store_ready(ctx);
    const bool extra_ok = !ctx.hooks.ready_extra || ctx.hooks.ready_extra();

    if (store_ok && extra_ok) {
        co_return handled{
            json_response(http::status::ok, R"({"status":"ready","store":"ok"})", req),
            k_route_readyz};
    }
    std::string body = R"({"status":"not_ready","store":")";
    body += store_ok ? "ok" : "unavailable";
    body += extra_ok ? "\"}" : R"(","server":"not_ready"})";
    co_return handled{json_response(http::status::service_unavailable, std::move(body), req),
                      k_route_readyz};
}

handled metrics_page(const request& req, const admin_context& ctx)
{
    response res{http::status::ok, req.version()};
    res.set(http::field::content_type, metrics::k_content_type);
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(req.keep_alive());
    res.body() = ctx.metrics.serialize();
    res.prepare_payload();
    return {std::move(res), k_route_metrics};
}

awaitable<handled> get_grant(const request& req, const admin_context& ctx,
                             const store::grant_key& key)
{
    const auto start = std::chrono::steady_clock::now();
    const store::result<std::optional<store::grant>> loaded = co_await ctx.store.load(key);
    ctx.metrics.store_call(metrics::store_op::load, seconds_since(start));
    if (!loaded) {
        ctx.metrics.store_error(metrics::store_op::load);
        log_store_error("load", loaded.error());
        co_return refuse(ctx, req, refusal::store_unavailable, "the store is unavailable",
                         k_route_grant);
    }

    const store::grant* g = loaded->has_value() ? &**loaded : nullptr;
    co_return handled{json_response(http::status::ok, grant_status_json(g), req), k_route_grant};
}

awaitable<handled> put_grant(const request& req, const admin_context& ctx,
                             const config::connection& connection, const store::grant_key& key)
{
    grant_import parsed = parse_grant_import(req.body(), connection, store::clock::now());
    if (!parsed.value) {
        co_return refuse(ctx, req, refusal::bad_request, parsed.error, k_route_grant);
    }
    store::grant g = std::move(*parsed.value);

    // The version only grows, so that a grant cached by a worker is never mistaken for newer.
    auto start = std::chrono::steady_clock::now();
    const store::result<std::optional<store::grant>> previous = co_await ctx.store.load(key);
    ctx.metrics.store_call(metrics::store_op::load, seconds_since(start));
    if (!previous) {
        ctx.metrics.store_error(metrics::store_op::load);
        log_store_error("load", previous.error());
        co_return refuse(ctx, req, refusal::store_unavailable, "the store is unavailable",
                         k_route_grant);
    }
    g.version = previous->has_value() ? (*previous)->version + 1 : 1;

    start = std::chrono::steady_clock::now();
    const store::result<void> saved = co_await ctx.store.save(key, g);
    ctx.metrics.store_call(metrics::store_op::save, seconds_since(start));
    if (!saved) {
        ctx.metrics.store_error(metrics::store_op::save);
        log_store_error("save", saved.error());
        co_return refuse(ctx, req, refusal::store_unavailable, "the store is unavailable",
                         k_route_grant);
    }

    if (ctx.hooks.grant_changed) {
        ctx.hooks.grant_changed(key);
    }
    co_return handled{json_response(http::status::ok, grant_status_json(&g), req), k_route_grant};
}

// The answer to `POST .../refresh`: a status report when the refresh ran or could not run for a
// reason the grant shows, a refusal (with the same report) when the provider or the store failed.
handled refresh_answer(const admin_context& ctx, const request& req,
                       const token::refresh_now_result& r)
{
    const store::grant* g = r.grant.get();
    const bool failed = r.status == token::refresh_status::failed ||
                        r.status == token::refresh_status::cooling_down;
    if (r.still_running || r.status == token::refresh_status::wait_expired || failed) {
        const refusal code = failed ? refusal::upstream_unreachable : refusal::upstream_timeout;
        const std::string_view message =
            failed ? "the token endpoint did not give a new token"
                   : "the refresh did not end within store.refresh_timeout";
        ctx.metrics.refused(code);
        const std::string_view outcome = r.status ? token::status_name(*r.status) : "running";
        response res = json_response(
            static_cast<http::status>(refusal_status(code)),
            refresh_answer_json(g, {outcome, refusal_code(code), message, r.error}), req);
        res.set("X-OAuth-Injector-Error", refusal_code(code));
        return {std::move(res), k_route_refresh};
    }

    std::string_view outcome = "not_refreshable"; // no refresh token
    if (r.status) {
        outcome = token::status_name(*r.status);
    } else if (g != nullptr && g->needs_reauth) {
        outcome = "needs_reauth";
    }
    return {
        json_response(http::status::ok, refresh_answer_json(g, {outcome, {}, {}, r.error}), req),
        k_route_refresh};
}

awaitable<handled> post_refresh(const request& req, const admin_context& ctx,
                                const config::connection& connection, const store::grant_key& key)
{
    const token::refresh_now_result r = co_await ctx.hooks.refresh(connection, key);
    if (r.store_failed) {
        co_return refuse(ctx, req, refusal::store_unavailable, "the store is unavailable",
                         k_route_refresh);
    }
    if (!r.grant) {
        co_return refuse(ctx, req, refusal::not_found, "no grant for this user", k_route_refresh);
    }
    if (r.status == token::refresh_status::success && ctx.hooks.grant_changed) {
        ctx.hooks.grant_changed(key);
    }
    co_return refresh_answer(ctx, req, r);
}

// POST /v1/reload: the outcome of server::reload, errors listed as they were logged.
handled reload(const request& req, const admin_context& ctx)
{
    if (!ctx.hooks.reload) {
        return refuse(ctx, req, refusal::not_found, "no such route", k_route_other);
    }
    if (req.method() != http::verb::post) {
        return method_not_allowed(ctx, req, "POST", k_route_reload);
    }
    const config::reload_outcome out = ctx.hooks.reload();
    if (out.reloaded) {
        return {json_response(http::status::ok, R"({"reloaded":true})", req), k_route_reload};
    }

    const std::string_view message = out.failure == refusal::restart_required
                                         ? "the new configuration changes keys that need a restart"
                                         : "the new configuration has errors";
    handled h = refuse(ctx, req, out.failure, message, k_route_reload);
    boost::json::object body;
    body["error"] = refusal_code(out.failure);
    body["message"] = message;
    body["reloaded"] = false;
    auto& errors = body["errors"].emplace_array();
    for (const auto& e : out.errors) {
        errors.emplace_back(e);
    }
    h.res.body() = boost::json::serialize(body);
    h.res.prepare_payload();
    return h;
}

// Everything under /v1/, after the bearer token was accepted.
awaitable<handled> v1(const request& req, const admin_context& ctx,
                      const std::vector<std::string>& seg)
{
    if (seg.size() == 2 && seg[1] == "reload") {
        co_return reload(req, ctx);
    }
    if (seg.size() == 2 && seg[1] == "connections") {
        if (req.method() != http::verb::get) {
            co_return method_not_allowed(ctx, req, "GET", k_route_connections);
        }
        co_return handled{json_response(http::status::ok, connections_json(ctx.cfg), req),
                          k_route_connections};
    }

    const bool refresh_route = seg.size() == 6 && seg[5] == "refresh" && ctx.hooks.refresh;
    const bool link_route = seg.size() == 6 && seg[5] == "authorize-link";
    if ((seg.size() != 5 && !refresh_route && !link_route) || seg[1] != "connections" ||
        seg[3] != "grants") {
        co_return refuse(ctx, req, refusal::not_found, "no such route", k_route_other);
    }
    const auto connection = ctx.cfg.connections.find(seg[2]);
    if (connection == ctx.cfg.connections.end()) {
        co_return refuse(ctx, req, refusal::not_found, "no such connection", k_route_grant);
    }
    if (!valid_user(seg[4])) {
        co_return refuse(ctx, req, refusal::bad_request,
                         "the user id must be 1 to 256 bytes without control characters",
                         k_route_grant);
    }
    const store::grant_key key{seg[2], seg[4]};
    if (link_route) {
        co_return co_await authorize_link(req, ctx, key);
    }

    if (refresh_route) {
        if (req.method() != http::verb::post) {
            co_return method_not_allowed(ctx, req, "POST", k_route_refresh);
        }
        co_return co_await post_refresh(req, ctx, connection->second, key);
    }
    switch (req.method()) {
    case http::verb::get:
        co_return co_await get_grant(req, ctx, key);
    case http::verb::put:
        co_return co_await put_grant(req, ctx, connection->second, key);
    case http::verb::delete_:
        co_return co_await disconnect(req, ctx, connection->second, key);
    default:
        co_return method_not_allowed(ctx, req, "GET, PUT, DELETE", k_route_grant);
    }
}

} // namespace

response error_response(refusal r, std::string_view message, unsigned version, bool keep_alive)
{
    std::string body = R"({"error":")";
    body += refusal_code(r);
    body += R"(","message":)";
    body += boost::json::serialize(boost::json::string(message));
    body += '}';

    response res{static_cast<http::status>(refusal_status(r)), version};
    res.set("X-OAuth-Injector-Error", refusal_code(r));
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    if (r == refusal::unauthorized) {
        // RFC 6750 section 3: a 401 for a bearer-protected resource names the scheme.
        res.set(http::field::www_authenticate, R"(Bearer realm="oauth-injector-admin")");
    }
    res.keep_alive(keep_alive);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

awaitable<handled> handle(const request& req, const admin_context& ctx)
{
    const auto url = boost::urls::parse_origin_form(req.target());
    if (!url) {
        co_return refuse(ctx, req, refusal::bad_request, "malformed request target", k_route_other);
    }
    std::vector<std::string> seg;
    for (std::string s : url->segments()) {
        seg.push_back(std::move(s));
    }

    if (seg.size() == 1 && (seg[0] == "healthz" || seg[0] == "readyz" || seg[0] == "metrics")) {
        const std::string_view route = seg[0] == "healthz"  ? k_route_healthz
                                       : seg[0] == "readyz" ? k_route_readyz
                                                            : k_route_metrics;
        if (req.method() != http::verb::get) {
            co_return method_not_allowed(ctx, req, "GET", route);
        }
        if (route == k_route_healthz) {
            co_return handled{json_response(http::status::ok, R"({"status":"ok"})", req), route};
        }
        if (route == k_route_readyz) {
            co_return co_await readyz(req, ctx);
        }
        co_return metrics_page(req, ctx);
    }

    if (!seg.empty() && seg[0] == "v1") {
        if (!authorized(req, ctx.cfg)) {
            co_return refuse(ctx, req, refusal::unauthorized,
                             "a valid admin bearer token is required", k_route_other);
        }
        co_return co_await v1(req, ctx, seg);
    }

    co_return refuse(ctx, req, refusal::not_found, "no such route", k_route_other);
}

} // namespace oi::admin
