// The answering half of the test origin: recorded_request accessors, origin_gate,
// response_writer and the canned handlers. The server itself is in origin_server.cpp.

#include "support/origin_server.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/json.hpp>

#include <cstdio>

namespace oi::test {
namespace http = boost::beast::http;

namespace {

bool has_header(const header_list& headers, std::string_view name)
{
    for (const auto& [key, value] : headers) {
        if (boost::beast::iequals(key, name)) {
            return true;
        }
    }
    return false;
}

// RFC 9110 section 6.4.1: 1xx, 204 and 304 responses never have content.
bool status_allows_body(unsigned status)
{
    return status >= 200 && status != 204 && status != 304;
}

std::string hex(std::size_t n)
{
    char text[32];
    const int length = std::snprintf(text, sizeof text, "%zx", n);
    return {text, static_cast<std::size_t>(length)};
}

} // namespace

// ---- recorded_request ------------------------------------------------------------------------

std::string recorded_request::header(std::string_view name) const
{
    for (const auto& [key, value] : headers) {
        if (boost::beast::iequals(key, name)) {
            return value;
        }
    }
    return {};
}

std::size_t recorded_request::header_count(std::string_view name) const
{
    std::size_t count = 0;
    for (const auto& [key, value] : headers) {
        count += boost::beast::iequals(key, name) ? 1 : 0;
    }
    return count;
}

// ---- origin_gate -----------------------------------------------------------------------------

void origin_gate::open()
{
    {
        const std::lock_guard lock{mutex_};
        open_ = true;
    }
    changed_.notify_all();
}

bool origin_gate::is_open() const
{
    const std::lock_guard lock{mutex_};
    return open_;
}

bool origin_gate::wait(std::chrono::milliseconds timeout)
{
    std::unique_lock lock{mutex_};
    changed_.wait_for(lock, timeout, [this] { return open_ || interrupted_; });
    return open_;
}

void origin_gate::interrupt()
{
    {
        const std::lock_guard lock{mutex_};
        interrupted_ = true;
    }
    changed_.notify_all();
}

// ---- response_writer -------------------------------------------------------------------------

void response_writer::send(std::string_view bytes)
{
    if (failed_ || bytes.empty()) {
        return;
    }
    wrote_ = true;
    failed_ = !write_(bytes);
}

void response_writer::write_head(unsigned status, const header_list& headers, framing body_framing,
                                 std::size_t content_length)
{
    body_allowed_ = status_allows_body(status);
    chunked_ = body_allowed_ && body_framing == framing::chunked;
    close_delimited_ = body_allowed_ && body_framing == framing::close_delimited;

    std::string head = "HTTP/1.1 " + std::to_string(status) + " ";
    head += http::obsolete_reason(static_cast<http::status>(status));
    head += "\r\n";
    for (const auto& [name, value] : headers) {
        head += name + ": " + value + "\r\n";
    }
    if (body_allowed_ && body_framing == framing::content_length &&
        !has_header(headers, "Content-Length")) {
        head += "Content-Length: " + std::to_string(content_length) + "\r\n";
    }
    if (chunked_ && !has_header(headers, "Transfer-Encoding")) {
        head += "Transfer-Encoding: chunked\r\n";
    }
    if (close_delimited_ && !has_header(headers, "Connection")) {
        head += "Connection: close\r\n";
    }
    head += "\r\n";
    send(head);
}

void response_writer::write_body(std::string_view data)
{
    if (head_request_ || !body_allowed_ || data.empty()) {
        return;
    }
    if (!chunked_) {
        send(data);
        return;
    }
    std::string chunk = hex(data.size()) + "\r\n";
    chunk.append(data);
    chunk += "\r\n";
    send(chunk);
}

void response_writer::finish()
{
    if (chunked_ && !head_request_) {
        send("0\r\n\r\n");
    }
    if (close_delimited_) {
        close_ = true;
    }
}

void response_writer::write_raw(std::string_view bytes)
{
    send(bytes);
}

void response_writer::respond(const canned_response& response)
{
    write_head(response.status, response.headers, response.body_framing, response.body.size());

    const std::string_view body = response.body;
    const std::size_t step = response.write_size == 0 ? body.size() : response.write_size;
    for (std::size_t offset = 0; offset < body.size() && !failed_; offset += step) {
        write_body(body.substr(offset, step));
    }
    finish();
}

bool response_writer::wait(origin_gate& gate, std::chrono::milliseconds timeout)
{
    return server_.wait_on(gate, timeout);
}

// ---- canned handlers -------------------------------------------------------------------------

origin_handler echo_json()
{
    return [](const recorded_request& request, response_writer& writer) {
        const boost::json::object echo{{"method", request.method},
                                       {"target", request.target},
                                       {"body_length", request.body.size()}};
        writer.respond({200, {{"Content-Type", "application/json"}}, boost::json::serialize(echo)});
    };
}

origin_handler respond_with(canned_response response)
{
    return [response = std::move(response)](const recorded_request&, response_writer& writer) {
        writer.respond(response);
    };
}

origin_handler redirect_to(std::string location, unsigned status)
{
    return respond_with({status, {{"Location", std::move(location)}}, ""});
}

origin_handler respond_raw(std::string bytes, bool close)
{
    return [bytes = std::move(bytes), close](const recorded_request&, response_writer& writer) {
        writer.write_raw(bytes);
        if (close) {
            writer.close_after();
        }
    };
}

origin_handler stream_events(std::vector<std::string> first, std::shared_ptr<origin_gate> gate,
                             std::vector<std::string> rest)
{
    return [first = std::move(first), gate = std::move(gate),
            rest = std::move(rest)](const recorded_request&, response_writer& writer) {
        writer.write_head(200,
                          {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}},
                          framing::chunked);
        for (const auto& event : first) {
            writer.write_body(event);
        }
        if (!writer.wait(*gate)) {
            writer.close_after();
            return;
        }
        for (const auto& event : rest) {
            writer.write_body(event);
        }
        writer.finish();
    };
}

origin_handler respond_after(std::shared_ptr<origin_gate> gate, canned_response response)
{
    return [gate = std::move(gate), response = std::move(response)](const recorded_request&,
                                                                    response_writer& writer) {
        if (!writer.wait(*gate)) {
            writer.close_after();
            return;
        }
        writer.respond(response);
    };
}

} // namespace oi::test
