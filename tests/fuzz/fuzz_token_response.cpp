// The token-endpoint answer parser. Any status, content type, body and Retry-After give a token
// set or a failure, never a crash; a failure's error code is empty or a safe OAuth code, and no
// failure carries text from the body; a success has a non-empty access token.

#include "fuzz_support.hpp"
#include "oauth/token_response.hpp"

#include <array>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using oi::fuzz::require;
    static constexpr std::array<unsigned, 10> k_statuses{200, 201, 204, 302, 400,
                                                         401, 429, 500, 503, 99};
    static constexpr std::array<std::string_view, 6> k_types{
        "application/json", "application/x-www-form-urlencoded; charset=utf-8",
        "text/plain",       "",
        "text/html",        "application/problem+json"};

    oi::fuzz::input in{data, size};
    const std::uint8_t selector = in.byte();
    const unsigned status = k_statuses[selector % k_statuses.size()];
    const std::string_view type = k_types[(selector / k_statuses.size()) % k_types.size()];
    const std::string_view retry_after = in.until('\n');
    const std::string_view body = in.rest();
    const oi::oauth::token_response_options options{.prefer_authed_user = (selector & 0x80) != 0};

    const auto outcome = oi::oauth::parse_token_response(status, type, body, retry_after, options);

    if (const auto* tokens = std::get_if<oi::oauth::token_set>(&outcome)) {
        require(!tokens->access_token.empty(), "a success without an access token");
        require(status >= 200 && status < 300, "a success under a non-2xx status");
        if (tokens->expires_in) {
            require(*tokens->expires_in >= std::chrono::seconds{0} &&
                        *tokens->expires_in <= oi::oauth::k_max_duration,
                    "expires_in out of range");
        }
        return 0;
    }
    const auto& failure = std::get<oi::oauth::token_failure>(outcome);
    require(failure.error.empty() || oi::oauth::is_safe_error_code(failure.error),
            "an unsafe error code");
    // Details are fixed words, all shorter than 64 bytes: a longer one would have taken text in.
    require(failure.detail.size() < 64, "a failure detail that is not fixed words");
    if (failure.retry_after) {
        require(*failure.retry_after >= std::chrono::seconds{0} &&
                    *failure.retry_after <= oi::oauth::k_max_duration,
                "retry_after out of range");
    }
    return 0;
}
