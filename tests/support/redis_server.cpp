#include "support/redis_server.hpp"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace oi::test {
namespace {

using namespace std::chrono_literals;

std::string server_program()
{
    const char* path = std::getenv("OI_REDIS_SERVER");
    return path && *path ? path : "redis-server";
}

/// Sends PING over a fresh connection; true when the server answers at all (+PONG, or -NOAUTH
/// when a password is required). Bounded by a 1 s socket timeout.
bool ping(std::uint16_t port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    timeval limit{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    constexpr std::string_view request = "*1\r\n$4\r\nPING\r\n";
    char reply[64] = {};
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
                        static_cast<ssize_t>(request.size()) &&
                    ::recv(fd, reply, sizeof(reply) - 1, 0) > 0;
    ::close(fd);
    const std::string_view text(reply);
    return ok && (text.starts_with("+PONG") || text.starts_with("-NOAUTH"));
}

} // namespace

redis_server::redis_server(redis_server_options options)
    : options_(std::move(options)), dir_(make_temp_dir("oi-redis"))
{
    // A port picked free can be taken before the server binds it: try a few.
    for (int attempt = 0;; ++attempt) {
        port_ = free_tcp_port();
        try {
            launch();
            return;
        } catch (const std::runtime_error&) {
            if (attempt == 2) {
                std::error_code ignored;
                std::filesystem::remove_all(dir_, ignored);
                throw;
            }
        }
    }
}

redis_server::~redis_server()
{
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void redis_server::launch()
{
    process_options spawn;
    spawn.program = server_program();
    spawn.args = {"--port",       std::to_string(port_),
                  "--bind",       "127.0.0.1",
                  "--save",       "",
                  "--appendonly", "no",
                  "--dir",        dir_.string(),
                  "--logfile",    (dir_ / "redis.log").string()};
    if (!options_.password.empty()) {
        spawn.args.insert(spawn.args.end(), {"--requirepass", options_.password});
    }
    process_ = std::make_unique<process>(std::move(spawn));

    // Wait until it answers (or exits); polling is all a TCP server offers.
    const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
    auto backoff = 5ms;
    while (!answers_ping()) {
        if (!process_->running() || std::chrono::steady_clock::now() > deadline) {
            const std::string log = log_text();
            process_.reset();
            throw std::runtime_error("redis-server did not start on port " + std::to_string(port_) +
                                     ":\n" + log);
        }
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
    }
}

bool redis_server::answers_ping() const
{
    return process_ && ping(port_);
}

void redis_server::stop()
{
    if (process_) {
        process_->stop();
        process_.reset();
    }
}

void redis_server::restart()
{
    stop();
    launch();
}

void redis_server::pause()
{
    if (process_) {
        process_->signal(SIGSTOP);
    }
}

void redis_server::resume()
{
    if (process_) {
        process_->signal(SIGCONT);
    }
}

bool redis_server::running() const
{
    return process_ && process_->running();
}

std::string redis_server::url() const
{
    const std::string auth = options_.password.empty() ? "" : ":" + options_.password + "@";
    return "redis://" + auth + "127.0.0.1:" + std::to_string(port_) + "/0";
}

config::redis_config redis_server::config(int database) const
{
    config::redis_config c;
    c.url = "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(database);
    c.host = "127.0.0.1";
    c.port = port_;
    c.database = database;
    c.password = secret{options_.password};
    return c;
}

std::string redis_server::log_text() const
{
    std::ifstream in(dir_ / "redis.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace oi::test
