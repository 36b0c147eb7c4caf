// Proves the test origin server before other tests rely on it: real Beast clients over plain TCP
// and TLS (verified against the test CA) talk to it and check what it records and sends.

#include "support/origin_server.hpp"
#include "support/test_pki.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json.hpp>

#include <catch2/catch.hpp>

#include <optional>

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;
using oi::test::canned_response;
using oi::test::framing;
using oi::test::origin_gate;
using oi::test::origin_server;

constexpr auto k_io_timeout = 5s;

struct reply {
    boost::system::error_code ec;
    http::response<http::string_body> message;
    bool chunked = false;
};

// A client connection to the origin, plain or TLS. Every operation is asynchronous under the hood
// and bounded by k_io_timeout, so a broken server fails the test instead of hanging it.
class test_client {
public:
    explicit test_client(unsigned short port) : port_(port) {}
    test_client(unsigned short port, const std::filesystem::path& ca_file, std::string host)
        : port_(port), host_(std::move(host)), tls_context_(ssl::context::tls_client)
    {
        tls_context_->load_verify_file(ca_file.string());
        tls_context_->set_verify_mode(ssl::verify_peer);
    }

    boost::system::error_code connect()
    {
        const tcp::endpoint endpoint{net::ip::make_address_v4("127.0.0.1"), port_};
        if (!tls_context_) {
            return run([&](auto done) { socket_.async_connect(endpoint, done); });
        }
        tls_.emplace(socket_, *tls_context_);
        SSL_set_tlsext_host_name(tls_->native_handle(), host_.c_str());
        tls_->set_verify_callback(ssl::host_name_verification(host_));
        if (auto ec = run([&](auto done) { socket_.async_connect(endpoint, done); })) {
            return ec;
        }
        return run([&](auto done) { tls_->async_handshake(ssl::stream_base::client, done); });
    }

    boost::system::error_code send(std::string_view bytes)
    {
        return run_io([&](auto& stream, auto done) {
            net::async_write(stream, net::buffer(bytes.data(), bytes.size()), done);
        });
    }

    reply read_response(bool head_request = false)
    {
        http::response_parser<http::string_body> parser;
        parser.skip(head_request);
        reply result;
        result.ec = run_io(
            [&](auto& stream, auto done) { http::async_read(stream, buffer_, parser, done); });
        result.chunked = parser.chunked();
        result.message = parser.release();
        return result;
    }

    // Reads until `delimiter` has arrived; returns everything read so far (empty on error).
    std::string read_until(std::string_view delimiter)
    {
        const auto ec = run_io([&](auto& stream, auto done) {
            net::async_read_until(stream, net::dynamic_buffer(raw_), std::string(delimiter), done);
        });
        return ec ? std::string{} : raw_;
    }

    // Reads until the server closes; returns everything read.
    std::string read_to_eof()
    {
        run_io([&](auto& stream, auto done) {
            net::async_read(stream, net::dynamic_buffer(raw_), done);
        });
        return raw_;
    }

private:
    template <class Start> boost::system::error_code run_io(Start start)
    {
        if (tls_) {
            return run([&](auto done) { start(*tls_, done); });
        }
        return run([&](auto done) { start(socket_, done); });
    }

    // Starts one operation and runs the context until it completes or the timeout passes.
    template <class Start> boost::system::error_code run(Start start)
    {
        std::optional<boost::system::error_code> result;
        start([&](boost::system::error_code ec, auto&&...) { result = ec; });
        context_.restart();
        context_.run_for(k_io_timeout);
        if (!result) {
            boost::system::error_code ignored;
            socket_.close(ignored);
            context_.restart();
            context_.run();
            return net::error::timed_out;
        }
        return *result;
    }

    net::io_context context_;
    tcp::socket socket_{context_};
    unsigned short port_;
    std::string host_;
    std::optional<ssl::context> tls_context_;
    std::optional<ssl::stream<tcp::socket&>> tls_;
    boost::beast::flat_buffer buffer_;
    std::string raw_;
};

std::string get_request(std::string_view target, std::string_view extra_headers = {})
{
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: origin.test\r\n" +
           std::string(extra_headers) + "\r\n";
}

} // namespace

