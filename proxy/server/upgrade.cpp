// WebSocket through the proxy (RFC 6455): the opening handshake is served like any request
// (identity, target check, placeholders rewritten in its target and header fields; forward.cpp),
// and once the origin has answered 101 Switching Protocols the client and the origin connections
// are joined until either side ends or both stay idle for limits.idle_timeout. Frames from the
// origin pass untouched. Frames from the client toward an allowed host have the placeholders in
// their messages rewritten (rewrite/ws_client_frames.hpp says what is left untouched); toward any
// other host they pass untouched too.

#include "common/log.hpp"
#include "rewrite/ws_client_frames.hpp"
#include "server/proxy_session.hpp"
#include "server/request_state.hpp"
#include "server/splice.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace oi::server {

namespace {

/// The client-to-origin direction with messages rewritten: `early` (bytes that came with the
/// handshake) first, then what the client sends. Ends like copy_one_way; on a protocol error in a
/// client frame it closes both connections (RFC 6455 section 7.1.7, "Fail the WebSocket
/// Connection"), after the frames before it have gone out.
asio::awaitable<void> copy_client_frames(byte_stream& client, byte_stream& upstream,
                                         rewrite::ws_client_frames& frames, std::string_view early,
                                         std::chrono::milliseconds idle,
                                         std::string_view request_id)
{
    std::string out;
    bool valid = frames.feed(early, out);
    bool ended = false;
    std::array<char, k_read_chunk> buffer{};
    for (;;) {
        if (!out.empty()) {
            upstream.expires_after(idle);
            const auto [wec, written] = co_await upstream.write(asio::buffer(out));
            out.clear();
            if (wec) {
                client.close();
                co_return;
            }
        }
        if (!valid) {
            log::event(log::level::warn, "websocket_protocol_error",
                       {{"request_id", request_id}, {"direction", "client"}});
            client.close();
            upstream.close();
            co_return;
        }
        if (ended) {
            error_code ignored;
            upstream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
            co_return;
        }

        client.expires_after(idle);
        const auto [ec, n] = co_await client.read_some(asio::buffer(buffer));
        valid = frames.feed(std::string_view(buffer.data(), n), out);
        ended = static_cast<bool>(ec);
    }
}

} // namespace

asio::awaitable<bool> proxy_session::relay_upgraded(request_state& rq,
                                                    std::unique_ptr<byte_stream> upstream)
{
    rq.rec.status = response_head_.status;
    close_after_ = true; // the connection stops being HTTP: no further request on it

    // The 101 head as the origin sent it: its Upgrade, Connection and Sec-WebSocket-Accept fields
    // are what the client checks (RFC 6455 section 4.2.2), and frames that followed it at once.
    const std::array<asio::const_buffer, 2> answer{asio::buffer(response_head_storage_),
                                                   upstream_in_.data()};
    if (!co_await write_client(answer)) {
        rq.rec.client_aborted = true;
        upstream->close();
        co_return false;
    }
    upstream_in_.clear();

    // Toward an allowed host the token was resolved with the handshake (forward.cpp); it is empty
    // under on_missing_token: empty, and placeholders then become empty as in any request.
    if (rq.host_allowed) {
        const std::string_view token = rq.token();
        using namespace asio::experimental::awaitable_operators;
        rewrite::ws_client_frames frames(rt_->placeholders, token, rt_->cfg.limits.max_body_bytes);
        const std::chrono::milliseconds idle = rt_->cfg.limits.idle_timeout;
        const std::string_view early = as_view(in_);
        co_await (copy_one_way(*upstream, *client_, idle) &&
                  copy_client_frames(*client_, *upstream, frames, early, idle, rq.rec.request_id));
        in_.consume(in_.size());
        upstream->close();
        debug_rewrite(rq, "websocket", "", frames.replacements());
        co_return false;
    }

    // Frames the client sent right after its handshake go first.
    if (in_.size() > 0) {
        upstream->expires_after(rt_->cfg.limits.idle_timeout);
        const auto [ec, n] = co_await upstream->write(in_.data());
        in_.consume(in_.size());
        if (ec) {
            upstream->close();
            co_return false;
        }
    }

    co_await splice(*client_, *upstream, rt_->cfg.limits.idle_timeout);
    upstream->close();
    co_return false;
}

} // namespace oi::server
