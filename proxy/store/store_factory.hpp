#pragma once

// Builds each worker's grant store from the configuration: for Redis, one redis_client per
// worker io_context (started in the background, on that io_context) and one grant_codec shared by
// all; for memory, one shared backend.
//
// Ownership and threads: owned by main. `make` may be called from any thread, before or while the
// workers run; the store it returns belongs to that worker and must be destroyed on its thread,
// before its io_context. `stop_all` asks every client still alive to stop, by posting to its
// io_context (so call it while the io_contexts still exist); it does not wait.
// Errors: the constructor throws std::invalid_argument for unusable encryption keys (start-up
// only); nothing else throws.

#include "config/config.hpp"
#include "store/grant_store.hpp"
#include "store/redis_client.hpp"
#include "store/redis_grant_store.hpp"

#include <boost/asio/io_context.hpp>

#include <memory>
#include <mutex>
#include <vector>

namespace oi::store {

class grant_codec;
class memory_grant_backend;

class store_factory {
public:
    /// `on_retry` is given to every Redis store (redis_grant_store.hpp); it runs on the workers'
    /// threads.
    explicit store_factory(config::store_config config, redis_options options = {},
                           retry_observer on_retry = {});
    ~store_factory();

    store_factory(const store_factory&) = delete;
    store_factory& operator=(const store_factory&) = delete;

    [[nodiscard]] std::unique_ptr<grant_store> make(boost::asio::io_context& io);
    void stop_all();

private:
    struct client_entry {
        boost::asio::io_context* io;
        std::weak_ptr<redis_client> client;
    };

    config::store_config config_;
    redis_options options_;
    retry_observer on_retry_;
    std::shared_ptr<const grant_codec> codec_;             // redis only
    std::shared_ptr<memory_grant_backend> memory_backend_; // memory only
    std::mutex mutex_;
    std::vector<client_entry> clients_;
};

} // namespace oi::store
