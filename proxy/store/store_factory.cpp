#include "store/store_factory.hpp"

#include "store/grant_codec.hpp"
#include "store/memory_grant_store.hpp"
#include "store/redis_grant_store.hpp"

#include <boost/asio/post.hpp>

namespace oi::store {

store_factory::store_factory(config::store_config config, redis_options options,
                             retry_observer on_retry)
    : config_(std::move(config)), options_(options), on_retry_(std::move(on_retry))
{
    if (config_.type == config::store_config::kind::redis) {
        codec_ = std::make_shared<const grant_codec>(config_.encryption_keys);
    } else {
        memory_backend_ = std::make_shared<memory_grant_backend>();
    }
}

store_factory::~store_factory() = default;

std::unique_ptr<grant_store> store_factory::make(boost::asio::io_context& io)
{
    if (memory_backend_) {
        return std::make_unique<memory_grant_store>(memory_backend_);
    }

    auto client = std::make_shared<redis_client>(io, config_.redis, options_);
    {
        const std::lock_guard lock(mutex_);
        clients_.push_back({&io, client});
    }

    // Start on the worker's own thread: the client is single-threaded.
    boost::asio::post(io, [weak = std::weak_ptr(client)] {
        if (const auto c = weak.lock()) {
            c->start();
        }
    });
    const replication_wait wait{config_.redis.wait_replicas, config_.redis.wait_timeout};
    return std::make_unique<redis_grant_store>(std::move(client), codec_, config_.redis.key_prefix,
                                               wait, on_retry_);
}

void store_factory::stop_all()
{
    const std::lock_guard lock(mutex_);
    for (const auto& entry : clients_) {
        boost::asio::post(*entry.io, [weak = entry.client] {
            if (const auto c = weak.lock()) {
                c->stop();
            }
        });
    }
    clients_.clear();
}

} // namespace oi::store
