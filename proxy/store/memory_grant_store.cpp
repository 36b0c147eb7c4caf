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

bool memory_grant_backend::try_lock(const grant_key& key, std::string_view owner,
                                    std::chrono::milliseconds ttl)
{
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    auto [it, inserted] = locks_.try_emplace({key.connection, key.user});
    if (!inserted && it->second.expires > now) {
        return false;
    }
    it->second = lock_entry{std::string{owner}, now + ttl};
    return true;
}

bool memory_grant_backend::unlock(const grant_key& key, std::string_view owner)
{
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    const auto it = locks_.find({key.connection, key.user});
    if (it == locks_.end() || it->second.owner != owner || it->second.expires <= now) {
        return false;
    }
    locks_.erase(it);
    return true;
}

bool memory_grant_backend::put_if_version(const grant_key& key, const grant& value,
                                          std::uint64_t expected)
{
    const std::lock_guard lock(mutex_);
    const auto it = grants_.find({key.connection, key.user});
    if (it == grants_.end() || it->second.version != expected) {
        return false;
    }
    it->second = value;
    return true;
}

void memory_grant_backend::start_cooldown(const grant_key& key, std::chrono::milliseconds length)
{
    const auto until = std::chrono::steady_clock::now() + length;
    const std::lock_guard lock(mutex_);
    cooldowns_.insert_or_assign({key.connection, key.user}, until);
}

std::chrono::milliseconds memory_grant_backend::cooldown_left(const grant_key& key) const
{
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    const auto it = cooldowns_.find({key.connection, key.user});
    if (it == cooldowns_.end() || it->second <= now) {
        return std::chrono::milliseconds{0};
    }
    return std::chrono::ceil<std::chrono::milliseconds>(it->second - now);
}

bool memory_grant_backend::put_state(std::string_view id, std::string_view record,
                                     std::chrono::seconds ttl)
{
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    std::erase_if(states_, [now](const auto& entry) { return entry.second.expires <= now; });
    return states_.try_emplace(std::string{id}, state_entry{std::string{record}, now + ttl}).second;
}

std::optional<std::string> memory_grant_backend::take_state(std::string_view id)
{
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    const auto it = states_.find(id);
    if (it == states_.end()) {
        return std::nullopt;
    }
    std::optional<std::string> out;
    if (it->second.expires > now) {
        out = std::move(it->second.record);
    }
    states_.erase(it);
    return out;
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

boost::asio::awaitable<result<bool>> memory_grant_store::try_lock(const grant_key& key,
                                                                  std::string_view owner,
                                                                  std::chrono::milliseconds ttl)
{
    co_return backend_->try_lock(key, owner, ttl);
}

boost::asio::awaitable<result<bool>> memory_grant_store::unlock(const grant_key& key,
                                                                std::string_view owner)
{
    co_return backend_->unlock(key, owner);
}

boost::asio::awaitable<result<bool>>
memory_grant_store::save_if_version(const grant_key& key, const grant& value,
                                    std::uint64_t expected_version)
{
    co_return backend_->put_if_version(key, value, expected_version);
}

boost::asio::awaitable<result<void>>
memory_grant_store::start_cooldown(const grant_key& key, std::chrono::milliseconds length)
{
    backend_->start_cooldown(key, length);
    co_return result<void>{};
}

boost::asio::awaitable<result<std::chrono::milliseconds>>
memory_grant_store::cooldown_left(const grant_key& key)
{
    co_return backend_->cooldown_left(key);
}

boost::asio::awaitable<result<bool>> memory_grant_store::put_state(std::string_view id,
                                                                   std::string_view record,
                                                                   std::chrono::seconds ttl)
{
    co_return backend_->put_state(id, record, ttl);
}

boost::asio::awaitable<result<std::optional<std::string>>>
memory_grant_store::take_state(std::string_view id)
{
    co_return backend_->take_state(id);
}

} // namespace oi::store
