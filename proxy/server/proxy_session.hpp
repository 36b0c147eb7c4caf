#pragma once

// One client connection on the proxy listener, from accept to close: reads requests one after
// the other (pipelined requests wait in the buffer), and for each one establishes the identity,
// finds the connection, checks the destination, loads the grant, rewrites the placeholders,
// forwards the request and streams the response back.
//
// Runs as one coroutine on its worker's io_context; owns the client stream. Errors never escape
// as exceptions: a request the proxy refuses gets a named refusal (common/refusal.hpp), and a
// broken connection just ends the session. Every request ends with one exchange_record.

#include "common/byte_stream.hpp"
#include "http/message.hpp"
#include "http/target.hpp"
#include "server/exchange_record.hpp"
#include "server/runtime.hpp"
#include "server/worker.hpp"

#include <boost/beast/core/flat_buffer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace oi::server {

using runtime_source = std::function<runtime_ptr()>;
using exchange_sink = std::function<void(const exchange_record&)>;

/// The CONNECT a session serves the inside of, when it does: requests in origin-form go to this
/// host on behalf of the CONNECT's identity, over TLS when the client spoke TLS in the tunnel and
/// in plain HTTP when it did not.
struct tunnel_context {
    std::string host;
    std::uint16_t port = 0;
    std::string user;
    std::string plugin;
    bool tls = true;
};

class proxy_session {
public:
    proxy_session(worker& w, std::unique_ptr<byte_stream> client, runtime_source runtime,
                  exchange_sink on_exchange, std::optional<tunnel_context> tunnel = {});

    asio::awaitable<void> run();

    /// Graceful shutdown (worker.draining is set): an idle connection is closed now, one with a
    /// request in flight after its response, which says `Connection: close`. Worker's thread.
    void drain();

private:
    enum class head_status { ok, closed, refused };

    /// The request being served: its head (views into head_storage_) and what was decided.
    struct request_state;

    enum class response_status { ok, failed_before_response, failed };

    asio::awaitable<head_status> read_request_head(request_state& rq);
    asio::awaitable<bool> serve(request_state& rq);
    void adopt_request_id(request_state& rq) const;
    /// Why a request's identity is refused (the message is a literal).
    struct identity_refusal {
        refusal reason;
        std::string_view message;
    };
    /// Sets rq.user and rq.plugin, or says why the request is refused. No coroutine: it never
    /// waits, and runs on every request.
    std::optional<identity_refusal> establish_identity(request_state& rq) const;
    asio::awaitable<bool> handle_connect(request_state& rq);
    asio::awaitable<bool> intercept_tunnel(request_state& rq, const http::authority& to);
    asio::awaitable<std::unique_ptr<byte_stream>> accept_tunnel_tls(request_state& rq,
                                                                    const http::authority& to);
    asio::awaitable<bool> relay_tunnel(request_state& rq, const http::authority& to);
    asio::awaitable<bool> relay_upgraded(request_state& rq, std::unique_ptr<byte_stream> upstream);
    std::optional<http::proxy_target> request_target() const;
    bool head_contains_placeholder(const request_state& rq) const;
    asio::awaitable<bool> forward(request_state& rq);
    /// Takes the token from a lookup; false when the request must be refused instead.
    bool take_token(request_state& rq, const token::lookup_result& found) const;
    asio::awaitable<void> refuse_without_token(request_state& rq, token::lookup_status status,
                                               bool body_pending);
    /// The `authorize_url` of an authorization_required refusal, as JSON (a string or null).
    [[nodiscard]] std::string authorize_url_json(const request_state& rq) const;
    void build_upstream_head(request_state& rq, std::string_view framing);
    asio::awaitable<bool> read_body(request_state& rq, std::string& body);
    asio::awaitable<bool> read_body_bytes(request_state& rq);
    asio::awaitable<bool> exchange(request_state& rq, const std::string& body, bool stream_body);
    asio::awaitable<bool> relay_chunked_request(request_state& rq, byte_stream& upstream);
    asio::awaitable<response_status> read_response_head(request_state& rq, byte_stream& upstream);
    asio::awaitable<bool> relay_response(request_state& rq, byte_stream& upstream,
                                         bool& upstream_reusable);
    /// The response head toward the client, into out_ (the request head has gone by then).
    void build_client_response_head(bool& dechunk, bool& rechunk);
    asio::awaitable<void> refuse(request_state& rq, refusal r, std::string_view message, bool close,
                                 std::string_view extra_json = {});
    asio::awaitable<bool> send_continue();
    asio::awaitable<void> close_client();
    asio::awaitable<bool> write_client(std::span<const asio::const_buffer> buffers);

    // Debug-level events (debug_events.cpp); each returns at once below `debug`.
    void debug_identity(const request_state& rq) const;
    void debug_connection(const request_state& rq) const;
    void debug_grant(const request_state& rq, const token::lookup_result& found) const;
    void debug_head_rewrites(const request_state& rq) const;
    void debug_body_rewrite(const request_state& rq, std::string_view body) const;
    void debug_rewrite(const request_state& rq, std::string_view where, std::string_view header,
                       std::size_t count) const;
    void debug_upstream(const request_state& rq, const upstream::pool::lease& lease,
                        int attempt) const;
    void debug_tunnel(const request_state& rq, std::string_view decision) const;

    worker& worker_;
    std::unique_ptr<byte_stream> client_;
    runtime_source runtime_source_;
    exchange_sink on_exchange_;
    runtime_ptr rt_;
    std::optional<tunnel_context> tunnel_;

    boost::beast::flat_buffer in_;          // bytes from the client not yet consumed
    boost::beast::flat_buffer upstream_in_; // bytes from the upstream not yet consumed
    std::string head_storage_;              // the current request head
    std::string response_head_storage_;     // the current response head
    // The head being sent: the request head upstream, then (once the response has arrived) the
    // response head to the client. One buffer, so that an idle connection keeps one.
    std::string out_;
    std::string scratch_; // rewritten body pieces, chunk framing
    http::request_head head_;
    http::response_head response_head_;
    bool close_after_ = false;
    bool idle_ = false; // waiting for the first byte of the next request
};

} // namespace oi::server
