// The forwarding half of proxy_session: the token, the rewritten request toward the upstream,
// and the request body. The response half is in relay.cpp.

#include "http/chunked.hpp"
#include "oauth/token_response.hpp"
#include "rewrite/rewriter.hpp"
#include "server/proxy_session.hpp"
#include "server/request_state.hpp"

#include <boost/beast/core/error.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace oi::server {

namespace {

/// A body with a content coding other than identity is forwarded as it is: its bytes are not the
/// text a placeholder could be found in (RFC 9110 section 8.4).
bool body_is_encoded(const http::request_head& head)
{
    const auto* field = head.find("Content-Encoding");
    return field != nullptr && !field->value.empty() && !http::iequals(field->value, "identity");
}

/// The token as it may appear in a request target: every byte outside RFC 3986's unreserved set
/// is percent-encoded (section 2.1), so that b64token's '+', '/' and '=' (RFC 6750 section 2.1)
/// and any other VSCHAR keep their value in a path segment or a query (RFC 6750 section 2.3).
std::string percent_encode_for_target(std::string_view token)
{
    return boost::urls::encode(token, boost::urls::unreserved_chars);
}

/// A WebSocket opening handshake (RFC 6455 section 4.1): a bodiless HTTP/1.1 GET that asks to
/// upgrade to `websocket`. Other upgrades are not offered to the origin (their fields are dropped
/// as hop-by-hop), so the request is served as plain HTTP.
bool is_websocket_handshake(const http::request_head& head)
{
    return head.method == "GET" && head.version_minor == 1 && head.body == http::body_kind::none &&
           http::lists_token(head.fields, "Upgrade", "websocket") &&
           http::lists_token(head.fields, "Connection", "upgrade");
}

} // namespace

asio::awaitable<bool> proxy_session::forward(request_state& rq)
{
    const auto& placeholders = rt_->placeholders;
    const bool has_body = head_.body != http::body_kind::none;
    const bool encoded = has_body && body_is_encoded(head_);

    // A chunked body toward an allowed host is rewritten as it streams. Every other body is read
    // whole (bounded by limits.max_body_bytes): with a Content-Length so that the rewritten
    // length is exact before the head goes out, and toward any other host so that a placeholder
    // in it is refused before a single byte is forwarded.
    const bool stream_body = head_.body == http::body_kind::chunked && rq.host_allowed;
    rq.body_read = !has_body;
    rq.websocket = is_websocket_handshake(head_);
    if (has_body && head_.expect_continue && !co_await send_continue()) {
        co_return false;
    }
    std::string body;
    if (has_body && !stream_body && !co_await read_body(rq, body)) {
        co_return false;
    }

    const bool body_has_placeholder =
        has_body && !encoded && !stream_body && placeholders.contains_any(body);
    if (!rq.host_allowed && body_has_placeholder) {
        co_await refuse(rq, refusal::host_not_allowed,
                        "a placeholder may only be sent to the connection's allowed hosts", false);
        co_return !close_after_;
    }

    // The token, only when something will be replaced by it (WebSocket messages may carry
    // placeholders once the connection is upgraded: upgrade.cpp). The worker's cache answers most
    // lookups without a coroutine of their own.
    const bool body_needs_token = body_has_placeholder || (stream_body && !encoded) || rq.websocket;
    if (rq.host_allowed && (rq.head_has_placeholder || body_needs_token)) {
        std::optional<token::lookup_result> found = worker_.grants->cached(*rq.connection, rq.user);
        if (!found) {
            found = co_await worker_.grants->lookup(*rq.connection, rq.user);
        }
        debug_grant(rq, *found);
        if (!take_token(rq, *found)) {
            co_await refuse_without_token(rq, found->status, stream_body);
            co_return !close_after_;
        }
    }

    // Rewrite a buffered body and give it its framing.
    std::string framing;
    if (rq.websocket) {
        // Upgrade and Connection are hop-by-hop: the proxy asks the origin for the upgrade itself
        // (RFC 9110 section 7.8), the only one it knows how to relay.
        framing = "Connection: Upgrade\r\nUpgrade: websocket\r\n";
    } else if (stream_body) {
        framing = "Transfer-Encoding: chunked\r\n";
    } else if (has_body) {
        if (rq.host_allowed && body_has_placeholder) {
            debug_body_rewrite(rq, body);
            scratch_.clear();
            placeholders.replace_all(body, rq.token(), scratch_);
            body.swap(scratch_);
        }
        if (head_.body == http::body_kind::chunked) {
            scratch_.clear();
            http::append_chunk(scratch_, body);
            http::append_last_chunk(scratch_);
            body.swap(scratch_);
            framing = "Transfer-Encoding: chunked\r\n";
        } else {
            framing = "Content-Length: " + std::to_string(body.size()) + "\r\n";
        }
    }
    build_upstream_head(rq, framing);
    co_return co_await exchange(rq, body, stream_body);
}

