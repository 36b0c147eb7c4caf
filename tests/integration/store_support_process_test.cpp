// Tests of tests/support/process.hpp, which the store's tests (and others') use to run servers.
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <csignal>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace std::chrono_literals;

TEST_CASE("a child's exit code, output and environment are observed", "[support][process]")
{
    oi::test::process child({.program = "sh",
                             .args = {"-c", "echo out-$GREETING; echo err >&2; exit 3"},
                             .env = {{"GREETING", "hello"}}});

    const auto status = child.wait_exit(10s);

    REQUIRE(status.has_value());
    CHECK(status->exited);
    CHECK(status->code == 3);
    CHECK(child.stdout_text() == "out-hello\n");
    CHECK(child.stderr_text() == "err\n");
    CHECK_FALSE(child.running());
}

TEST_CASE("a ThreadSanitizer report a child writes to stderr is found", "[support][process]")
{
    // What a TSan build of the proxy writes (scripts/tsan.sh); by default it fails the test.
    oi::test::process child(
        {.program = "sh",
         .args = {"-c", "echo starting >&2; echo ================== >&2; "
                        "echo 'WARNING: ThreadSanitizer: data race (pid=1)' >&2; "
                        "echo '  Write of size 8' >&2; echo ================== >&2"},
         .fail_on_sanitizer_report = false});
    oi::test::process quiet({.program = "sh", .args = {"-c", "echo no report here >&2"}});

    REQUIRE(child.wait_exit(10s));
    REQUIRE(quiet.wait_exit(10s));

    CHECK(child.sanitizer_report().starts_with(
        "==================\nWARNING: ThreadSanitizer: data race (pid=1)\n  Write of size 8\n"));
    CHECK(quiet.sanitizer_report().empty());
}

TEST_CASE("stop ends a running child with SIGTERM", "[support][process]")
{
    oi::test::process child({.program = "sleep", .args = {"30"}});
    REQUIRE(child.running());

    const auto status = child.stop();

    CHECK_FALSE(status.exited);
    CHECK(status.signal == SIGTERM);
    CHECK_FALSE(child.running());
}

TEST_CASE("stop kills a child that ignores SIGTERM after the grace period", "[support][process]")
{
    oi::test::process child(
        {.program = "sh", .args = {"-c", "trap '' TERM; echo ready; while :; do sleep 1; done"}});
    REQUIRE_FALSE(child.wait_exit(300ms).has_value());

    const auto started = std::chrono::steady_clock::now();
    const auto status = child.stop(200ms);

    CHECK(status.signal == SIGKILL);
    CHECK(std::chrono::steady_clock::now() - started < 5s);
}

TEST_CASE("a program that does not exist fails to start", "[support][process]")
{
    CHECK_THROWS_AS(oi::test::process({.program = "/nonexistent/program"}), std::runtime_error);
}

TEST_CASE("wait_for_tcp sees a listener and gives up in bounded time without one",
          "[support][process]")
{
    const std::uint16_t closed_port = oi::test::free_tcp_port();
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    REQUIRE(::listen(listener, 4) == 0);
    socklen_t length = sizeof(address);
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    const auto started = std::chrono::steady_clock::now();

    const bool open = oi::test::wait_for_tcp(ntohs(address.sin_port), 2s);
    const bool closed = oi::test::wait_for_tcp(closed_port, 200ms);

    ::close(listener);
    CHECK(open);
    CHECK_FALSE(closed);
    CHECK(std::chrono::steady_clock::now() - started < 2s);
}