TEST_CASE("the origin records each request and answers with a JSON echo by default",
          "[support][origin]")
{
    origin_server origin;
    test_client client{origin.port()};
    REQUIRE_FALSE(client.connect());

    REQUIRE_FALSE(client.send("POST /v1/items?x=1 HTTP/1.1\r\nHost: origin.test\r\n"
                              "X-First: 1\r\nx-second: two\r\nX-First: 3\r\n"
                              "Content-Length: 5\r\n\r\nhello"));
    const reply response = client.read_response();

    REQUIRE_FALSE(response.ec);
    CHECK(response.message.result_int() == 200);
    const auto echo = boost::json::parse(response.message.body()).as_object();
    CHECK(echo.at("method").as_string() == "POST");
    CHECK(echo.at("target").as_string() == "/v1/items?x=1");
    CHECK(echo.at("body_length").as_int64() == 5);
    REQUIRE(origin.wait_for_requests(1, 5s));
    const auto request = origin.requests().at(0);
    CHECK(request.method == "POST");
    CHECK(request.target == "/v1/items?x=1");
    CHECK(request.body == "hello");
    CHECK_FALSE(request.chunked);
    REQUIRE(request.headers.size() == 5);
    CHECK(request.headers[1] == std::pair<std::string, std::string>{"X-First", "1"});
    CHECK(request.headers[2] == std::pair<std::string, std::string>{"x-second", "two"});
    CHECK(request.headers[3] == std::pair<std::string, std::string>{"X-First", "3"});
    CHECK(request.header("x-first") == "1");
    CHECK(request.header_count("X-FIRST") == 2);
    CHECK(request.header("Absent").empty());
}

TEST_CASE("the origin keeps the connection alive across requests", "[support][origin]")
{
    origin_server origin;
    test_client client{origin.port()};
    REQUIRE_FALSE(client.connect());

    REQUIRE_FALSE(client.send(get_request("/one")));
    const reply first = client.read_response();
    REQUIRE_FALSE(client.send(get_request("/two")));
    const reply second = client.read_response();

    REQUIRE_FALSE(first.ec);
    REQUIRE_FALSE(second.ec);
    REQUIRE(origin.wait_for_requests(2, 5s));
    CHECK(origin.connections_accepted() == 1);
    CHECK(origin.requests()[0].connection == origin.requests()[1].connection);
    CHECK(origin.requests()[1].target == "/two");
}

TEST_CASE("the origin records a chunked request body de-chunked and flagged", "[support][origin]")
{
    origin_server origin;
    test_client client{origin.port()};
    REQUIRE_FALSE(client.connect());

    REQUIRE_FALSE(client.send("PUT /upload HTTP/1.1\r\nHost: origin.test\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n"
                              "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"));
    const reply response = client.read_response();

    REQUIRE_FALSE(response.ec);
    REQUIRE(origin.wait_for_requests(1, 5s));
    CHECK(origin.requests()[0].chunked);
    CHECK(origin.requests()[0].body == "abcdefg");
}

TEST_CASE("wait_for_requests gives up after its timeout when too few requests arrived",
          "[support][origin]")
{
    origin_server origin;

    const bool arrived = origin.wait_for_requests(1, 20ms);

    CHECK_FALSE(arrived);
}

TEST_CASE("a canned response is sent with the requested framing", "[support][origin]")
{
    origin_server origin;
    const std::string body(1000, 'x');
    test_client client{origin.port()};
    REQUIRE_FALSE(client.connect());

    SECTION("content-length")
    {
        origin.set_handler(oi::test::respond_with({201, {{"X-Test", "yes"}}, body}));
        REQUIRE_FALSE(client.send(get_request("/")));
        const reply response = client.read_response();

        REQUIRE_FALSE(response.ec);
        CHECK(response.message.result_int() == 201);
        CHECK(response.message["X-Test"] == "yes");
        CHECK(response.message[http::field::content_length] == "1000");
        CHECK_FALSE(response.chunked);
        CHECK(response.message.body() == body);
    }
    SECTION("chunked")
    {
        origin.set_handler(oi::test::respond_with({200, {}, body, framing::chunked, 300}));
        REQUIRE_FALSE(client.send(get_request("/")));
        const reply response = client.read_response();

        REQUIRE_FALSE(response.ec);
        CHECK(response.chunked);
        CHECK(response.message.body() == body);
    }
    SECTION("close-delimited")
    {
        origin.set_handler(oi::test::respond_with({200, {}, body, framing::close_delimited}));
        REQUIRE_FALSE(client.send(get_request("/")));
        const std::string raw = client.read_to_eof();

        CHECK(raw.find("Content-Length") == std::string::npos);
        CHECK(raw.find("Connection: close\r\n") != std::string::npos);
        CHECK(raw.substr(raw.size() - body.size()) == body);
    }
}

TEST_CASE("a response split into many writes arrives intact, one chunk per write",
          "[support][origin]")
{
    origin_server origin;
    origin.set_handler(oi::test::respond_with({200, {}, "abcdef", framing::chunked, 1}));
    test_client client{origin.port()};
    REQUIRE_FALSE(client.connect());

    REQUIRE_FALSE(client.send(get_request("/", "Connection: close\r\n")));
    const std::string raw = client.read_to_eof();

    CHECK(
        raw.find("\r\n\r\n1\r\na\r\n1\r\nb\r\n1\r\nc\r\n1\r\nd\r\n1\r\ne\r\n1\r\nf\r\n0\r\n\r\n") !=
        std::string::npos);
}

