#include "upstream/pool.hpp"

#include <poll.h>

namespace oi::upstream {

pool::pool(connector& connect, pool_limits limits) : connect_(connect), limits_(limits) {}

std::string_view pool::key_for(const destination& to)
{
    key_buffer_.clear();
    key_buffer_.append(to.scheme).append("://").append(to.host).push_back(':');
    key_buffer_.append(std::to_string(to.port));
    return key_buffer_;
}

bool pool::still_open(byte_stream& stream)
{
    // An idle connection has nothing to say. Anything readable (EOF, a reset, stray bytes) means
    // the server closed it or broke framing: do not send a request on it.
    pollfd fd{};
    fd.fd = stream.socket().native_handle();
    fd.events = POLLIN | POLLRDHUP;
    return ::poll(&fd, 1, 0) == 0;
}

pool::lease pool::take_idle(const destination& to, bool check_idle)
{
    lease out;
    const auto it = idle_.find(key_for(to));
    if (it == idle_.end()) {
        return out;
    }
    const auto now = std::chrono::steady_clock::now();
    auto& entries = it->second;
    while (!entries.empty()) {
        idle_entry entry = std::move(entries.back());
        entries.pop_back();
        if (now - entry.since < limits_.idle_timeout &&
            (!check_idle || still_open(*entry.stream))) {
            out.connection.stream = std::move(entry.stream);
            out.reused = true;
            return out;
        }
        entry.stream->close();
    }
    return out;
}

asio::awaitable<pool::lease> pool::connect_new(const destination& to)
{
    lease out;
    out.connection = co_await connect_.connect(to);
    co_return out;
}

void pool::release(const destination& to, std::unique_ptr<byte_stream> stream)
{
    const std::string_view key = key_for(to);
    auto it = idle_.find(key);
    if (it == idle_.end()) {
        it = idle_.emplace(std::string{key}, std::deque<idle_entry>{}).first;
    }
    auto& entries = it->second;

    // Drop connections that have idled too long; the oldest are at the front.
    const auto now = std::chrono::steady_clock::now();
    while (!entries.empty() && now - entries.front().since >= limits_.idle_timeout) {
        entries.front().stream->close();
        entries.pop_front();
    }
    if (entries.size() >= limits_.max_idle_per_destination) {
        entries.front().stream->close();
        entries.pop_front();
    }
    stream->expires_never();
    entries.push_back(idle_entry{std::move(stream), now});
}

void pool::clear()
{
    for (auto& [key, entries] : idle_) {
        for (auto& entry : entries) {
            entry.stream->close();
        }
    }
    idle_.clear();
}

} // namespace oi::upstream
