#include "http/detail/framing.hpp"

#include <limits>

namespace oi::http::detail {
namespace {

// Content-Length = 1*DIGIT (RFC 9110 section 8.6). No sign, no spaces inside, no hex; a value that
// does not fit in 64 bits is refused rather than truncated.
bool parse_decimal(std::string_view text, std::uint64_t& value) noexcept
{
    if (text.empty()) {
        return false;
    }
    constexpr std::uint64_t k_max = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (v > (k_max - digit) / 10) {
            return false;
        }
        v = v * 10 + digit;
    }
    value = v;
    return true;
}

const char* observe_content_length(framing_fields& f, std::string_view value) noexcept
{
    // RFC 9110 section 8.6: a list of identical values (or repeated identical fields) may be
    // taken as one value; anything else is an unrecoverable framing error (RFC 9112 section 6.3,
    // item 5). Empty list elements are refused: the field has no list syntax of its own.
    const char* error = nullptr;
    for_each_list_element(value, [&](std::string_view element) {
        std::uint64_t n = 0;
        if (error != nullptr) {
            return;
        }
        if (!parse_decimal(element, n)) {
            error = "malformed Content-Length";
            return;
        }
        if (f.content_length_seen && n != f.content_length) {
            error = "conflicting Content-Length values";
            return;
        }
        f.content_length_seen = true;
        f.content_length = n;
    });
    return error;
}

const char* observe_transfer_encoding(framing_fields& f, std::string_view value) noexcept
{
    // RFC 9112 section 6.1: Transfer-Encoding = #transfer-coding, where transfer-coding = token
    // *( OWS ";" OWS transfer-parameter ). Several fields form one list, in order. An empty
    // element is refused: a coding list that parsers could count differently is a smuggling vector.
    const char* error = nullptr;
    f.transfer_encoding_seen = true;
    for_each_list_element(value, [&](std::string_view element) {
        if (error != nullptr) {
            return;
        }
        const std::string_view name = trim_ows(element.substr(0, element.find(';')));
        if (name.empty() || !all_of(k_tchar, name)) {
            error = "malformed Transfer-Encoding";
            return;
        }
        ++f.codings;
        // "chunked" takes no parameters; "chunked;x=y" is some other, unknown coding.
        f.final_is_chunked = iequals(element, "chunked");
        if (f.final_is_chunked) {
            ++f.chunked_count;
        }
    });
    return error;
}

void observe_connection(framing_fields& f, std::string_view value) noexcept
{
    // RFC 9110 section 7.6.1: Connection = #connection-option, case-insensitive.
    for_each_list_element(value, [&](std::string_view option) {
        if (iequals(option, "close")) {
            f.connection_close = true;
        } else if (iequals(option, "keep-alive")) {
            f.connection_keep_alive = true;
        }
    });
}

void observe_expect(framing_fields& f, std::string_view value) noexcept
{
    // RFC 9110 section 10.1.1: the expectation is case-insensitive; other expectations are
    // ignored here (a server may answer them with 417, this proxy does not act on them).
    for_each_list_element(value, [&](std::string_view expectation) {
        if (iequals(expectation, "100-continue")) {
            f.expect_continue = true;
        }
    });
}

} // namespace

const char* framing_fields::observe(const header_field& field) noexcept
{
    // Dispatch on the length first: almost every field is none of these and costs one compare.
    switch (field.name.size()) {
    case 4:
        if (iequals(field.name, "host")) {
            ++host_count;
            host = field.value;
        }
        return nullptr;
    case 6:
        if (iequals(field.name, "expect")) {
            observe_expect(*this, field.value);
        }
        return nullptr;
    case 10:
        if (iequals(field.name, "connection")) {
            observe_connection(*this, field.value);
        }
        return nullptr;
    case 14:
        return iequals(field.name, "content-length") ? observe_content_length(*this, field.value)
                                                     : nullptr;
    case 17:
        return iequals(field.name, "transfer-encoding")
                   ? observe_transfer_encoding(*this, field.value)
                   : nullptr;
    default:
        return nullptr;
    }
}

} // namespace oi::http::detail
