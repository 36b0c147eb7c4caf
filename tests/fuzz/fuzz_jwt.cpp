// The HS256 JWT verifier and the signed-identity checks on top of it. Arbitrary tokens must be
// refused or accepted without a crash; a token accepted under the fuzz key must verify to claims
// that re-sign and verify again; a JSON object from the input, signed, verifies to itself, and
// refuses under another key or with any one byte changed.

#include "fuzz_support.hpp"
#include "identity/identity.hpp"
#include "identity/jwt.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <string>

namespace {

using oi::fuzz::require;

/// Claims as text, so that numbers JSON cannot carry exactly (0e600 reads as NaN) compare as the
/// bytes a verifier hands on, not as values that are never equal to themselves.
std::string text_of(const std::optional<boost::json::object>& claims)
{
    return claims ? boost::json::serialize(*claims) : std::string("(refused)");
}

const oi::secret& fuzz_key()
{
    static const oi::secret key{"fuzz-identity-key-0123456789abcdef0123456789"};
    return key;
}

void check_arbitrary_token(std::string_view token)
{
    if (auto claims = oi::identity::verify_hs256(token, fuzz_key())) {
        const std::string again = oi::identity::sign_hs256(fuzz_key(), *claims);
        require(text_of(oi::identity::verify_hs256(again, fuzz_key())) == text_of(claims),
                "accepted claims do not survive re-signing");
    }

    oi::config::identity_config config;
    config.secret_key = fuzz_key();
    const auto now = std::chrono::system_clock::time_point{std::chrono::seconds{1'700'000'000}};
    const auto resolved =
        oi::identity::resolve_identity(config, std::nullopt, std::nullopt, token, now);
    if (const auto* who = std::get_if<oi::identity::identity>(&resolved)) {
        require(!who->user.empty() && !who->plugin.empty(), "an identity without user or plugin");
    }
    (void)oi::identity::identity_from_proxy_authorization(config, token, now);
}

void check_signed_object(std::string_view json_text, std::size_t flip)
{
    boost::system::error_code ec;
    boost::json::value parsed = boost::json::parse(json_text, ec);
    if (ec || !parsed.is_object()) {
        return;
    }
    const boost::json::object& claims = parsed.as_object();
    const std::string token = oi::identity::sign_hs256(fuzz_key(), claims);
    // Boost.JSON writes a NaN (0e600 reads as one) as text it cannot read back; such claims are
    // refused by the verifier like any other unreadable token.
    const boost::json::value reread = boost::json::parse(boost::json::serialize(claims), ec);
    if (ec || !reread.is_object()) {
        require(!oi::identity::verify_hs256(token, fuzz_key()), "unreadable claims verified");
        return;
    }
    const std::string expected = text_of(reread.as_object());

    require(text_of(oi::identity::verify_hs256(token, fuzz_key())) == expected,
            "a signed object differs");
    require(!oi::identity::verify_hs256(token, oi::secret{"another-key-0123456789abcdef01234567"}),
            "verified under another key");
    if (token.size() <= oi::identity::k_max_jwt_bytes) {
        std::string tampered = token;
        const std::size_t at = flip % tampered.size();
        tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
        const auto result = oi::identity::verify_hs256(tampered, fuzz_key());
        // Base64url has spare bits in the last character of each part: a change there may decode
        // to the same bytes, which is no forgery.
        require(!result || text_of(result) == expected,
                "a tampered token verified to other claims");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    oi::fuzz::input in{data, size};
    const std::size_t flip = in.byte();
    const std::string_view text = in.rest();

    check_arbitrary_token(text);
    check_signed_object(text, flip);
    return 0;
}
