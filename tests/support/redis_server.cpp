#include "support/redis_server.hpp"

#include <hiredis/hiredis.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
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

} // namespace

/// Sends PING over a fresh connection; true when the server answers at all (+PONG, or -NOAUTH
/// when a password is required). Bounded by a 1 s socket timeout.
bool redis_answers_ping(std::uint16_t port)
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

namespace {

std::string reply_text(const redisReply& reply)
{
    switch (reply.type) {
    case REDIS_REPLY_INTEGER:
        return std::to_string(reply.integer);
    case REDIS_REPLY_NIL:
        return "(nil)";
    case REDIS_REPLY_ERROR:
        return "-" + std::string(reply.str, reply.len);
    case REDIS_REPLY_ARRAY: {
        std::string out;
        for (std::size_t i = 0; i < reply.elements; ++i) {
            out += (i ? "\n" : "") + reply_text(*reply.element[i]);
        }
        return out;
    }
    default:
        return std::string(reply.str, reply.len);
    }
}

struct context_deleter {
    void operator()(redisContext* c) const { redisFree(c); }
};

/// One command on a connected context, as text; throws when no reply came.
std::string send(redisContext& context, const std::vector<std::string>& args)
{
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& arg : args) {
        argv.push_back(arg.c_str());
        lengths.push_back(arg.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(&context, static_cast<int>(argv.size()), argv.data(), lengths.data()));
    if (!reply) {
        throw std::runtime_error("redis_command: no reply: " + std::string(context.errstr));
    }
    std::string text = reply_text(*reply);
    freeReplyObject(reply);
    return text;
}

} // namespace

std::string redis_command(std::uint16_t port, const std::vector<std::string>& args,
                          const std::string& password, int database)
{
    const timeval limit{1, 0};
    const std::unique_ptr<redisContext, context_deleter> context(
        redisConnectWithTimeout("127.0.0.1", port, limit));
    if (!context || context->err) {
        throw std::runtime_error("redis_command: cannot connect to port " + std::to_string(port));
    }
    redisSetTimeout(context.get(), limit);
    if (!password.empty()) {
        (void)send(*context, {"AUTH", password});
    }
    if (database != 0) {
        (void)send(*context, {"SELECT", std::to_string(database)});
    }
    return send(*context, args);
}

std::uint16_t launch_on_free_port(const std::filesystem::path& dir,
                                  const std::function<void(std::uint16_t)>& launch)
{
    // A port picked free can be taken before the child binds it: try a few.
    for (int attempt = 0;; ++attempt) {
        const std::uint16_t port = free_tcp_port();
        try {
            launch(port);
            return port;
        } catch (const std::runtime_error&) {
            if (attempt == 2) {
                std::error_code ignored;
                std::filesystem::remove_all(dir, ignored);
                throw;
            }
        }
    }
}

std::unique_ptr<process> spawn_until_ping(process_options spawn, std::uint16_t port,
                                          std::chrono::milliseconds limit,
                                          const std::function<std::string()>& log)
{
    const std::string program = spawn.program;
    auto child = std::make_unique<process>(std::move(spawn));

    // Wait until it answers (or exits); polling is all a TCP server offers.
    const auto deadline = std::chrono::steady_clock::now() + limit;
    auto backoff = 5ms;
    while (!redis_answers_ping(port)) {
        if (!child->running() || std::chrono::steady_clock::now() > deadline) {
            child.reset();
            throw std::runtime_error(program + " did not start on port " + std::to_string(port) +
                                     ":\n" + log());
        }
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
    }
    return child;
}

redis_server::redis_server(redis_server_options options)
    : options_(std::move(options)), dir_(make_temp_dir("oi-redis"))
{
    port_ = launch_on_free_port(dir_, [this](std::uint16_t port) {
        port_ = port;
        launch();
    });
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
    // A config file (empty: everything is on the command line) so that CONFIG REWRITE, which
    // Sentinel sends to the servers it reconfigures, has somewhere to write.
    const auto config_file = dir_ / "redis.conf";
    std::ofstream{config_file, std::ios::app}.flush();
    spawn.args = {config_file.string(),
                  "--port",
                  std::to_string(port_),
                  "--bind",
                  "127.0.0.1",
                  "--save",
                  "",
                  "--appendonly",
                  "no",
                  "--dir",
                  dir_.string(),
                  "--logfile",
                  (dir_ / "redis.log").string()};
    if (!options_.password.empty()) {
        spawn.args.insert(spawn.args.end(),
                          {"--requirepass", options_.password, "--masterauth", options_.password});
    }
    if (options_.replica_of != 0) {
        spawn.args.insert(spawn.args.end(),
                          {"--replicaof", "127.0.0.1", std::to_string(options_.replica_of)});
    }
    process_ = spawn_until_ping(std::move(spawn), port_, options_.start_timeout,
                                [this] { return log_text(); });
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
