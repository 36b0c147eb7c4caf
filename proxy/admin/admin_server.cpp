#include "admin/admin_server.hpp"

#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <map>
#include <optional>

namespace oi::admin {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::awaitable;
using asio::ip::tcp;
using boost::system::error_code;

constexpr auto k_accept_retry_delay = std::chrono::milliseconds(100);
constexpr auto k_linger_timeout = std::chrono::seconds(2);
constexpr std::size_t k_linger_max_bytes = std::size_t{1024} * 1024;
constexpr auto k_use = asio::as_tuple(asio::use_awaitable);
// The first read of a request, sized for a whole head.
constexpr std::size_t k_first_read_bytes = 4096;

// Which refusal, if any, answers a failed read. Connection-level endings (EOF, reset, timeout,
// cancellation by stop) get no answer.
std::optional<refusal> refusal_for_read_error(const error_code& ec)
{
    if (ec == beast::http::error::header_limit) {
        return refusal::header_too_large;
    }
    if (ec == beast::http::error::body_limit) {
        return refusal::payload_too_large;
    }
    if (ec.category() ==
            beast::http::make_error_code(beast::http::error::end_of_stream).category() &&
        ec != beast::http::error::end_of_stream && ec != beast::http::error::partial_message) {
        return refusal::bad_request;
    }
    return std::nullopt;
}

void log_request(std::string_view event, std::string_view request_id, std::string_view method,
                 std::string_view route, unsigned status,
                 std::chrono::steady_clock::time_point start)
{
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    log::event(log::level::info, event,
               {{"request_id", request_id},
                {"method", method},
                {"route", route},
                {"status", status},
                {"duration_ms", ms}});
}

void log_exception(const std::exception_ptr& e)
{
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        log::event(log::level::error, "admin_session_failed", {{"error", ex.what()}});
    } catch (...) {
        log::event(log::level::error, "admin_session_failed");
    }
}

} // namespace

struct admin_server::state {
    state(asio::io_context& ioc, listener_options options, metrics::metrics& metrics,
          request_handler handler)
        : ioc(ioc), options(std::move(options)), metrics(metrics), handler(std::move(handler)),
          acceptor(ioc)
    {}

    asio::io_context& ioc;
    listener_options options;
    metrics::metrics& metrics;
    request_handler handler;
    tcp::acceptor acceptor;
    // Open connections, each with whether it waits for a request; touched on the io_context only.
    std::map<beast::tcp_stream*, bool> sessions;
    std::atomic<std::size_t> open{0};
    bool stopped = false;
    bool draining = false;
};

