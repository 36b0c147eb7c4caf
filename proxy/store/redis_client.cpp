#include "store/redis_client.hpp"

#include "common/log.hpp"
#include "store/bounded_resolve.hpp"
#include "store/redis_asio_adapter.hpp"
#include "store/sentinel_locator.hpp"
#include "store/store_error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <hiredis/async.h>

#include <algorithm>
#include <csignal>
#include <mutex>
#include <optional>

namespace oi::store {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using boost::system::result;
constexpr auto k_use_tuple = asio::as_tuple(asio::use_awaitable);

/// A one-shot wake-up for one waiting coroutine: `notify` sets a flag and cancels the timer.
class wake_signal {
public:
    explicit wake_signal(asio::io_context& io) : timer_(io) {}

    void reset() { notified_ = false; }
    void notify()
    {
        notified_ = true;
        timer_.cancel();
    }

    /// True when notified (before or during the wait), false when `limit` passed first.
    asio::awaitable<bool> wait(asio::steady_timer::duration limit)
    {
        if (!notified_) {
            timer_.expires_after(limit);
            co_await timer_.async_wait(k_use_tuple);
        }
        co_return notified_;
    }

private:
    asio::steady_timer timer_;
    bool notified_ = false;
};

/// One command in flight, shared between the awaiting coroutine and hiredis's callback, so
/// that a reply arriving after the timeout finds live state and is simply dropped.
struct pending_command {
    explicit pending_command(asio::io_context& io) : wake(io) {}

    asio::steady_timer wake;
    std::optional<result<redis_reply>> outcome;
};

void on_reply(redisAsyncContext*, void* reply, void* privdata)
{
    // hiredis calls each command's callback exactly once: with the reply, or with null when
    // the context is freed or the connection drops.
    const std::unique_ptr<std::shared_ptr<pending_command>> holder(
        static_cast<std::shared_ptr<pending_command>*>(privdata));
    pending_command& pending = **holder;
    if (pending.outcome) {
        return;
    }
    if (reply) {
        pending.outcome = to_redis_reply(*static_cast<redisReply*>(reply));
    } else {
        pending.outcome = result<redis_reply>(make_error_code(store_errc::unavailable));
    }
    pending.wake.cancel();
}

/// Error replies that mean "this node is not (or no longer) a writable primary": a replica
/// refuses writes with READONLY, and with MASTERDOWN when it lost its primary and
/// `replica-serve-stale-data` is off.
bool says_not_primary(const redis_reply& reply)
{
    return reply.type == redis_reply::kind::error &&
           (reply.str.starts_with("READONLY") || reply.str.starts_with("MASTERDOWN"));
}

/// How long a promotion keeps the client away from the old primary when the end of the failover
/// is not heard (the subscription broke, or the failover was aborted).
constexpr std::chrono::seconds k_failover_fence{5};

void ignore_sigpipe_once()
{
    static std::once_flag once;
    std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

} // namespace

class redis_client::impl : public std::enable_shared_from_this<impl> {
public:
    impl(asio::io_context& io, config::redis_config config, redis_options options)
        : io_(io), config_(std::move(config)), options_(options), connect_done_(io), down_(io),
          backoff_timer_(io), watch_timer_(io),
          fence_timer_(io), target_{config_.host, config_.port}
    {
        if (config_.sentinel) {
            locator_.emplace(io.get_executor(), *config_.sentinel, options_.connect_timeout);
        }
    }

    ~impl()
    {
        try {
            stop();
        } catch (...) { // NOLINT(bugprone-empty-catch): nothing to report from a destructor
        }
    }

    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    void start()
    {
        if (started_ || stopping_) {
            return;
        }
        started_ = true;
        const auto report = [](const std::exception_ptr& e) {
            if (e) {
                log::event(log::level::error, "redis_client_failed");
            }
        };
        asio::co_spawn(io_, run(shared_from_this()), report);
        if (locator_) {
            asio::co_spawn(io_, watch_switches(shared_from_this()), report);
        }
    }

