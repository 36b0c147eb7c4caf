#include "support/origin_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/read.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <list>
#include <optional>
#include <set>
#include <thread>

namespace oi::test {
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t k_header_limit = 1024 * 1024;
constexpr std::uint64_t k_body_limit = 256ULL * 1024 * 1024;
constexpr auto k_tls_shutdown_grace = std::chrono::milliseconds{500};

// Records a request exactly as it arrives: Beast's own fields container groups repeated names
// together, but tests of a proxy need the fields in their original order.
class recording_parser final : public http::basic_parser<true> {
public:
    explicit recording_parser(std::size_t connection) { request_.connection = connection; }

    [[nodiscard]] recorded_request release() { return std::move(request_); }
    [[nodiscard]] bool head_request() const noexcept { return head_; }

private:
    using error_code = boost::system::error_code;
    using sv = boost::beast::string_view; // what basic_parser's callbacks take

    void on_request_impl(http::verb method, sv method_string, sv target, int /*version*/,
                         error_code& /*ec*/) override
    {
        head_ = method == http::verb::head;
        request_.method.assign(method_string.data(), method_string.size());
        request_.target.assign(target.data(), target.size());
    }
    void on_response_impl(int, sv, int, error_code& /*ec*/) override {}
    void on_field_impl(http::field /*name*/, sv name, sv value, error_code& /*ec*/) override
    {
        request_.headers.emplace_back(std::string(name.data(), name.size()),
                                      std::string(value.data(), value.size()));
    }
    void on_header_impl(error_code& /*ec*/) override { request_.chunked = chunked(); }
    void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                           error_code& /*ec*/) override
    {
        if (length) {
            request_.body.reserve(static_cast<std::size_t>(*length));
        }
    }
    std::size_t on_body_impl(sv body, error_code& /*ec*/) override
    {
        request_.body.append(body.data(), body.size());
        return body.size();
    }
    void on_chunk_header_impl(std::uint64_t, sv, error_code& /*ec*/) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, sv body, error_code& /*ec*/) override
    {
        request_.body.append(body.data(), body.size());
        return body.size();
    }
    void on_finish_impl(error_code& /*ec*/) override {}

    recorded_request request_;
    bool head_ = false;
};

} // namespace

// ---- origin_server ---------------------------------------------------------------------------

struct origin_server::impl {
    struct connection_record {
        int fd = -1;
        bool open = true;
        std::thread thread;
    };

    net::io_context accept_context;
    tcp::acceptor acceptor{accept_context};
    std::optional<ssl::context> tls_context;
    std::thread accept_thread;

    mutable std::mutex mutex;
    mutable std::condition_variable requests_changed;
    std::vector<recorded_request> requests;
    origin_handler handler = echo_json();
    std::size_t accepted = 0;
    bool stopping = false;
    std::list<connection_record> connections;
    std::multiset<origin_gate*> waiting_gates;

    static net::awaitable<void> accept_loop(origin_server& server);
};

net::awaitable<void> origin_server::impl::accept_loop(origin_server& server)
{
    for (;;) {
        auto [ec, socket] =
            co_await server.impl_->acceptor.async_accept(net::as_tuple(net::use_awaitable));
        if (ec) {
            co_return;
        }

        const std::lock_guard lock{server.impl_->mutex};
        if (server.impl_->stopping) {
            co_return;
        }
        const std::size_t number = ++server.impl_->accepted;
        auto& record = server.impl_->connections.emplace_back();
        record.fd = socket.native_handle();
        record.thread = std::thread([&server, &record, number, fd = socket.release()] {
            server.run_connection(fd, number);
            const std::lock_guard done{server.impl_->mutex};
            record.open = false;
            ::close(fd);
        });
    }
}

origin_server::origin_server() : impl_(std::make_unique<impl>())
{
    start(false);
}

origin_server::origin_server(const std::filesystem::path& cert_file,
                             const std::filesystem::path& key_file)
    : impl_(std::make_unique<impl>())
{
    impl_->tls_context.emplace(ssl::context::tls_server);
    impl_->tls_context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                                    ssl::context::no_tlsv1_1);
    impl_->tls_context->use_certificate_chain_file(cert_file.string());
    impl_->tls_context->use_private_key_file(key_file.string(), ssl::context::pem);
    start(true);
}

origin_server::origin_server(const test_pki& pki) : origin_server(pki.server_cert, pki.server_key)
{}

origin_server::~origin_server()
{
    stop();
}

std::string origin_server::address() const
{
    return "127.0.0.1:" + std::to_string(port_);
}

std::string origin_server::url(std::string_view path, std::string_view host) const
{
    std::string url = tls_ ? "https://" : "http://";
    url.append(host);
    url += ":" + std::to_string(port_);
    url.append(path);
    return url;
}

void origin_server::set_handler(origin_handler handler)
{
    const std::lock_guard lock{impl_->mutex};
    impl_->handler = std::move(handler);
}

std::vector<recorded_request> origin_server::requests() const
{
    const std::lock_guard lock{impl_->mutex};
    return impl_->requests;
}

