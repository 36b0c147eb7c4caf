#include "server/proxy_session.hpp"

#include "common/log.hpp"
#include "http/target.hpp"
#include "identity/identity.hpp"
#include "server/request_state.hpp"

#include <boost/beast/core/error.hpp>

namespace oi::server {

namespace {

constexpr std::size_t k_linger_drain_bytes = 256 * 1024;
constexpr std::string_view k_tunnel_identity_differs =
    "the identity inside the tunnel differs from the CONNECT's";

// A request id from the client is passed on only when it cannot smuggle anything into a header
// or a log line: bounded, and from a conservative character set.
constexpr std::size_t k_max_request_id_bytes = 128;

bool acceptable_request_id(std::string_view id)
{
    if (id.empty() || id.size() > k_max_request_id_bytes) {
        return false;
    }
    for (const char c : id) {
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-' && c != '_' && c != '.' && c != ':' && c != '+' && c != '/' &&
            c != '=') {
            return false;
        }
    }
    return true;
}

/// Where the head ends (just past the empty line), or npos. Bare-LF line endings also end the
/// search so that the strict parser gets to refuse them instead of waiting for more bytes.
std::size_t find_head_end(std::string_view data, std::size_t from)
{
    for (std::size_t i = from; i + 1 < data.size(); ++i) {
        if (data[i] != '\n') {
            continue;
        }
        if (data[i + 1] == '\n') {
            return i + 2;
        }
        if (data[i + 1] == '\r' && i + 2 < data.size() && data[i + 2] == '\n') {
            return i + 3;
        }
    }
    return std::string_view::npos;
}

} // namespace

proxy_session::proxy_session(worker& w, std::unique_ptr<byte_stream> client, runtime_source runtime,
                             exchange_sink on_exchange, std::optional<tunnel_context> tunnel)
    : worker_(w), client_(std::move(client)), runtime_source_(std::move(runtime)),
      on_exchange_(std::move(on_exchange)), tunnel_(std::move(tunnel))
{}

asio::awaitable<void> proxy_session::run()
{
    worker_.sessions.insert(this);
    struct unregister {
        worker& w;
        proxy_session* s;
        ~unregister() { w.sessions.erase(s); }
    } const registered{worker_, this};

    for (;;) {
        // The head is read under the limits in force now; the request is then served with the
        // configuration current when its head arrived, to its end, even across a reload.
        rt_ = runtime_source_();

        request_state rq;
        rq.rec.started = std::chrono::steady_clock::now();
        rq.rec.request_id = log::new_request_id();
        const head_status status = co_await read_request_head(rq);
        if (status == head_status::closed) {
            break;
        }
        rt_ = runtime_source_();
        adopt_request_id(rq);

        bool keep_going = false;
        if (status == head_status::ok) {
            keep_going = co_await serve(rq);
        }
        if (rt_->cfg.log.include_user) {
            rq.rec.user = rq.user; // the operator opted in (log.include_user)
        }
        on_exchange_(rq.rec);
        if (!keep_going || close_after_) {
            break;
        }
    }
    co_await close_client();
}

void proxy_session::drain()
{
    close_after_ = true;
    if (idle_) {
        // Ends the pending read with end-of-stream, for plain and TLS clients alike.
        error_code ignored;
        client_->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    }
}

void proxy_session::adopt_request_id(request_state& rq) const
{
    const std::string& name = rt_->cfg.log.request_id_header;
    if (name.empty()) {
        return;
    }
    bool duplicated = false;
    const auto incoming = request_state::single_field(head_, name, duplicated);
    if (incoming && !duplicated && acceptable_request_id(*incoming)) {
        rq.rec.request_id = *incoming;
    }
}

asio::awaitable<void> proxy_session::close_client()
{
    // A refusal may leave request bytes unread. Closing a socket with unread input sends a reset
    // that can destroy the refusal before the client reads it (RFC 9112 section 9.6), so: stop
    // sending, read and drop what still arrives for a short, bounded while, then close.
    if (close_after_ && !client_->is_tls()) {
        error_code ec;
        client_->socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
        client_->expires_after(std::chrono::seconds(2));
        std::size_t drained = 0;
        while (!ec && drained < k_linger_drain_bytes) {
            std::size_t n = 0;
            std::tie(ec, n) = co_await client_->read_some(in_.prepare(k_read_chunk));
            drained += n;
            in_.clear();
        }
    }
    co_await client_->shutdown();
}