    void stop()
    {
        stopping_ = true;
        drop_connection();
        connect_done_.notify();
        backoff_timer_.cancel();
        watch_timer_.cancel();
        fence_timer_.cancel();
        if (locator_) {
            locator_->stop();
        }
        wake_ready_waiters();
    }

    [[nodiscard]] bool connected() const { return ready_; }

    /// Waits for the next connection attempt to end, at most `options_.failover_wait`; returns
    /// whether the client is ready.
    asio::awaitable<bool> wait_ready()
    {
        if (ready_ || stopping_) {
            co_return ready_;
        }
        auto timer = std::make_shared<asio::steady_timer>(io_);
        timer->expires_after(options_.failover_wait);
        ready_waiters_.push_back(timer);
        co_await timer->async_wait(k_use_tuple);
        std::erase(ready_waiters_, timer);
        co_return ready_;
    }

    asio::awaitable<result<redis_reply>> command(std::span<const std::string_view> args)
    {
        // Just after start-up every worker's first requests would otherwise find their client
        // "not connected" when it is only "not connected yet": they wait for that first attempt
        // (bounded by failover_wait). Later, a client that is down fails at once.
        if (started_ && !ready_ && !first_attempt_done_ && !stopping_) {
            co_await wait_ready();
        }
        co_return co_await execute(args, options_.command_timeout, false);
    }

private:
    // ---- commands ----------------------------------------------------------------------------

    asio::awaitable<result<redis_reply>> execute(std::span<const std::string_view> args,
                                                 std::chrono::milliseconds limit,
                                                 bool during_handshake)
    {
        if (!context_ || (!ready_ && !during_handshake)) {
            co_return make_error_code(store_errc::unavailable);
        }
        if (args.empty()) {
            co_return make_error_code(boost::system::errc::invalid_argument);
        }

        // Queue the command; hiredis copies the arguments into its output buffer.
        std::vector<const char*> argv;
        std::vector<std::size_t> lengths;
        for (const auto& arg : args) {
            argv.push_back(arg.data());
            lengths.push_back(arg.size());
        }
        auto pending = std::make_shared<pending_command>(io_);
        auto* holder = new std::shared_ptr<pending_command>(pending);
        if (redisAsyncCommandArgv(context_, &on_reply, holder, static_cast<int>(argv.size()),
                                  argv.data(), lengths.data()) != REDIS_OK) {
            delete holder;
            co_return make_error_code(store_errc::unavailable);
        }

        // Wait for the reply (which cancels the timer) or the timeout.
        if (!pending->outcome) {
            pending->wake.expires_after(limit);
            co_await pending->wake.async_wait(k_use_tuple);
        }
        if (pending->outcome) {
            consecutive_timeouts_ = 0;
            if (pending->outcome->has_value() && locator_ && says_not_primary(**pending->outcome)) {
                co_return on_not_primary((*pending->outcome)->str);
            }
            co_return std::move(*pending->outcome);
        }
        pending->outcome = result<redis_reply>(make_error_code(store_errc::timeout));
        on_command_timeout();
        co_return make_error_code(store_errc::timeout);
    }

    /// The node we talk to was demoted (or lost its own primary): find the primary again.
    error_code on_not_primary(std::string_view reply_text)
    {
        if (ready_) {
            last_error_ = "not the primary: " + std::string(reply_text.substr(0, 60));
            drop_connection();
        }
        return make_error_code(store_errc::not_primary);
    }

    void on_command_timeout()
    {
        if (++consecutive_timeouts_ < k_max_consecutive_timeouts || !ready_) {
            return;
        }
        log::event(
            log::level::warn, "redis_unresponsive",
            {{"host", target_.host}, {"port", target_.port}, {"timeouts", consecutive_timeouts_}});
        drop_connection();
    }

    // ---- connection lifecycle ----------------------------------------------------------------