bool origin_server::wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const
{
    std::unique_lock lock{impl_->mutex};
    return impl_->requests_changed.wait_for(lock, timeout,
                                            [&] { return impl_->requests.size() >= count; });
}

std::size_t origin_server::connections_accepted() const
{
    const std::lock_guard lock{impl_->mutex};
    return impl_->accepted;
}

bool origin_server::wait_on(origin_gate& gate, std::chrono::milliseconds timeout)
{
    {
        const std::lock_guard lock{impl_->mutex};
        if (impl_->stopping) {
            return false;
        }
        impl_->waiting_gates.insert(&gate);
    }
    const bool opened = gate.wait(timeout);
    {
        const std::lock_guard lock{impl_->mutex};
        impl_->waiting_gates.erase(impl_->waiting_gates.find(&gate));
    }
    return opened;
}

void origin_server::start(bool tls)
{
    tls_ = tls;
    const tcp::endpoint endpoint{net::ip::make_address_v4("127.0.0.1"), 0};
    impl_->acceptor.open(endpoint.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(endpoint);
    impl_->acceptor.listen();
    port_ = impl_->acceptor.local_endpoint().port();

    net::co_spawn(impl_->accept_context, impl::accept_loop(*this), net::detached);
    impl_->accept_thread = std::thread([this] { impl_->accept_context.run(); });
}

void origin_server::run_connection(int fd, std::size_t number)
{
    // The connection's own io_context: sync I/O, run only for the TLS close below. The socket
    // works on a duplicate so that `fd` stays valid for stop() until the record is marked closed.
    net::io_context context;
    boost::system::error_code ec;
    if (!impl_->tls_context) {
        tcp::socket socket{context};
        socket.assign(tcp::v4(), ::dup(fd), ec);
        if (ec) {
            return;
        }
        socket.set_option(tcp::no_delay(true), ec);
        serve(socket, number);
        socket.shutdown(tcp::socket::shutdown_send, ec);
        return;
    }

    ssl::stream<tcp::socket> stream{context, *impl_->tls_context};
    stream.next_layer().assign(tcp::v4(), ::dup(fd), ec);
    if (ec) {
        return;
    }
    stream.next_layer().set_option(tcp::no_delay(true), ec);
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) {
        return;
    }
    serve(stream, number);

    // Send close_notify; do not wait long for the peer's (RFC 8446 section 6.1 allows closing).
    stream.async_shutdown([](boost::system::error_code) {});
    context.run_for(k_tls_shutdown_grace);
    stream.next_layer().shutdown(tcp::socket::shutdown_send, ec);
}

template <class Stream> void origin_server::serve(Stream& stream, std::size_t connection)
{
    boost::beast::flat_buffer buffer;
    for (;;) {
        recording_parser parser{connection};
        parser.header_limit(k_header_limit);
        parser.body_limit(k_body_limit);
        boost::system::error_code ec;
        http::read(stream, buffer, parser, ec);
        if (ec) {
            return;
        }

        // Record the request, then answer it with the current handler.
        const bool keep_alive = parser.keep_alive();
        const bool head_request = parser.head_request();
        const recorded_request request = parser.release();
        origin_handler handler;
        {
            const std::lock_guard lock{impl_->mutex};
            impl_->requests.push_back(request);
            handler = impl_->handler;
        }
        impl_->requests_changed.notify_all();

        response_writer writer{[&stream](std::string_view bytes) {
                                   boost::system::error_code write_ec;
                                   net::write(stream, net::buffer(bytes.data(), bytes.size()),
                                              write_ec);
                                   return !write_ec;
                               },
                               *this, head_request};
        handler(request, writer);
        if (!writer.wrote_anything() && !writer.close_) {
            writer.respond({500, {{"Content-Type", "text/plain"}}, "origin handler wrote nothing"});
        }

        if (writer.failed() || writer.close_ || !keep_alive) {
            return;
        }
    }
}

void origin_server::stop()
{
    std::list<impl::connection_record> finished;
    {
        const std::lock_guard lock{impl_->mutex};
        if (impl_->stopping) {
            return;
        }
        impl_->stopping = true;
        for (auto* gate : impl_->waiting_gates) {
            gate->interrupt();
        }
        // A record is marked closed under the mutex before its fd is closed, so every fd shut
        // down here is still this connection's.
        for (auto& record : impl_->connections) {
            if (record.open) {
                ::shutdown(record.fd, SHUT_RDWR);
            }
        }
    }

    net::post(impl_->accept_context, [this] {
        boost::system::error_code ignored;
        impl_->acceptor.close(ignored);
    });
    if (impl_->accept_thread.joinable()) {
        impl_->accept_thread.join();
    }

    {
        const std::lock_guard lock{impl_->mutex};
        finished.splice(finished.end(), impl_->connections);
    }
    for (auto& record : finished) {
        if (record.thread.joinable()) {
            record.thread.join();
        }
    }
}

} // namespace oi::test
