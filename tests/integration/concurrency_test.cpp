// Many clients at once on a proxy with four workers: the same and different users on every
// worker, over plain HTTP and TLS origins, while a refresh is held in flight, a reload swaps the
// configuration, the admin API replaces a grant (every worker's cache is invalidated) and
// /metrics is read. Under scripts/tsan.sh the proxy is a ThreadSanitizer build, and any report it
// writes fails this test (support/process.hpp); in the plain build it checks that no request is
// served with another user's token and that none is lost.

#include "integration/proxy_fixture.hpp"

#include "intercept/ca_files.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <mutex>
#include <thread>

using namespace oi::test;

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr int k_users = 6;
constexpr int k_client_threads = 6;
constexpr int k_requests_per_thread = 24;
constexpr std::string_view k_expired_user = "user5"; // its requests wait for the held refresh

std::string user_name(int i)
{
    return "user" + std::to_string(i);
}

/// The token endpoint: answers `at-<user>-1` for refresh token `rt-<user>`, once the test opens
/// the gate, so that the refresh stays in flight across the reload and the grant replacement.
struct held_provider {
    std::shared_ptr<origin_gate> gate = std::make_shared<origin_gate>();
    std::atomic<int> calls{0};

    void answer(const recorded_request& rq, response_writer& w)
    {
        ++calls;
        const std::size_t at = rq.body.find("refresh_token=rt-");
        const std::size_t from = at + std::string_view{"refresh_token=rt-"}.size();
        const std::string user = at == std::string::npos
                                     ? std::string{"unknown"}
                                     : rq.body.substr(from, rq.body.find('&', from) - from);
        if (!w.wait(*gate, std::chrono::seconds{20})) {
            w.respond({503, {{"Content-Type", "application/json"}}, R"({"error":"gate"})"});
            return;
        }
        w.respond({200,
                   {{"Content-Type", "application/json"}},
                   R"({"access_token":"at-)" + user + R"(-1","refresh_token":"rt-)" + user +
                       R"(-1","token_type":"Bearer","expires_in":3600})"});
    }
};

struct load_fixture {
    test_pki pki = make_test_pki({"localhost"}, {"127.0.0.1"});
    redis_server redis;
    origin_server plain;
    origin_server tls{pki};
    origin_server token_endpoint;
    held_provider provider;
    scoped_temp_dir dir;
    oi::intercept::ca_files ca = oi::intercept::write_new_ca(dir.path(), false);
    unsigned short proxy_port = free_tcp_port();
    unsigned short admin_port = free_tcp_port();
    std::unique_ptr<process> proxy;

    load_fixture()
    {
        token_endpoint.set_handler(
            [this](const recorded_request& rq, response_writer& w) { provider.answer(rq, w); });
        // The API echoes the Authorization it received: the client checks it is its own user's.
        const auto echo = [](const recorded_request& rq, response_writer& w) {
            w.respond({200, {{"Content-Type", "text/plain"}}, rq.header("Authorization")});
        };
        plain.set_handler(echo);
        tls.set_handler(echo);
    }

    [[nodiscard]] std::string config(const std::string& plugins_extra) const
    {
        config_head head;
        head.proxy_port = proxy_port;
        head.admin_port = admin_port;
        head.threads = 4;
        head.redis_url = redis.url();
        head.key_prefix = "load";
        head.store_extra = "  refresh_timeout: 20s\n  cache_ttl: 1s\n";
        return head.yaml() + R"(connections:
  google:
    authorization_url: https://accounts.example.com/auth
    token_url: )" +
               token_endpoint.url("/token") + R"(
    client_id: client-1
    client_secret: ${CLIENT_SECRET}
    allowed_hosts: [127.0.0.1, localhost]
    refresh_before: 60s
plugins:
  calendar: { connection: google }
)" + plugins_extra +
               R"(upstream:
  ca_file: )" + pki.ca_cert.string() +
               R"(
  allow_addresses: [127.0.0.1]
intercept:
  ca_cert: )" + ca.cert.string() +
               "\n  ca_key: " + ca.key.string() +
               // One leaf kept: tunnels to two names evict each other's leaf on every worker.
               R"(
  max_certificates: 1