asio::awaitable<proxy_session::head_status> proxy_session::read_request_head(request_state& rq)
{
    const auto& limits = rt_->cfg.limits;
    std::size_t scanned = 0;
    bool deadline_set = false;

    for (;;) {
        // RFC 9112 section 2.2: empty lines before a request-line are ignored.
        std::string_view data = as_view(in_);
        std::size_t skip = 0;
        while (skip + 1 < data.size() && data[skip] == '\r' && data[skip + 1] == '\n') {
            skip += 2;
        }
        if (skip > 0) {
            in_.consume(skip);
            data = as_view(in_);
            scanned = 0;
        }

        // A complete head: move it out of the input buffer and parse it there.
        const std::size_t end = find_head_end(data, scanned);
        if (end != std::string_view::npos) {
            head_storage_.assign(data.substr(0, end));
            in_.consume(end);
            const auto parsed =
                http::parse_request_head(head_storage_, limits.max_header_bytes, head_);
            if (parsed.status == http::parse_status::complete && parsed.consumed == end) {
                co_return head_status::ok;
            }
            if (parsed.status == http::parse_status::too_large) {
                co_await refuse(rq, refusal::header_too_large, "the request head is too large",
                                true);
            } else {
                rq.rec.detail = parsed.error;
                co_await refuse(rq, refusal::bad_request, parsed.error, true);
            }
            co_return head_status::refused;
        }
        scanned = data.size() > 2 ? data.size() - 2 : 0;
        if (data.size() > limits.max_header_bytes) {
            co_await refuse(rq, refusal::header_too_large, "the request head is too large", true);
            co_return head_status::refused;
        }

        // Wait for more: idle between requests, then a deadline for the whole head (slowloris).
        if (data.empty()) {
            if (worker_.draining) {
                co_return head_status::closed;
            }
            client_->expires_after(limits.idle_timeout);
        } else if (!deadline_set) {
            client_->expires_after(limits.header_timeout);
            deadline_set = true;
        }
        idle_ = data.empty();
        const auto [ec, n] = co_await client_->read_some(in_.prepare(k_read_chunk));
        idle_ = false;
        in_.commit(n);
        if (data.empty() && n > 0) {
            // The request starts with its first byte: the idle wait before it is not its time.
            rq.rec.started = std::chrono::steady_clock::now();
        }
        if (ec) {
            if (!data.empty() && ec == boost::beast::error::timeout) {
                co_await refuse(rq, refusal::bad_request, "the request head did not arrive in time",
                                true);
                co_return head_status::refused;
            }
            co_return head_status::closed;
        }
        if (!deadline_set && n > 0) {
            client_->expires_after(limits.header_timeout);
            deadline_set = true;
        }
    }
}

asio::awaitable<bool> proxy_session::serve(request_state& rq)
{
    rq.rec.method = head_.method;

    if (http::iequals(head_.method, "CONNECT")) {
        if (tunnel_) {
            co_await refuse(rq, refusal::bad_request, "CONNECT inside a tunnel", true);
            co_return false;
        }
        co_return co_await handle_connect(rq);
    }

    // Absolute-form (RFC 9112 section 3.2.2), or origin-form inside an intercepted tunnel.
    auto target = request_target();
    if (!target) {
        co_await refuse(rq, refusal::bad_request,
                        "the request target must be an absolute http or https URL", true);
        co_return false;
    }
    rq.target = std::move(*target);
    rq.rec.scheme = rq.target.scheme;
    rq.rec.host = rq.target.host;
    rq.rec.port = rq.target.port;

    // Who is asking.
    const auto failure = establish_identity(rq);
    if (failure) {
        co_await refuse(rq, failure->reason, failure->message, head_.body != http::body_kind::none);
    }
    debug_identity(rq);
    if (failure) {
        co_return false;
    }

    // Which connection serves this plugin.
    const auto route = rt_->routes.find(rq.plugin);
    if (!route) {
        debug_connection(rq);
        co_await refuse(rq, refusal::unknown_plugin, "the plugin is not configured",
                        head_.body != http::body_kind::none);
        co_return !close_after_;
    }
    rq.connection = route->connection;
    rq.rec.plugin = rq.plugin;
    rq.rec.plugin_known = true;
    rq.rec.connection = rq.connection->id;
    debug_connection(rq);

    // A placeholder may only travel toward the connection's allowed hosts.
    rq.host_allowed = routing::host_allowed(*rq.connection, rq.target.host);
    rq.head_has_placeholder = head_contains_placeholder(rq);
    if (!rq.host_allowed && rq.head_has_placeholder) {
        co_await refuse(rq, refusal::host_not_allowed,
                        "a placeholder may only be sent to the connection's allowed hosts",
                        head_.body != http::body_kind::none);
        co_return !close_after_;
    }

    co_return co_await forward(rq);
}