std::string proxy_session::authorize_url_json(const request_state& rq) const
{
    // A fresh signed link, so that the client can show the user where to click (SPEC.md
    // "Refusals"); null without a public listener to send the user to.
    if (worker_.links == nullptr) {
        return "null";
    }
    const authflow::minted_link link = worker_.links->mint(
        rt_->cfg.public_url, rq.connection->id, rq.user, "", std::chrono::system_clock::now());
    return boost::json::serialize(boost::json::string(link.url));
}

bool proxy_session::take_token(request_state& rq, const token::lookup_result& found) const
{
    switch (found.status) {
    case token::lookup_status::found:
        // Checked where tokens enter; checked again here for grants written by older versions,
        // since a line break or a quote in a token would change the forwarded request.
        if (oauth::is_access_token(found.grant->access_token.reveal())) {
            rq.grant = found.grant;
            rq.rec.token_injected = true;
            return true;
        }
        rq.rec.detail = "the stored access token is not a valid bearer token";
        break;
    case token::lookup_status::store_unavailable:
        return false;
    case token::lookup_status::missing:
        break;
    }

    // No usable grant: the connection decides between an empty value and a refusal.
    rq.grant = nullptr;
    return rq.connection->missing != config::on_missing_token::reject;
}

asio::awaitable<void> proxy_session::refuse_without_token(request_state& rq,
                                                          token::lookup_status status,
                                                          bool body_pending)
{
    if (status == token::lookup_status::store_unavailable) {
        co_await refuse(rq, refusal::store_unavailable, "the grant store is unavailable",
                        body_pending);
        co_return;
    }
    const std::string extra =
        R"("connection":")" + rq.connection->id + R"(","authorize_url":)" + authorize_url_json(rq);
    co_await refuse(rq, refusal::authorization_required,
                    "the user has not authorized this connection", body_pending, extra);
}

void proxy_session::build_upstream_head(request_state& rq, std::string_view framing)
{
    const auto& placeholders = rt_->placeholders;
    const bool rewrite = rq.host_allowed;
    debug_head_rewrites(rq);

    // Request line in origin-form (RFC 9112 section 3.2.1), always HTTP/1.1 upstream.
    out_.clear();
    out_.append(head_.method).push_back(' ');
    if (rewrite && placeholders.contains_any(rq.target.origin_form)) {
        placeholders.replace_all(rq.target.origin_form, percent_encode_for_target(rq.token()),
                                 out_);
    } else {
        out_.append(rq.target.origin_form);
    }
    out_.append(" HTTP/1.1\r\nHost: ");
    http::append_host_header_value(out_, rq.target.scheme, rq.target.host, rq.target.port);
    out_.append("\r\n");

    // End-to-end fields, placeholders replaced; the request id field is the proxy's own. No
    // WebSocket extension is offered toward an allowed host: permessage-deflate (RFC 7692) would
    // compress the messages whose placeholders the proxy rewrites (upgrade.cpp).
    const std::string& request_id_header = rt_->cfg.log.request_id_header;
    for (const auto& field : head_.fields) {
        if (!request_state::forwarded(head_, rt_->cfg.identity, field) ||
            (!request_id_header.empty() && http::iequals(field.name, request_id_header)) ||
            (rewrite && rq.websocket && http::iequals(field.name, "Sec-WebSocket-Extensions"))) {
            continue;
        }
        out_.append(field.name).append(": ");
        if (rewrite && placeholders.contains_any(field.value)) {
            placeholders.replace_all(field.value, rq.token(), out_);
        } else {
            out_.append(field.value);
        }
        out_.append("\r\n");
    }
    if (!request_id_header.empty()) {
        out_.append(request_id_header).append(": ").append(rq.rec.request_id).append("\r\n");
    }
    out_.append(framing);
    out_.append("\r\n");
}

asio::awaitable<bool> proxy_session::send_continue()
{
    // RFC 9110 section 10.1.1: the proxy answers the expectation itself, since it reads the body
    // before the upstream sees the request; Expect is not forwarded.
    if (head_.version_minor < 1) {
        co_return true;
    }
    static constexpr std::string_view k_continue = "HTTP/1.1 100 Continue\r\n\r\n";
    const std::array<asio::const_buffer, 1> buffers{asio::buffer(k_continue)};
    co_return co_await write_client(buffers);
}

