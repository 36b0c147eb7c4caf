// CONNECT (RFC 9110 section 9.3.6): tunnels toward hosts that a connection allows are
// intercepted with a leaf certificate from the proxy's own CA and their requests served like
// absolute-form ones; tunnels toward other hosts are refused or relayed untouched
// (`intercept.other_hosts`).

#include "http/target.hpp"
#include "intercept/sni_selector.hpp"
#include "routing/routing.hpp"
#include "server/proxy_session.hpp"
#include "server/request_state.hpp"
#include "server/splice.hpp"

#include <boost/beast/core/error.hpp>

namespace oi::server {

namespace {

constexpr std::string_view k_established = "HTTP/1.1 200 Connection Established\r\n\r\n";

/// A TLS connection opens with a handshake record (content type 22, RFC 8446 section 5.1); an
/// HTTP request opens with a method name, which never starts with that byte.
constexpr unsigned char k_tls_handshake_record = 0x16;

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
    const auto failure = establish_identity(rq);
    if (failure) {
        co_await refuse(rq, failure->reason, failure->message, head_.body != http::body_kind::none);
    }
    debug_identity(rq);
    if (failure) {
        co_return false;
    }
    const auto route = rt_->routes.find(rq.plugin);
    if (!route) {
        debug_connection(rq);
        co_await refuse(rq, refusal::unknown_plugin, "the plugin is not configured", true);
        co_return false;
    }
    rq.connection = route->connection;
    rq.rec.plugin = rq.plugin;
    rq.rec.plugin_known = true;
    rq.rec.connection = rq.connection->id;
    debug_connection(rq);

    if (routing::host_allowed(*rq.connection, authority->host) &&
        worker_.intercept_tls != nullptr) {
        debug_tunnel(rq, "intercept");
        co_return co_await intercept_tunnel(rq, *authority);
    }
    if (cfg.intercept.other_hosts == config::intercept_config::other_hosts_mode::tunnel) {
        debug_tunnel(rq, "tunnel");
        co_return co_await relay_tunnel(rq, *authority);
    }
    debug_tunnel(rq, "refuse");
    co_await refuse(rq, refusal::destination_denied,
                    "CONNECT is only served toward hosts a connection allows", true);
    co_return false;
}

asio::awaitable<bool> proxy_session::intercept_tunnel(request_state& rq, const http::authority& to)
{
    const std::array<asio::const_buffer, 1> established{asio::buffer(k_established)};
    if (!co_await write_client(established)) {
        rq.rec.client_aborted = true;
        co_return false;
    }
    rq.rec.status = 200;

    // The client speaks first either way: a TLS ClientHello, or a plain HTTP request (undici and
    // https-proxy-agent tunnel http:// URLs too, with `CONNECT host:80`).
    if (in_.size() == 0) {
        client_->expires_after(rt_->cfg.limits.header_timeout);
        const auto [ec, n] = co_await client_->read_some(in_.prepare(k_read_chunk));
        in_.commit(n);
        if (ec) {
            rq.rec.detail = "the client sent nothing into the tunnel";
            co_return false;
        }
    }
    tunnel_context inside{to.host, to.port, rq.user, rq.plugin, true};
    std::unique_ptr<byte_stream> stream;
    if (static_cast<const unsigned char*>(in_.data().data())[0] == k_tls_handshake_record) {
        stream = co_await accept_tunnel_tls(rq, to);
    } else {
        inside.tls = false;
        boost::beast::tcp_stream tcp{std::move(client_->socket())};
        stream = std::make_unique<tcp_byte_stream>(std::move(tcp));
    }
    if (!stream) {
        co_return false;
    }

    // The tunnel's requests are served like absolute-form ones, with the CONNECT's identity. The
    // CONNECT itself is reported when the tunnel ends.
    proxy_session inner{worker_, std::move(stream), runtime_source_, on_exchange_,
                        std::move(inside)};
    inner.in_.commit(asio::buffer_copy(inner.in_.prepare(in_.size()), in_.data()));
    in_.consume(in_.size());
    co_await inner.run();
    co_return false;
}

asio::awaitable<std::unique_ptr<byte_stream>>
proxy_session::accept_tunnel_tls(request_state& rq, const http::authority& to)
{
    // Terminate TLS with a leaf for the SNI name (or the CONNECT host when there is none). The
    // bytes read so far are the start of the handshake.
    boost::beast::tcp_stream tcp{std::move(client_->socket())};
    auto tls =
        std::make_unique<tls_byte_stream::stream_type>(std::move(tcp), *worker_.intercept_tls);
    intercept::set_fallback_host(tls->native_handle(), to.host);
    boost::beast::get_lowest_layer(*tls).expires_after(rt_->cfg.limits.header_timeout);
    auto [ec, used] = co_await tls->async_handshake(asio::ssl::stream_base::server, in_.data(),
                                                    asio::as_tuple(asio::use_awaitable));
    if (ec) {
        rq.rec.detail = "the client's TLS handshake in the tunnel failed";
        co_return nullptr;
    }
    // Whatever the handshake did not use cannot be plaintext: TLS sends no application data
    // before the handshake is done (no early data is accepted, RFC 8446 section 2.3).
    (void)used;
    in_.consume(in_.size());
    co_return std::make_unique<tls_byte_stream>(std::move(tls));
}

asio::awaitable<bool> proxy_session::relay_tunnel(request_state& rq, const http::authority& to)
{
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
        const auto [ec, n] = co_await connected.stream->write(in_.data());
        in_.consume(in_.size());
        if (ec) {
            co_return false;
        }
    }
    const auto idle = rt_->cfg.limits.idle_timeout;
    co_await splice(*client_, *connected.stream, idle);
    connected.stream->close();
    co_return false;
}

} // namespace oi::server
