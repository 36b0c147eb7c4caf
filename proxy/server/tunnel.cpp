// CONNECT (RFC 9110 section 9.3.6): tunnels toward hosts that a connection allows are
// intercepted with a leaf certificate from the proxy's own CA and their requests served like
// absolute-form ones; tunnels toward other hosts are refused or relayed untouched
// (`intercept.other_hosts`).

#include "http/target.hpp"
#include "intercept/sni_selector.hpp"
#include "routing/routing.hpp"
#include "server/proxy_session.hpp"
#include "server/request_state.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core/error.hpp>

namespace oi::server {

namespace {

constexpr std::size_t k_relay_chunk = 16 * 1024;
constexpr std::string_view k_established = "HTTP/1.1 200 Connection Established\r\n\r\n";

/// Copies one direction of a raw tunnel until EOF, an error or `idle` without traffic, then
/// ends the other side's sending half so that it sees the end too.
asio::awaitable<void> pump(byte_stream& from, byte_stream& to, std::chrono::milliseconds idle)
{
    std::array<char, k_relay_chunk> buffer{};
    for (;;) {
        from.expires_after(idle);
        error_code ec;
        const std::size_t n = co_await from.read_some(asio::buffer(buffer), ec);
        if (n > 0) {
            error_code wec;
            to.expires_after(idle);
            co_await to.write(asio::buffer(buffer.data(), n), wec);
            if (wec) {
                from.close();
                co_return;
            }
        }
        if (ec) {
            error_code ignored;
            to.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
            co_return;
        }
    }
}

} // namespace

asio::awaitable<bool> proxy_session::handle_connect(request_state& rq)
{
    const auto& cfg = rt_->cfg;

    // The authority-form target names the tunnel's destination (RFC 9112 section 3.2.3).
    const auto authority = http::parse_authority(head_.target, std::nullopt);
    if (!authority) {
        co_await refuse(rq, refusal::bad_request, "CONNECT needs a host:port target", true);
        co_return false;
    }
    rq.rec.scheme = "tunnel";
    rq.rec.host = authority->host;
    rq.rec.port = authority->port;

    // Who is asking, for every request in the tunnel.
    if (!co_await establish_identity(rq)) {
        co_return false;
    }
    const auto route = rt_->routes.find(rq.plugin);
    if (!route) {
        co_await refuse(rq, refusal::unknown_plugin, "the plugin is not configured", true);
        co_return false;
    }
    rq.connection = route->connection;
    rq.rec.plugin = rq.plugin;
    rq.rec.plugin_known = true;
    rq.rec.connection = rq.connection->id;

    if (routing::host_allowed(*rq.connection, authority->host) &&
        worker_.intercept_tls != nullptr) {
        co_return co_await intercept_tunnel(rq, *authority);
    }
    if (cfg.intercept.other_hosts == config::intercept_config::other_hosts_mode::tunnel) {
        co_return co_await relay_tunnel(rq, *authority);
    }
    co_await refuse(rq, refusal::destination_denied,
                    "CONNECT is only served toward hosts a connection allows", true);
    co_return false;
}

asio::awaitable<bool> proxy_session::intercept_tunnel(request_state& rq, const http::authority& to)
{
    if (in_.size() != 0) {
        // TLS bytes sent before our answer would be lost under the TLS layer: refuse them.
        co_await refuse(rq, refusal::bad_request, "data sent before the tunnel was established",
                        true);
        co_return false;
    }
    const std::array<asio::const_buffer, 1> established{asio::buffer(k_established)};
    if (!co_await write_client(established)) {
        rq.rec.client_aborted = true;
        co_return false;
    }
    rq.rec.status = 200;

    // Terminate TLS with a leaf for the SNI name (or the CONNECT host when there is none).
    boost::beast::tcp_stream tcp{std::move(client_->socket())};
    auto tls =
        std::make_unique<tls_byte_stream::stream_type>(std::move(tcp), *worker_.intercept_tls);
    intercept::set_fallback_host(tls->native_handle(), to.host);
    boost::beast::get_lowest_layer(*tls).expires_after(rt_->cfg.limits.header_timeout);
    auto [ec] = co_await tls->async_handshake(asio::ssl::stream_base::server,
                                              asio::as_tuple(asio::use_awaitable));
    if (ec) {
        rq.rec.detail = "the client's TLS handshake in the tunnel failed";
        co_return false;
    }

    // The tunnel's requests are served like absolute-form ones, with the CONNECT's identity. The
    // CONNECT itself is reported when the tunnel ends.
    proxy_session inner{worker_, std::make_unique<tls_byte_stream>(std::move(tls)), runtime_source_,
                        on_exchange_, tunnel_context{to.host, to.port, rq.user, rq.plugin}};
    co_await inner.run();
    co_return false;
}

asio::awaitable<bool> proxy_session::relay_tunnel(request_state& rq, const http::authority& to)
{
    using namespace asio::experimental::awaitable_operators;

    // Plain TCP to the destination, through the same destination policy as every request.
    const upstream::destination dest{"http", to.host, to.port};
    auto connected = co_await worker_.connector->connect(dest);
    if (!connected.stream) {
        rq.rec.detail = connected.detail;
        co_await refuse(rq, connected.failure, "the tunnel's destination could not be reached",
                        true);
        co_return false;
    }
    const std::array<asio::const_buffer, 1> established{asio::buffer(k_established)};
    if (!co_await write_client(established)) {
        rq.rec.client_aborted = true;
        co_return false;
    }
    rq.rec.status = 200;

    // Bytes the client sent early go first; then both directions until both have ended.
    if (in_.size() > 0) {
        error_code ec;
        co_await connected.stream->write(in_.data(), ec);
        in_.consume(in_.size());
        if (ec) {
            co_return false;
        }
    }
    const auto idle = rt_->cfg.limits.idle_timeout;
    co_await (pump(*client_, *connected.stream, idle) && pump(*connected.stream, *client_, idle));
    connected.stream->close();
    co_return false;
}

} // namespace oi::server