    static asio::awaitable<void> run(std::shared_ptr<impl> self)
    {
        auto delay = self->options_.reconnect_min;
        while (!self->stopping_) {
            co_await self->sit_out_fence();
            const error_code ec = co_await self->connect_once();
            self->first_attempt_done_ = true;
            if (self->stopping_) {
                break;
            }
            if (!ec && self->fenced()) {
                // The promotion began while connecting: this may be the old primary.
                self->drop_connection();
                continue;
            }
            if (!ec) {
                delay = self->options_.reconnect_min;
                co_await self->serve_until_down();
                if (self->stopping_) {
                    break;
                }
            } else {
                self->log_failure("redis_connect_failed", ec);
                self->wake_ready_waiters(); // no primary now: waiting operations give up
            }

            self->backoff_timer_.expires_after(delay);
            co_await self->backoff_timer_.async_wait(k_use_tuple);
            delay = std::min(delay * 2, self->options_.reconnect_max);
        }
    }

    asio::awaitable<void> serve_until_down()
    {
        ready_ = true;
        consecutive_timeouts_ = 0;
        log::event(log::level::info, "redis_connected",
                   {{"host", target_.host}, {"port", target_.port}, {"db", config_.database}});
        wake_ready_waiters();

        co_await down_.wait(asio::steady_timer::duration::max());

        ready_ = false;
        if (!stopping_) {
            log::event(log::level::warn, "redis_disconnected",
                       {{"host", target_.host}, {"port", target_.port}, {"reason", last_error_}});
        }
    }

    /// The one place that decides which address to connect to: the URL's, or the primary that
    /// the sentinels name now.
    asio::awaitable<result<asio::ip::tcp::endpoint>> resolve_target()
    {
        if (locator_) {
            auto primary = co_await locator_->discover();
            if (!primary) {
                last_error_ = "no sentinel named a primary";
                co_return primary.error();
            }
            target_ = std::move(*primary);
            log::event(log::level::debug, "sentinel_primary",
                       {{"host", target_.host}, {"port", target_.port}});
        }

        const auto endpoints =
            co_await resolve_within(io_.get_executor(), target_, options_.connect_timeout);
        if (!endpoints) {
            co_return endpoints.error();
        }
        co_return endpoints->front();
    }

    asio::awaitable<error_code> connect_once()
    {
        connect_done_.reset();
        down_.reset();
        last_error_.clear();

        // Resolve, then open the socket (hiredis connects without blocking).
        const auto target = co_await resolve_target();
        if (!target) {
            co_return target.error();
        }
        if (stopping_) {
            co_return make_error_code(store_errc::stopped);
        }
        const std::string ip = target->address().to_string();
        redisAsyncContext* context = redisAsyncConnect(ip.c_str(), target->port());
        if (!context) {
            co_return make_error_code(boost::system::errc::not_enough_memory);
        }
        if (context->err) {
            last_error_ = context->errstr;
            redisAsyncFree(context);
            co_return make_error_code(store_errc::unavailable);
        }
        adapter_ = detail::redis_asio_adapter::attach(io_, context);
        if (!adapter_) {
            redisAsyncFree(context);
            co_return make_error_code(store_errc::unavailable);
        }
        context->data = this;
        context_ = context;
        redisAsyncSetDisconnectCallback(context, &on_disconnect);
        redisAsyncSetConnectCallback(context, &on_connect);

        // Wait for the TCP connection.
        if (!co_await connect_done_.wait(options_.connect_timeout)) {
            last_error_ = "connect timeout";
            drop_connection();
            co_return make_error_code(store_errc::timeout);
        }
        if (!context_) {
            co_return make_error_code(stopping_ ? store_errc::stopped : store_errc::unavailable);
        }
        redisEnableKeepAlive(&context_->c);

        co_return co_await handshake();
    }

