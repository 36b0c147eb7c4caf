#pragma once

// A real HTTP/1.1 origin for integration tests: the upstream that the proxy forwards to.
//
// Owned by one test. It listens on 127.0.0.1 on a kernel-chosen port, plain or TLS, with
// keep-alive. An accept thread (its own io_context) hands each connection to a thread of its own,
// which reads requests with Boost.Beast, records each one, and calls the test's handler on that
// connection thread; so a handler may block (on an origin_gate) without stalling other
// connections. Responses are written byte for byte as the handler asks, so tests control framing,
// write boundaries and even malformed output. Set-up failures throw; I/O errors just end the
// connection. `stop()` (also run by the destructor) closes the listener and every connection,
// wakes handlers blocked in `response_writer::wait`, and joins all threads; a handler blocked on
// anything else must return by itself first. Requests are limited to a 1 MiB head and a 256 MiB
// body; reads have no timeout (stop() ends idle connections). origin_server.cpp holds the
// listener and connections, origin_handlers.cpp the writer and the canned handlers.

#include "support/test_pki.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oi::test {

class origin_server;

using header_list = std::vector<std::pair<std::string, std::string>>;

/// One request as the origin received it.
struct recorded_request {
    std::string method;
    std::string target;
    header_list headers;        // in arrival order, names spelled as received
    std::string body;           // de-chunked
    bool chunked = false;       // the body arrived with Transfer-Encoding: chunked
    std::size_t connection = 0; // 1 for the first connection accepted, 2 for the next...

    /// The first value of the header `name` (case-insensitive), or "" when absent.
    [[nodiscard]] std::string header(std::string_view name) const;
    /// How many fields named `name` (case-insensitive) arrived.
    [[nodiscard]] std::size_t header_count(std::string_view name) const;
};

/// A one-shot latch a handler can block on until the test opens it (e.g. to hold a streaming
/// response half-sent). Thread-safe. Waits are bounded and are woken by the server's stop().
class origin_gate {
public:
    void open();
    [[nodiscard]] bool is_open() const;

private:
    friend class response_writer;
    friend class origin_server;

    // Returns true when opened, false on timeout or interruption.
    bool wait(std::chrono::milliseconds timeout);
    void interrupt();

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    bool open_ = false;
    bool interrupted_ = false;
};

/// How a canned response's body is framed.
enum class framing {
    content_length, // Content-Length: n
    chunked,        // Transfer-Encoding: chunked; each write is one chunk
    close_delimited // neither; the connection closes after the body (RFC 9112 section 6.3)
};

/// A complete response. `write_size` > 0 splits the body into writes (and chunks) of that size.
struct canned_response {
    unsigned status = 200;
    header_list headers;
    std::string body;
    framing body_framing = framing::content_length;
    std::size_t write_size = 0;
};

/// The handle a handler uses to answer one request. Each call is one or more socket writes
/// (TCP_NODELAY is set, so separate writes tend to leave as separate segments). After a write
/// error every further call does nothing.
class response_writer {
public:
    /// Sends `response` whole (no body for HEAD requests, as RFC 9110 section 9.3.2 says).
    void respond(const canned_response& response);

    /// Status line and headers; adds Content-Length or Transfer-Encoding from `body_framing`.
    /// `content_length` is used only with framing::content_length.
    void write_head(unsigned status, const header_list& headers, framing body_framing,
                    std::size_t content_length = 0);
    /// A body piece: one chunk when chunked, raw bytes otherwise.
    void write_body(std::string_view data);
    /// Ends the body: the last chunk when chunked; closes the connection when close-delimited.
    void finish();

    /// Writes bytes exactly as given, with no framing (for malformed-response tests).
    void write_raw(std::string_view bytes);
    /// Closes the connection once the handler returns (also for a handler that writes nothing).
    void close_after() { close_ = true; }

    /// Blocks until `gate` opens (true), or on timeout or server stop (false).
    bool wait(origin_gate& gate, std::chrono::milliseconds timeout = std::chrono::seconds{30});

    [[nodiscard]] bool wrote_anything() const noexcept { return wrote_; }
    [[nodiscard]] bool failed() const noexcept { return failed_; }

private:
    friend class origin_server;
    using write_fn = std::function<bool(std::string_view)>;
    response_writer(write_fn write, origin_server& server, bool head_request)
        : write_(std::move(write)), server_(server), head_request_(head_request)
    {}
    void send(std::string_view bytes);

    write_fn write_;
    origin_server& server_;
    bool head_request_;
    bool chunked_ = false;
    bool close_delimited_ = false;
    bool body_allowed_ = true;
    bool wrote_ = false;
    bool failed_ = false;
    bool close_ = false;
};

using origin_handler = std::function<void(const recorded_request&, response_writer&)>;

/// Answers 200 with `{"method":...,"target":...,"body_length":n}` (the default handler).
origin_handler echo_json();
/// Always answers with `response`.
origin_handler respond_with(canned_response response);
/// A redirect: `status` (301, 302, 303, 307, 308) with `Location: location`.
origin_handler redirect_to(std::string location, unsigned status = 302);
/// Writes `bytes` verbatim, then closes the connection when `close` is set.
origin_handler respond_raw(std::string bytes, bool close = true);
/// Server-sent events: headers and `first` events, then waits for `gate`, then `rest`, each event
/// its own chunk (text/event-stream, chunked). Events are sent as given ("data: x\n\n").
origin_handler stream_events(std::vector<std::string> first, std::shared_ptr<origin_gate> gate,
                             std::vector<std::string> rest);
/// Waits for `gate` (or stop), then answers with `response`: for timeout tests.
origin_handler respond_after(std::shared_ptr<origin_gate> gate, canned_response response);

class origin_server {
public:
    /// Plain HTTP.
    origin_server();
    /// TLS with the given certificate chain and key (PEM files), e.g. from make_test_pki.
    origin_server(const std::filesystem::path& cert_file, const std::filesystem::path& key_file);
    /// TLS with `pki.server_cert`.
    explicit origin_server(const test_pki& pki);
    ~origin_server();
    origin_server(const origin_server&) = delete;
    origin_server& operator=(const origin_server&) = delete;

    [[nodiscard]] unsigned short port() const noexcept { return port_; }
    [[nodiscard]] bool tls() const noexcept { return tls_; }
    /// "127.0.0.1:<port>", as in upstream.allow_addresses.
    [[nodiscard]] std::string address() const;
    /// "http(s)://<host>:<port><path>"; `host` should match the certificate for TLS.
    [[nodiscard]] std::string url(std::string_view path = "/",
                                  std::string_view host = "127.0.0.1") const;

    /// Replaces the handler for requests read from now on.
    void set_handler(origin_handler handler);

    [[nodiscard]] std::vector<recorded_request> requests() const;
    /// Waits until at least `count` requests were recorded; false on timeout.
    bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const;
    [[nodiscard]] std::size_t connections_accepted() const;

    void stop();

private:
    friend class response_writer;
    struct impl;
    void start(bool tls);
    void run_connection(int fd, std::size_t number);
    template <class Stream> void serve(Stream& stream, std::size_t connection);
    bool wait_on(origin_gate& gate, std::chrono::milliseconds timeout);

    std::unique_ptr<impl> impl_;
    unsigned short port_ = 0;
    bool tls_ = false;
};

} // namespace oi::test
