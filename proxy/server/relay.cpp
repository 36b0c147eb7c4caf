// The response half of proxy_session: one exchange with the upstream (with one retry on a stale
// pooled connection) and the response streamed back to the client as it arrives.

#include "http/chunked.hpp"
#include "server/proxy_session.hpp"
#include "server/request_state.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>

namespace oi::server {

namespace {

std::size_t find_response_head_end(std::string_view data)
{
    const std::size_t crlf = data.find("\r\n\r\n");
    const std::size_t lf = data.find("\n\n");
    if (crlf == std::string_view::npos && lf == std::string_view::npos) {
        return std::string_view::npos;
    }
    return crlf < lf ? crlf + 4 : lf + 2;
}

bool is_harmless_end(const error_code& ec)
{
    return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
           ec == asio::error::connection_reset;
}

} // namespace

asio::awaitable<bool> proxy_session::exchange(request_state& rq, const std::string& body,
                                              bool stream_body)
{
    const upstream::destination to{rq.target.scheme, rq.target.host, rq.target.port};
    const bool replayable = !stream_body;

    for (int attempt = 0;; ++attempt) {
        // A replayable request skips the idle check: a connection the server closed meanwhile
        // fails before any answer and the request goes again, this time on a checked one (the
        // other idle connections may have been closed too, e.g. by a server restart).
        const bool check_idle = !replayable || attempt > 0;
        // An idle connection is taken without a coroutine of its own; a new one is connected.
        auto lease = worker_.pool->take_idle(to, check_idle);
        if (!lease.reused) {
            lease = co_await worker_.pool->connect_new(to);
        }
        if (!lease.connection.stream) {
            rq.rec.detail = lease.connection.detail;
            co_await refuse(rq, lease.connection.failure, "the upstream could not be reached",
                            !rq.body_read);
            co_return !close_after_;
        }
        debug_upstream(rq, lease, attempt);
        std::unique_ptr<byte_stream> upstream = std::move(lease.connection.stream);
        rq.rec.upstream_reused = lease.reused;
        const auto sent_at = std::chrono::steady_clock::now();

        // The head and a buffered body leave in one write.
        upstream->expires_after(rt_->cfg.upstream.response_timeout);
        const std::array<asio::const_buffer, 2> request{asio::buffer(out_), asio::buffer(body)};
        const auto [ec, written] = co_await upstream->write(request);
        if (!ec && stream_body && !co_await relay_chunked_request(rq, *upstream)) {
            upstream->close();
            co_return false;
        }

        response_status got = response_status::failed_before_response;
        if (ec) {
            rq.upstream_failure = refusal::upstream_unreachable;
            rq.rec.detail = "writing the request upstream failed";
        } else {
            got = co_await read_response_head(rq, *upstream);
        }

        // A pooled connection the server closed meanwhile: once more on a new one.
        if (got == response_status::failed_before_response && lease.reused && replayable &&
            attempt == 0) {
            upstream->close();
            continue;
        }
        if (got != response_status::ok) {
            upstream->close();
            co_await refuse(rq, rq.upstream_failure, "the upstream did not answer properly",
                            !rq.body_read);
            co_return !close_after_;
        }
        rq.rec.upstream_time = std::chrono::steady_clock::now() - sent_at;
        if (response_head_.status == 101) {
            co_return co_await relay_upgraded(rq, std::move(upstream));
        }

        bool reusable = false;
        const bool relayed = co_await relay_response(rq, *upstream, reusable);
        if (reusable) {
            worker_.pool->release(to, std::move(upstream));
        } else {
            upstream->close();
        }
        co_return relayed && !close_after_;
    }
}

asio::awaitable<proxy_session::response_status>
proxy_session::read_response_head(request_state& rq, byte_stream& upstream)
{
    const auto& cfg = rt_->cfg;
    upstream_in_.clear();
    bool received = false;
    upstream.expires_after(cfg.upstream.response_timeout);

    for (;;) {
        const std::string_view data = as_view(upstream_in_);
        const std::size_t end = find_response_head_end(data);
        if (end != std::string_view::npos) {
            response_head_storage_.assign(data.substr(0, end));
            upstream_in_.consume(end);
            const auto parsed = http::parse_response_head(
                response_head_storage_, cfg.limits.max_header_bytes, head_.method, response_head_);
            if (parsed.status != http::parse_status::complete || parsed.consumed != end) {
                rq.upstream_failure = refusal::upstream_bad_response;
                rq.rec.detail = parsed.status == http::parse_status::complete
                                    ? "the upstream response head is malformed"
                                    : parsed.error;
                co_return response_status::failed;
            }
            // Interim responses are dropped: the proxy answered Expect itself, and a 101 is a
            // protocol error unless the proxy asked for a WebSocket upgrade (RFC 9110 section
            // 15.2.2).
            if (response_head_.status == 101 && rq.websocket) {
                co_return response_status::ok;
            }
            if (response_head_.status == 101) {
                rq.upstream_failure = refusal::upstream_bad_response;
                rq.rec.detail = "the upstream switched protocols unasked";
                co_return response_status::failed;
            }
            if (response_head_.status < 200) {
                continue;
            }
            co_return response_status::ok;
        }
        if (data.size() > cfg.limits.max_header_bytes) {
            rq.upstream_failure = refusal::upstream_bad_response;
            rq.rec.detail = "the upstream response head is too large";
            co_return response_status::failed;
        }

        const auto [ec, n] = co_await upstream.read_some(upstream_in_.prepare(k_read_chunk));
        upstream_in_.commit(n);
        if (ec) {
            const bool timed_out = ec == boost::beast::error::timeout;
            rq.upstream_failure =
                timed_out ? refusal::upstream_timeout : refusal::upstream_unreachable;
            rq.rec.detail = timed_out ? "the upstream did not answer in time"
                                      : "the upstream closed the connection";
            co_return received || timed_out ? response_status::failed
                                            : response_status::failed_before_response;
        }
        received = true;
    }
}

void proxy_session::build_client_response_head(bool& dechunk, bool& rechunk)
{
    const bool client_11 = head_.version_minor >= 1;
    if (!head_.keep_alive) {
        close_after_ = true;
    }
    dechunk = false;
    rechunk = false;
    if (response_head_.body == http::body_kind::chunked && !client_11) {
        dechunk = true; // RFC 9112 section 7.1: no chunked toward an HTTP/1.0 client
        close_after_ = true;
    }
    if (response_head_.body == http::body_kind::until_eof) {
        if (client_11) {
            rechunk = true; // the client connection survives the upstream's close
        } else {
            close_after_ = true;
        }
    }

    std::string& out = out_;
    out.clear();
    out.append("HTTP/1.1 ").append(std::to_string(response_head_.status)).push_back(' ');
    out.append(response_head_.reason).append("\r\n");
    std::string_view original_length;
    for (const auto& field : response_head_.fields) {
        if (http::iequals(field.name, "Content-Length")) {
            original_length = field.value;
            continue;
        }
        if (http::is_hop_by_hop(field.name, response_head_.fields)) {
            continue;
        }
        out.append(field.name).append(": ").append(field.value).append("\r\n");
    }
    switch (response_head_.body) {
    case http::body_kind::length:
        out.append("Content-Length: ")
            .append(std::to_string(response_head_.content_length))
            .append("\r\n");
        break;
    case http::body_kind::chunked:
        if (!dechunk) {
            out.append("Transfer-Encoding: chunked\r\n");
        }
        break;
    case http::body_kind::until_eof:
        if (rechunk) {
            out.append("Transfer-Encoding: chunked\r\n");
        }
        break;
    case http::body_kind::none:
        // HEAD and 304 answers keep the length of the representation (RFC 9110 section 8.6).
        if (!original_length.empty()) {
            out.append("Content-Length: ").append(original_length).append("\r\n");
        }
        break;
    }
    if (close_after_) {
        out.append("Connection: close\r\n");
    } else if (!client_11) {
        out.append("Connection: keep-alive\r\n"); // RFC 9112 section 9.3: 1.0 needs it said
    }
    out.append("\r\n");
}

asio::awaitable<bool> proxy_session::relay_response(request_state& rq, byte_stream& upstream,
                                                    bool& upstream_reusable)
{
    const auto& cfg = rt_->cfg;
    bool dechunk = false;
    bool rechunk = false;
    build_client_response_head(dechunk, rechunk);
    std::string_view pending_head = out_;
    rq.rec.status = response_head_.status;

    http::chunked_decoder decoder;
    std::uint64_t remaining = response_head_.content_length;
    bool finished = response_head_.body == http::body_kind::none ||
                    (response_head_.body == http::body_kind::length && remaining == 0);
    bool upstream_ended = false;

    for (;;) {
        // Turn what the upstream sent so far into what the client gets: the bytes as they are
        // (a view into upstream_in_, not copied), or scratch_ when the framing changes.
        scratch_.clear();
        const std::string_view data = as_view(upstream_in_);
        std::size_t used = 0;
        std::string_view body_out;
        switch (response_head_.body) {
        case http::body_kind::none:
            break;
        case http::body_kind::length: {
            used = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, data.size()));
            body_out = data.substr(0, used);
            remaining -= used;
            finished = remaining == 0;
            break;
        }
        case http::body_kind::chunked:
            while (used < data.size() && !finished) {
                const auto step = decoder.decode(data.substr(used));
                if (step.error != nullptr) {
                    rq.rec.detail = step.error;
                    if (!pending_head.empty()) {
                        // Nothing reached the client yet: it can still get an honest refusal.
                        co_await refuse(rq, refusal::upstream_bad_response,
                                        "the upstream's response framing is invalid", true);
                        co_return false;
                    }
                    // The head went out already: the only honest signal left is to close.
                    close_after_ = true;
                    co_return false;
                }
                if (dechunk) {
                    scratch_.append(step.data);
                }
                used += step.consumed;
                finished = step.done;
                if (step.consumed == 0) {
                    break;
                }
            }
            body_out = dechunk ? std::string_view{scratch_} : data.substr(0, used);
            break;
        case http::body_kind::until_eof:
            used = data.size();
            body_out = data;
            if (rechunk) {
                http::append_chunk(scratch_, data);
                if (upstream_ended) {
                    http::append_last_chunk(scratch_);
                }
                body_out = scratch_;
            }
            finished = upstream_ended;
            break;
        }
        rq.rec.response_body_bytes += used;

