#include "admin/admin_server.hpp"

#include "common/log.hpp"
#include "unit/admin/fake_grant_store.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <catch2/catch.hpp>

#include <regex>
#include <thread>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

constexpr const char* k_admin_token = "admintok-server-91d";

// A real admin listener on 127.0.0.1, port 0, running on its own thread.
struct server_fixture {
    oi::config::config cfg = make_config();
    oi::test::fake_grant_store store;
    oi::metrics::metrics metrics{cfg};
    asio::io_context ioc;
    oi::admin::admin_server server{ioc, cfg, store, metrics, {}};
    std::thread thread;

    server_fixture()
    {
        REQUIRE_FALSE(server.listen());
        server.start();
        thread = std::thread([this] { ioc.run(); });
    }

    ~server_fixture()
    {
        server.stop();
        thread.join();
    }

    static oi::config::config make_config()
    {
        oi::config::config cfg;
        cfg.listen.admin = oi::config::endpoint{"127.0.0.1", 0};
        cfg.admin_token = oi::secret(k_admin_token);
        cfg.connections["google"].id = "google";
        return cfg;
    }

    tcp::socket connect()
    {
        static asio::io_context client_ioc; // blocking client calls only: never run
        tcp::socket socket(client_ioc);
        socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
        return socket;
    }
};

http::response<http::string_body> exchange(tcp::socket& socket, boost::beast::flat_buffer& buffer,
                                           http::request<http::string_body> req)
{
    req.prepare_payload();
    http::write(socket, req);
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    return res;
}

http::request<http::string_body> get(std::string target)
{
    http::request<http::string_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    return req;
}

} // namespace

TEST_CASE("the admin listener answers several requests on one kept-alive connection", "[admin]")
{
    const oi::log::capture logs(oi::log::level::info);
    server_fixture f;
    tcp::socket socket = f.connect();
    boost::beast::flat_buffer buffer;
    auto grant_req = get("/v1/connections/google/grants/alice%40example.com");
    grant_req.set(http::field::authorization, std::string("Bearer ") + k_admin_token);

    const auto health = exchange(socket, buffer, get("/healthz"));
    const auto grant = exchange(socket, buffer, grant_req);

    CHECK(health.result_int() == 200);
    CHECK(health.body() == R"({"status":"ok"})");
    CHECK(grant.result_int() == 200);
    CHECK(grant.keep_alive());
    const std::string text = logs.text();
    CHECK(text.find(R"("event":"admin_request")") != std::string::npos);
    CHECK(text.find(R"("route":"/v1/connections/{c}/grants/{user}")") != std::string::npos);
    CHECK(text.find("alice") == std::string::npos);
    CHECK_FALSE(logs.contains(k_admin_token));
}

TEST_CASE("the admin access log times a request from its first byte, not from the idle time "
          "before it",
          "[admin]")
{
    using namespace std::chrono_literals;
    const oi::log::capture logs(oi::log::level::info);
    server_fixture f;
    tcp::socket socket = f.connect();

    // Idle first (not counted), then a head that arrives in two parts 200 ms apart (counted).
    std::this_thread::sleep_for(1s); // durations, not waits
    asio::write(socket, asio::buffer(std::string_view{"GET /healthz HTTP/1.1\r\n"}));
    std::this_thread::sleep_for(200ms);
    asio::write(socket, asio::buffer(std::string_view{"Host: 127.0.0.1\r\n\r\n"}));
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    REQUIRE(res.result_int() == 200);

    const std::string text = logs.text();
    std::smatch duration;
    REQUIRE(std::regex_search(text, duration, std::regex(R"re("duration_ms":([0-9.]+))re")));
    INFO("duration_ms " << duration[1]);
    CHECK(std::stod(duration[1]) >= 190.0);
    CHECK(std::stod(duration[1]) < 1000.0);
}

TEST_CASE("a request head over 16 KiB is refused with 431", "[admin]")
{
    server_fixture f;
    tcp::socket socket = f.connect();
    boost::beast::flat_buffer buffer;
    auto req = get("/healthz");
    req.set("X-Filler", std::string(oi::admin::k_max_head_bytes, 'a'));

    const auto res = exchange(socket, buffer, req);

    CHECK(res.result_int() == 431);
    CHECK(res["X-OAuth-Injector-Error"] == "header_too_large");
    CHECK_FALSE(res.keep_alive());
}

