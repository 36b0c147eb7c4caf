#pragma once

// Runs the real oauth-injector binary against a real redis-server and real loopback origins
// (plain and TLS, the TLS one with a CA made for the test), with a config written for the test.

#include "support/http_client.hpp"
#include "support/origin_server.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/test_config.hpp"
#include "support/test_pki.hpp"

#include <algorithm>
#include <fstream>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace oi::test {

inline constexpr std::string_view k_admin_token = "admin-token-for-tests-0123456789";
// 32 bytes, base64.
inline constexpr std::string_view k_token_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// Polls `condition` (with short growing pauses) until it holds; false after ten seconds.
template <typename Condition> bool eventually(Condition condition)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto pause = std::chrono::milliseconds(2);
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) {
            return true;
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(100));
    }
    return false;
}

/// Whether a TCP connect to 127.0.0.1:port is refused (nothing listens any more).
inline bool connection_refused(unsigned short port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool refused = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 &&
                         errno == ECONNREFUSED;
    ::close(fd);
    return refused;
}

/// Polls the admin listener's /readyz until it answers 200 (the store is connected), for at
/// most ten seconds: a request sent before that may be refused with store_unavailable.
inline bool wait_until_ready(unsigned short admin_port)
{
    return eventually([admin_port] {
        try {
            return http_exchange(admin_port, "GET /readyz HTTP/1.1\r\nHost: a\r\n\r\n").status ==
                   200;
        } catch (const std::exception&) {
            return false; // not listening yet, or closed early: try again
        }
    });
}

/// Writes `config` to `path`, starts the oauth-injector binary on it with the given environment,
/// and waits until both of its listeners accept connections.
inline std::unique_ptr<process>
start_proxy_binary(const std::filesystem::path& path, const std::string& config,
                   std::vector<std::pair<std::string, std::string>> env, unsigned short proxy_port,
                   unsigned short admin_port)
{
    std::ofstream{path} << config;

    process_options options;
    options.program = OI_BINARY;
    options.args = {"run", "--config", path.string()};
    options.env = std::move(env);
    auto proxy = std::make_unique<process>(std::move(options));
    if (!wait_for_tcp(proxy_port, std::chrono::seconds(10)) ||
        !wait_for_tcp(admin_port, std::chrono::seconds(10)) || !wait_until_ready(admin_port)) {
        throw std::runtime_error("the proxy did not start: " + proxy->stderr_text());
    }
    return proxy;
}

struct proxy_fixture {
    test_pki pki = make_test_pki({"localhost"}, {"127.0.0.1"});
    redis_server redis;
    origin_server plain;
    origin_server tls{pki};
    scoped_temp_dir dir;
    unsigned short proxy_port = free_tcp_port();
    unsigned short admin_port = free_tcp_port();
    unsigned short public_port = free_tcp_port(); // bound only with config_options::public_listener
    std::unique_ptr<process> proxy;

    /// What a test changes in the fixture's configuration.
    struct config_options {
        std::string google_extra; // appended under the `google` connection
        std::string store_extra;  // appended under `store`
        std::string redis_extra;  // appended under `store.redis` (e.g. a `sentinel` block)
        std::string google_allowed = "[127.0.0.1, localhost]";
        std::string plugins_extra;     // appended under `plugins` (indented two spaces)
        std::string limits_extra;      // appended under `limits`
        std::string connections_extra; // appended under `connections` (indented two spaces)
        bool elsewhere = true;         // the `elsewhere` connection and its plugin `other`
        bool public_listener = false;  // listen.public on public_port, and public_url
        std::string log = "{ level: debug, format: json }";
        unsigned threads = 2;
    };

    /// The configuration file's text.
    [[nodiscard]] std::string config_text(const config_options& o) const
    {
        config_head head;
        head.proxy_port = proxy_port;
        head.admin_port = admin_port;
        head.public_port = o.public_listener ? public_port : 0;
        head.threads = o.threads;
        head.redis_url = redis.url();
        head.redis_extra = o.redis_extra;
        head.store_extra = o.store_extra;
        return head.yaml() + R"(connections:
  google:
    authorization_url: https://accounts.example.com/auth
    token_url: https://accounts.example.com/token
    client_id: client-1
    client_secret: ${CLIENT_SECRET}
    allowed_hosts: )" +
               o.google_allowed + "\n" + o.google_extra + o.connections_extra +
               (o.elsewhere ? R"(  elsewhere:
    authorization_url: https://other.example.com/auth
    token_url: https://other.example.com/token
    client_id: client-2
    allowed_hosts: [api.other.example.com]
)"
                            : "") +
               R"(plugins:
  calendar: { connection: google }
  mail: { connection: google }
)" + (o.elsewhere ? "  other: { connection: elsewhere }\n" : "") +
               o.plugins_extra +
               R"(
upstream:
  ca_file: )" + pki.ca_cert.string() +
               R"(
  allow_addresses: [127.0.0.1]
  response_timeout: 5s
limits:
  max_body_bytes: 1MiB
  max_header_bytes: 16KiB
)" + o.limits_extra +
               R"(
log: )" + o.log +
               "\n";
    }

    [[nodiscard]] std::filesystem::path config_path() const { return dir.path() / "config.yaml"; }

    /// Starts the proxy; `google_extra` is appended under the `google` connection,
    /// `store_extra` under `store`, `redis_extra` under `store.redis` (e.g. a `sentinel` block).
    void start(const std::string& google_extra = "", const std::string& store_extra = "",
               const std::string& redis_extra = "")
    {
        config_options o;
        o.google_extra = google_extra;
        o.store_extra = store_extra;
        o.redis_extra = redis_extra;
        start(o);
    }

    /// Starts the proxy; `extra_env` is added to its environment (e.g. LD_PRELOAD).
    void start(const config_options& o,
               const std::vector<std::pair<std::string, std::string>>& extra_env = {})
    {
        std::vector<std::pair<std::string, std::string>> env{
            {"ADMIN_TOKEN", std::string{k_admin_token}},
            {"TOKEN_KEY", std::string{k_token_key}},
            {"CLIENT_SECRET", "client-secret-value-xyz"}};
        env.insert(env.end(), extra_env.begin(), extra_env.end());
        proxy = start_proxy_binary(config_path(), config_text(o), std::move(env), proxy_port,
                                   admin_port);
    }

    /// Imports a grant through the admin API; returns the HTTP status.
    unsigned put_grant(std::string_view connection, std::string_view user,
                       std::string_view json_body)
    {
        std::string request =
            "PUT /v1/connections/" + std::string{connection} + "/grants/" + std::string{user} +
            " HTTP/1.1\r\nHost: admin\r\n" + "Authorization: Bearer " + std::string{k_admin_token} +
            "\r\nContent-Type: application/json\r\nContent-Length: " +
            std::to_string(json_body.size()) + "\r\n\r\n" + std::string{json_body};
        return http_exchange(admin_port, request).status;
    }

    /// A GET through the proxy as (plugin, user) with the given extra header lines.
    std::string proxied_get(const std::string& url, std::string_view plugin, std::string_view user,
                            std::string_view extra_headers = "") const
    {
        return "GET " + url +
               " HTTP/1.1\r\nHost: ignored.example\r\nX-Plugin-Id: " + std::string{plugin} +
               "\r\nX-Plugin-User: " + std::string{user} + "\r\n" + std::string{extra_headers} +
               "\r\n";
    }
};

} // namespace oi::test
