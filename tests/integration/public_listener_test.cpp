// The public listener (/oauth/start, /oauth/callback) through the real binary: it follows
// configuration reloads and takes part in the SIGTERM drain. The token endpoint is the
// fixture's TLS origin; the provider's authorization page is never visited (the test plays the
// browser coming back with a code).

#include "integration/proxy_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>
#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>

using namespace oi::test;

namespace {

constexpr std::string_view k_token_answer =
    R"({"access_token":"ya29.notes-access-0123","token_type":"Bearer","expires_in":3600})";

/// A connection `notes` whose token endpoint is the fixture's TLS origin.
std::string notes_connection(const proxy_fixture& f)
{
    return "  notes:\n"
           "    authorization_url: https://notes.example.com/auth\n"
           "    token_url: " +
           f.tls.url("/token", "localhost") +
           "\n"
           "    client_id: notes-client\n"
           "    client_secret: ${CLIENT_SECRET}\n"
           "    allowed_hosts: [localhost]\n";
}

proxy_fixture::config_options with_public_listener()
{
    proxy_fixture::config_options o;
    o.public_listener = true;
    return o;
}

std::string admin_request(std::string_view method, const std::string& path)
{
    return std::string{method} + " " + path + " HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer " +
           std::string{k_admin_token} + "\r\nContent-Length: 0\r\n\r\n";
}

std::string public_get(const std::string& target)
{
    return "GET " + target + " HTTP/1.1\r\nHost: auth.example\r\n\r\n";
}

/// The path and query of a fresh authorize link for (connection, alice).
std::string authorize_target(const proxy_fixture& f, const std::string& connection)
{
    const auto answer =
        http_exchange(f.admin_port, admin_request("POST", "/v1/connections/" + connection +
                                                              "/grants/alice/authorize-link"));
    REQUIRE(answer.status == 200);
    const boost::json::value body = boost::json::parse(answer.body);
    const boost::json::string& link = body.at("url").as_string();
    const std::string url{link.data(), link.size()};
    const auto parsed = boost::urls::parse_uri(url);
    REQUIRE(parsed.has_value());
    return std::string{parsed->encoded_target()};
}

/// The `state` parameter of the provider redirect that /oauth/start answered.
std::string state_of(const http_response& start)
{
    const std::string text = start.header("Location");
    const auto location = boost::urls::parse_uri(text);
    REQUIRE(location.has_value());
    const auto state = location->params().find("state");
    REQUIRE(state != location->params().end());
    return std::string{(*state).value};
}

void reload(const proxy_fixture& f, const proxy_fixture::config_options& next)
{
    std::ofstream{f.config_path(), std::ios::trunc} << f.config_text(next);
    const auto answer = http_exchange(f.admin_port, admin_request("POST", "/v1/reload"));
    REQUIRE(answer.status == 200);
}

void start_public(proxy_fixture& f, const proxy_fixture::config_options& o)
{
    f.tls.set_handler(respond_with(
        canned_response{200, {{"Content-Type", "application/json"}}, std::string{k_token_answer}}));
    f.start(o);
    REQUIRE(wait_for_tcp(f.public_port, std::chrono::seconds(10)));
}

} // namespace

TEST_CASE("a connection added by a reload gets working authorize links and callbacks",
          "[public][reload][integration]")
{
    proxy_fixture f;
    start_public(f, with_public_listener());
    auto next = with_public_listener();
    next.connections_extra = notes_connection(f);
    reload(f, next);

    const auto start = http_exchange(f.public_port, public_get(authorize_target(f, "notes")));
    REQUIRE(start.status == 302);
    CHECK(start.header("Location").rfind("https://notes.example.com/auth?", 0) == 0);
    const auto callback = http_exchange(
        f.public_port, public_get("/oauth/callback?state=" + state_of(start) + "&code=code-123"));

    CHECK(callback.status == 200);
    REQUIRE(f.tls.wait_for_requests(1, std::chrono::seconds(5)));
    CHECK(f.tls.requests().front().body.find("code=code-123") != std::string::npos);
    const auto grant =
        http_exchange(f.admin_port, admin_request("GET", "/v1/connections/notes/grants/alice"));
    CHECK(grant.body.find(R"("connected":true)") != std::string::npos);
}

TEST_CASE("a link or state whose connection a reload removed is refused as no longer configured",
          "[public][reload][integration]")
{
    proxy_fixture f;
    start_public(f, with_public_listener());
    const std::string link = authorize_target(f, "elsewhere");
    const auto started = http_exchange(f.public_port, public_get(authorize_target(f, "elsewhere")));
    REQUIRE(started.status == 302);
    auto next = with_public_listener();
    next.elsewhere = false;
    reload(f, next);

    const auto start = http_exchange(f.public_port, public_get(link));
    const auto callback = http_exchange(
        f.public_port, public_get("/oauth/callback?state=" + state_of(started) + "&code=c"));

    for (const auto& answer : {start, callback}) {
        CHECK(answer.status == 404);
        CHECK(answer.header("X-OAuth-Injector-Error") == "connection_not_configured");
        CHECK(answer.body.find("no longer connected") != std::string::npos);
    }
    CHECK(f.tls.requests().empty());
}

TEST_CASE("SIGTERM lets a callback in flight finish, closes idle public connections and refuses "
          "new ones",
          "[public][shutdown][integration]")
{
    proxy_fixture f;
    auto o = with_public_listener();
    o.connections_extra = notes_connection(f);
    o.limits_extra = "  shutdown_timeout: 20s\n";
    start_public(f, o);
    auto gate = std::make_shared<origin_gate>();
    f.tls.set_handler(respond_after(
        gate,
        canned_response{200, {{"Content-Type", "application/json"}}, std::string{k_token_answer}}));
    raw_connection idle{f.public_port};
    idle.send(public_get("/oauth/start"));
    REQUIRE(idle.read_response().status == 400);
    const auto start = http_exchange(f.public_port, public_get(authorize_target(f, "notes")));
    REQUIRE(start.status == 302);
    raw_connection held{f.public_port};
    held.send(public_get("/oauth/callback?state=" + state_of(start) + "&code=code-456"));
    REQUIRE(f.tls.wait_for_requests(1, std::chrono::seconds(5)));

    f.proxy->signal(SIGTERM);

    CHECK(idle.closed_by_peer());
    CHECK(eventually([&] { return connection_refused(f.public_port); }));
    CHECK(f.proxy->running());
    gate->open();
    const auto finished = held.read_response();
    CHECK(finished.status == 200);
    CHECK(finished.header("Connection") == "close");
    const auto status = f.proxy->wait_exit(std::chrono::seconds(15));
    REQUIRE(status);
    CHECK(status->success());
    CHECK(f.proxy->stderr_text().find("\"event\":\"drained\"") != std::string::npos);
}
