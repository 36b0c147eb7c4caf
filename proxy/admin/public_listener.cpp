#include "admin/public_listener.hpp"

namespace oi::admin {

std::unique_ptr<admin_server> make_public_listener(boost::asio::io_context& ioc,
                                                   authflow::public_context ctx)
{
    metrics::metrics& metrics = ctx.metrics;
    listener_options options{ctx.cfg.listen.public_listener, metrics::listener::public_listener,
                             "public_request"};
    auto shared = std::make_shared<const authflow::public_context>(std::move(ctx));
    return std::make_unique<admin_server>(
        ioc, std::move(options), metrics,
        [shared](const request& req) -> boost::asio::awaitable<handled> {
            std::optional<authflow::public_answer> answer =
                co_await authflow::handle_public(req, *shared);
            if (!answer) {
                shared->metrics.refused(refusal::not_found);
                co_return handled{error_response(refusal::not_found, "no such route", req.version(),
                                                 req.keep_alive()),
                                  "other"};
            }
            co_return handled{std::move(answer->res), answer->route};
        });
}

} // namespace oi::admin
