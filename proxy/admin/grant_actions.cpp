#include "admin/grant_actions.hpp"

#include "admin/rfc3339.hpp"
#include "common/log.hpp"
#include "oauth/token_client.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace oi::admin {

namespace {

using boost::asio::awaitable;
using detail::json_response;
using detail::refuse;
using detail::seconds_since;

constexpr std::string_view k_route_link = "/v1/connections/{c}/grants/{user}/authorize-link";
constexpr std::string_view k_route_grant = "/v1/connections/{c}/grants/{user}";

/// The `return_to` of an authorize-link body: empty when there is none; nullopt (with `error`
/// set) when the body is not acceptable.
std::optional<std::string> read_return_to(const request& req, std::string& error)
{
    if (req.body().empty()) {
        return std::string{};
    }
    boost::system::error_code ec;
    const boost::json::value body = boost::json::parse(req.body(), ec);
    if (ec || !body.is_object()) {
        error = "the body must be a JSON object";
        return std::nullopt;
    }
    for (const auto& field : body.as_object()) {
        if (field.key() != "return_to") {
            error = "unknown field '" + std::string(field.key()) + "' (only return_to is accepted)";
            return std::nullopt;
        }
    }
    const auto* value = body.as_object().if_contains("return_to");
    if (value == nullptr || value->is_null()) {
        return std::string{};
    }
    if (!value->is_string()) {
        error = "return_to must be a string";
        return std::nullopt;
    }
    return std::string(value->as_string());
}

/// Revokes `g` at the connection's revocation endpoint; the answer's `revoked` and
/// `revocation_error` fields.
awaitable<oauth::revocation_outcome>
revoke(const admin_context& ctx, const config::connection& connection, const store::grant& g)
{
    // RFC 7009 section 2.1: revoking the refresh token also ends the access tokens of the
    // same grant at servers that support it, so it is the better token to send.
    const bool refresh = !g.refresh_token.empty();
    const secret token = refresh ? g.refresh_token : g.access_token;
    const std::string_view hint = refresh ? "refresh_token" : "access_token";
    auto revocation = oauth::revoke_token(*ctx.hooks.connector, connection, token, hint,
                                          ctx.cfg.store.refresh_timeout);
    oauth::revocation_outcome out = co_await std::move(revocation);

    ctx.metrics.revocation(ctx.metrics.connection_index(connection.id),
                           out.revoked ? metrics::revocation_result::revoked
                                       : metrics::revocation_result::failed);
    log::event(out.revoked ? log::level::info : log::level::warn, "token_revocation",
               {{"connection", connection.id},
                {"token_type_hint", hint},
                {"result", out.revoked ? "revoked" : "failed"},
                {"error", out.error}});
    co_return out;
}

} // namespace

awaitable<handled> authorize_link(const request& req, const admin_context& ctx,
                                  const store::grant_key& key)
{
    if (req.method() != http::verb::post) {
        handled h =
            refuse(ctx, req, refusal::method_not_allowed, "method not allowed", k_route_link);
        h.res.set(http::field::allow, "POST");
        co_return h;
    }
    if (ctx.hooks.links == nullptr || !ctx.cfg.listen.public_listener) {
        co_return refuse(ctx, req, refusal::not_found,
                         "authorize links need the public listener (listen.public)", k_route_link);
    }
    std::string error;
    const std::optional<std::string> return_to = read_return_to(req, error);
    if (!return_to) {
        co_return refuse(ctx, req, refusal::bad_request, error, k_route_link);
    }
    if (!return_to->empty() &&
        !authflow::return_to_allowed(*return_to, ctx.cfg.return_to_origins)) {
        co_return refuse(ctx, req, refusal::bad_request,
                         "return_to must be an http(s) URL under one of return_to_origins",
                         k_route_link);
    }

    const authflow::minted_link link = ctx.hooks.links->mint(
        ctx.cfg.public_url, key.connection, key.user, *return_to, std::chrono::system_clock::now());
    log::event(log::level::info, "authorize_link_minted",
               {{"connection", key.connection}, {"return_to", !return_to->empty()}});
    boost::json::object body;
    body["url"] = link.url;
    body["expires_at"] = format_rfc3339(link.expires_at);
    co_return handled{json_response(http::status::ok, boost::json::serialize(body), req),
                      k_route_link};
}

awaitable<handled> disconnect(const request& req, const admin_context& ctx,
                              const config::connection& connection, const store::grant_key& key)
{
    // Read the grant first: revocation needs its tokens.
    std::optional<oauth::revocation_outcome> revoked;
    if (!connection.revocation_url.empty() && ctx.hooks.connector != nullptr) {
        const auto start = std::chrono::steady_clock::now();
        const store::result<std::optional<store::grant>> loaded = co_await ctx.store.load(key);
        ctx.metrics.store_call(metrics::store_op::load, seconds_since(start));
        if (!loaded) {
            ctx.metrics.store_error(metrics::store_op::load);
            detail::log_store_error("load", loaded.error());
            co_return refuse(ctx, req, refusal::store_unavailable, "the store is unavailable",
                             k_route_grant);
        }
        if (loaded->has_value()) {
            revoked = co_await revoke(ctx, connection, **loaded);
        }
    }

    // Then delete it here, whatever the provider said: the user asked to disconnect.
    const auto start = std::chrono::steady_clock::now();
    const store::result<bool> removed = co_await ctx.store.remove(key);
    ctx.metrics.store_call(metrics::store_op::remove, seconds_since(start));
    if (!removed) {
        ctx.metrics.store_error(metrics::store_op::remove);
        detail::log_store_error("remove", removed.error());
        co_return refuse(ctx, req, refusal::store_unavailable, "the store is unavailable",
                         k_route_grant);
    }
    if (ctx.hooks.grant_changed) {
        ctx.hooks.grant_changed(key);
    }

    boost::json::object body;
    body["connected"] = false;
    body["removed"] = *removed;
    body["revoked"] = nullptr;
    if (revoked) {
        body["revoked"] = revoked->revoked;
        if (!revoked->revoked) {
            body["revocation_error"] = revoked->error;
        }
    }
    co_return handled{json_response(http::status::ok, boost::json::serialize(body), req),
                      k_route_grant};
}

} // namespace oi::admin
