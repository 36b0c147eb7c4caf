#include "store/resp_connection.hpp"

#include "store/bounded_resolve.hpp"
#include "store/store_error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <hiredis/hiredis.h>

#include <array>
#include <string>
#include <vector>

namespace oi::store {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using boost::system::result;
constexpr auto k_use_tuple = asio::as_tuple(asio::use_awaitable);

redisReader* as_reader(void* p)
{
    return static_cast<redisReader*>(p);
}

/// The command in RESP, as hiredis formats it.
std::string format_command(std::span<const std::string_view> args)
{
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    char* formatted = nullptr;
    const int size = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), argv.data(),
                                            lengths.data());
    if (size < 0 || !formatted) {
        return {};
    }
    std::string out(formatted, static_cast<std::size_t>(size));
    redisFreeCommand(formatted);
    return out;
}

error_code timeout_or(error_code ec)
{
    return ec == boost::beast::error::timeout ? make_error_code(store_errc::timeout) : ec;
}

} // namespace

void resp_connection::reader_deleter::operator()(void* reader) const
{
    redisReaderFree(as_reader(reader));
}

resp_connection::resp_connection(const asio::any_io_executor& ex)
    : stream_(ex), reader_(redisReaderCreate())
{}

resp_connection::~resp_connection() = default;

asio::awaitable<error_code> resp_connection::connect(const config::endpoint& at,
                                                     std::chrono::milliseconds limit)
{
    // One limit for the lookup and the connect together.
    const auto deadline = std::chrono::steady_clock::now() + limit;
    const auto endpoints = co_await resolve_within(stream_.get_executor(), at, limit);
    if (!endpoints) {
        co_return endpoints.error();
    }

    stream_.expires_at(deadline);
    auto [ec, connected] = co_await stream_.async_connect(*endpoints, k_use_tuple);
    (void)connected;
    co_return timeout_or(ec);
}

asio::awaitable<result<redis_reply>>
resp_connection::command(std::span<const std::string_view> args, std::chrono::milliseconds limit)
{
    const std::string request = format_command(args);
    if (request.empty()) {
        co_return make_error_code(boost::system::errc::invalid_argument);
    }

    stream_.expires_after(limit);
    auto [ec, written] = co_await asio::async_write(stream_, asio::buffer(request), k_use_tuple);
    (void)written;
    if (ec) {
        co_return timeout_or(ec);
    }
    co_return co_await read_reply(limit);
}

asio::awaitable<result<redis_reply>> resp_connection::read_reply(std::chrono::milliseconds limit)
{
    std::array<char, 4096> buffer{};
    stream_.expires_after(limit);
    for (;;) {
        // A reply already buffered by an earlier read comes first.
        void* parsed = nullptr;
        if (redisReaderGetReply(as_reader(reader_.get()), &parsed) != REDIS_OK) {
            close();
            co_return make_error_code(store_errc::unavailable);
        }
        if (parsed) {
            redis_reply reply = to_redis_reply(*static_cast<redisReply*>(parsed));
            freeReplyObject(parsed);
            co_return reply;
        }

        auto [ec, n] = co_await stream_.async_read_some(asio::buffer(buffer), k_use_tuple);
        if (ec) {
            co_return ec == asio::error::eof ? make_error_code(store_errc::unavailable)
                                             : timeout_or(ec);
        }
        redisReaderFeed(as_reader(reader_.get()), buffer.data(), n);
    }
}

void resp_connection::close()
{
    error_code ignored;
    stream_.socket().close(ignored);
}

} // namespace oi::store
