#pragma once

// Strict HTTP/1.1 message heads (RFC 9112). The parser works on the bytes received so far and
// never copies: every string_view points into the caller's buffer, which must outlive the head.

#include <cstdint>
#include <string_view>
#include <vector>

namespace oi::http {

struct header_field {
    std::string_view name;  // as received (case preserved)
    std::string_view value; // leading and trailing OWS removed
};

/// How the message body is delimited (RFC 9112 section 6.3).
enum class body_kind {
    none,      // no body
    length,    // Content-Length bytes
    chunked,   // Transfer-Encoding: chunked
    until_eof, // responses only: read until the server closes
};

struct request_head {
    std::string_view method;
    std::string_view target;
    int version_minor = 1; // HTTP/1.0 or HTTP/1.1
    std::vector<header_field> fields;

    body_kind body = body_kind::none;
    std::uint64_t content_length = 0; // when body == length
    bool keep_alive = true;           // from version and Connection
    bool expect_continue = false;     // Expect: 100-continue
    std::string_view host;            // the Host field value; empty when absent (HTTP/1.0)

    [[nodiscard]] const header_field* find(std::string_view name) const noexcept;
};

struct response_head {
    int status = 0;
    std::string_view reason;
    int version_minor = 1;
    std::vector<header_field> fields;

    body_kind body = body_kind::none;
    std::uint64_t content_length = 0;
    bool keep_alive = true;

    [[nodiscard]] const header_field* find(std::string_view name) const noexcept;
};

enum class parse_status {
    incomplete, // need more bytes (and the head is still within the limit)
    complete,   // `consumed` is the size of the head including the final CRLF CRLF
    invalid,    // refuse with 400 bad_request; `error` says why
    too_large,  // the head exceeds max_header_bytes: refuse with 431 (payload_too_large)
};

struct parse_result {
    parse_status status = parse_status::incomplete;
    std::size_t consumed = 0;
    const char* error = ""; // static text, safe to log (never contains message bytes)
};

/// Parses a request head from `data`. Refuses (RFC 9112 / 9110): obs-fold, bare CR or LF, NUL and
/// other control bytes in field values, invalid tokens in names or method, whitespace before the
/// colon, Content-Length together with Transfer-Encoding, several differing or malformed
/// Content-Length values, a transfer coding other than a final "chunked", a missing or repeated
/// Host in HTTP/1.1, versions other than 1.0 and 1.1.
parse_result parse_request_head(std::string_view data, std::size_t max_header_bytes,
                                request_head& out);

/// Parses a response head. `request_method` decides whether a body can follow (HEAD, CONNECT);
/// 1xx, 204 and 304 never have one. Framing errors are `invalid`.
parse_result parse_response_head(std::string_view data, std::size_t max_header_bytes,
                                 std::string_view request_method, response_head& out);

/// Case-insensitive ASCII comparison of header names and tokens.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

/// Hop-by-hop fields that a proxy must not forward (RFC 9110 section 7.6.1): Connection,
/// Keep-Alive, Proxy-Connection, Proxy-Authenticate, Proxy-Authorization, TE, Trailer,
/// Transfer-Encoding, Upgrade, and every field named in the message's Connection header.
[[nodiscard]] bool is_hop_by_hop(std::string_view name,
                                 const std::vector<header_field>& fields) noexcept;

/// Whether some field called `name` has `token` among its comma-separated elements
/// (case-insensitive; RFC 9110 section 5.6.1), e.g. `Connection: keep-alive, Upgrade`.
[[nodiscard]] bool lists_token(const std::vector<header_field>& fields, std::string_view name,
                               std::string_view token) noexcept;

} // namespace oi::http
