#include "admin/public_listener.hpp"

namespace oi::admin {

std::unique_ptr<admin_server> make_public_listener(boost::asio::io_context& ioc,
                                                   const config::endpoint& address,
                                                   public_services services)
{
    metrics::metrics& metrics = services.metrics;
    listener_options options{address, metrics::listener::public_listener, "public_request",
                             std::move(services.connection_closed)};
    auto shared = std::make_shared<const public_services>(std::move(services));
    return std::make_unique<admin_server>(
        ioc, std::move(options), metrics,
        [shared](const request& req) -> boost::asio::awaitable<handled> {
            // The configuration in force now (it changes on reload), held for this request.
            const std::shared_ptr<const config::config> now = shared->current_config();
            const authflow::public_context ctx{
                *now,          shared->store,        shared->connector, shared->metrics,
                shared->links, shared->grant_changed};
            std::optional<authflow::public_answer> answer =
                co_await authflow::handle_public(req, ctx);
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
