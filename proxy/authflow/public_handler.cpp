#include "authflow/public_handler.hpp"

#include "authflow/authorization_request.hpp"
#include "authflow/flow_state.hpp"
#include "authflow/pages.hpp"
#include "authflow/pkce.hpp"
#include "common/log.hpp"
#include "common/refusal.hpp"

#include <boost/url/parse.hpp>

namespace oi::authflow {

namespace {

using boost::asio::awaitable;
using result = metrics::authorization_result;

constexpr std::string_view k_route_start = "/oauth/start";
constexpr std::string_view k_route_callback = "/oauth/callback";

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

public_answer invalid_link(const public_context& ctx, const request& req, std::string_view detail,
                           bool expired)
{
    detail::record(ctx, "start", "", result::invalid_link, detail);
    if (expired) {
        return {detail::page(http::status::gone, "This link has expired",
                             "Authorization links work for 10 minutes. Ask for a new one and "
                             "open it right away.",
                             "link_expired", req),
                k_route_start};
    }
    return {detail::page(http::status::bad_request, "This link is not valid",
                         "The authorization link is incomplete or was changed. Ask for a new one.",
                         "link_invalid", req),
            k_route_start};
}

public_answer store_failed(const public_context& ctx, const request& req,
                           std::string_view connection)
{
    ctx.metrics.store_error(metrics::store_op::state);
    detail::record(ctx, "start", connection, result::store_error, "the store did not answer");
    return {detail::page(http::status::service_unavailable, "Please try again",
                         "The service could not start the authorization just now. Open the "
                         "same link again in a moment.",
                         "store_unavailable", req),
            k_route_start};
}

/// Draws a state and a verifier and stores them; nullopt (and the answer in `failed`) when
/// that cannot be done.
awaitable<std::optional<std::pair<std::string, std::string>>>
store_new_state(const public_context& ctx, const link_claims& link)
{
    const auto state = random_token(k_state_bytes);
    auto verifier = new_code_verifier();
    if (!state || !verifier) {
        co_return std::nullopt;
    }
    const secret record = encode_flow_state(
        flow_state{link.connection, link.user, secret{*verifier}, link.return_to});

    const auto start = std::chrono::steady_clock::now();
    const store::result<bool> put =
        co_await ctx.store.put_state(*state, record.reveal(), k_state_lifetime);
    ctx.metrics.store_call(metrics::store_op::state, seconds_since(start));
    // A collision of 256 random bits is not a case to retry: treat it as the failure it implies.
    if (!put || !*put) {
        co_return std::nullopt;
    }
    co_return std::make_pair(*state, s256_challenge(*verifier));
}

awaitable<public_answer> oauth_start(const request& req, const public_context& ctx,
                                     const boost::urls::url_view& url)
{
    // RFC 6749 section 3.1: a parameter sent twice makes the request invalid.
    if (url.params().count("link") != 1) {
        co_return invalid_link(ctx, req, "no link parameter, or more than one", false);
    }
    const std::string token = (*url.params().find("link")).value;
    const auto link = ctx.links.verify(token, clock::now());
    if (!link) {
        const bool expired = link.error() == link_error::expired;
        co_return invalid_link(
            ctx, req, expired ? "the link has expired" : "bad signature or claims", expired);
    }
    // The link may predate a reload that removed its connection.
    const auto connection = ctx.cfg.connections.find(link->connection);
    if (connection == ctx.cfg.connections.end()) {
        co_return public_answer{detail::connection_gone(ctx, req, "start"), k_route_start};
    }

    const auto stored = co_await store_new_state(ctx, *link);
    if (!stored) {
        co_return store_failed(ctx, req, link->connection);
    }
    const std::string redirect_uri = ctx.cfg.public_url + "/oauth/callback";
    const authorization_parameters parameters{redirect_uri, stored->first, stored->second};
    const std::optional<std::string> location =
        authorization_redirect(connection->second, parameters);
    if (!location) {
        detail::record(ctx, "start", link->connection, result::provider_error,
                       "authorization_url is not an absolute URL");
        co_return public_answer{
            detail::page(http::status::internal_server_error, "This connection is misconfigured",
                         "Tell the operator of this service.", "connection_misconfigured", req),
            k_route_start};
    }

    detail::record(ctx, "start", link->connection, result::started, "redirected to the provider");
    response res{http::status::found, req.version()};
    res.set(http::field::location, *location);
    res.set(http::field::cache_control, "no-store");
    res.set("Referrer-Policy", "no-referrer");
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_return public_answer{std::move(res), k_route_start};
}

} // namespace

namespace detail {

response page(http::status status, std::string_view title, std::string_view message,
              std::string_view error_code, const request& req)
{
    response res{status, req.version()};
    res.set(http::field::content_type, "text/html; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.set("Referrer-Policy", "no-referrer");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    if (!error_code.empty()) {
        res.set("X-OAuth-Injector-Error", error_code);
    }
    res.keep_alive(req.keep_alive());
    res.body() = render_page(title, message);
    res.prepare_payload();
    return res;
}

response connection_gone(const public_context& ctx, const request& req, std::string_view step)
{
    record(ctx, step, "",
           step == "start" ? metrics::authorization_result::invalid_link
                           : metrics::authorization_result::invalid_state,
           "the connection is no longer configured");
    return page(http::status::not_found, "This service is no longer connected here",
                "The connection this authorization was for has been removed from the "
                "configuration. Nothing was saved.",
                "connection_not_configured", req);
}

void record(const public_context& ctx, std::string_view step, std::string_view connection,
            metrics::authorization_result result, std::string_view detail)
{
    ctx.metrics.authorization(ctx.metrics.connection_index(connection), result);
    const bool failure = result != metrics::authorization_result::started &&
                         result != metrics::authorization_result::connected;
    log::event(failure ? log::level::warn : log::level::info, "authorization",
               {{"step", step},
                {"connection", connection.empty() ? std::string_view("none") : connection},
                {"result", metrics::label(result)},
                {"detail", detail}});
}

} // namespace detail

awaitable<std::optional<public_answer>> handle_public(const request& req, const public_context& ctx)
{
    const auto url = boost::urls::parse_origin_form(req.target());
    const bool start = url && url->encoded_path() == k_route_start;
    const bool callback = url && url->encoded_path() == k_route_callback;
    if (!start && !callback) {
        co_return std::nullopt;
    }
    if (req.method() != http::verb::get) {
        ctx.metrics.refused(refusal::method_not_allowed);
        response res = detail::page(http::status::method_not_allowed, "Method not allowed",
                                    "Open this address in a browser.", "method_not_allowed", req);
        res.set(http::field::allow, "GET");
        co_return public_answer{std::move(res), start ? k_route_start : k_route_callback};
    }
    if (start) {
        co_return co_await oauth_start(req, ctx, *url);
    }
    co_return co_await detail::oauth_callback(req, ctx);
}

} // namespace oi::authflow