TEST_CASE("a request body over 64 KiB is refused with 413", "[admin]")
{
    server_fixture f;
    tcp::socket socket = f.connect();
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> req{http::verb::put, "/v1/connections/google/grants/a", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, std::string("Bearer ") + k_admin_token);
    req.body() = std::string(oi::admin::k_max_body_bytes + 1, ' ');

    const auto res = exchange(socket, buffer, req);

    CHECK(res.result_int() == 413);
    CHECK(res["X-OAuth-Injector-Error"] == "payload_too_large");
    CHECK(f.store.saves == 0);
}

TEST_CASE("malformed HTTP is refused with 400", "[admin]")
{
    server_fixture f;
    tcp::socket socket = f.connect();
    boost::beast::flat_buffer buffer;

    asio::write(socket, asio::buffer(std::string("GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n")));
    http::response<http::string_body> res;
    http::read(socket, buffer, res);

    CHECK(res.result_int() == 400);
    CHECK(res["X-OAuth-Injector-Error"] == "bad_request");
}

TEST_CASE("stop closes idle admin connections", "[admin]")
{
    auto f = std::make_unique<server_fixture>();
    tcp::socket socket = f->connect();
    boost::beast::flat_buffer buffer;
    exchange(socket, buffer, get("/healthz"));

    f.reset(); // stops the server and joins its thread: it must not wait for the idle client

    char byte = 0;
    boost::system::error_code ec;
    asio::read(socket, asio::buffer(&byte, 1), ec);
    CHECK(ec == asio::error::eof);
}

TEST_CASE("drain closes idle connections and the listener, and counts what is still open",
          "[admin]")
{
    server_fixture f;
    tcp::socket idle = f.connect();
    boost::beast::flat_buffer buffer;
    REQUIRE(exchange(idle, buffer, get("/healthz")).result_int() == 200);
    REQUIRE(f.server.open_connections() == 1);
    const auto port = f.server.port();

    f.server.drain();

    char byte = 0;
    boost::system::error_code ec;
    asio::read(idle, asio::buffer(&byte, 1), ec);
    CHECK(ec == asio::error::eof);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (f.server.open_connections() != 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    CHECK(f.server.open_connections() == 0);
    static asio::io_context client_ioc; // blocking calls only: never run
    tcp::socket late(client_ioc);
    late.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    CHECK(ec == asio::error::connection_refused);
}

TEST_CASE("listen reports an address that is already in use", "[admin]")
{
    server_fixture first;
    oi::config::config cfg = server_fixture::make_config();
    cfg.listen.admin->port = first.server.port();
    oi::test::fake_grant_store store;
    oi::metrics::metrics metrics{cfg};
    asio::io_context ioc;
    oi::admin::admin_server second(ioc, cfg, store, metrics, {});

    const boost::system::error_code ec = second.listen();

    CHECK(ec == asio::error::address_in_use);
}

TEST_CASE("listen fails when the config has no admin listener", "[admin]")
{
    oi::config::config cfg;
    oi::test::fake_grant_store store;
    oi::metrics::metrics metrics{cfg};
    asio::io_context ioc;
    oi::admin::admin_server server(ioc, cfg, store, metrics, {});

    CHECK(server.listen());
}

TEST_CASE("a client that expects 100 Continue gets it before sending the body", "[admin]")
{
    server_fixture f;
    tcp::socket socket = f.connect();
    boost::beast::flat_buffer buffer;
    const std::string body = R"({"access_token":"t"})";
    const std::string head = std::string("PUT /v1/connections/google/grants/a HTTP/1.1\r\n"
                                         "Host: 127.0.0.1\r\nExpect: 100-continue\r\n"
                                         "Authorization: Bearer ") +
                             k_admin_token + "\r\nContent-Length: " + std::to_string(body.size()) +
                             "\r\n\r\n";

    asio::write(socket, asio::buffer(head));
    http::response<http::string_body> interim;
    http::read(socket, buffer, interim);
    asio::write(socket, asio::buffer(body));
    http::response<http::string_body> final_response;
    http::read(socket, buffer, final_response);

    CHECK(interim.result() == http::status::continue_);
    CHECK(final_response.result_int() == 200);
    CHECK(f.store.saves == 1);
}

TEST_CASE("a client that expects 100 Continue for a body too large gets 413 at once", "[admin]")
{
    server_fixture f;
    tcp::socket socket = f.connect();
    boost::beast::flat_buffer buffer;
    const std::string head = "PUT /v1/connections/google/grants/a HTTP/1.1\r\nHost: x\r\n"
                             "Expect: 100-continue\r\nContent-Length: 1000000\r\n\r\n";

    asio::write(socket, asio::buffer(head));
    http::response<http::string_body> res;
    http::read(socket, buffer, res);

    CHECK(res.result_int() == 413);
}