asio::awaitable<bool> proxy_session::read_body(request_state& rq, std::string& body)
{
    const auto& limits = rt_->cfg.limits;

    if (head_.body == http::body_kind::length) {
        if (head_.content_length > limits.max_body_bytes) {
            co_await refuse(rq, refusal::payload_too_large, "the request body is too large", true);
            co_return false;
        }
        body.resize(head_.content_length);
        std::size_t have = std::min<std::size_t>(in_.size(), body.size());
        std::memcpy(body.data(), in_.data().data(), have);
        in_.consume(have);
        while (have < body.size()) {
            client_->expires_after(limits.idle_timeout);
            const auto [ec, n] =
                co_await client_->read_some(asio::buffer(body.data() + have, body.size() - have));
            have += n;
            if (ec) {
                rq.rec.client_aborted = true;
                close_after_ = true;
                co_return false;
            }
        }
    } else {
        http::chunked_decoder decoder;
        for (;;) {
            const std::string_view data = as_view(in_);
            const auto step = decoder.decode(data);
            if (step.error != nullptr) {
                rq.rec.detail = step.error;
                co_await refuse(rq, refusal::bad_request, step.error, true);
                co_return false;
            }
            body.append(step.data);
            in_.consume(step.consumed);
            if (body.size() > limits.max_body_bytes) {
                co_await refuse(rq, refusal::payload_too_large, "the request body is too large",
                                true);
                co_return false;
            }
            if (step.done) {
                break;
            }
            if ((step.consumed == 0 || in_.size() == 0) && !co_await read_body_bytes(rq)) {
                co_return false;
            }
        }
    }
    rq.body_read = true;
    rq.rec.request_body_bytes = body.size();
    co_return true;
}

asio::awaitable<bool> proxy_session::relay_chunked_request(request_state& rq, byte_stream& upstream)
{
    const auto& limits = rt_->cfg.limits;
    const bool rewrite = !body_is_encoded(head_);
    rewrite::stream_rewriter rewriter{rt_->placeholders, rq.token()};
    http::chunked_decoder decoder;
    std::string rewritten;

    for (;;) {
        // Decode what is buffered, rewrite it, and send it on as one write.
        scratch_.clear();
        bool done = false;
        while (!done && in_.size() > 0) {
            const auto step = decoder.decode(as_view(in_));
            if (step.error != nullptr) {
                // The head is already upstream: all that is left is to stop, loudly.
                rq.rec.detail = step.error;
                co_await refuse(rq, refusal::bad_request, step.error, true);
                co_return false;
            }
            rq.rec.request_body_bytes += step.data.size();
            if (rewrite) {
                rewritten.clear();
                rewriter.feed(step.data, rewritten);
                http::append_chunk(scratch_, rewritten);
            } else {
                http::append_chunk(scratch_, step.data);
            }
            in_.consume(step.consumed);
            done = step.done;
            if (step.consumed == 0) {
                break;
            }
        }
        if (rq.rec.request_body_bytes > limits.max_body_bytes) {
            co_await refuse(rq, refusal::payload_too_large, "the request body is too large", true);
            co_return false;
        }
        if (done) {
            rewritten.clear();
            rewriter.finish(rewritten);
            debug_rewrite(rq, "body", "", rewriter.replacements());
            http::append_chunk(scratch_, rewritten);
            http::append_last_chunk(scratch_);
        }
        if (!scratch_.empty()) {
            upstream.expires_after(rt_->cfg.upstream.response_timeout);
            const auto [ec, n] = co_await upstream.write(asio::buffer(scratch_));
            if (ec) {
                rq.rec.detail = "the upstream stopped reading the request body";
                co_await refuse(rq, refusal::upstream_unreachable, rq.rec.detail, true);
                co_return false;
            }
        }
        if (done) {
            rq.body_read = true;
            co_return true;
        }
        if (!co_await read_body_bytes(rq)) {
            co_return false;
        }
    }
}

asio::awaitable<bool> proxy_session::read_body_bytes(request_state& rq)
{
    // A client that goes quiet in the middle of its body is given up after the idle timeout.
    client_->expires_after(rt_->cfg.limits.idle_timeout);
    const auto [ec, n] = co_await client_->read_some(in_.prepare(k_read_chunk));
    in_.commit(n);
    if (ec) {
        rq.rec.client_aborted = true;
        close_after_ = true;
        co_return false;
    }
    co_return true;
}

} // namespace oi::server
