// request_token against real loopback token endpoints (plain and TLS with a test CA), each
// answering one of the shapes providers use, or misbehaving: slow, closing, answering garbage.

#include "oauth/token_client.hpp"

#include "support/origin_server.hpp"
#include "support/test_pki.hpp"
#include "upstream/connector.hpp"
#include "upstream/tls_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using oi::secret;
using oi::oauth::token_failure;
using oi::oauth::token_failure_kind;
using oi::oauth::token_outcome;
using oi::oauth::token_set;
using oi::test::canned_response;
using oi::test::framing;
using oi::test::origin_server;

constexpr auto k_timeout = 5000ms;

const oi::oauth::token_params k_refresh{{"grant_type", "refresh_token"},
                                        {"refresh_token", "rt-old"}};

canned_response json_answer(unsigned status, std::string body)
{
    return canned_response{status, {{"Content-Type", "application/json"}}, std::move(body)};
}

/// One worker's worth of upstream machinery, pointed at `origin`.
class token_endpoint_fixture {
public:
    explicit token_endpoint_fixture(const origin_server& origin, std::string ca_file = {})
        : tls_(oi::upstream::make_client_tls_context(ca_file))
    {
        upstream_.ca_file = std::move(ca_file);
        upstream_.connect_timeout = 5s;
        upstream_.allow_addresses = {{"127.0.0.1", origin.port()}};
        connection_.id = "test";
        connection_.token_url = origin.url("/oauth/token");
        connection_.client_id = "my-app";
        connection_.client_secret = secret{"client-secret-1"};
        connector_ = std::make_unique<oi::upstream::connector>(io_, tls_, upstream_);
    }

    oi::config::connection& connection() { return connection_; }
    oi::config::upstream_config& upstream() { return upstream_; }

    token_outcome request(std::chrono::milliseconds timeout = k_timeout,
                          oi::oauth::token_params params = k_refresh)
    {
        std::optional<token_outcome> out;
        asio::co_spawn(
            io_, oi::oauth::request_token(*connector_, connection_, std::move(params), timeout),
            [&out](const std::exception_ptr& e, token_outcome result) {
                if (e) {
                    std::rethrow_exception(e);
                }
                out = std::move(result);
            });
        io_.run();
        io_.restart();
        REQUIRE(out.has_value());
        return std::move(*out);
    }

private:
    asio::io_context io_;
    asio::ssl::context tls_;
    oi::config::upstream_config upstream_;
    oi::config::connection connection_;
    std::unique_ptr<oi::upstream::connector> connector_;
};

const token_set& tokens(const token_outcome& outcome)
{
    REQUIRE(std::holds_alternative<token_set>(outcome));
    return std::get<token_set>(outcome);
}

const token_failure& failure(const token_outcome& outcome)
{
    REQUIRE(std::holds_alternative<token_failure>(outcome));
    return std::get<token_failure>(outcome);
}

} // namespace

TEST_CASE("a refresh over plain HTTP posts a form with Content-Length and reads the tokens",
          "[oauth][token_client]")
{
    origin_server origin;
    origin.set_handler(oi::test::respond_with(
        json_answer(200, R"({"access_token":"at-new","expires_in":3600,"refresh_token":"rt-new",)"
                         R"("token_type":"bearer"})")));
    token_endpoint_fixture fixture{origin};

    const auto outcome = fixture.request();

    const token_set& t = tokens(outcome);
    CHECK(t.access_token == secret{"at-new"});
    CHECK(t.refresh_token == secret{"rt-new"});
    CHECK(t.expires_in == 3600s);
    CHECK(t.token_type == "Bearer");
    const auto requests = origin.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "POST");
    CHECK(requests[0].target == "/oauth/token");
    CHECK(requests[0].header("Content-Type") == "application/x-www-form-urlencoded");
    CHECK(requests[0].header("Content-Length") == std::to_string(requests[0].body.size()));
    CHECK_FALSE(requests[0].chunked);
    CHECK(requests[0].body ==
          "grant_type=refresh_token&refresh_token=rt-old&client_id=my-app&client_secret=client-"
          "secret-1");
}

TEST_CASE("a code exchange over verified TLS with basic auth reads GitHub's form answer",
          "[oauth][token_client]")
{
    const auto pki = oi::test::make_test_pki({"localhost"}, {"127.0.0.1"});
    origin_server origin{pki};
    origin.set_handler(oi::test::respond_with(
        canned_response{200,
                        {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
                        "access_token=gho_abc&scope=repo%2Cgist&token_type=bearer"}));
    token_endpoint_fixture fixture{origin, pki.ca_cert.string()};
    fixture.connection().auth_method = oi::config::client_auth::basic;
    fixture.connection().token_content_type = oi::config::content_type::json;

    const auto outcome =
        fixture.request(k_timeout, {{"grant_type", "authorization_code"}, {"code", "c-1"}});

    const token_set& t = tokens(outcome);
    CHECK(t.access_token == secret{"gho_abc"});
    CHECK(t.scope == "repo,gist");
    const auto requests = origin.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].header("Authorization") == "Basic bXktYXBwOmNsaWVudC1zZWNyZXQtMQ==");
    CHECK(requests[0].header("Content-Type") == "application/json");
    CHECK(requests[0].body == R"({"grant_type":"authorization_code","code":"c-1"})");
}

