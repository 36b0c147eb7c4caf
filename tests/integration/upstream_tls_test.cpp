#include "integration/proxy_fixture.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace oi::test;

namespace {

/// Answers and closes, so that every request needs a new upstream connection (and handshake).
origin_handler answer_and_close()
{
    return [](const recorded_request&, response_writer& w) {
        canned_response response;
        response.headers = {{"Connection", "close"}};
        response.body = "ok";
        w.respond(response);
        w.close_after();
    };
}

} // namespace

TEST_CASE("a new connection to an https origin seen before resumes its TLS session, only for the "
          "same name",
          "[proxy][integration][tls]")
{
    proxy_fixture f;
    f.tls.set_handler(answer_and_close());
    proxy_fixture::config_options o;
    o.threads = 1; // one worker: one session cache
    f.start(o);
    raw_connection c{f.proxy_port};

    // Two names for one server: a session proved for one is never offered to the other.
    for (const char* host : {"localhost", "localhost", "127.0.0.1", "localhost", "127.0.0.1"}) {
        c.send(f.proxied_get(f.tls.url("/", host), "calendar", "alice"));
        REQUIRE(c.read_response().status == 200);
    }

    // The proxy's upstream_connection debug events say what OpenSSL reported (SSL_session_reused)
    // for each handshake, in order: all but the first for each name resumed.
    CHECK(f.tls.connections_accepted() == 5);
    std::vector<bool> resumed;
    REQUIRE(eventually([&] {
        resumed.clear();
        const std::string log = f.proxy->stderr_text();
        for (std::size_t at = log.find(R"("event":"upstream_connection")"); at != std::string::npos;
             at = log.find(R"("event":"upstream_connection")", at + 1)) {
            const std::size_t end = log.find('\n', at);
            resumed.push_back(log.substr(at, end - at).find(R"("tls_resumed":true)") !=
                              std::string::npos);
        }
        return resumed.size() == 5;
    }));
    CHECK(resumed == std::vector<bool>{false, true, false, true, true});
}
