#include "store/redis_client.hpp"

#include "common/log.hpp"
#include "store/redis_asio_adapter.hpp"
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

redis_reply convert(const redisReply& r)
{
    redis_reply out;
    switch (r.type) {
    case REDIS_REPLY_STRING:
        out.type = redis_reply::kind::string;
        break;
    case REDIS_REPLY_STATUS:
        out.type = redis_reply::kind::status;
        break;
    case REDIS_REPLY_ERROR:
        out.type = redis_reply::kind::error;
        break;
    case REDIS_REPLY_INTEGER:
        out.type = redis_reply::kind::integer;
        out.integer = r.integer;
        break;
    case REDIS_REPLY_ARRAY:
        out.type = redis_reply::kind::array;
        for (std::size_t i = 0; i < r.elements; ++i) {
            out.elements.push_back(convert(*r.element[i]));
        }
        break;
    default:
        out.type = redis_reply::kind::nil;
        break;
    }
    if (r.str) {
        out.str.assign(r.str, r.len);
    }
    return out;
}

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
        pending.outcome = convert(*static_cast<redisReply*>(reply));
    } else {
        pending.outcome = result<redis_reply>(make_error_code(store_errc::unavailable));
    }
    pending.wake.cancel();
}

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
          backoff_timer_(io), resolver_(io)
    {}

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
        asio::co_spawn(io_, run(shared_from_this()), [](const std::exception_ptr& e) {
            if (e) {
                log::event(log::level::error, "redis_client_failed");
            }
        });
    }

    void stop()
    {
        stopping_ = true;
        drop_connection();
        connect_done_.notify();
        backoff_timer_.cancel();
        resolver_.cancel();
    }

    [[nodiscard]] bool connected() const { return ready_; }

    asio::awaitable<result<redis_reply>> command(std::span<const std::string_view> args)
    {
        return execute(args, options_.command_timeout, false);
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
            co_return std::move(*pending->outcome);
        }
        pending->outcome = result<redis_reply>(make_error_code(store_errc::timeout));
        on_command_timeout();
        co_return make_error_code(store_errc::timeout);
    }

    void on_command_timeout()
    {
        if (++consecutive_timeouts_ < k_max_consecutive_timeouts || !ready_) {
            return;
        }
        log::event(
            log::level::warn, "redis_unresponsive",
            {{"host", config_.host}, {"port", config_.port}, {"timeouts", consecutive_timeouts_}});
        drop_connection();
    }

    // ---- connection lifecycle ----------------------------------------------------------------

    static asio::awaitable<void> run(std::shared_ptr<impl> self)
    {
        auto delay = self->options_.reconnect_min;
        while (!self->stopping_) {
            const error_code ec = co_await self->connect_once();
            if (self->stopping_) {
                break;
            }
            if (!ec) {
                delay = self->options_.reconnect_min;
                co_await self->serve_until_down();
                if (self->stopping_) {
                    break;
                }
            } else {
                self->log_failure("redis_connect_failed", ec);
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
                   {{"host", config_.host}, {"port", config_.port}, {"db", config_.database}});

        co_await down_.wait(asio::steady_timer::duration::max());

        ready_ = false;
        if (!stopping_) {
            log::event(log::level::warn, "redis_disconnected",
                       {{"host", config_.host}, {"port", config_.port}, {"reason", last_error_}});
        }
    }

    /// The one place that decides which address to connect to.
    asio::awaitable<result<asio::ip::tcp::endpoint>> resolve_target()
    {
        error_code ec;
        const auto address = asio::ip::make_address(config_.host, ec);
        if (!ec) {
            co_return asio::ip::tcp::endpoint(address, config_.port);
        }
        auto [resolve_ec, results] = co_await resolver_.async_resolve(
            config_.host, std::to_string(config_.port), k_use_tuple);
        if (resolve_ec) {
            co_return resolve_ec;
        }
        if (results.empty()) {
            co_return make_error_code(asio::error::host_not_found);
        }
        co_return results.begin()->endpoint();
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
        co_return error_code{};
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
                   {{"host", config_.host},
                    {"port", config_.port},
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
    asio::ip::tcp::resolver resolver_;
    std::string last_error_; // hiredis's or Redis's reason, for logs; never contains secrets
    int consecutive_timeouts_ = 0;
    bool started_ = false;
    bool stopping_ = false;
    bool ready_ = false;
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

asio::awaitable<result<redis_reply>> redis_client::command(std::span<const std::string_view> args)
{
    const auto self = impl_; // the command may outlive the client object
    co_return co_await self->command(args);
}

} // namespace oi::store
