// Graceful shutdown through the real binary: SIGTERM drains, then the process exits 0.

#include "integration/proxy_fixture.hpp"

#include <catch2/catch.hpp>

#include <csignal>

using namespace oi::test;

namespace {

/// `/slow` waits for the gate; everything else is answered at once.
void slow_path_waits_for(origin_server& origin, std::shared_ptr<origin_gate> gate)
{
    auto slow = respond_after(std::move(gate), canned_response{200, {}, "slow"});
    auto fast = echo_json();
    origin.set_handler([slow, fast](const recorded_request& r, response_writer& w) {
        (r.target == "/slow" ? slow : fast)(r, w);
    });
}

proxy_fixture::config_options with_shutdown_timeout(const std::string& timeout)
{
    proxy_fixture::config_options o;
    o.limits_extra = "  shutdown_timeout: " + timeout + "\n";
    return o;
}

} // namespace

TEST_CASE("SIGTERM lets a request in flight finish, closes idle connections, refuses new ones "
          "and exits 0",
          "[shutdown][integration]")
{
    proxy_fixture f;
    auto gate = std::make_shared<origin_gate>();
    slow_path_waits_for(f.plain, gate);
    f.start(with_shutdown_timeout("20s"));
    raw_connection idle{f.proxy_port};
    idle.send(f.proxied_get(f.plain.url("/fast"), "calendar", "alice"));
    REQUIRE(idle.read_response().status == 200);
    raw_connection held{f.proxy_port};
    held.send(f.proxied_get(f.plain.url("/slow"), "calendar", "alice"));
    REQUIRE(f.plain.wait_for_requests(2, std::chrono::seconds(5)));

    f.proxy->signal(SIGTERM);

    CHECK(idle.closed_by_peer());
    CHECK(eventually([&] { return connection_refused(f.proxy_port); }));
    CHECK(eventually([&] {
        return http_exchange(f.admin_port, "GET /readyz HTTP/1.1\r\nHost: a\r\n\r\n").status == 503;
    }));
    CHECK(f.proxy->running());
    gate->open();
    const auto finished = held.read_response();
    CHECK(finished.status == 200);
    CHECK(finished.body == "slow");
    CHECK(finished.header("Connection") == "close");
    const auto status = f.proxy->wait_exit(std::chrono::seconds(15));
    REQUIRE(status);
    CHECK(status->success());
    CHECK(f.proxy->stderr_text().find("\"event\":\"drained\"") != std::string::npos);
}

TEST_CASE("a request longer than the shutdown deadline is cut and the process still exits 0",
          "[shutdown][integration]")
{
    proxy_fixture f;
    auto gate = std::make_shared<origin_gate>();
    slow_path_waits_for(f.plain, gate);
    f.start(with_shutdown_timeout("1s"));
    raw_connection held{f.proxy_port, std::chrono::seconds(20)};
    held.send(f.proxied_get(f.plain.url("/slow"), "calendar", "alice"));
    REQUIRE(f.plain.wait_for_requests(1, std::chrono::seconds(5)));

    f.proxy->signal(SIGTERM);
    const auto status = f.proxy->wait_exit(std::chrono::seconds(15));

    REQUIRE(status);
    INFO("exit code " << status->code << ", signal " << status->signal << ", stderr:\n"
                      << f.proxy->stderr_text());
    CHECK(status->success());
    CHECK(held.read_until_close().empty());
    CHECK(f.proxy->stderr_text().find("\"event\":\"drain_deadline\"") != std::string::npos);
    gate->open();
}
