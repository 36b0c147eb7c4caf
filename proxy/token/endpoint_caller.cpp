#include "token/endpoint_caller.hpp"

#include "oauth/token_client.hpp"

namespace oi::token {

namespace {

boost::asio::awaitable<oauth::token_outcome> call_endpoint(upstream::connector& connector,
                                                           const config::connection& connection,
                                                           const secret& refresh_token,
                                                           std::chrono::milliseconds timeout)
{
    // The views point into `refresh_token`, which outlives this exchange.
    oauth::token_params params{{"grant_type", "refresh_token"},
                               {"refresh_token", refresh_token.reveal()}};
    co_return co_await oauth::request_token(connector, connection, std::move(params), timeout);
}

} // namespace

token_caller make_endpoint_caller(upstream::connector& connector)
{
    return [&connector](const config::connection& connection, const secret& refresh_token,
                        std::chrono::milliseconds timeout) {
        return call_endpoint(connector, connection, refresh_token, timeout);
    };
}

} // namespace oi::token
