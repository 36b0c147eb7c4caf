#include "store/bounded_resolve.hpp"

#include "store/store_error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <string>

namespace oi::store {

namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;
constexpr auto k_use_tuple = asio::as_tuple(asio::use_awaitable);

/// Shared with the lookup's completion handler, which runs when getaddrinfo returns: possibly
/// long after the coroutine gave up (cancelling a resolver does not interrupt a lookup that has
/// started).
struct lookup {
    explicit lookup(const asio::any_io_executor& ex) : resolver(ex), wake(ex) {}
    tcp::resolver resolver;
    asio::steady_timer wake; // expires at the deadline; cancelled when the lookup ends
    bool done = false;
    error_code ec;
    std::vector<tcp::endpoint> endpoints;
};

std::string without_brackets(const std::string& host)
{
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        return host.substr(1, host.size() - 2);
    }
    return host;
}

} // namespace

asio::awaitable<boost::system::result<std::vector<tcp::endpoint>>>
resolve_within(const asio::any_io_executor& ex, const config::endpoint& at,
               std::chrono::milliseconds limit)
{
    std::vector<tcp::endpoint> out;
    const std::string host = without_brackets(at.host);
    error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (!ec) {
        out.emplace_back(address, at.port);
        co_return out;
    }

    // Wait for the lookup's end or the deadline, whichever comes first.
    auto state = std::make_shared<lookup>(ex);
    state->wake.expires_after(limit);
    const std::string port = std::to_string(at.port);
    state->resolver.async_resolve(
        host, port,
        [state](const error_code& lookup_ec, const tcp::resolver::results_type& results) {
            state->done = true;
            state->ec = lookup_ec;
            for (const auto& entry : results) {
                state->endpoints.push_back(entry.endpoint());
            }
            state->wake.cancel();
        });
    auto [wait_ec] = co_await state->wake.async_wait(k_use_tuple);
    (void)wait_ec;

    if (!state->done) {
        state->resolver.cancel();
        co_return make_error_code(store_errc::timeout);
    }
    if (state->ec) {
        co_return state->ec;
    }
    if (state->endpoints.empty()) {
        co_return make_error_code(asio::error::host_not_found);
    }
    co_return std::move(state->endpoints);
}

} // namespace oi::store
