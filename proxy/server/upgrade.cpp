// WebSocket through the proxy (RFC 6455): the opening handshake is served like any request
// (identity, target check, placeholders rewritten in its target and header fields; forward.cpp),
// and once the origin has answered 101 Switching Protocols the client and the origin connections
// are joined. Frames then pass untouched both ways until either side ends or both stay idle for
// limits.idle_timeout.

#include "server/proxy_session.hpp"
#include "server/request_state.hpp"
#include "server/splice.hpp"

namespace oi::server {

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

    // Frames the client sent right after its handshake go first.
    if (in_.size() > 0) {
        upstream->expires_after(rt_->cfg.limits.idle_timeout);
        error_code ec;
        co_await upstream->write(in_.data(), ec);
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
