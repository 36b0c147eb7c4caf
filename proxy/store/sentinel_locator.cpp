#include "store/sentinel_locator.hpp"

#include "common/log.hpp"
#include "store/store_error.hpp"

#include <array>
#include <charconv>
#include <sstream>
#include <string>
#include <vector>

namespace oi::store {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using boost::system::result;
using kind = redis_reply::kind;

std::optional<std::uint16_t> parse_port(std::string_view text)
{
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

constexpr std::string_view k_promoting_channel = "+failover-state-send-slaveof-noone";
constexpr std::string_view k_promoted_channel = "+promoted-slave";
constexpr std::string_view k_switched_channel = "+switch-master";

std::vector<std::string> split_words(const std::string& text)
{
    std::vector<std::string> words;
    std::istringstream in(text);
    for (std::string word; in >> word;) {
        words.push_back(std::move(word));
    }
    return words;
}

void log_node_failure(const config::endpoint& node, std::string_view reason)
{
    log::event(log::level::warn, "sentinel_query_failed",
               {{"host", node.host}, {"port", node.port}, {"reason", reason}});
}

/// Restores a pointer member when a coroutine frame leaves its scope.
class scoped_pointer {
public:
    scoped_pointer(resp_connection*& slot, resp_connection& value) : slot_(slot) { slot_ = &value; }
    ~scoped_pointer() { slot_ = nullptr; }
    scoped_pointer(const scoped_pointer&) = delete;
    scoped_pointer& operator=(const scoped_pointer&) = delete;

private:
    resp_connection*& slot_;
};

} // namespace

sentinel_locator::sentinel_locator(asio::any_io_executor ex, config::sentinel_config config,
                                   std::chrono::milliseconds timeout)
    : ex_(std::move(ex)), config_(std::move(config)), timeout_(timeout)
{}

asio::awaitable<result<config::endpoint>> sentinel_locator::discover()
{
    const std::size_t count = config_.nodes.size();
    for (std::size_t i = 0; i < count && !stopped_; ++i) {
        const std::size_t index = (preferred_ + i) % count;
        const config::endpoint& node = config_.nodes[index];

        resp_connection connection(ex_);
        const scoped_pointer active(querying_, connection);
        auto address = co_await ask(connection, node);

        if (address) {
            preferred_ = index;
            co_return address;
        }
    }
    co_return make_error_code(store_errc::unavailable);
}

asio::awaitable<error_code> sentinel_locator::open(resp_connection& connection,
                                                   const config::endpoint& node)
{
    if (const auto ec = co_await connection.connect(node, timeout_)) {
        log_node_failure(node, ec.message());
        co_return ec;
    }
    if (config_.password.empty()) {
        co_return error_code{};
    }
    const std::array<std::string_view, 2> auth{"AUTH", config_.password.reveal()};
    const auto reply = co_await connection.command(auth, timeout_);
    if (!reply || reply->type == kind::error) {
        // Redis's AUTH error text never contains the password.
        log_node_failure(node, reply ? reply->str.substr(0, 120) : reply.error().message());
        co_return make_error_code(store_errc::auth_failed);
    }
    co_return error_code{};
}

asio::awaitable<result<config::endpoint>> sentinel_locator::ask(resp_connection& connection,
                                                                const config::endpoint& node)
{
    if (const auto ec = co_await open(connection, node)) {
        co_return ec;
    }

    const std::array<std::string_view, 3> query{"SENTINEL", "get-master-addr-by-name",
                                                config_.master};
    const auto reply = co_await connection.command(query, timeout_);
    if (!reply) {
        log_node_failure(node, reply.error().message());
        co_return reply.error();
    }

    // The reply is [ip, port], or nil when this sentinel does not monitor the master.
    const bool pair = reply->type == kind::array && reply->elements.size() == 2 &&
                      reply->elements[0].type == kind::string &&
                      reply->elements[1].type == kind::string;
    const auto port = pair ? parse_port(reply->elements[1].str) : std::nullopt;
    if (!port) {
        log_node_failure(node, reply->type == kind::nil ? "master unknown to this sentinel"
                                                        : "unexpected reply");
        co_return make_error_code(store_errc::unexpected_reply);
    }
    co_return config::endpoint{reply->elements[0].str, *port};
}

asio::awaitable<error_code> sentinel_locator::watch(const failover_handler& on_event)
{
    // The first subscription goes to the sentinel that answered discovery.
    const std::size_t count = config_.nodes.size();
    if (watched_ >= count) {
        watched_ = preferred_ % count;
    }
    const config::endpoint node = config_.nodes[watched_];
    resp_connection connection(ex_);
    const scoped_pointer active(watching_, connection);
    if (stopped_) {
        co_return make_error_code(store_errc::stopped);
    }

    bool subscribed = false;
    const error_code ec = co_await subscription(connection, node, on_event, subscribed);

    // Only a subscription that stayed silent for k_watch_idle ended normally. Otherwise this
    // sentinel went away, refused us or is unreachable: subscribe to the next one from now on
    // (any sentinel of the master publishes +switch-master).
    if (!stopped_ && count > 1 && (!subscribed || ec != store_errc::timeout)) {
        watched_ = (watched_ + 1) % count;
        const config::endpoint& next = config_.nodes[watched_];
        log::event(log::level::warn, "sentinel_watch_moved",
                   {{"from_host", node.host},
                    {"from_port", node.port},
                    {"host", next.host},
                    {"port", next.port},
                    {"reason", ec.message()}});
    }
    co_return ec;
}

asio::awaitable<error_code> sentinel_locator::subscription(resp_connection& connection,
                                                           const config::endpoint& node,
                                                           const failover_handler& on_event,
                                                           bool& subscribed)
{
    if (const auto ec = co_await open(connection, node)) {
        co_return ec;
    }
    const std::array<std::string_view, 4> subscribe{"SUBSCRIBE", k_promoting_channel,
                                                    k_promoted_channel, k_switched_channel};
    const auto confirmed = co_await connection.command(subscribe, timeout_);
    if (!confirmed || confirmed->type != kind::array) {
        co_return confirmed ? make_error_code(store_errc::unexpected_reply) : confirmed.error();
    }
    subscribed = true;
    log::event(log::level::info, "sentinel_watching", {{"host", node.host}, {"port", node.port}});
    for (;;) {
        const auto message = co_await connection.read_reply(k_watch_idle);
        if (!message) {
            co_return message.error();
        }
        handle_message(*message, on_event);
    }
}

void sentinel_locator::handle_message(const redis_reply& message,
                                      const failover_handler& on_event) const
{
    // ["message", channel, payload]; the subscription confirmations are skipped.
    if (message.type != kind::array || message.elements.size() != 3 ||
        message.elements[0].str != "message") {
        return;
    }
    const std::string& channel = message.elements[1].str;
    const std::vector<std::string> words = split_words(message.elements[2].str);

    if (channel == k_promoting_channel || channel == k_promoted_channel) {
        // "slave <ip:port> <ip> <port> @ <master> <master-ip> <master-port>"
        const bool ours = words.size() >= 6 && words[4] == "@" && words[5] == config_.master;
        const auto port = ours ? parse_port(words[3]) : std::nullopt;
        if (!port) {
            return;
        }
        const bool promoting = channel == k_promoting_channel;
        log::event(log::level::info,
                   promoting ? "sentinel_promotion_started" : "sentinel_promotion_done",
                   {{"master", words[5]}, {"host", words[2]}, {"port", *port}});
        on_event({promoting ? failover_event::kind::promoting : failover_event::kind::switched,
                  config::endpoint{words[2], *port}});
        return;
    }
    // "<master> <old-ip> <old-port> <new-ip> <new-port>"
    const auto port = words.size() == 5 ? parse_port(words[4]) : std::nullopt;
    if (channel != k_switched_channel || !port || words[0] != config_.master) {
        return;
    }
    log::event(log::level::info, "sentinel_switch_master",
               {{"master", words[0]}, {"host", words[3]}, {"port", *port}});
    on_event({failover_event::kind::switched, config::endpoint{words[3], *port}});
}

void sentinel_locator::stop()
{
    stopped_ = true;
    if (querying_) {
        querying_->close();
    }
    if (watching_) {
        watching_->close();
    }
}

} // namespace oi::store