    asio::awaitable<error_code> handshake()
    {
        const std::string database = std::to_string(config_.database);
        std::vector<std::string_view> auth{"AUTH"};
        if (config_.username) {
            auth.push_back(*config_.username);
        }
        auth.push_back(config_.password.reveal());
        const std::vector<std::string_view> select{"SELECT", database};

        if (!config_.password.empty()) {
            if (const auto ec = co_await handshake_step(auth, "auth refused")) {
                co_return ec;
            }
        }
        if (config_.database != 0) {
            if (const auto ec = co_await handshake_step(select, "select refused")) {
                co_return ec;
            }
        }
        if (locator_) {
            co_return co_await verify_primary();
        }
        co_return error_code{};
    }

    /// A sentinel's answer can be stale (mid-failover): ask the node itself (`ROLE`).
    asio::awaitable<error_code> verify_primary()
    {
        const auto reply = co_await execute(std::array<std::string_view, 1>{"ROLE"},
                                            options_.connect_timeout, true);
        if (!reply) {
            drop_connection();
            co_return reply.error();
        }
        const bool primary = reply->type == redis_reply::kind::array && !reply->elements.empty() &&
                             reply->elements[0].str == "master";
        if (!primary) {
            last_error_ = "ROLE does not say master";
            drop_connection();
            co_return make_error_code(store_errc::not_primary);
        }
        co_return error_code{};
    }

    // ---- failover announcements --------------------------------------------------------------

    /// Keeps a `+switch-master` subscription open; a switch to another address than the one in
    /// use drops the connection, so that `run` asks the sentinels again.
    static asio::awaitable<void> watch_switches(std::shared_ptr<impl> self)
    {
        const auto on_event = [raw = self.get()](const failover_event& event) {
            if (event.what == failover_event::kind::promoting) {
                raw->raise_fence();
            } else {
                raw->lower_fence(event.primary);
            }
        };
        auto delay = self->options_.reconnect_min;
        while (!self->stopping_) {
            const auto started = std::chrono::steady_clock::now();
            const error_code ec = co_await self->locator_->watch(on_event);
            if (self->stopping_) {
                break;
            }
            // A subscription that lived past its idle limit ended normally: renew it at once.
            if (std::chrono::steady_clock::now() - started >= k_watch_idle) {
                delay = self->options_.reconnect_min;
                continue;
            }
            log::event(log::level::warn, "sentinel_watch_failed", {{"error", ec.message()}});
            self->watch_timer_.expires_after(delay);
            co_await self->watch_timer_.async_wait(k_use_tuple);
            delay = std::min(delay * 2, self->options_.reconnect_max);
        }
    }

    /// A replica is being promoted. Until it is (or `k_failover_fence` passes),
    /// stay away from the old primary: whatever it acknowledges now may be lost, even after a
    /// successful WAIT (the replica that acknowledged may be re-synchronised from the new one).
    void raise_fence()
    {
        fenced_until_ = std::chrono::steady_clock::now() + k_failover_fence;
        log::event(log::level::debug, "sentinel_fence",
                   {{"state", "raised"}, {"connected", ready_}});
        if (ready_) {
            last_error_ = "a sentinel is promoting a replica";
            drop_connection();
        }
        wake_ready_waiters();
    }

    /// The promotion ended: `primary` is the primary now (and the sentinels name it).
    void lower_fence(const config::endpoint& primary)
    {
        fenced_until_ = {};
        fence_timer_.cancel();
        const bool elsewhere = primary.host != target_.host || primary.port != target_.port;
        log::event(log::level::debug, "sentinel_fence",
                   {{"state", "lowered"},
                    {"host", primary.host},
                    {"port", primary.port},
                    {"reconnect", ready_ && elsewhere}});
        if (ready_ && elsewhere) {
            last_error_ = "sentinel announced a failover";
            drop_connection();
        }
    }

    [[nodiscard]] bool fenced() const { return std::chrono::steady_clock::now() < fenced_until_; }

    asio::awaitable<void> sit_out_fence()
    {
        if (fenced()) {
            fence_timer_.expires_at(fenced_until_);
            co_await fence_timer_.async_wait(k_use_tuple);
        }
    }

