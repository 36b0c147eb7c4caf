#pragma once

// Collects, field by field, what a message head says about its framing and connection: the
// Content-Length and Transfer-Encoding fields (RFC 9112 section 6), Host (RFC 9112 section 3.2),
// Connection (RFC 9110 section 7.6.1) and Expect (RFC 9110 section 10.1.1). Internal to oi_http:
// the head parser feeds it every field and decides from the totals. A plain value; errors are
// static strings.

#include "http/detail/char_class.hpp"
#include "http/message.hpp"

#include <cstdint>
#include <string_view>

namespace oi::http::detail {

struct framing_fields {
    bool content_length_seen = false;
    std::uint64_t content_length = 0;

    bool transfer_encoding_seen = false;
    unsigned codings = 0;          // transfer codings listed, over every Transfer-Encoding field
    unsigned chunked_count = 0;    // how many of them are "chunked"
    bool final_is_chunked = false; // the last coding listed is "chunked"

    unsigned host_count = 0;
    std::string_view host;

    bool connection_close = false;
    bool connection_keep_alive = false;
    bool expect_continue = false;

    /// Takes one field into account. Returns nullptr, or a static text saying why the field makes
    /// the message invalid (malformed or conflicting Content-Length, malformed Transfer-Encoding).
    [[nodiscard]] const char* observe(const header_field& field) noexcept;
};

/// Calls `fn(element)` for each element of a comma-separated list (RFC 9110 section 5.6.1), with
/// OWS trimmed. Empty elements are passed too: the callers decide whether they are acceptable.
template <class Fn> void for_each_list_element(std::string_view value, Fn&& fn)
{
    for (;;) {
        const std::size_t comma = value.find(',');
        fn(trim_ows(value.substr(0, comma)));
        if (comma == std::string_view::npos) {
            return;
        }
        value.remove_prefix(comma + 1);
    }
}

} // namespace oi::http::detail
