#pragma once

// A small blocking HTTP/1.1 client for integration tests, speaking to the proxy over a raw TCP
// connection: requests are written byte for byte as the test gives them (so tests can send
// malformed or absolute-form requests), responses are read with Boost.Beast's parser.
// Failures throw std::runtime_error (test code only). Every read is bounded by a timeout.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oi::test {

struct http_response {
    unsigned status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    /// First value of the header (case-insensitive), or "".
    [[nodiscard]] std::string header(std::string_view name) const;
};

class raw_connection {
public:
    explicit raw_connection(unsigned short port,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));
    ~raw_connection();
    raw_connection(const raw_connection&) = delete;
    raw_connection& operator=(const raw_connection&) = delete;

    void send(std::string_view bytes);
    /// Reads one response; `head_request` for a response to HEAD (no body).
    http_response read_response(bool head_request = false);
    /// Reads the response head and then the body piece by piece; returns the first piece of
    /// body that arrives (for streaming tests), leaving the rest unread.
    std::pair<http_response, std::string> read_head_and_first_piece();
    /// Reads whatever arrives until the peer closes (or the timeout); "" when closed at once.
    std::string read_until_close();
    /// True when the peer has closed the connection (reads EOF within the timeout).
    bool closed_by_peer();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// One request on a fresh connection, one response.
http_response http_exchange(unsigned short port, std::string_view request);

} // namespace oi::test