    void wake_ready_waiters()
    {
        for (const auto& timer : ready_waiters_) {
            timer->cancel();
        }
    }

    asio::awaitable<error_code> handshake_step(std::span<const std::string_view> args,
                                               std::string_view refusal)
    {
        const auto reply = co_await execute(args, options_.connect_timeout, true);
        if (!reply) {
            drop_connection();
            co_return reply.error();
        }
        if (reply->type == redis_reply::kind::error) {
            // The error text of AUTH never contains the password (e.g. "WRONGPASS ...").
            last_error_ = std::string(refusal) + ": " + reply->str.substr(0, 120);
            drop_connection();
            co_return make_error_code(store_errc::auth_failed);
        }
        co_return error_code{};
    }

    static void on_connect(const redisAsyncContext* context, int status)
    {
        auto* self = static_cast<impl*>(context->data);
        if (!self) {
            return;
        }
        if (status != REDIS_OK) {
            // hiredis frees the context right after this callback.
            self->last_error_ = context->errstr ? context->errstr : "connect failed";
            self->context_ = nullptr;
        }
        self->connect_done_.notify();
    }

    static void on_disconnect(const redisAsyncContext* context, int status)
    {
        auto* self = static_cast<impl*>(context->data);
        if (!self) {
            return;
        }
        // hiredis frees the context right after this callback.
        if (status != REDIS_OK && self->last_error_.empty()) {
            self->last_error_ = context->errstr ? context->errstr : "connection lost";
        }
        if (self->context_ == context) {
            self->context_ = nullptr;
        }
        self->ready_ = false;
        self->connect_done_.notify();
        self->down_.notify();
    }

    /// Frees the current context; never called from inside a hiredis callback.
    void drop_connection()
    {
        ready_ = false;
        if (auto* context = std::exchange(context_, nullptr)) {
            redisAsyncFree(context);
        }
        down_.notify();
    }

    void log_failure(std::string_view event, error_code ec)
    {
        log::event(log::level::warn, event,
                   {{"host", target_.host},
                    {"port", target_.port},
                    {"error", ec.message()},
                    {"reason", last_error_}});
    }

private:
    asio::io_context& io_;
    config::redis_config config_;
    redis_options options_;
    redisAsyncContext* context_ = nullptr;
    std::shared_ptr<detail::redis_asio_adapter> adapter_;
    wake_signal connect_done_;
    wake_signal down_;
    asio::steady_timer backoff_timer_;
    asio::steady_timer watch_timer_;
    asio::steady_timer fence_timer_;
    std::chrono::steady_clock::time_point fenced_until_{}; // see raise_fence
    std::optional<sentinel_locator> locator_;              // when the config names sentinels
    config::endpoint target_; // the address connected to (or being tried)
    std::vector<std::shared_ptr<asio::steady_timer>> ready_waiters_;
    std::string last_error_; // hiredis's or Redis's reason, for logs; never contains secrets
    int consecutive_timeouts_ = 0;
    bool started_ = false;
    bool stopping_ = false;
    bool ready_ = false;
    bool first_attempt_done_ = false; // the first connection attempt has ended, either way
};

redis_client::redis_client(asio::io_context& io, const config::redis_config& config,
                           redis_options options)
    : impl_(std::make_shared<impl>(io, config, options))
{
    ignore_sigpipe_once();
}

redis_client::~redis_client()
{
    try {
        impl_->stop();
    } catch (...) { // NOLINT(bugprone-empty-catch): nothing to report from a destructor
    }
}

void redis_client::start()
{
    impl_->start();
}

void redis_client::stop()
{
    impl_->stop();
}

bool redis_client::connected() const
{
    return impl_->connected();
}

asio::awaitable<bool> redis_client::wait_ready()
{
    const auto self = impl_;
    co_return co_await self->wait_ready();
}

asio::awaitable<result<redis_reply>> redis_client::command(std::span<const std::string_view> args)
{
    const auto self = impl_; // the command may outlive the client object
    co_return co_await self->command(args);
}

} // namespace oi::store
