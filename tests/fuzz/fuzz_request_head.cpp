// The strict request and response head parsers (RFC 9112). Invariants: no crash, views point
// into the input, `consumed` is within it, and a complete head is reported as incomplete (never
// invalid) for every shorter prefix: the session parses heads as bytes arrive.

#include "fuzz_support.hpp"
#include "http/message.hpp"

#include <array>

namespace {

using oi::fuzz::inside;
using oi::fuzz::require;

constexpr std::size_t k_max_head = 64 * 1024;

void check_request(std::string_view data)
{
    oi::http::request_head head;
    const auto result = oi::http::parse_request_head(data, k_max_head, head);
    if (result.status != oi::http::parse_status::complete) {
        return;
    }
    require(result.consumed <= data.size(), "consumed beyond the input");
    require(inside(head.method, data) && inside(head.target, data) && inside(head.host, data),
            "a request view outside the input");
    for (const auto& field : head.fields) {
        require(inside(field.name, data) && inside(field.value, data), "a field outside the input");
    }
    require(head.body != oi::http::body_kind::until_eof, "a request delimited by close");

    // Every prefix of the head: still incomplete, never a different verdict.
    const std::string_view whole = data.substr(0, result.consumed);
    for (std::size_t n = 0; n < whole.size(); ++n) {
        oi::http::request_head partial;
        const auto r = oi::http::parse_request_head(whole.substr(0, n), k_max_head, partial);
        require(r.status == oi::http::parse_status::incomplete, "a prefix of a valid head judged");
    }
}

void check_response(std::string_view data, std::string_view method)
{
    oi::http::response_head head;
    const auto result = oi::http::parse_response_head(data, k_max_head, method, head);
    if (result.status != oi::http::parse_status::complete) {
        return;
    }
    require(result.consumed <= data.size(), "consumed beyond the input");
    require(inside(head.reason, data), "the reason outside the input");
    require(head.status >= 100 && head.status <= 999, "a status outside 100-999");
    if (method == "HEAD" || head.status == 204 || head.status == 304 || head.status < 200) {
        require(head.body == oi::http::body_kind::none, "a body where none can be");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static constexpr std::array<std::string_view, 4> k_methods{"GET", "HEAD", "POST", "CONNECT"};
    oi::fuzz::input in{data, size};
    const std::uint8_t selector = in.byte();
    const std::string_view text = in.rest();

    if ((selector & 1) == 0) {
        check_request(text);
    } else {
        check_response(text, k_methods[(selector >> 1) % k_methods.size()]);
    }
    return 0;
}
