#include "integration/proxy_fixture.hpp"

#include <catch2/catch.hpp>

using namespace oi::test;

namespace {

constexpr std::string_view k_token = "ya29.access-token-alice_0123";
const std::string k_grant = R"({"access_token":"ya29.access-token-alice_0123","expires_in":3600})";

std::string post_json(const std::string& url, std::string_view body, std::string_view plugin,
                      std::string_view user)
{
    return "POST " + url + " HTTP/1.1\r\nHost: x\r\nX-Plugin-Id: " + std::string{plugin} +
           "\r\nX-Plugin-User: " + std::string{user} +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + std::string{body};
}

} // namespace

TEST_CASE("a proxied request gets the user's token in the header, query and body",
          "[proxy][integration]")
{
    proxy_fixture f;
    f.start();
    REQUIRE(f.put_grant("google", "alice", k_grant) == 200);
    const std::string body = R"({"token":"{OAUTH_PLUGIN_ACCESS_TOKEN}","n":1})";

    const auto response = http_exchange(
        f.proxy_port,
        "POST " + f.plain.url("/v1/items?access_token=<OAUTH_PLUGIN_ACCESS_TOKEN>") +
            " HTTP/1.1\r\nHost: x\r\nX-Plugin-Id: calendar\r\nX-Plugin-User: alice\r\n"
            "Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}\r\n"
            "Content-Type: application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body);

    REQUIRE(response.status == 200);
    REQUIRE(f.plain.wait_for_requests(1, std::chrono::seconds(5)));
    const auto seen = f.plain.requests().front();
    CHECK(seen.header("Authorization") == "Bearer " + std::string{k_token});
    CHECK(seen.target == "/v1/items?access_token=" + std::string{k_token});
    CHECK(seen.body == R"({"token":")" + std::string{k_token} + R"(","n":1})");
    CHECK(seen.header("Content-Length") == std::to_string(seen.body.size()));
    CHECK(seen.header_count("X-Plugin-User") == 0);
    CHECK(seen.header_count("X-Plugin-Id") == 0);
    CHECK(seen.header("Host") == "127.0.0.1:" + std::to_string(f.plain.port()));
}

TEST_CASE("a token with reserved characters is percent-encoded in the target only",
          "[proxy][integration]")
{
    // b64token characters (RFC 6750 section 2.1) and others that mean something in a URI.
    proxy_fixture f;
    f.start();
    REQUIRE(f.put_grant("google", "alice",
                        R"({"access_token":"a+b/c=d!e#f?g&h%i","expires_in":3600})") == 200);

    const auto response = http_exchange(
        f.proxy_port,
        f.proxied_get(f.plain.url("/v1/{OAUTH_PLUGIN_ACCESS_TOKEN}?t={OAUTH_PLUGIN_ACCESS_TOKEN}"),
                      "calendar", "alice",
                      "Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}\r\n"));

    REQUIRE(response.status == 200);
    REQUIRE(f.plain.wait_for_requests(1, std::chrono::seconds(5)));
    const auto seen = f.plain.requests().front();
    const std::string encoded = "a%2Bb%2Fc%3Dd%21e%23f%3Fg%26h%25i";
    CHECK(seen.target == "/v1/" + encoded + "?t=" + encoded);
    CHECK(seen.header("Authorization") == "Bearer a+b/c=d!e#f?g&h%i");
}

TEST_CASE("an https origin is reached over verified TLS with the token injected",
          "[proxy][integration]")
{
    proxy_fixture f;
    f.start();
    REQUIRE(f.put_grant("google", "alice", k_grant) == 200);

    const auto response = http_exchange(
        f.proxy_port, f.proxied_get(f.tls.url("/calendar", "localhost"), "calendar", "alice",
                                    "Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}\r\n"));

    REQUIRE(response.status == 200);
    REQUIRE(f.tls.wait_for_requests(1, std::chrono::seconds(5)));
    CHECK(f.tls.requests().front().header("Authorization") == "Bearer " + std::string{k_token});
}

TEST_CASE("an https origin whose certificate the proxy does not trust is refused",
          "[proxy][integration]")
{
    proxy_fixture f;
    const auto stranger = make_test_pki({"localhost"}, {"127.0.0.1"});
    origin_server untrusted{stranger};
    f.start();

    const auto response = http_exchange(
        f.proxy_port, f.proxied_get(untrusted.url("/", "localhost"), "calendar", "alice"));

    CHECK(response.status == 502);
    CHECK(response.header("X-OAuth-Injector-Error") == "upstream_unreachable");
    CHECK(untrusted.requests().empty());
}

TEST_CASE("a grant obtained for a shared connection serves every plugin using it",
          "[proxy][integration]")
{
    proxy_fixture f;
    f.start();
    REQUIRE(f.put_grant("google", "alice", k_grant) == 200);

    const auto response = http_exchange(
        f.proxy_port, f.proxied_get(f.plain.url("/"), "mail", "alice",
                                    "Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}\r\n"));

    REQUIRE(response.status == 200);
    REQUIRE(f.plain.wait_for_requests(1, std::chrono::seconds(5)));
    CHECK(f.plain.requests().front().header("Authorization") == "Bearer " + std::string{k_token});
}

TEST_CASE("requests that cannot be attributed are refused with a named reason",
          "[proxy][integration]")
{
    proxy_fixture f;
    f.start();

    SECTION("an unknown plugin")
    {
        const auto r =
            http_exchange(f.proxy_port, f.proxied_get(f.plain.url("/"), "nope", "alice"));
        CHECK(r.status == 403);
        CHECK(r.header("X-OAuth-Injector-Error") == "unknown_plugin");
        CHECK(r.body.find("\"error\":\"unknown_plugin\"") != std::string::npos);
    }
    SECTION("no identity at all")
    {
        const auto r =
            http_exchange(f.proxy_port, "GET " + f.plain.url("/") + " HTTP/1.1\r\nHost: x\r\n\r\n");
        CHECK(r.status == 407);
        CHECK(r.header("X-OAuth-Injector-Error") == "identity_required");
    }
    SECTION("an identity header given twice")
    {
        const auto r =
            http_exchange(f.proxy_port, f.proxied_get(f.plain.url("/"), "calendar", "alice",
                                                      "X-Plugin-User: bob\r\n"));
        CHECK(r.status == 407);
        CHECK(r.header("X-OAuth-Injector-Error") == "identity_invalid");
    }
    CHECK(f.plain.requests().empty());
}

TEST_CASE("a placeholder toward a host outside allowed_hosts is never forwarded",
          "[proxy][integration]")
{
    proxy_fixture f;
    f.start();
    REQUIRE(f.put_grant("elsewhere", "alice", k_grant) == 200);

    SECTION("in a header")
    {
        const auto r = http_exchange(
            f.proxy_port, f.proxied_get(f.plain.url("/"), "other", "alice",
                                        "Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}\r\n"));
        CHECK(r.status == 403);
        CHECK(r.header("X-OAuth-Injector-Error") == "host_not_allowed");
    }
    SECTION("in the target")
    {
        const auto r = http_exchange(
            f.proxy_port,
            f.proxied_get(f.plain.url("/?t={OAUTH_PLUGIN_ACCESS_TOKEN}"), "other", "alice"));
        CHECK(r.status == 403);
    }
    SECTION("in the body")
    {
        const auto r = http_exchange(
            f.proxy_port, post_json(f.plain.url("/"), R"({"t":"<OAUTH_PLUGIN_ACCESS_TOKEN>"})",
                                    "other", "alice"));
        CHECK(r.status == 403);
        CHECK(r.header("X-OAuth-Injector-Error") == "host_not_allowed");
    }
    CHECK(f.plain.requests().empty());
}

TEST_CASE("a request without a placeholder may go to any permitted host untouched",
          "[proxy][integration]")
{
    proxy_fixture f;
    f.start();

    const auto r =
        http_exchange(f.proxy_port, f.proxied_get(f.plain.url("/plain"), "other", "alice",
                                                  "Authorization: Bearer abc\r\n"));

    CHECK(r.status == 200);
    REQUIRE(f.plain.wait_for_requests(1, std::chrono::seconds(5)));
    CHECK(f.plain.requests().front().header("Authorization") == "Bearer abc");
}

TEST_CASE("a user without a grant gets an empty value or a refusal, as configured",
          "[proxy][integration]")
{
    proxy_fixture f;

    SECTION("on_missing_token: empty (the default)")
    {
        f.start();
        const auto r = http_exchange(
            f.proxy_port, f.proxied_get(f.plain.url("/"), "calendar", "nobody",
                                        "Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}\r\n"));
        CHECK(r.status == 200);
        REQUIRE(f.plain.wait_for_requests(1, std::chrono::seconds(5)));
        CHECK(f.plain.requests().front().header("Authorization") == "Bearer");
    }
    SECTION("on_missing_token: reject")
    {
        f.start("    on_missing_token: reject\n");
        const auto r = http_exchange(
            f.proxy_port, f.proxied_get(f.plain.url("/"), "calendar", "nobody",
                                        "Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}\r\n"));
        CHECK(r.status == 401);
        CHECK(r.header("X-OAuth-Injector-Error") == "authorization_required");
        CHECK(r.body.find("authorize_url") != std::string::npos);
        CHECK(f.plain.requests().empty());
    }
}

TEST_CASE("when Redis goes away a cached grant still serves and others get store_unavailable",
          "[proxy][integration]")
{
    proxy_fixture f;
    f.start("", "  cache_ttl: 1ms\n");
    REQUIRE(f.put_grant("google", "alice", k_grant) == 200);
    const auto with_token = [&](std::string_view user) {
        return http_exchange(
            f.proxy_port, f.proxied_get(f.plain.url("/"), "calendar", user,
                                        "Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}\r\n"));
    };
    // Both workers learn alice's grant.
    for (int i = 0; i < 4; ++i) {
        REQUIRE(with_token("alice").status == 200);
    }

    f.redis.stop();
    const auto cached = with_token("alice");
    const auto uncached = with_token("bob");
    f.redis.restart();
    const auto recovered = [&] {
        for (int i = 0; i < 50; ++i) {
            const auto r = with_token("bob");
            if (r.status == 200) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100)); // reconnect backoff
        }
        return false;
    }();

    CHECK(cached.status == 200);
    CHECK(uncached.status == 503);
    CHECK(uncached.header("X-OAuth-Injector-Error") == "store_unavailable");
    CHECK(recovered);
}

TEST_CASE("a streamed response reaches the client before the upstream has finished",
          "[proxy][integration]")
{
    proxy_fixture f;
    auto gate = std::make_shared<origin_gate>();
    f.plain.set_handler(stream_events({"data: first\n\n"}, gate, {"data: second\n\n"}));
    f.start();
    raw_connection c{f.proxy_port};

    c.send(f.proxied_get(f.plain.url("/events"), "calendar", "alice"));
    auto [head, first] = c.read_head_and_first_piece();
    gate->open();

    CHECK(head.status == 200);
    CHECK(first.find("data: first") != std::string::npos);
    CHECK(first.find("data: second") == std::string::npos);
}

TEST_CASE("a chunked body is rewritten as it streams, placeholders split across chunks included",
          "[proxy][integration]")
{
    proxy_fixture f;
    f.start();
    REQUIRE(f.put_grant("google", "alice", k_grant) == 200);

    const auto r =
        http_exchange(f.proxy_port, "POST " + f.plain.url("/upload") +
                                        " HTTP/1.1\r\nHost: x\r\nX-Plugin-Id: calendar\r\n"
                                        "X-Plugin-User: alice\r\nTransfer-Encoding: chunked\r\n\r\n"
                                        "8\r\ntoken={O\r\n"
                                        "10\r\nAUTH_PLUGIN_ACCE\r\n"
                                        "9\r\nSS_TOKEN}\r\n"
                                        "0\r\n\r\n");

    REQUIRE(r.status == 200);
    REQUIRE(f.plain.wait_for_requests(1, std::chrono::seconds(5)));
    const auto seen = f.plain.requests().front();
    CHECK(seen.chunked);
    CHECK(seen.body == "token=" + std::string{k_token});
}

TEST_CASE("one client connection carries several requests, pipelined ones included",
          "[proxy][integration]")
{
    proxy_fixture f;
    f.start();
    raw_connection c{f.proxy_port};
    const std::string request = f.proxied_get(f.plain.url("/a"), "calendar", "alice");

    c.send(request + request);
    const auto first = c.read_response();
    const auto second = c.read_response();
    c.send(request);
    const auto third = c.read_response();

    CHECK(first.status == 200);
    CHECK(second.status == 200);
    CHECK(third.status == 200);
    CHECK(f.plain.requests().size() == 3);
    CHECK(f.plain.connections_accepted() == 1);
}

TEST_CASE("a request on a pooled connection the origin closed without saying so goes again on a "
          "new connection",
          "[proxy][integration]")
{
    proxy_fixture f;
    f.start();
    // Answers as if keeping the connection, then closes it: the proxy's pooled connection is dead.
    f.plain.set_handler([](const recorded_request&, response_writer& w) {
        w.respond(canned_response{.body = "ok"});
        w.close_after();
    });
    raw_connection c{f.proxy_port};
    const std::string request = f.proxied_get(f.plain.url("/a"), "calendar", "alice");

    std::vector<unsigned> statuses;
    for (int i = 0; i < 3; ++i) {
        c.send(request);
        statuses.push_back(c.read_response().status);
    }

    CHECK(statuses == std::vector<unsigned>{200, 200, 200});
    CHECK(f.plain.requests().size() == 3);
    CHECK(f.plain.connections_accepted() == 3);
}

TEST_CASE("ambiguous or malformed requests are refused and the connection closed",
          "[proxy][integration]")
{
    proxy_fixture f;
    f.start();
    // The origin's URL goes in after the GENERATE, whose values are made once, on the first run,
    // while each run starts a new origin.
    const std::string ids = "X-Plugin-Id: calendar\r\nX-Plugin-User: alice\r\n";
    std::string request =
        GENERATE_COPY("POST {url} HTTP/1.1\r\nHost: x\r\n" + ids +
                          "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                      "POST {url} HTTP/1.1\r\nHost: x\r\n" + ids +
                          "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                      "GET {url} HTTP/1.1\r\nHost: x\r\n" + ids + "X-Folded: a\r\n b\r\n\r\n",
                      "GET {url} HTTP/1.1\r\n" + ids + "\r\n",
                      "GET /relative HTTP/1.1\r\nHost: x\r\n" + ids + "\r\n");
    if (const std::size_t at = request.find("{url}"); at != std::string::npos) {
        request.replace(at, 5, f.plain.url("/"));
    }
    CAPTURE(request);
    raw_connection c{f.proxy_port};

    c.send(request);
    const auto r = c.read_response();

    CHECK(r.status == 400);
    CHECK(r.header("X-OAuth-Injector-Error") == "bad_request");
    CHECK(f.plain.requests().empty());
}

TEST_CASE("an oversized head or body is refused", "[proxy][integration]")
{
    proxy_fixture f;
    f.start();

    SECTION("head")
    {
        const auto r = http_exchange(f.proxy_port,
                                     f.proxied_get(f.plain.url("/"), "calendar", "alice",
                                                   "X-Big: " + std::string(20000, 'a') + "\r\n"));
        CHECK(r.status == 431);
    }
    SECTION("body")
    {
        raw_connection c{f.proxy_port};
        c.send("POST " + f.plain.url("/") +
               " HTTP/1.1\r\nHost: x\r\nX-Plugin-Id: calendar\r\nX-Plugin-User: alice\r\n"
               "Content-Length: 2000000\r\n\r\n");
        const auto r = c.read_response();
        CHECK(r.status == 413);
        CHECK(r.header("X-OAuth-Injector-Error") == "payload_too_large");
    }
    CHECK(f.plain.requests().empty());
}

TEST_CASE("an upstream that does not answer in time gives upstream_timeout", "[proxy][integration]")
{
    proxy_fixture f;
    auto gate = std::make_shared<origin_gate>();
    f.plain.set_handler(respond_after(gate, canned_response{}));
    f.start();

    const auto r =
        http_exchange(f.proxy_port, f.proxied_get(f.plain.url("/slow"), "calendar", "alice"));
    gate->open();

    CHECK(r.status == 504);
    CHECK(r.header("X-OAuth-Injector-Error") == "upstream_timeout");
}
