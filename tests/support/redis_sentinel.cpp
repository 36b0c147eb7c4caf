#include "support/redis_sentinel.hpp"

#include "support/redis_server.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace oi::test {
namespace {

std::string sentinel_program()
{
    const char* path = std::getenv("OI_REDIS_SENTINEL");
    return path && *path ? path : "redis-sentinel";
}

} // namespace

redis_sentinel::redis_sentinel(redis_sentinel_options options)
    : options_(std::move(options)), dir_(make_temp_dir("oi-sentinel"))
{
    port_ = launch_on_free_port(dir_, [this](std::uint16_t port) {
        port_ = port;
        launch();
    });
}

redis_sentinel::~redis_sentinel()
{
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void redis_sentinel::stop()
{
    if (process_) {
        process_->stop();
        process_.reset();
    }
}

void redis_sentinel::launch()
{
    const auto config_file = dir_ / "sentinel.conf";
    const std::string& m = options_.master;
    {
        std::ofstream out(config_file, std::ios::trunc);
        out << "port " << port_ << "\nbind 127.0.0.1\ndir " << dir_.string() << "\nlogfile "
            << (dir_ / "sentinel.log").string() << "\nsentinel monitor " << m << " 127.0.0.1 "
            << options_.primary_port << " " << options_.quorum
            << "\nsentinel down-after-milliseconds " << m << " " << options_.down_after.count()
            << "\nsentinel failover-timeout " << m << " " << options_.failover_timeout.count()
            << "\nsentinel parallel-syncs " << m << " 1\n";
        if (!options_.primary_password.empty()) {
            out << "sentinel auth-pass " << m << " " << options_.primary_password << "\n";
        }
        if (!options_.password.empty()) {
            out << "requirepass " << options_.password << "\n";
        }
    }

    process_options spawn;
    spawn.program = sentinel_program();
    spawn.args = {config_file.string()};
    process_ = spawn_until_ping(std::move(spawn), port_, options_.start_timeout,
                                [this] { return log_text(); });
}

std::uint16_t redis_sentinel::primary_port() const
{
    const std::string reply = redis_command(
        port_, {"SENTINEL", "get-master-addr-by-name", options_.master}, options_.password);
    const auto newline = reply.find('\n');
    if (newline == std::string::npos) {
        return 0;
    }
    return static_cast<std::uint16_t>(std::stoi(reply.substr(newline + 1)));
}

std::string redis_sentinel::log_text() const
{
    std::ifstream in(dir_ / "sentinel.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace oi::test