TEST_CASE("a connection with token_source authed_user gets Slack's user token, not the bot's",
          "[oauth][token_client]")
{
    origin_server origin;
    origin.set_handler(oi::test::respond_with(
        json_answer(200, R"({"ok":true,"access_token":"xoxb-bot","token_type":"bot",)"
                         R"("authed_user":{"id":"U1","access_token":"xoxp-user",)"
                         R"("token_type":"user","scope":"search:read"}})")));
    token_endpoint_fixture top_level{origin};
    token_endpoint_fixture user{origin};
    user.connection().token_from = oi::config::token_source::authed_user;

    const auto bot_outcome =
        top_level.request(k_timeout, {{"grant_type", "authorization_code"}, {"code", "c-1"}});
    const auto user_outcome =
        user.request(k_timeout, {{"grant_type", "authorization_code"}, {"code", "c-2"}});

    CHECK(tokens(bot_outcome).access_token == secret{"xoxb-bot"});
    CHECK(tokens(user_outcome).access_token == secret{"xoxp-user"});
    CHECK(tokens(user_outcome).scope == "search:read");
}

TEST_CASE("chunked and close-delimited answers are read whole", "[oauth][token_client]")
{
    origin_server origin;
    token_endpoint_fixture fixture{origin};
    canned_response answer = json_answer(200, R"({"access_token":"at-framed","expires_in":"60"})");
    answer.write_size = 7;

    answer.body_framing = framing::chunked;
    origin.set_handler(oi::test::respond_with(answer));
    const auto chunked = fixture.request();
    answer.body_framing = framing::close_delimited;
    origin.set_handler(oi::test::respond_with(answer));
    const auto close_delimited = fixture.request();

    CHECK(tokens(chunked).access_token == secret{"at-framed"});
    CHECK(tokens(close_delimited).access_token == secret{"at-framed"});
    CHECK(tokens(close_delimited).expires_in == 60s);
}

TEST_CASE("an interim 100 Continue before the answer is skipped", "[oauth][token_client]")
{
    origin_server origin;
    origin.set_handler(oi::test::respond_raw("HTTP/1.1 100 Continue\r\n\r\n"
                                             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                             "Content-Length: 22\r\n\r\n"
                                             R"({"access_token":"a-1"})",
                                             false));
    token_endpoint_fixture fixture{origin};

    const auto outcome = fixture.request();

    CHECK(tokens(outcome).access_token == secret{"a-1"});
}

TEST_CASE("error answers arrive classified: OAuth error, server error, rate limit",
          "[oauth][token_client]")
{
    origin_server origin;
    token_endpoint_fixture fixture{origin};

    origin.set_handler(oi::test::respond_with(
        json_answer(400, R"({"error":"invalid_grant","error_description":"revoked"})")));
    const auto revoked = fixture.request();
    origin.set_handler(oi::test::respond_with(
        canned_response{200,
                        {{"Content-Type", "application/x-www-form-urlencoded"}},
                        "error=bad_verification_code"}));
    const auto github = fixture.request();
    origin.set_handler(oi::test::respond_with(
        canned_response{503, {{"Content-Type", "text/html"}, {"Retry-After", "17"}}, "<html/>"}));
    const auto down = fixture.request();
    origin.set_handler(oi::test::respond_with(canned_response{429, {{"Retry-After", "5"}}, ""}));
    const auto throttled = fixture.request();

    CHECK(failure(revoked).kind == token_failure_kind::oauth_error);
    CHECK(failure(revoked).error == "invalid_grant");
    CHECK(oi::oauth::needs_reauthorization(failure(revoked)));
    CHECK(failure(github).error == "bad_verification_code");
    CHECK(failure(down).kind == token_failure_kind::server_error);
    CHECK(failure(down).http_status == 503);
    CHECK(failure(down).retry_after == 17s);
    CHECK(failure(throttled).kind == token_failure_kind::rate_limited);
    CHECK(failure(throttled).retry_after == 5s);
}

TEST_CASE("a token endpoint that does not answer in time is a transport failure",
          "[oauth][token_client]")
{
    origin_server origin;
    auto gate = std::make_shared<oi::test::origin_gate>();
    origin.set_handler(oi::test::respond_after(gate, json_answer(200, R"({"access_token":"a"})")));
    token_endpoint_fixture fixture{origin};
    const auto started = std::chrono::steady_clock::now();

    const auto outcome = fixture.request(300ms);

    const auto elapsed = std::chrono::steady_clock::now() - started;
    gate->open();
    CHECK(failure(outcome).kind == token_failure_kind::transport);
    CHECK(failure(outcome).http_status == 0);
    CHECK(elapsed >= 250ms); // waited for the bound (timers may round down slightly)
    CHECK(elapsed < 3s);
}