TEST_CASE("a streaming response holds its later events until the test opens the gate",
          "[support][origin]")
{
    origin_server origin;
    auto gate = std::make_shared<origin_gate>();
    origin.set_handler(oi::test::stream_events({"data: one\n\n"}, gate, {"data: two\n\n"}));
    test_client client{origin.port()};
    REQUIRE_FALSE(client.connect());
    REQUIRE_FALSE(client.send(get_request("/events")));

    const std::string before = client.read_until("data: one\n\n");
    gate->open();
    const std::string after = client.read_until("0\r\n\r\n");

    CHECK(before.find("text/event-stream") != std::string::npos);
    CHECK(before.find("data: two") == std::string::npos);
    CHECK(after.find("data: two\n\n") != std::string::npos);
}

TEST_CASE("a redirect carries its status and Location", "[support][origin]")
{
    origin_server origin;
    origin.set_handler(oi::test::redirect_to("https://elsewhere.test/next", 307));
    test_client client{origin.port()};
    REQUIRE_FALSE(client.connect());

    REQUIRE_FALSE(client.send(get_request("/old")));
    const reply response = client.read_response();

    REQUIRE_FALSE(response.ec);
    CHECK(response.message.result_int() == 307);
    CHECK(response.message[http::field::location] == "https://elsewhere.test/next");
    CHECK(response.message[http::field::content_length] == "0");
}

TEST_CASE("raw mode sends the test's bytes verbatim and closes", "[support][origin]")
{
    const std::string garbage =
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabc";
    origin_server origin;
    origin.set_handler(oi::test::respond_raw(garbage));
    test_client client{origin.port()};
    REQUIRE_FALSE(client.connect());

    REQUIRE_FALSE(client.send(get_request("/")));
    const std::string raw = client.read_to_eof();

    CHECK(raw == garbage);
}

TEST_CASE("a HEAD request gets headers without a body", "[support][origin]")
{
    origin_server origin;
    origin.set_handler(oi::test::respond_with({200, {}, "twelve bytes"}));
    test_client client{origin.port()};
    REQUIRE_FALSE(client.connect());

    REQUIRE_FALSE(client.send("HEAD / HTTP/1.1\r\nHost: origin.test\r\n\r\n"));
    const reply head = client.read_response(true);
    REQUIRE_FALSE(client.send(get_request("/after")));
    const reply next = client.read_response();

    REQUIRE_FALSE(head.ec);
    CHECK(head.message[http::field::content_length] == "12");
    REQUIRE_FALSE(next.ec);
    CHECK(next.message.body() == "twelve bytes");
}

TEST_CASE("stop returns while a handler is blocked on a gate", "[support][origin]")
{
    auto origin = std::make_unique<origin_server>();
    auto gate = std::make_shared<origin_gate>();
    origin->set_handler(oi::test::respond_after(gate, {200, {}, "late"}));
    test_client client{origin->port()};
    REQUIRE_FALSE(client.connect());
    REQUIRE_FALSE(client.send(get_request("/slow")));
    REQUIRE(origin->wait_for_requests(1, 5s));

    const auto started = std::chrono::steady_clock::now();
    origin->stop();
    const auto took = std::chrono::steady_clock::now() - started;

    CHECK(took < 5s);
    CHECK_FALSE(gate->is_open());
    CHECK(client.read_to_eof().empty());
}

TEST_CASE("a TLS origin is verified against the test CA", "[support][origin][tls]")
{
    const auto pki = oi::test::make_test_pki({"localhost"}, {"127.0.0.1"});
    origin_server origin{pki};
    test_client client{origin.port(), pki.ca_cert, "localhost"};

    REQUIRE_FALSE(client.connect());
    REQUIRE_FALSE(client.send(get_request("/secure")));
    const reply response = client.read_response();

    REQUIRE_FALSE(response.ec);
    CHECK(response.message.result_int() == 200);
    CHECK(origin.tls());
    CHECK(origin.url("/x", "localhost") ==
          "https://localhost:" + std::to_string(origin.port()) + "/x");
    REQUIRE(origin.wait_for_requests(1, 5s));
    CHECK(origin.requests()[0].target == "/secure");
}

TEST_CASE("a TLS client refuses an origin whose name is not in the certificate",
          "[support][origin][tls]")
{
    const auto pki = oi::test::make_test_pki({"localhost"}, {"127.0.0.1"});
    origin_server origin{pki};
    test_client client{origin.port(), pki.ca_cert, "api.other.test"};

    const auto ec = client.connect();

    CHECK(ec);
    CHECK(origin.requests().empty());
}

TEST_CASE("a TLS client refuses an origin whose certificate comes from another CA",
          "[support][origin][tls]")
{
    const auto pki = oi::test::make_test_pki({"localhost"}, {"127.0.0.1"});
    const auto untrusted = oi::test::make_untrusted_cert(pki, "untrusted", {"localhost"}, {});
    origin_server origin{untrusted.cert, untrusted.key};
    test_client client{origin.port(), pki.ca_cert, "localhost"};

    const auto ec = client.connect();

    CHECK(ec);
    CHECK(origin.requests().empty());
}