log: { level: debug, format: json }
)";
    }

    void start()
    {
        proxy = start_proxy_binary(dir.path() / "config.yaml", config(""),
                                   {{"ADMIN_TOKEN", std::string{k_admin_token}},
                                    {"TOKEN_KEY", std::string{k_token_key}},
                                    {"CLIENT_SECRET", "client-secret-for-load"}},
                                   proxy_port, admin_port);
    }

    http_response admin(std::string_view method, std::string_view path, std::string_view body = "")
    {
        return http_exchange(admin_port, std::string{method} + " " + std::string{path} +
                                             " HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " +
                                             std::string{k_admin_token} +
                                             "\r\nContent-Length: " + std::to_string(body.size()) +
                                             "\r\n\r\n" + std::string{body});
    }

    /// user0..user3 valid for an hour; user4 valid but within refresh_before (refreshed in the
    /// background); user5 expired (its requests wait for the refresh).
    void put_grants()
    {
        for (int i = 0; i < k_users; ++i) {
            const std::string user = user_name(i);
            const std::string expiry = i < 4    ? R"("expires_in":3600)"
                                       : i == 4 ? R"("expires_in":30)"
                                                : R"("expires_at":1000000000)";
            const std::string grant = R"({"access_token":"at-)" + user +
                                      R"(-0","refresh_token":"rt-)" + user + R"(",)" + expiry + "}";
            REQUIRE(admin("PUT", "/v1/connections/google/grants/" + user, grant).status == 200);
        }
    }

    /// One request as `user`, to the plain or the TLS origin; true when the origin received this
    /// user's token (any generation) and the client got it back.
    bool request_as(const std::string& user, bool over_tls)
    {
        const std::string url = over_tls ? tls.url("/api", "localhost") : plain.url("/api");
        const auto r = http_exchange(
            proxy_port, "GET " + url + " HTTP/1.1\r\nHost: x\r\nX-Plugin-Id: calendar\r\n" +
                            "X-Plugin-User: " + user +
                            "\r\nAuthorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}\r\n\r\n");
        return r.status == 200 && r.body.starts_with("Bearer at-" + user + "-");
    }

    /// One request as `user` through a CONNECT tunnel to the TLS origin under the name `host`,
    /// which the proxy intercepts with a leaf from its CA (verified here); true on the same
    /// condition as request_as. Bounded to 15 seconds.
    bool request_through_tunnel(const std::string& user, const std::string& host)
    {
        std::string response; // outlives the io_context, which may still hold the coroutine
        asio::io_context io;
        asio::co_spawn(io, tunnel_exchange(user, host, response), [](std::exception_ptr) {});
        io.run_for(std::chrono::seconds{15});
        return response.starts_with("HTTP/1.1 200") &&
               response.find("\r\n\r\nBearer at-" + user + "-") != std::string::npos;
    }

    asio::awaitable<void> tunnel_exchange(std::string user, std::string host, std::string& response)
    {
        const auto executor = co_await asio::this_coro::executor;
        tcp::socket socket{executor};
        // Named, not a temporary in the co_await expression (GCC 12 coroutine bug).
        const tcp::endpoint proxy_endpoint{asio::ip::make_address("127.0.0.1"), proxy_port};
        co_await socket.async_connect(proxy_endpoint, asio::use_awaitable);
        const std::string authority = host + ":" + std::to_string(tls.port());
        const std::string connect = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority +
                                    "\r\nX-Plugin-Id: calendar\r\nX-Plugin-User: " + user +
                                    "\r\n\r\n";
        co_await asio::async_write(socket, asio::buffer(connect), asio::use_awaitable);
        asio::streambuf head;
        const std::size_t n =
            co_await asio::async_read_until(socket, head, "\r\n\r\n", asio::use_awaitable);
        if (head.size() != n ||
            std::string_view{static_cast<const char*>(head.data().data()), n}.find(" 200 ") ==
                std::string_view::npos) {
            co_return;
        }

        ssl::context context{ssl::context::tls_client};
        context.load_verify_file(ca.cert.string());
        ssl::stream<tcp::socket&> stream{socket, context};
        stream.set_verify_mode(ssl::verify_peer);
        stream.set_verify_callback(ssl::host_name_verification(host));
        if (host != "127.0.0.1") {
            SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());
        }
        co_await stream.async_handshake(ssl::stream_base::client, asio::use_awaitable);
        const std::string request = "GET /api HTTP/1.1\r\nHost: " + authority +
                                    "\r\nAuthorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}\r\n"
                                    "Connection: close\r\n\r\n";
        co_await asio::async_write(stream, asio::buffer(request), asio::use_awaitable);
        std::string received;
        auto [ec, got] = co_await asio::async_read(stream, asio::dynamic_buffer(received),
                                                   asio::as_tuple(asio::use_awaitable));
        (void)ec; // the end of the stream, with or without a TLS close_notify
        (void)got;
        response = std::move(received);
    }
};

} // namespace

