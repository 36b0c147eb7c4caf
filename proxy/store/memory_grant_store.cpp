#include "store/memory_grant_store.hpp"

namespace oi::store {

std::optional<grant> memory_grant_backend::find(const grant_key& key) const
{
    const std::lock_guard lock(mutex_);
    const auto it = grants_.find({key.connection, key.user});
    if (it == grants_.end()) {
        return std::nullopt;
    }
    return it->second;
}

void memory_grant_backend::put(const grant_key& key, const grant& value)
{
    const std::lock_guard lock(mutex_);
    grants_.insert_or_assign({key.connection, key.user}, value);
}

bool memory_grant_backend::erase(const grant_key& key)
{
    const std::lock_guard lock(mutex_);
    return grants_.erase({key.connection, key.user}) > 0;
}

std::size_t memory_grant_backend::size() const
{
    const std::lock_guard lock(mutex_);
    return grants_.size();
}

memory_grant_store::memory_grant_store(std::shared_ptr<memory_grant_backend> backend)
    : backend_(std::move(backend))
{}

boost::asio::awaitable<result<std::optional<grant>>> memory_grant_store::load(const grant_key& key)
{
    co_return backend_->find(key);
}

boost::asio::awaitable<result<void>> memory_grant_store::save(const grant_key& key,
                                                              const grant& value)
{
    backend_->put(key, value);
    co_return result<void>{};
}

boost::asio::awaitable<result<bool>> memory_grant_store::remove(const grant_key& key)
{
    co_return backend_->erase(key);
}

boost::asio::awaitable<result<void>> memory_grant_store::ping()
{
    co_return result<void>{};
}

} // namespace oi::store