TEST_CASE("the timeout also bounds a TLS handshake that never completes", "[oauth][token_client]")
{
    // A listener that never accepts: the kernel completes TCP connects, nobody speaks TLS.
    asio::io_context listener_io;
    asio::ip::tcp::acceptor silent{listener_io, {asio::ip::make_address("127.0.0.1"), 0}};
    const auto pki = oi::test::make_test_pki({"localhost"}, {"127.0.0.1"});
    origin_server origin{pki};
    token_endpoint_fixture fixture{origin, pki.ca_cert.string()};
    const std::string port = std::to_string(silent.local_endpoint().port());
    fixture.connection().token_url = "https://127.0.0.1:" + port + "/oauth/token";
    fixture.upstream().allow_addresses = {{"127.0.0.1", silent.local_endpoint().port()}};
    const auto started = std::chrono::steady_clock::now();

    const auto outcome = fixture.request(300ms);

    const auto elapsed = std::chrono::steady_clock::now() - started;
    CHECK(failure(outcome).kind == token_failure_kind::transport);
    CHECK(elapsed >= 250ms); // waited for the bound (timers may round down slightly)
    CHECK(elapsed < 3s);     // the connector's own connect_timeout is 5s
}

TEST_CASE("a connection closed before or during the answer is a transport failure",
          "[oauth][token_client]")
{
    origin_server origin;
    token_endpoint_fixture fixture{origin};

    origin.set_handler([](const oi::test::recorded_request&, oi::test::response_writer& writer) {
        writer.close_after();
    });
    const auto silent = fixture.request();
    origin.set_handler(oi::test::respond_raw(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        R"({"access_token":)"));
    const auto cut = fixture.request();

    CHECK(failure(silent).kind == token_failure_kind::transport);
    CHECK(failure(cut).kind == token_failure_kind::transport);
}

TEST_CASE("a garbage answer is malformed", "[oauth][token_client]")
{
    origin_server origin;
    token_endpoint_fixture fixture{origin};

    origin.set_handler(oi::test::respond_raw("SSH-2.0-OpenSSH_9.2\r\n\r\n"));
    const auto not_http = fixture.request();
    origin.set_handler(oi::test::respond_raw(
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
    const auto ambiguous = fixture.request();
    origin.set_handler(oi::test::respond_with(json_answer(200, "<html>not json</html>")));
    const auto not_json = fixture.request();

    CHECK(failure(not_http).kind == token_failure_kind::malformed);
    CHECK(failure(not_http).http_status == 0);
    CHECK(failure(ambiguous).kind == token_failure_kind::malformed);
    CHECK(failure(not_json).kind == token_failure_kind::malformed);
    CHECK(failure(not_json).http_status == 200);
}

TEST_CASE("an answer larger than 1 MiB is refused", "[oauth][token_client]")
{
    origin_server origin;
    token_endpoint_fixture fixture{origin};
    const std::string huge = R"({"access_token":")" + std::string(1100 * 1024, 'a') + R"("})";

    origin.set_handler(oi::test::respond_with(json_answer(200, huge)));
    const auto declared = fixture.request();
    canned_response chunked = json_answer(200, huge);
    chunked.body_framing = framing::chunked;
    chunked.write_size = 64 * 1024;
    origin.set_handler(oi::test::respond_with(chunked));
    const auto streamed = fixture.request();

    CHECK(failure(declared).kind == token_failure_kind::malformed);
    CHECK(failure(streamed).kind == token_failure_kind::malformed);
}

TEST_CASE("a token endpoint with an untrusted certificate is never sent the request",
          "[oauth][token_client]")
{
    const auto pki = oi::test::make_test_pki({"localhost"}, {"127.0.0.1"});
    const auto untrusted =
        oi::test::make_untrusted_cert(pki, "rogue", {"localhost"}, {"127.0.0.1"});
    origin_server origin{untrusted.cert, untrusted.key};
    token_endpoint_fixture fixture{origin, pki.ca_cert.string()};

    const auto outcome = fixture.request();

    CHECK(failure(outcome).kind == token_failure_kind::transport);
    CHECK(origin.requests().empty());
}

TEST_CASE("the destination policy applies to token endpoints", "[oauth][token_client]")
{
    origin_server origin;
    token_endpoint_fixture fixture{origin};
    fixture.upstream().allow_addresses.clear(); // loopback is private: denied

    const auto outcome = fixture.request();

    CHECK(failure(outcome).kind == token_failure_kind::transport);
    CHECK(origin.connections_accepted() == 0);
}

TEST_CASE("a token_url that is not an absolute http(s) URL fails without connecting",
          "[oauth][token_client]")
{
    origin_server origin;
    token_endpoint_fixture fixture{origin};
    fixture.connection().token_url = "/oauth/token";

    const auto outcome = fixture.request();

    CHECK(failure(outcome).kind == token_failure_kind::transport);
    CHECK(origin.connections_accepted() == 0);
}