TEST_CASE("four workers serve concurrent users correctly across a reload, a grant change and a "
          "refresh in flight",
          "[concurrency][integration]")
{
    load_fixture f;
    f.start();
    f.put_grants();

    std::atomic<int> served{0};
    std::atomic<int> wrong{0};
    std::vector<std::string> failures;
    std::mutex failures_mutex;
    std::vector<std::thread> clients;
    const auto run_client = [&](int t) {
        for (int i = 0; i < k_requests_per_thread; ++i) {
            // Threads overlap on users (the same grant from several workers at once) and each
            // also walks through all of them.
            const std::string user = user_name((t + i) % k_users);
            try {
                // Absolute-form to the plain and TLS origins, and intercepted tunnels under two
                // names (one leaf cache shared by all workers, bounded to one leaf).
                const int kind = (t + i) % 4;
                const bool ok = kind < 2 ? f.request_as(user, kind == 0)
                                         : f.request_through_tunnel(user, kind == 2 ? "localhost"
                                                                                    : "127.0.0.1");
                if (ok) {
                    ++served;
                    continue;
                }
            } catch (const std::exception& e) {
                const std::lock_guard lock{failures_mutex};
                failures.push_back(e.what());
            }
            ++wrong;
        }
    };
    {
        // However the test ends, the client threads are joined before the fixture goes.
        struct joiner {
            std::vector<std::thread>& threads;
            ~joiner()
            {
                for (auto& th : threads) {
                    th.join();
                }
            }
        } const join_all{clients};
        for (int t = 0; t < k_client_threads; ++t) {
            clients.emplace_back(run_client, t);
        }

        // A refresh is in flight (held by the provider) while the rest happens.
        REQUIRE(eventually([&] { return f.provider.calls.load() > 0; }));

        // Reload with a new plugin, from the admin API and from SIGHUP.
        std::ofstream{f.dir.path() / "config.yaml"}
            << f.config("  notes: { connection: google }\n");
        CHECK(f.admin("POST", "/v1/reload").status == 200);
        f.proxy->signal(SIGHUP);

        // Replace user0's grant: every worker drops its cached copy.
        CHECK(
            f.admin("PUT", "/v1/connections/google/grants/user0",
                    R"({"access_token":"at-user0-9","refresh_token":"rt-user0","expires_in":3600})")
                .status == 200);
        CHECK(f.admin("GET", "/metrics").status == 200);

        f.provider.gate->open();
    }

    INFO("failures: " << failures.size());
    for (const auto& failure : failures) {
        UNSCOPED_INFO(failure);
    }
    CHECK(wrong.load() == 0);
    CHECK(served.load() == k_client_threads * k_requests_per_thread);
    // One refresh per grant that needed one, whatever the number of workers asking.
    CHECK(f.provider.calls.load() == 2);

    // The expired user now has the refreshed token, on every worker.
    for (int i = 0; i < 8; ++i) {
        CHECK(f.request_as(std::string{k_expired_user}, i % 2 == 0));
    }
    f.proxy->stop();
    CHECK(f.proxy->sanitizer_report().empty());
    CHECK_THAT(f.proxy->stderr_text(), Catch::Matchers::Contains(R"("event":"tunnel_decision")") &&
                                           Catch::Matchers::Contains(R"("decision":"intercept")"));
}
