#pragma once

// A byte stream seen through one small interface, so that the proxy session is written once for
// plain TCP and TLS, on the client side and the upstream side alike.
//
// Every operation runs on the io_context that owns the socket and reports failures through the
// error_code argument; none throws. Timeouts are set with expires_after() before an operation and
// surface as boost::beast::error::timeout.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <span>
#include <tuple>

namespace oi {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

/// What a read or a write came to: its error (boost::beast::error::timeout when the stream's
/// expiry ran out) and the number of bytes moved.
using io_result = std::tuple<error_code, std::size_t>;

class byte_stream {
public:
    virtual ~byte_stream() = default;

    // Reads and writes hand out Asio's own operation, not a coroutine of their own: each would
    // cost a frame per operation, several per proxied request.
    virtual asio::awaitable<io_result> read_some(asio::mutable_buffer buffer) = 0;
    /// Writes all of `buffers`, which must stay valid until the operation has completed.
    virtual asio::awaitable<io_result> write(std::span<const asio::const_buffer> buffers) = 0;
    /// Writes all of `buffer`, whose bytes must stay valid until the operation has completed.
    virtual asio::awaitable<io_result> write(asio::const_buffer buffer) = 0;
    /// Bounds the operations started after this call (and any pending one).
    virtual void expires_after(std::chrono::milliseconds timeout) = 0;
    virtual void expires_never() = 0;
    /// Graceful close: TLS close_notify where there is TLS, then the socket is closed.
    virtual asio::awaitable<void> shutdown() = 0;
    /// Immediate close; pending operations complete with operation_aborted.
    virtual void close() = 0;
    virtual asio::ip::tcp::socket& socket() = 0;
    [[nodiscard]] virtual bool is_tls() const noexcept = 0;
};

/// Plain TCP.
class tcp_byte_stream final : public byte_stream {
public:
    explicit tcp_byte_stream(boost::beast::tcp_stream stream) : stream_(std::move(stream)) {}

    asio::awaitable<io_result> read_some(asio::mutable_buffer buffer) override
    {
        return stream_.async_read_some(buffer, asio::as_tuple(asio::use_awaitable));
    }

    asio::awaitable<io_result> write(std::span<const asio::const_buffer> buffers) override
    {
        return asio::async_write(stream_, buffers, asio::as_tuple(asio::use_awaitable));
    }

    asio::awaitable<io_result> write(asio::const_buffer buffer) override
    {
        return asio::async_write(stream_, buffer, asio::as_tuple(asio::use_awaitable));
    }

    void expires_after(std::chrono::milliseconds timeout) override
    {
        stream_.expires_after(timeout);
    }
    void expires_never() override { stream_.expires_never(); }

    asio::awaitable<void> shutdown() override
    {
        error_code ignored;
        stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        stream_.close();
        co_return;
    }
    void close() override { stream_.close(); }
    asio::ip::tcp::socket& socket() override { return stream_.socket(); }
    [[nodiscard]] bool is_tls() const noexcept override { return false; }

private:
    boost::beast::tcp_stream stream_;
};

/// TLS over TCP; the handshake has been done by whoever built it.
class tls_byte_stream final : public byte_stream {
public:
    using stream_type = boost::beast::ssl_stream<boost::beast::tcp_stream>;

    explicit tls_byte_stream(std::unique_ptr<stream_type> stream) : stream_(std::move(stream)) {}

    asio::awaitable<io_result> read_some(asio::mutable_buffer buffer) override
    {
        return stream_->async_read_some(buffer, asio::as_tuple(asio::use_awaitable));
    }

    asio::awaitable<io_result> write(std::span<const asio::const_buffer> buffers) override
    {
        return asio::async_write(*stream_, buffers, asio::as_tuple(asio::use_awaitable));
    }

    asio::awaitable<io_result> write(asio::const_buffer buffer) override
    {
        return asio::async_write(*stream_, buffer, asio::as_tuple(asio::use_awaitable));
    }

    void expires_after(std::chrono::milliseconds timeout) override
    {
        boost::beast::get_lowest_layer(*stream_).expires_after(timeout);
    }
    void expires_never() override { boost::beast::get_lowest_layer(*stream_).expires_never(); }

    asio::awaitable<void> shutdown() override
    {
        // Bounded: a peer that never answers close_notify must not hold the connection.
        expires_after(std::chrono::seconds(2));
        auto [e] = co_await stream_->async_shutdown(asio::as_tuple(asio::use_awaitable));
        (void)e;
        boost::beast::get_lowest_layer(*stream_).close();
    }
    void close() override { boost::beast::get_lowest_layer(*stream_).close(); }
    asio::ip::tcp::socket& socket() override
    {
        return boost::beast::get_lowest_layer(*stream_).socket();
    }
    [[nodiscard]] bool is_tls() const noexcept override { return true; }

private:
    std::unique_ptr<stream_type> stream_; // ssl_stream is not movable once used: keep it put
};

} // namespace oi
