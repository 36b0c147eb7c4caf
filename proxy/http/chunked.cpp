#include "http/chunked.hpp"

#include "http/detail/char_class.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace oi::http {
namespace {

using detail::is;
using detail::is_ows;
using detail::k_tchar;

int hex_value(char c) noexcept
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

} // namespace

chunked_decoder::chunked_decoder(std::size_t max_overhead_bytes) noexcept
    : max_overhead_(max_overhead_bytes)
{}

void chunked_decoder::reset() noexcept
{
    state_ = state::size_first;
    size_ = 0;
    remaining_ = 0;
    line_bytes_ = 0;
    trailer_bytes_ = 0;
    error_ = nullptr;
}

chunked_decoder::step chunked_decoder::decode(std::string_view in) noexcept
{
    step result;
    std::size_t i = 0;
    while (i < in.size() && state_ != state::done && state_ != state::failed) {
        // Payload goes back in one piece, without looking at its bytes.
        if (state_ == state::data) {
            const auto n =
                static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size() - i));
            result.data = in.substr(i, n);
            remaining_ -= n;
            i += n;
            if (remaining_ == 0) {
                state_ = state::data_cr;
            }
            break;
        }
        advance(in[i]);
        ++i;
    }
    result.consumed = i;
    result.done = state_ == state::done;
    result.error = error_;
    return result;
}

bool chunked_decoder::fail(const char* error) noexcept
{
    state_ = state::failed;
    error_ = error;
    return false;
}