namespace {

using state_ptr = std::shared_ptr<admin_server::state>;

// After refusing a request that was not read whole, reads and drops what the client is still
// sending (bounded in time and bytes) before closing: closing with unread input makes the
// kernel send a reset, which can destroy the refusal before the client reads it.
awaitable<void> lingering_close(beast::tcp_stream& stream)
{
    error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.expires_after(k_linger_timeout);
    std::array<char, 4096> discard{};
    for (std::size_t total = 0; !ec && total < k_linger_max_bytes;) {
        std::size_t n = 0;
        std::tie(ec, n) = co_await stream.async_read_some(asio::buffer(discard), k_use);
        total += n;
    }
}

awaitable<void> session(state_ptr st, tcp::socket socket)
{
    beast::tcp_stream stream(std::move(socket));
    st->sessions[&stream] = true;
    st->open.fetch_add(1);
    st->metrics.connection_opened(st->options.kind);
    struct cleanup {
        state_ptr& st;
        beast::tcp_stream& stream;
        ~cleanup()
        {
            st->sessions.erase(&stream);
            st->open.fetch_sub(1);
            st->metrics.connection_closed(st->options.kind);
            if (st->options.connection_closed) {
                st->options.connection_closed();
            }
        }
    } const guard{st, stream};
    beast::flat_buffer buffer;

    while (!st->draining) {
        // Read one request: head, an interim 100 Continue when asked for, then the body.
        beast::http::request_parser<beast::http::string_body> parser;
        parser.header_limit(k_max_head_bytes);
        parser.body_limit(k_max_body_bytes);
        stream.expires_after(k_io_timeout);
        st->sessions[&stream] = true;
        // The request's time starts at its first byte, not when the head is complete, nor (on a
        // kept-alive connection) when the previous answer was written: wait for that byte here.
        if (buffer.size() == 0) {
            auto [first_ec, first_n] =
                co_await stream.async_read_some(buffer.prepare(k_first_read_bytes), k_use);
            if (first_ec) {
                break; // closed, or idle past k_io_timeout: nothing was asked
            }
            buffer.commit(first_n);
        }
        const auto start = std::chrono::steady_clock::now();
        auto [ec, n] = co_await beast::http::async_read_header(stream, buffer, parser, k_use);
        st->sessions[&stream] = false;
        // RFC 9110 section 10.1.1: no 100 Continue for a body that will be refused anyway.
        const bool body_fits =
            !ec && (!parser.content_length() || *parser.content_length() <= k_max_body_bytes);
        if (body_fits && beast::iequals(parser.get()[beast::http::field::expect], "100-continue")) {
            beast::http::response<beast::http::empty_body> cont{beast::http::status::continue_, 11};
            std::tie(ec, n) = co_await beast::http::async_write(stream, cont, k_use);
        }
        if (!ec && !parser.is_done()) {
            std::tie(ec, n) = co_await beast::http::async_read(stream, buffer, parser, k_use);
        }
        const std::string request_id = log::new_request_id();

        // A request that could not be read gets a refusal when it was the client's fault.
        if (ec) {
            const std::optional<refusal> r = refusal_for_read_error(ec);
            if (r && !st->stopped) {
                st->metrics.refused(*r);
                response res = error_response(*r, "the request could not be read", 11, false);
                stream.expires_after(k_io_timeout);
                auto [wec, wn] = co_await beast::http::async_write(stream, res, k_use);
                log_request(st->options.log_event, request_id, "-", "other", res.result_int(),
                            start);
                if (!wec) {
                    co_await lingering_close(stream);
                }
            }
            break;
        }

        // Answer it.
        const request& req = parser.get();
        handled h = co_await st->handler(req);
        if (st->draining) {
            h.res.keep_alive(false); // RFC 9112 section 9.6: say that this is the last response
        }
        log_request(st->options.log_event, request_id, req.method_string(), h.route,
                    h.res.result_int(), start);
        stream.expires_after(k_io_timeout);
        auto [wec, wn] = co_await beast::http::async_write(stream, h.res, k_use);
        if (wec || !h.res.keep_alive() || st->stopped || st->draining) {
            break;
        }
    }

    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

awaitable<void> accept_loop(state_ptr st)
{
    for (;;) {
        auto [ec, socket] = co_await st->acceptor.async_accept(k_use);
        if (st->stopped || ec == asio::error::operation_aborted) {
            co_return;
        }
        if (ec) {
            // Out of descriptors and the like: pause instead of spinning on the error.
            log::event(log::level::warn, "admin_accept_failed", {{"error", ec.message()}});
            asio::steady_timer pause(st->ioc, k_accept_retry_delay);
            co_await pause.async_wait(k_use);
            continue;
        }
        asio::co_spawn(st->ioc, session(st, std::move(socket)), log_exception);
    }
}

} // namespace

admin_server::admin_server(asio::io_context& ioc, const config::config& cfg,
                           store::grant_store& store, metrics::metrics& metrics, admin_hooks hooks)
    : admin_server(
          ioc, listener_options{cfg.listen.admin}, metrics,
          [&cfg, &store, &metrics, hooks = std::make_shared<const admin_hooks>(std::move(hooks))](
              const request& req) -> asio::awaitable<handled> {
              // The configuration in force now (it changes on reload), held for this request.
              const std::shared_ptr<const config::config> now =
                  hooks->current_config
                      ? hooks->current_config()
                      : std::shared_ptr<const config::config>{std::shared_ptr<void>{}, &cfg};
              const admin_context ctx{*now, store, metrics, *hooks};
              co_return co_await handle(req, ctx);
          })
{}

admin_server::admin_server(asio::io_context& ioc, listener_options options,
                           metrics::metrics& metrics, request_handler handler)
    : state_(std::make_shared<state>(ioc, std::move(options), metrics, std::move(handler)))
{}

admin_server::~admin_server()
{
    try {
        stop();
    } catch (...) {
        // Only allocation can fail here; the io_context's destruction closes the sockets anyway.
    }
}

error_code admin_server::listen()
{
    if (!state_->options.address) {
        return asio::error::invalid_argument;
    }
    std::string host = state_->options.address->host;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    const std::uint16_t port = state_->options.address->port;

    // Start-up only: a host name is resolved synchronously, the first address is used.
    error_code ec;
    tcp::endpoint endpoint;
    const asio::ip::address address = asio::ip::make_address(host, ec);
    if (!ec) {
        endpoint = tcp::endpoint(address, port);
    } else {
        tcp::resolver resolver(state_->ioc);
        const auto results = resolver.resolve(host, std::to_string(port), ec);
        if (ec) {
            return ec;
        }
        if (results.empty()) {
            return asio::error::host_not_found;
        }
        endpoint = results.begin()->endpoint();
    }

    tcp::acceptor& acceptor = state_->acceptor;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
        acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor.bind(endpoint, ec);
    }
    if (!ec) {
        acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        error_code ignored;
        acceptor.close(ignored);
        return ec;
    }
    return {};
}

std::uint16_t admin_server::port() const
{
    error_code ec;
    const tcp::endpoint local = state_->acceptor.local_endpoint(ec);
    return ec ? 0 : local.port();
}

void admin_server::start()
{
    asio::co_spawn(state_->ioc, accept_loop(state_), log_exception);
}

void admin_server::stop()
{
    asio::dispatch(state_->ioc, [st = state_] {
        st->stopped = true;
        error_code ignored;
        st->acceptor.close(ignored);
        for (const auto& entry : st->sessions) {
            entry.first->close();
        }
    });
}

void admin_server::drain()
{
    asio::dispatch(state_->ioc, [st = state_] {
        st->draining = true;
        error_code ignored;
        st->acceptor.close(ignored);
        for (const auto& [stream, idle] : st->sessions) {
            if (idle) {
                stream->close();
            }
        }
    });
}

std::size_t admin_server::open_connections() const noexcept
{
    return state_->open.load();
}

} // namespace oi::admin
