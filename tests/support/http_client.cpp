#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <stdexcept>

namespace oi::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

bool iequal(std::string_view a, std::string_view b)
{
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

template <class Message> http_response convert(const Message& m)
{
    http_response out;
    out.status = m.result_int();
    for (const auto& field : m) {
        out.headers.emplace_back(std::string{field.name_string()}, std::string{field.value()});
    }
    return out;
}

} // namespace

std::string http_response::header(std::string_view name) const
{
    for (const auto& [n, v] : headers) {
        if (iequal(n, name)) {
            return v;
        }
    }
    return {};
}

struct raw_connection::impl {
    asio::io_context io;
    beast::tcp_stream stream{io};
    beast::flat_buffer buffer;
    std::chrono::milliseconds timeout;

    template <class Op> void run(Op&& op)
    {
        stream.expires_after(timeout);
        beast::error_code result = asio::error::would_block;
        op([&result](beast::error_code ec, std::size_t) { result = ec; });
        io.restart();
        io.run();
        if (result) {
            throw std::runtime_error("test client: " + result.message());
        }
    }
};

raw_connection::raw_connection(unsigned short port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>())
{
    impl_->timeout = timeout;
    impl_->stream.connect(asio::ip::tcp::endpoint{asio::ip::make_address("127.0.0.1"), port});
}

raw_connection::~raw_connection() = default;

void raw_connection::send(std::string_view bytes)
{
    impl_->run([&](auto handler) {
        asio::async_write(impl_->stream, asio::buffer(bytes.data(), bytes.size()), handler);
    });
}

http_response raw_connection::read_response(bool head_request)
{
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(head_request);
    impl_->run(
        [&](auto handler) { http::async_read(impl_->stream, impl_->buffer, parser, handler); });
    auto out = convert(parser.get());
    out.body = parser.get().body();
    return out;
}

std::pair<http_response, std::string> raw_connection::read_head_and_first_piece()
{
    http::response_parser<http::buffer_body> parser;
    impl_->run([&](auto handler) {
        http::async_read_header(impl_->stream, impl_->buffer, parser, handler);
    });
    auto head = convert(parser.get());

    // Chunk headers may arrive alone: read until some payload is there.
    std::string piece(4096, '\0');
    while (!parser.is_done()) {
        parser.get().body().data = piece.data();
        parser.get().body().size = piece.size();
        impl_->run([&](auto handler) {
            http::async_read_some(
                impl_->stream, impl_->buffer, parser,
                [handler](beast::error_code ec, std::size_t n) {
                    handler(ec == http::error::need_buffer ? beast::error_code{} : ec, n);
                });
        });
        if (parser.get().body().size < piece.size()) {
            break;
        }
    }
    piece.resize(piece.size() - parser.get().body().size);
    return {std::move(head), std::move(piece)};
}

std::string raw_connection::read_until_close()
{
    std::string out{static_cast<const char*>(impl_->buffer.data().data()), impl_->buffer.size()};
    impl_->buffer.clear();
    for (;;) {
        char chunk[4096];
        std::size_t got = 0;
        beast::error_code result = asio::error::would_block;
        impl_->stream.expires_after(impl_->timeout);
        impl_->stream.async_read_some(asio::buffer(chunk),
                                      [&](beast::error_code ec, std::size_t n) {
                                          result = ec;
                                          got = n;
                                      });
        impl_->io.restart();
        impl_->io.run();
        out.append(chunk, got);
        if (result) {
            return out;
        }
    }
}

bool raw_connection::closed_by_peer()
{
    char byte = 0;
    beast::error_code result = asio::error::would_block;
    impl_->stream.expires_after(impl_->timeout);
    impl_->stream.async_read_some(asio::buffer(&byte, 1),
                                  [&](beast::error_code ec, std::size_t) { result = ec; });
    impl_->io.restart();
    impl_->io.run();
    return result == asio::error::eof || result == asio::error::connection_reset;
}

http_response http_exchange(unsigned short port, std::string_view request)
{
    raw_connection c{port};
    c.send(request);
    return c.read_response();
}

} // namespace oi::test