// The grammar (RFC 9112 section 7.1 and 7.1.1):
//   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   chunk-size     = 1*HEXDIG
//   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//   chunk-ext-val  = token / quoted-string
//   last-chunk     = 1*("0") [ chunk-ext ] CRLF
//   trailer-section = *( field-line CRLF ), then CRLF
// BWS is allowed only where the grammar puts it: not before the CRLF, not around the size.
// Extensions are checked and discarded: the proxy forwards no extension it does not understand.
bool chunked_decoder::advance(char c) noexcept
{
    if (state_ <= state::size_lf && ++line_bytes_ > max_overhead_) {
        return fail("chunk-size line too long");
    }
    if (state_ >= state::trailer_start && state_ <= state::final_lf &&
        ++trailer_bytes_ > max_overhead_) {
        return fail("trailer section too long");
    }

    switch (state_) {
    case state::size_first:
    case state::size: {
        const int digit = hex_value(c);
        if (digit >= 0) {
            if (size_ > (k_max_chunk_size - static_cast<std::uint64_t>(digit)) / 16) {
                return fail("chunk size too large");
            }
            size_ = size_ * 16 + static_cast<std::uint64_t>(digit);
            state_ = state::size;
            return true;
        }
        if (state_ == state::size_first) {
            return fail("malformed chunk size");
        }
        if (is_ows(c)) {
            state_ = state::ext_ws;
        } else if (c == ';') {
            state_ = state::ext_after_semi;
        } else if (c == '\r') {
            state_ = state::size_lf;
        } else {
            return fail("malformed chunk size");
        }
        return true;
    }
    case state::ext_ws:
        if (c == ';') {
            state_ = state::ext_after_semi;
        } else if (!is_ows(c)) {
            return fail("malformed chunk extension");
        }
        return true;
    case state::ext_after_semi:
        if (is(k_tchar, c)) {
            state_ = state::ext_name;
        } else if (!is_ows(c)) {
            return fail("malformed chunk extension");
        }
        return true;
    case state::ext_name:
        if (is(k_tchar, c)) {
            return true;
        }
        if (is_ows(c)) {
            state_ = state::ext_ws_after_name;
        } else if (c == '=') {
            state_ = state::ext_after_eq;
        } else if (c == ';') {
            state_ = state::ext_after_semi;
        } else if (c == '\r') {
            state_ = state::size_lf;
        } else {
            return fail("malformed chunk extension");
        }
        return true;
    case state::ext_ws_after_name:
        if (c == '=') {
            state_ = state::ext_after_eq;
        } else if (c == ';') {
            state_ = state::ext_after_semi;
        } else if (!is_ows(c)) {
            return fail("malformed chunk extension");
        }
        return true;
    case state::ext_after_eq:
        if (c == '"') {
            state_ = state::ext_quoted;
        } else if (is(k_tchar, c)) {
            state_ = state::ext_token_value;
        } else if (!is_ows(c)) {
            return fail("malformed chunk extension");
        }
        return true;
    case state::ext_token_value:
        if (is(k_tchar, c)) {
            return true;
        }
        if (is_ows(c)) {
            state_ = state::ext_ws;
        } else if (c == ';') {
            state_ = state::ext_after_semi;
        } else if (c == '\r') {
            state_ = state::size_lf;
        } else {
            return fail("malformed chunk extension");
        }
        return true;
    case state::ext_quoted:
        // quoted-string (RFC 9110 section 5.6.4): qdtext, or a backslash and one more byte.
        if (c == '"') {
            state_ = state::ext_after_quoted;
        } else if (c == '\\') {
            state_ = state::ext_quoted_pair;
        } else if (!is(detail::k_qdtext, c)) {
            return fail("malformed chunk extension");
        }
        return true;
    case state::ext_quoted_pair:
        if (!is(detail::k_field_value, c)) {
            return fail("malformed chunk extension");
        }
        state_ = state::ext_quoted;
        return true;
    case state::ext_after_quoted:
        if (is_ows(c)) {
            state_ = state::ext_ws;
        } else if (c == ';') {
            state_ = state::ext_after_semi;
        } else if (c == '\r') {
            state_ = state::size_lf;
        } else {
            return fail("malformed chunk extension");
        }
        return true;
    case state::size_lf:
        if (c != '\n') {
            return fail("bare CR in chunk-size line");
        }
        remaining_ = size_;
        state_ = size_ == 0 ? state::trailer_start : state::data;
        return true;
    case state::data_cr:
        if (c != '\r') {
            return fail("missing CRLF after chunk data");
        }
        state_ = state::data_lf;
        return true;
    case state::data_lf:
        if (c != '\n') {
            return fail("missing CRLF after chunk data");
        }
        state_ = state::size_first;
        size_ = 0;
        line_bytes_ = 0;
        return true;
    case state::trailer_start:
        // A trailer field line is validated like a header field (RFC 9112 section 7.1.2), then
        // dropped: obs-fold, whitespace before the colon and control bytes are refused.
        if (c == '\r') {
            state_ = state::final_lf;
        } else if (is(k_tchar, c)) {
            state_ = state::trailer_name;
        } else {
            return fail("malformed trailer field");
        }
        return true;
    case state::trailer_name:
        if (c == ':') {
            state_ = state::trailer_value;
        } else if (!is(k_tchar, c)) {
            return fail("malformed trailer field");
        }
        return true;
    case state::trailer_value:
        if (c == '\r') {
            state_ = state::trailer_lf;
        } else if (!is(detail::k_field_value, c)) {
            return fail("malformed trailer field");
        }
        return true;
    case state::trailer_lf:
        if (c != '\n') {
            return fail("bare CR in trailer section");
        }
        state_ = state::trailer_start;
        return true;
    case state::final_lf:
        if (c != '\n') {
            return fail("bare CR at the end of the chunked body");
        }
        state_ = state::done;
        return true;
    case state::data:
    case state::done:
    case state::failed:
        break;
    }
    return false;
}

void append_chunk(std::string& out, std::string_view payload)
{
    if (payload.empty()) {
        return;
    }
    std::array<char, 2 * sizeof(std::size_t)> size{};
    const auto [end, ec] =
        std::to_chars(size.data(), size.data() + size.size(), payload.size(), 16);
    (void)ec; // cannot fail: the buffer holds any size_t in hex
    out.append(size.data(), end);
    out.append("\r\n");
    out.append(payload);
    out.append("\r\n");
}

void append_last_chunk(std::string& out)
{
    out.append("0\r\n\r\n");
}

} // namespace oi::http
