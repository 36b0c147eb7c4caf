#include "server/splice.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <array>

namespace oi::server {

namespace {

constexpr std::size_t k_splice_chunk = 16 * 1024;

} // namespace

asio::awaitable<void> copy_one_way(byte_stream& from, byte_stream& to,
                                   std::chrono::milliseconds idle)
{
    std::array<char, k_splice_chunk> buffer{};
    for (;;) {
        from.expires_after(idle);
        const auto [ec, n] = co_await from.read_some(asio::buffer(buffer));
        if (n > 0) {
            to.expires_after(idle);
            const auto [wec, written] = co_await to.write(asio::buffer(buffer.data(), n));
            if (wec) {
                from.close();
                co_return;
            }
        }
        if (ec) {
            error_code ignored;
            to.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
            co_return;
        }
    }
}

asio::awaitable<void> splice(byte_stream& a, byte_stream& b, std::chrono::milliseconds idle)
{
    using namespace asio::experimental::awaitable_operators;
    co_await (copy_one_way(a, b, idle) && copy_one_way(b, a, idle));
}

} // namespace oi::server