std::optional<http::proxy_target> proxy_session::request_target() const
{
    if (!tunnel_) {
        return http::parse_absolute_target(head_.target);
    }
    if (head_.target.empty() || head_.target.front() != '/') {
        // Absolute-form inside a tunnel is fine when it names the tunnel's own host.
        auto target = http::parse_absolute_target(head_.target);
        if (target && target->host == tunnel_->host && target->port == tunnel_->port) {
            return target;
        }
        return std::nullopt;
    }
    http::proxy_target target;
    target.scheme = tunnel_->tls ? "https" : "http";
    target.host = tunnel_->host;
    target.port = tunnel_->port;
    target.origin_form = head_.target;
    return target;
}

std::optional<proxy_session::identity_refusal>
proxy_session::establish_identity(request_state& rq) const
{
    const auto& id_cfg = rt_->cfg.identity;
    bool duplicated = false;
    const auto user = rq.single_field(head_, id_cfg.user_header, duplicated);
    const auto plugin = rq.single_field(head_, id_cfg.plugin_header, duplicated);
    const auto token = rq.single_field(head_, id_cfg.token_header, duplicated);
    const auto proxy_auth = rq.single_field(head_, "Proxy-Authorization", duplicated);
    if (duplicated) {
        return identity_refusal{refusal::identity_invalid,
                                "an identity header appears more than once"};
    }

    // Inside a tunnel the CONNECT said who is asking; identity headers may repeat it, not change
    // it. A signed token inside is checked below like any other.
    const auto now = std::chrono::system_clock::now();
    if (tunnel_ && !token) {
        if ((user && *user != tunnel_->user) || (plugin && *plugin != tunnel_->plugin)) {
            return identity_refusal{refusal::identity_invalid, k_tunnel_identity_differs};
        }
        rq.user = tunnel_->user;
        rq.plugin = tunnel_->plugin;
        return std::nullopt;
    }

    // Identity headers first; a client configured with proxy credentials sends them instead.
    std::variant<identity::identity, identity::identity_failure> who =
        identity::identity_failure::required;
    if (user || plugin || token || !proxy_auth) {
        who = identity::resolve_identity(id_cfg, user, plugin, token, now);
    } else {
        who = identity::identity_from_proxy_authorization(id_cfg, *proxy_auth, now);
    }

    if (const auto* failure = std::get_if<identity::identity_failure>(&who)) {
        if (*failure == identity::identity_failure::required) {
            return identity_refusal{refusal::identity_required,
                                    "the request carries no plugin identity"};
        }
        return identity_refusal{refusal::identity_invalid, "the plugin identity is not valid"};
    }
    auto& established = std::get<identity::identity>(who);
    if (tunnel_ && (established.user != tunnel_->user || established.plugin != tunnel_->plugin)) {
        return identity_refusal{refusal::identity_invalid, k_tunnel_identity_differs};
    }
    rq.user = std::move(established.user);
    rq.plugin = std::move(established.plugin);
    return std::nullopt;
}

bool proxy_session::head_contains_placeholder(const request_state& rq) const
{
    const auto& placeholders = rt_->placeholders;
    if (placeholders.contains_any(rq.target.origin_form)) {
        return true;
    }
    for (const auto& field : head_.fields) {
        if (rq.forwarded(head_, rt_->cfg.identity, field) &&
            placeholders.contains_any(field.value)) {
            return true;
        }
    }
    return false;
}

asio::awaitable<void> proxy_session::refuse(request_state& rq, refusal r, std::string_view message,
                                            bool close, std::string_view extra_json)
{
    rq.rec.refused = r;
    rq.rec.status = refusal_status(r);
    if (rq.rec.detail.empty()) {
        rq.rec.detail = message;
    }
    if (close || !head_.keep_alive) {
        close_after_ = true;
    }

    const std::string response = refusal_response(r, message, close_after_, extra_json);
    const std::array<asio::const_buffer, 1> buffers{asio::buffer(response)};
    co_await write_client(buffers);
}

asio::awaitable<bool> proxy_session::write_client(std::span<const asio::const_buffer> buffers)
{
    client_->expires_after(rt_->cfg.limits.idle_timeout);
    const auto [ec, n] = co_await client_->write(buffers);
    if (ec) {
        close_after_ = true;
        co_return false;
    }
    co_return true;
}

} // namespace oi::server
