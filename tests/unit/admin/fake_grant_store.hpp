#pragma once

// A grant_store held in memory, for the admin API's tests: it can be told to fail or to never
// answer a ping, and it counts calls.

#include "store/grant_store.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>
#include <utility>

namespace oi::test {

class fake_grant_store final : public store::grant_store {
public:
    bool fail = false;      // every call answers connection_refused
    bool hang_ping = false; // ping never answers (until the io_context is destroyed)
    int saves = 0;
    std::map<std::pair<std::string, std::string>, store::grant> grants;

    boost::asio::awaitable<store::result<std::optional<store::grant>>>
    load(const store::grant_key& key) override
    {
        if (fail) {
            co_return refused();
        }
        const auto it = grants.find({key.connection, key.user});
        co_return it == grants.end() ? std::optional<store::grant>() : it->second;
    }

    boost::asio::awaitable<store::result<void>> save(const store::grant_key& key,
                                                     const store::grant& value) override
    {
        if (fail) {
            co_return refused();
        }
        ++saves;
        grants[{key.connection, key.user}] = value;
        co_return store::result<void>();
    }

    boost::asio::awaitable<store::result<bool>> remove(const store::grant_key& key) override
    {
        if (fail) {
            co_return store::result<bool>(boost::system::in_place_error, refused());
        }
        co_return grants.erase({key.connection, key.user}) == 1;
    }

    boost::asio::awaitable<store::result<void>> ping() override
    {
        if (hang_ping) {
            boost::asio::steady_timer never(co_await boost::asio::this_coro::executor,
                                            std::chrono::hours(24));
            co_await never.async_wait(boost::asio::use_awaitable);
        }
        if (fail) {
            co_return refused();
        }
        co_return store::result<void>();
    }

private:
    static boost::system::error_code refused()
    {
        return make_error_code(boost::system::errc::connection_refused);
    }
};

} // namespace oi::test
