// The request id toward the upstream, and the user id in the access log only when enabled.

#include "integration/proxy_fixture.hpp"

#include <catch2/catch.hpp>

#include <regex>
#include <sstream>
#include <thread>

using namespace oi::test;

namespace {

/// Sends one GET as (calendar, alice) with `extra` header lines; returns what the origin saw.
recorded_request forwarded(proxy_fixture& f, const std::string& extra)
{
    const std::size_t before = f.plain.requests().size();
    const auto response =
        http_exchange(f.proxy_port, f.proxied_get(f.plain.url("/id"), "calendar", "alice", extra));
    REQUIRE(response.status == 200);
    REQUIRE(f.plain.wait_for_requests(before + 1, std::chrono::seconds(5)));
    return f.plain.requests().back();
}

bool is_own_id(const std::string& id)
{
    return std::regex_match(id, std::regex("[0-9a-f]{16}"));
}

/// Polls the proxy's stderr until `text` appears; false after 10 s.
bool log_shows(const proxy_fixture& f, const std::string& text)
{
    return eventually([&] { return f.proxy->stderr_text().find(text) != std::string::npos; });
}

} // namespace

TEST_CASE("the origin receives the request id that the access log line carries",
          "[request-id][integration]")
{
    proxy_fixture f;
    f.start(proxy_fixture::config_options{});

    const auto seen = forwarded(f, "");

    REQUIRE(seen.header_count("X-Request-Id") == 1);
    CHECK(is_own_id(seen.header("X-Request-Id")));
    CHECK(log_shows(f, R"("request_id":")" + seen.header("X-Request-Id") + R"(")"));
}

TEST_CASE("a well-formed request id from the runner is kept end to end",
          "[request-id][integration]")
{
    proxy_fixture f;
    f.start(proxy_fixture::config_options{});

    const auto seen = forwarded(f, "X-Request-Id: runner-7f3a.42:b\r\n");

    CHECK(seen.header_count("X-Request-Id") == 1);
    CHECK(seen.header("X-Request-Id") == "runner-7f3a.42:b");
    CHECK(log_shows(f, R"("request_id":"runner-7f3a.42:b")"));
}

TEST_CASE("a malformed, oversized or repeated incoming request id is replaced",
          "[request-id][integration]")
{
    proxy_fixture f;
    f.start(proxy_fixture::config_options{});
    const std::string incoming = GENERATE(std::string("X-Request-Id: abc%0d%0aSet-Cookie:x=1\r\n"),
                                          std::string("X-Request-Id: \"quoted\" id\r\n"),
                                          "X-Request-Id: " + std::string(129, 'a') + "\r\n",
                                          std::string("X-Request-Id: a\r\nX-Request-Id: b\r\n"));

    const auto seen = forwarded(f, incoming);

    CHECK(seen.header_count("X-Request-Id") == 1);
    CHECK(is_own_id(seen.header("X-Request-Id")));
    CHECK(seen.header_count("Set-Cookie") == 0);
}

TEST_CASE("an operator-named request id header is used, and an empty name sends none",
          "[request-id][integration]")
{
    proxy_fixture f;
    proxy_fixture::config_options o;
    const std::string name = GENERATE(std::string("X-Correlation-Id"), std::string(""));
    o.log = R"({ level: info, format: json, request_id_header: ")" + name + R"(" })";
    f.start(o);

    const auto seen = forwarded(f, "");

    CHECK(seen.header_count("X-Request-Id") == 0);
    CHECK(seen.header_count("X-Correlation-Id") == (name.empty() ? 0 : 1));
}

TEST_CASE("the access log names the user only when log.include_user is set",
          "[request-id][integration]")
{
    proxy_fixture f;
    proxy_fixture::config_options o;
    const bool include = GENERATE(true, false);
    o.log = std::string{"{ level: info, format: json, include_user: "} +
            (include ? "true" : "false") + " }";
    f.start(o);

    const auto seen = forwarded(f, "");

    REQUIRE(log_shows(f, R"("request_id":")" + seen.header("X-Request-Id") + R"(")"));
    CHECK((f.proxy->stderr_text().find(R"("user":"alice")") != std::string::npos) == include);
}

TEST_CASE("the access log's duration on a kept-alive connection leaves out the idle time before "
          "the request",
          "[request-id][integration]")
{
    using namespace std::chrono_literals;
    proxy_fixture f;
    f.start(proxy_fixture::config_options{});
    raw_connection kept{f.proxy_port};
    kept.send(
        f.proxied_get(f.plain.url("/one"), "calendar", "alice", "X-Request-Id: idle-one\r\n"));
    REQUIRE(kept.read_response().status == 200);

    std::this_thread::sleep_for(2s); // the connection idles: a duration, not a wait
    kept.send(
        f.proxied_get(f.plain.url("/two"), "calendar", "alice", "X-Request-Id: idle-two\r\n"));
    REQUIRE(kept.read_response().status == 200);

    // The access log line is written when the exchange ends, which may be after the client has
    // read the answer (and after other events of the same request): wait for the whole line.
    std::string line;
    REQUIRE(eventually([&] {
        std::istringstream log{f.proxy->stderr_text()};
        while (std::getline(log, line)) {
            if (line.find(R"("event":"request")") != std::string::npos &&
                line.find(R"("idle-two")") != std::string::npos && line.ends_with('}')) {
                return true;
            }
        }
        return false;
    }));
    std::smatch duration;
    REQUIRE(std::regex_search(line, duration, std::regex(R"re("duration_ms":([0-9.]+))re")));
    INFO("duration_ms " << duration[1]);
    CHECK(std::stod(duration[1]) < 2000.0);
}
