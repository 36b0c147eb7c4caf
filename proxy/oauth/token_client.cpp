#include "oauth/token_client.hpp"

#include "http/chunked.hpp"
#include "http/message.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/error.hpp>

#include <string>

namespace oi::oauth {

namespace {

using clock = std::chrono::steady_clock;

constexpr std::size_t k_read_size = std::size_t{16} << 10;

token_failure failure(token_failure_kind kind, unsigned status, std::string detail)
{
    token_failure out;
    out.kind = kind;
    out.http_status = status;
    out.detail = std::move(detail);
    return out;
}

token_failure transport(std::string detail)
{
    return failure(token_failure_kind::transport, 0, std::move(detail));
}

std::chrono::milliseconds remaining(clock::time_point deadline)
{
    return std::max(std::chrono::milliseconds{0},
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()));
}

/// Names an I/O failure while the answer was incomplete.
token_failure read_failure(const error_code& ec)
{
    if (ec == boost::beast::error::timeout) {
        return transport("timed out waiting for the token endpoint");
    }
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        return transport("the token endpoint closed the connection before a complete answer");
    }
    return transport("reading the token endpoint's answer failed: " + ec.message());
}

/// The connector, cancelled when `timeout` runs out first.
asio::awaitable<upstream::connect_result> connect_within(upstream::connector& connector,
                                                         const upstream::destination& to,
                                                         std::chrono::milliseconds timeout)
{
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer{co_await asio::this_coro::executor, timeout};
    auto first =
        co_await (connector.connect(to) || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (first.index() == 0) {
        co_return std::move(std::get<0>(first));
    }
    upstream::connect_result out;
    out.failure = refusal::upstream_timeout;
    out.detail = "timed out connecting to the token endpoint";
    co_return out;
}

/// The parts of a response head needed after its bytes are gone.
struct answer_head {
    unsigned status = 0;
    std::string content_type;
    std::string retry_after;
    http::body_kind body = http::body_kind::none;
    std::uint64_t content_length = 0;
};

/// Reads an answer into `buffer`, which grows as bytes arrive; the stream's expiry bounds it.
class answer_reader {
public:
    explicit answer_reader(byte_stream& stream) : stream_(stream) {}

    /// The final (non-1xx) head; its bytes are removed from the buffer.
    asio::awaitable<std::variant<answer_head, token_failure>> read_head();
    /// The whole body, de-chunked.
    asio::awaitable<std::variant<std::string, token_failure>> read_body(const answer_head& head);

private:
    /// Appends what the next read returns; false with ec set on failure or end of stream.
    asio::awaitable<bool> read_more(error_code& ec);
    asio::awaitable<std::variant<std::string, token_failure>> read_chunked(unsigned status);
    asio::awaitable<std::variant<std::string, token_failure>> read_until_eof(unsigned status);

    byte_stream& stream_;
    std::string buffer_;
};

asio::awaitable<bool> answer_reader::read_more(error_code& ec)
{
    const std::size_t old_size = buffer_.size();
    buffer_.resize(old_size + k_read_size);
    std::size_t n = 0;
    std::tie(ec, n) =
        co_await stream_.read_some(asio::buffer(buffer_.data() + old_size, k_read_size));
    buffer_.resize(old_size + n);
    co_return !ec;
}

asio::awaitable<std::variant<answer_head, token_failure>> answer_reader::read_head()
{
    for (;;) {
        http::response_head head;
        const http::parse_result parsed =
            http::parse_response_head(buffer_, k_max_token_answer_head, "POST", head);
        if (parsed.status == http::parse_status::invalid) {
            co_return failure(token_failure_kind::malformed, 0,
                              std::string{"the token endpoint's answer is not valid HTTP: "} +
                                  parsed.error);
        }
        if (parsed.status == http::parse_status::too_large) {
            co_return failure(token_failure_kind::malformed, 0,
                              "the token endpoint's answer head is too large");
        }
        if (parsed.status == http::parse_status::incomplete) {
            error_code ec;
            if (!co_await read_more(ec)) {
                co_return read_failure(ec);
            }
            continue;
        }

        // Interim answers (RFC 9110 section 15.2) precede the real one; 101 was never asked for.
        const auto status = static_cast<unsigned>(head.status);
        if (status == 101) {
            co_return failure(token_failure_kind::malformed, status,
                              "the token endpoint switched protocols");
        }
        if (status < 200) {
            buffer_.erase(0, parsed.consumed);
            continue;
        }

        answer_head out;
        out.status = status;
        if (const http::header_field* f = head.find("Content-Type")) {
            out.content_type = f->value;
        }
        if (const http::header_field* f = head.find("Retry-After")) {
            out.retry_after = f->value;
        }
        out.body = head.body;
        out.content_length = head.content_length;
        buffer_.erase(0, parsed.consumed); // `head` points into these bytes: used above only
        co_return out;
    }
}

asio::awaitable<std::variant<std::string, token_failure>>
answer_reader::read_body(const answer_head& head)
{
    switch (head.body) {
    case http::body_kind::none:
        co_return std::string{};
    case http::body_kind::chunked:
        co_return co_await read_chunked(head.status);
    case http::body_kind::until_eof:
        co_return co_await read_until_eof(head.status);
    case http::body_kind::length:
        break;
    }

    if (head.content_length > k_max_token_answer_body) {
        co_return failure(token_failure_kind::malformed, head.status,
                          "the token endpoint's answer is larger than 1 MiB");
    }
    const auto length = static_cast<std::size_t>(head.content_length);
    while (buffer_.size() < length) {
        error_code ec;
        if (!co_await read_more(ec)) {
            co_return read_failure(ec);
        }
    }
    buffer_.resize(length); // anything after the body is not ours: the connection closes
    co_return std::move(buffer_);
}

asio::awaitable<std::variant<std::string, token_failure>>
answer_reader::read_chunked(unsigned status)
{
    http::chunked_decoder decoder;
    std::string body;
    std::size_t offset = 0; // bytes of buffer_ already given to the decoder
    for (;;) {
        while (offset < buffer_.size()) {
            const auto step = decoder.decode(std::string_view{buffer_}.substr(offset));
            if (step.error != nullptr) {
                co_return failure(token_failure_kind::malformed, status,
                                  std::string{"bad chunked answer: "} + step.error);
            }
            offset += step.consumed;
            body += step.data;
            if (body.size() > k_max_token_answer_body) {
                co_return failure(token_failure_kind::malformed, status,
                                  "the token endpoint's answer is larger than 1 MiB");
            }
            if (step.done) {
                co_return body;
            }
            if (step.consumed == 0) {
                break;
            }
        }
        buffer_.erase(0, offset);
        offset = 0;
        error_code ec;
        if (!co_await read_more(ec)) {
            co_return read_failure(ec);
        }
    }
}

asio::awaitable<std::variant<std::string, token_failure>>
answer_reader::read_until_eof(unsigned status)
{
    for (;;) {
        if (buffer_.size() > k_max_token_answer_body) {
            co_return failure(token_failure_kind::malformed, status,
                              "the token endpoint's answer is larger than 1 MiB");
        }
        error_code ec;
        if (co_await read_more(ec)) {
            continue;
        }
        // Only a clean end ends the body: a TLS stream cut without close_notify may be a
        // truncation (RFC 8446 section 6.1).
        if (ec == asio::error::eof) {
            co_return std::move(buffer_);
        }
        co_return read_failure(ec);
    }
}

/// A complete answer of an endpoint: its head and its whole body.
struct raw_answer {
    answer_head head;
    std::string body;
};

using raw_outcome = std::variant<raw_answer, token_failure>;

/// Writes the request and reads the answer within the stream's expiry.
asio::awaitable<raw_outcome> exchange(byte_stream& stream, const secret& request)
{
    const auto [ec, n] = co_await stream.write(asio::buffer(request.reveal()));
    if (ec == boost::beast::error::timeout) {
        co_return transport("timed out sending to the token endpoint");
    }
    if (ec) {
        co_return transport("sending to the token endpoint failed: " + ec.message());
    }

    answer_reader reader{stream};
    auto head = co_await reader.read_head();
    if (auto* failed = std::get_if<token_failure>(&head)) {
        co_return std::move(*failed);
    }
    auto body = co_await reader.read_body(std::get<answer_head>(head));
    if (auto* failed = std::get_if<token_failure>(&body)) {
        co_return std::move(*failed);
    }
    co_return raw_answer{std::get<answer_head>(head), std::move(std::get<std::string>(body))};
}

/// Connects to `endpoint`, sends `request` and reads the answer, all within `timeout`.
asio::awaitable<raw_outcome> post(upstream::connector& connector, const token_endpoint& endpoint,
                                  const secret& request, std::chrono::milliseconds timeout)
{
    const clock::time_point deadline = clock::now() + timeout;
    const upstream::destination to{endpoint.scheme, endpoint.host, endpoint.port};
    upstream::connect_result connected = co_await connect_within(connector, to, timeout);
    if (!connected.stream) {
        co_return transport(std::move(connected.detail));
    }
    byte_stream& stream = *connected.stream;

    const std::chrono::milliseconds left = remaining(deadline);
    if (left.count() == 0) {
        stream.close();
        co_return transport("timed out connecting to the token endpoint");
    }
    stream.expires_after(left);
    raw_outcome out = co_await exchange(stream, request);
    stream.close();
    co_return out;
}

} // namespace

