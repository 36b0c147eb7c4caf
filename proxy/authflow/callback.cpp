// /oauth/callback (public_handler.hpp): the second half of the authorization-code flow.

#include "authflow/flow_state.hpp"
#include "authflow/public_handler.hpp"
#include "oauth/token_client.hpp"
#include "oauth/token_response.hpp"
#include "store/store_error.hpp"
#include "token/refresh_flight.hpp"

#include <boost/url/parse.hpp>

namespace oi::authflow::detail {

namespace {

using boost::asio::awaitable;
using result = metrics::authorization_result;

constexpr std::string_view k_route = "/oauth/callback";

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// The one value of query parameter `name`; empty when absent or repeated (RFC 6749 section
/// 3.1: parameters must not repeat).
std::string single(const boost::urls::url_view& url, std::string_view name)
{
    if (url.params().count(name) != 1) {
        return {};
    }
    return (*url.params().find(name)).value;
}

public_answer fail(const public_context& ctx, const request& req, std::string_view connection,
                   result outcome, std::string_view detail, http::status status,
                   std::string_view title, std::string_view message, std::string_view code)
{
    record(ctx, "callback", connection, outcome, detail);
    return {page(status, title, message, code, req), k_route};
}

public_answer bad_state(const public_context& ctx, const request& req, std::string_view detail)
{
    return fail(ctx, req, "", result::invalid_state, detail, http::status::bad_request,
                "This authorization cannot be completed",
                "It was already completed, it took longer than 10 minutes, or it did not start "
                "here. Nothing was saved. Ask for a new authorization link.",
                "invalid_state");
}

/// The grant that the token endpoint's answer makes, replacing `previous` when there was one.
store::grant new_grant(const std::optional<store::grant>& previous,
                       const config::connection& connection, const oauth::token_set& tokens)
{
    // RFC 6749 section 5.1: a scope left out of the answer is the scope requested.
    store::grant base = previous.value_or(store::grant{});
    base.scope.clear();
    for (const std::string& scope : connection.scopes) {
        base.scope += base.scope.empty() ? scope : " " + scope;
    }
    // A provider that gives no new refresh token on re-consent (Google without prompt=consent)
    // leaves the one it gave before valid: keep it, as a refresh does.
    return token::refreshed_grant(base, tokens, store::clock::now());
}

/// Exchanges the code (RFC 6749 section 4.1.3, with the PKCE verifier of RFC 7636 section 4.5).
awaitable<oauth::token_outcome> exchange_code(const public_context& ctx,
                                              const config::connection& connection,
                                              const std::string& code, const flow_state& state)
{
    const std::string redirect_uri = ctx.cfg.public_url + "/oauth/callback";
    oauth::token_params params{{"grant_type", "authorization_code"},
                               {"code", code},
                               {"redirect_uri", redirect_uri},
                               {"code_verifier", state.code_verifier.reveal()}};
    // Made apart from the co_await: GCC 12 mishandles non-trivial temporaries inside one.
    auto exchange = oauth::request_token(ctx.connector, connection, std::move(params),
                                         ctx.cfg.store.refresh_timeout);
    co_return co_await std::move(exchange);
}

/// Loads the previous grant for its version and refresh token, then saves the new one.
awaitable<bool> save_grant(const public_context& ctx, const store::grant_key& key,
                           const config::connection& connection, const oauth::token_set& tokens)
{
    auto start = std::chrono::steady_clock::now();
    const store::result<std::optional<store::grant>> previous = co_await ctx.store.load(key);
    ctx.metrics.store_call(metrics::store_op::load, seconds_since(start));
    if (!previous) {
        ctx.metrics.store_error(metrics::store_op::load);
        co_return false;
    }
    const store::grant next = new_grant(*previous, connection, tokens);

    start = std::chrono::steady_clock::now();
    const store::result<void> saved = co_await ctx.store.save(key, next);
    ctx.metrics.store_call(metrics::store_op::save, seconds_since(start));
    if (!saved) {
        ctx.metrics.store_error(metrics::store_op::save);
        co_return false;
    }
    if (ctx.grant_changed) {
        ctx.grant_changed(key);
    }
    co_return true;
}

public_answer provider_refused(const public_context& ctx, const request& req,
                               std::string_view connection, const std::string& error)
{
    // RFC 6749 section 4.1.2.1: access_denied is the user's (or the provider's policy's) no.
    if (error == "access_denied") {
        return fail(ctx, req, connection, result::denied, "access_denied", http::status::forbidden,
                    "Authorization declined",
                    "The authorization was declined, so nothing was connected. You can close "
                    "this page.",
                    "access_denied");
    }
    const std::string safe = oauth::is_safe_error_code(error) ? error : "invalid";
    return fail(ctx, req, connection, result::provider_error, safe, http::status::bad_gateway,
                "The provider refused the authorization",
                "The provider answered with the error \"" + safe +
                    "\". Nothing was connected. Ask for a new authorization link.",
                "provider_error");
}

public_answer connected(const public_context& ctx, const request& req, std::string_view connection,
                        const std::string& return_to)
{
    record(ctx, "callback", connection, result::connected, "grant stored");
    if (return_to.empty()) {
        return {page(http::status::ok, "Connected",
                     "The authorization is complete. You can close this page and go back to the "
                     "conversation.",
                     "", req),
                k_route};
    }
    // 303: the browser fetches return_to with GET (RFC 9110 section 15.4.4).
    response res{http::status::see_other, req.version()};
    res.set(http::field::location, return_to);
    res.set(http::field::cache_control, "no-store");
    res.set("Referrer-Policy", "no-referrer");
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return {std::move(res), k_route};
}

} // namespace

awaitable<public_answer> oauth_callback(const request& req, const public_context& ctx)
{
    const auto url = boost::urls::parse_origin_form(req.target());
    const std::string state_value = url ? single(*url, "state") : std::string{};
    if (!plausible_state(state_value)) {
        co_return bad_state(ctx, req, "no state, or not one this service issues");
    }

    // Take the state first, whatever the provider said: it is good for one callback only.
    const auto start = std::chrono::steady_clock::now();
    const store::result<std::optional<std::string>> taken =
        co_await ctx.store.take_state(state_value);
    ctx.metrics.store_call(metrics::store_op::state, seconds_since(start));
    const bool unreadable = !taken && (taken.error() == store::store_errc::corrupt_record ||
                                       taken.error() == store::store_errc::unknown_key);
    if (unreadable) {
        co_return bad_state(ctx, req, "unreadable state record");
    }
    if (!taken) {
        ctx.metrics.store_error(metrics::store_op::state);
        co_return fail(ctx, req, "", result::store_error, "the store did not answer",
                       http::status::service_unavailable, "Please try again",
                       "The service could not read the authorization just now. Ask for a new "
                       "authorization link in a moment.",
                       "store_unavailable");
    }
    const std::optional<flow_state> state =
        taken->has_value() ? decode_flow_state(**taken) : std::nullopt;
    if (!state) {
        co_return bad_state(ctx, req,
                            taken->has_value() ? "unreadable state record"
                                               : "unknown, used or expired state");
    }
    // A reload may have removed the connection since /oauth/start.
    const auto connection = ctx.cfg.connections.find(state->connection);
    if (connection == ctx.cfg.connections.end()) {
        co_return public_answer{connection_gone(ctx, req, "callback"), k_route};
    }
    const std::string_view connection_id = connection->first;

    // The provider's answer: an error (RFC 6749 section 4.1.2.1) or a code.
    const std::string error = single(*url, "error");
    if (!error.empty() || url->params().contains("error")) {
        co_return provider_refused(ctx, req, connection_id, error);
    }
    const std::string code = single(*url, "code");
    if (code.empty()) {
        co_return provider_refused(ctx, req, connection_id, "missing_code");
    }

    const oauth::token_outcome outcome =
        co_await exchange_code(ctx, connection->second, code, *state);
    if (const auto* failure = std::get_if<oauth::token_failure>(&outcome)) {
        const std::string detail = std::string(oauth::failure_kind_name(failure->kind)) +
                                   (failure->error.empty() ? "" : ": " + failure->error);
        co_return fail(ctx, req, connection_id, result::exchange_failed, detail,
                       http::status::bad_gateway, "The authorization could not be completed",
                       "The provider did not give an access token for this authorization. "
                       "Nothing was connected. Ask for a new authorization link.",
                       "exchange_failed");
    }
    const store::grant_key key{std::string(connection_id), state->user};
    if (!co_await save_grant(ctx, key, connection->second, std::get<oauth::token_set>(outcome))) {
        co_return fail(ctx, req, connection_id, result::store_error, "the grant was not saved",
                       http::status::service_unavailable, "Please try again",
                       "The authorization worked but could not be saved. Ask for a new "
                       "authorization link in a moment.",
                       "store_unavailable");
    }
    co_return connected(ctx, req, connection_id, state->return_to);
}

} // namespace oi::authflow::detail