        // Send the head (first time round) and the body bytes in one write; only then may the
        // bytes leave upstream_in_.
        if (!pending_head.empty() || !body_out.empty()) {
            const std::array<asio::const_buffer, 2> out{asio::buffer(pending_head),
                                                        asio::buffer(body_out)};
            if (!co_await write_client(out)) {
                rq.rec.client_aborted = true;
                co_return false;
            }
            pending_head = {};
        }
        upstream_in_.consume(used);
        if (finished) {
            break;
        }

        // More from the upstream: each read bounded by the response timeout.
        upstream.expires_after(cfg.upstream.response_timeout);
        const auto [ec, n] = co_await upstream.read_some(upstream_in_.prepare(k_read_chunk));
        upstream_in_.commit(n);
        if (ec) {
            if (response_head_.body == http::body_kind::until_eof && is_harmless_end(ec)) {
                upstream_ended = true;
                continue;
            }
            // Truncated: the client must not take a partial body for a whole one.
            rq.rec.detail = ec == boost::beast::error::timeout
                                ? "the upstream stalled in the middle of the response"
                                : "the upstream closed in the middle of the response";
            close_after_ = true;
            co_return false;
        }
    }

    // Reuse only a connection whose message ended exactly where its framing said: extra bytes
    // would be a second response nobody asked for (response smuggling).
    upstream_reusable = response_head_.keep_alive && rq.body_read &&
                        response_head_.body != http::body_kind::until_eof &&
                        upstream_in_.size() == 0;
    co_return true;
}

} // namespace oi::server