asio::awaitable<token_outcome> request_token(upstream::connector& connector,
                                             const config::connection& connection,
                                             token_params params, std::chrono::milliseconds timeout,
                                             token_response_options options)
{
    // Everything the caller lent is read here, before the first suspension.
    const std::optional<token_endpoint> endpoint = parse_token_endpoint(connection.token_url);
    if (!endpoint) {
        co_return transport("token_url is not an absolute http(s) URL");
    }
    const secret request = build_token_request(connection, *endpoint, params);
    params.clear();
    // Slack's user token sits under authed_user when the connection asks for it (config.hpp).
    options.prefer_authed_user =
        options.prefer_authed_user || connection.token_from == config::token_source::authed_user;

    raw_outcome answer = co_await post(connector, *endpoint, request, timeout);
    if (auto* failed = std::get_if<token_failure>(&answer)) {
        co_return std::move(*failed);
    }
    const raw_answer& got = std::get<raw_answer>(answer);
    co_return parse_token_response(got.head.status, got.head.content_type, got.body,
                                   got.head.retry_after, options);
}

asio::awaitable<revocation_outcome> revoke_token(upstream::connector& connector,
                                                 const config::connection& connection, secret token,
                                                 std::string_view token_type_hint,
                                                 std::chrono::milliseconds timeout)
{
    // RFC 7009 section 2.1: a form body, with the client authenticated as at the token endpoint.
    config::connection form_client = connection;
    form_client.token_content_type = config::content_type::form;
    const std::optional<token_endpoint> endpoint = parse_token_endpoint(connection.revocation_url);
    if (!endpoint) {
        co_return revocation_outcome{false, "revocation_url is not an absolute http(s) URL"};
    }
    const token_params params{{"token", token.reveal()}, {"token_type_hint", token_type_hint}};
    const secret request = build_token_request(form_client, *endpoint, params);

    raw_outcome answer = co_await post(connector, *endpoint, request, timeout);
    if (auto* failed = std::get_if<token_failure>(&answer)) {
        co_return revocation_outcome{false, std::move(failed->detail)};
    }

    // RFC 7009 section 2.2: 200 whether or not the token was still valid; an error answer is a
    // section 5.2 error of RFC 6749 (or 503 with Retry-After).
    const raw_answer& got = std::get<raw_answer>(answer);
    if (got.head.status == 200) {
        co_return revocation_outcome{true, {}};
    }
    std::string error = "the revocation endpoint answered HTTP " + std::to_string(got.head.status);
    const token_outcome parsed = parse_token_response(got.head.status, got.head.content_type,
                                                      got.body, got.head.retry_after);
    if (const auto* failure = std::get_if<token_failure>(&parsed);
        failure && !failure->error.empty()) {
        error += " (" + failure->error + ")";
    }
    co_return revocation_outcome{false, std::move(error)};
}

} // namespace oi::oauth
