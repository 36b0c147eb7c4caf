#include "identity/identity.hpp"

#include "common/base64.hpp"
#include "identity/jwt.hpp"

#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

using namespace std::chrono_literals;
using namespace oi::identity;
using oi::base64url_encode;
using oi::secret;
using std::chrono::system_clock;

namespace {

const secret k_key{std::string(32, 'K')};
const secret k_other_key{std::string(32, 'O')};
const system_clock::time_point k_now = system_clock::time_point(1'800'000'000s);

oi::config::identity_config signed_config()
{
    oi::config::identity_config c;
    c.secret_key = k_key;
    c.max_ttl = 10min;
    return c;
}

oi::config::identity_config unsigned_config()
{
    return {};
}

std::int64_t now_s()
{
    return 1'800'000'000;
}

boost::json::object claims(std::int64_t exp_offset)
{
    return {{"sub", "alice"}, {"plugin", "cal"}, {"exp", now_s() + exp_offset}};
}

resolution from_token(std::string_view token)
{
    return resolve_identity(signed_config(), std::nullopt, std::nullopt, token, k_now);
}

bool is_invalid(const resolution& r)
{
    return std::holds_alternative<identity_failure>(r) &&
           std::get<identity_failure>(r) == identity_failure::invalid;
}

bool is_required(const resolution& r)
{
    return std::holds_alternative<identity_failure>(r) &&
           std::get<identity_failure>(r) == identity_failure::required;
}

std::string basic(std::string_view user_pass)
{
    // Standard base64 with padding, built from base64url.
    std::string b64 = base64url_encode(user_pass);
    std::replace(b64.begin(), b64.end(), '-', '+');
    std::replace(b64.begin(), b64.end(), '_', '/');
    b64.append((4 - b64.size() % 4) % 4, '=');
    return "Basic " + b64;
}

} // namespace

TEST_CASE("unsigned mode takes user and plugin from the plain headers", "[identity]")
{
    auto r = resolve_identity(unsigned_config(), "alice", "cal", std::nullopt, k_now);

    REQUIRE(std::holds_alternative<identity>(r));
    CHECK(std::get<identity>(r).user == "alice");
    CHECK(std::get<identity>(r).plugin == "cal");
}

TEST_CASE("unsigned mode needs both headers", "[identity]")
{
    CHECK(is_required(
        resolve_identity(unsigned_config(), "alice", std::nullopt, std::nullopt, k_now)));
    CHECK(
        is_required(resolve_identity(unsigned_config(), std::nullopt, "cal", std::nullopt, k_now)));
    CHECK(is_required(
        resolve_identity(unsigned_config(), std::nullopt, std::nullopt, "a.b.c", k_now)));
}

TEST_CASE("unsigned mode refuses empty, overlong and control-character ids", "[identity]")
{
    auto cfg = unsigned_config();

    CHECK(is_invalid(resolve_identity(cfg, "", "cal", std::nullopt, k_now)));
    CHECK(is_invalid(resolve_identity(cfg, "alice", "", std::nullopt, k_now)));
    CHECK(is_invalid(resolve_identity(cfg, std::string(257, 'a'), "cal", std::nullopt, k_now)));
    CHECK(is_invalid(resolve_identity(cfg, "al\x01ice", "cal", std::nullopt, k_now)));
    CHECK(is_invalid(resolve_identity(cfg, "alice",
                                      "c\x7f"
                                      "al",
                                      std::nullopt, k_now)));
    CHECK(std::holds_alternative<identity>(
        resolve_identity(cfg, std::string(256, 'a'), "cal", std::nullopt, k_now)));
}

TEST_CASE("a signed identity made by sign_identity is accepted", "[identity]")
{
    auto token = sign_identity(k_key, "alice", "cal", 5min, k_now);

    auto r = from_token(token);

    REQUIRE(std::holds_alternative<identity>(r));
    CHECK(std::get<identity>(r).user == "alice");
    CHECK(std::get<identity>(r).plugin == "cal");
}

TEST_CASE("signed mode ignores plain headers and requires the token", "[identity]")
{
    auto r = resolve_identity(signed_config(), "alice", "cal", std::nullopt, k_now);

    CHECK(is_required(r));
}

TEST_CASE("an expired token is refused, within the clock skew it is not", "[identity]")
{
    CHECK(is_invalid(from_token(sign_hs256(k_key, claims(-31)))));
    CHECK(std::holds_alternative<identity>(from_token(sign_hs256(k_key, claims(-29)))));
}

TEST_CASE("a token expiring further ahead than max_ttl is refused", "[identity]")
{
    CHECK(is_invalid(from_token(sign_hs256(k_key, claims(11 * 60)))));
    CHECK(std::holds_alternative<identity>(from_token(sign_hs256(k_key, claims(10 * 60)))));
}

TEST_CASE("a token without exp is refused", "[identity]")
{
    boost::json::object c{{"sub", "alice"}, {"plugin", "cal"}};

    CHECK(is_invalid(from_token(sign_hs256(k_key, c))));
}

TEST_CASE("nbf and iat in the future are refused", "[identity]")
{
    auto not_yet = claims(300);
    not_yet["nbf"] = now_s() + 60;
    auto future_iat = claims(300);
    future_iat["iat"] = now_s() + 60;
    auto fine = claims(300);
    fine["nbf"] = now_s() + 20;
    fine["iat"] = now_s() - 10;

    CHECK(is_invalid(from_token(sign_hs256(k_key, not_yet))));
    CHECK(is_invalid(from_token(sign_hs256(k_key, future_iat))));
    CHECK(std::holds_alternative<identity>(from_token(sign_hs256(k_key, fine))));
}

TEST_CASE("claims of the wrong type or missing are refused", "[identity]")
{
    boost::json::object no_plugin{{"sub", "alice"}, {"exp", now_s() + 60}};
    boost::json::object no_sub{{"plugin", "cal"}, {"exp", now_s() + 60}};
    boost::json::object numeric_sub{{"sub", 42}, {"plugin", "cal"}, {"exp", now_s() + 60}};
    boost::json::object string_exp{{"sub", "a"}, {"plugin", "cal"}, {"exp", "soon"}};
    boost::json::object empty_sub{{"sub", ""}, {"plugin", "cal"}, {"exp", now_s() + 60}};

    CHECK(is_invalid(from_token(sign_hs256(k_key, no_plugin))));
    CHECK(is_invalid(from_token(sign_hs256(k_key, no_sub))));
    CHECK(is_invalid(from_token(sign_hs256(k_key, numeric_sub))));
    CHECK(is_invalid(from_token(sign_hs256(k_key, string_exp))));
    CHECK(is_invalid(from_token(sign_hs256(k_key, empty_sub))));
}

TEST_CASE("a token signed with another key is refused", "[identity]")
{
    auto token = sign_identity(k_other_key, "alice", "cal", 5min, k_now);

    CHECK(is_invalid(from_token(token)));
}

TEST_CASE("a token whose payload was changed is refused", "[identity]")
{
    auto token = sign_identity(k_key, "alice", "cal", 5min, k_now);
    auto first = token.find('.');
    auto last = token.rfind('.');
    boost::json::object evil = claims(300);
    evil["sub"] = "mallory";

    auto tampered = token.substr(0, first + 1) + base64url_encode(boost::json::serialize(evil)) +
                    token.substr(last);

    CHECK(is_invalid(from_token(tampered)));
}

TEST_CASE("alg none and every algorithm other than HS256 are refused", "[identity]")
{
    auto body = base64url_encode(boost::json::serialize(claims(300)));
    auto valid = sign_hs256(k_key, claims(300));
    auto valid_signature = valid.substr(valid.rfind('.'));

    for (std::string_view header :
         {R"({"alg":"none"})", R"({"alg":"HS512"})", R"({"alg":"RS256"})", R"({"alg":"hs256"})",
          R"({"typ":"JWT"})", R"({"alg":"HS256","crit":["exp"]})", R"({"alg":"HS256","typ":"x"})",
          R"({"alg":["HS256"]})"}) {
        auto with_empty_signature = base64url_encode(header) + "." + body + ".";
        auto with_borrowed_signature = base64url_encode(header) + "." + body + valid_signature;

        CHECK(is_invalid(from_token(with_empty_signature)));
        CHECK(is_invalid(from_token(with_borrowed_signature)));
    }
}

TEST_CASE("malformed tokens are refused", "[identity]")
{
    auto token = sign_identity(k_key, "alice", "cal", 5min, k_now);

    CHECK(is_invalid(from_token("")));
    CHECK(is_invalid(from_token("abc")));
    CHECK(is_invalid(from_token("a.b")));
    CHECK(is_invalid(from_token(token + ".extra")));
    CHECK(is_invalid(from_token(token + "=")));
    CHECK(is_invalid(from_token("!!!." + token.substr(token.find('.') + 1))));
    CHECK(is_invalid(
        from_token(base64url_encode("not json") + "." + base64url_encode("{}") + ".AAAA")));
    CHECK(is_invalid(from_token(token + std::string(9000, 'A'))));
}

TEST_CASE("CONNECT's Basic credentials carry plugin and user in unsigned mode", "[identity]")
{
    auto r = identity_from_proxy_authorization(unsigned_config(), basic("cal:alice:x"), k_now);
    auto lower_scheme =
        identity_from_proxy_authorization(unsigned_config(), "basic Y2FsOmFsaWNl", k_now);

    REQUIRE(std::holds_alternative<identity>(r));
    CHECK(std::get<identity>(r).plugin == "cal");
    CHECK(std::get<identity>(r).user == "alice:x");
    REQUIRE(std::holds_alternative<identity>(lower_scheme));
    CHECK(std::get<identity>(lower_scheme).user == "alice");
}

TEST_CASE("CONNECT credentials that are absent or malformed are refused", "[identity]")
{
    auto cfg = unsigned_config();

    CHECK(is_required(identity_from_proxy_authorization(cfg, "", k_now)));
    CHECK(is_required(identity_from_proxy_authorization(cfg, "  ", k_now)));
    CHECK(is_invalid(identity_from_proxy_authorization(cfg, "Basic", k_now)));
    CHECK(is_invalid(identity_from_proxy_authorization(cfg, "Basic !!!!", k_now)));
    CHECK(is_invalid(identity_from_proxy_authorization(cfg, basic("no-colon"), k_now)));
    CHECK(is_invalid(identity_from_proxy_authorization(cfg, basic(":alice"), k_now)));
    CHECK(is_invalid(identity_from_proxy_authorization(cfg, "Digest abc", k_now)));
    CHECK(is_invalid(identity_from_proxy_authorization(
        cfg, "Bearer " + sign_identity(k_key, "alice", "cal", 5min, k_now), k_now)));
}

TEST_CASE("CONNECT in signed mode takes a Bearer JWT or a Basic password JWT", "[identity]")
{
    auto token = sign_identity(k_key, "alice", "cal", 5min, k_now);

    auto bearer = identity_from_proxy_authorization(signed_config(), "Bearer " + token, k_now);
    auto password =
        identity_from_proxy_authorization(signed_config(), basic("cal:" + token), k_now);
    auto plain = identity_from_proxy_authorization(signed_config(), basic("cal:alice"), k_now);
    auto forged = identity_from_proxy_authorization(
        signed_config(), "Bearer " + sign_identity(k_other_key, "alice", "cal", 5min, k_now),
        k_now);

    REQUIRE(std::holds_alternative<identity>(bearer));
    CHECK(std::get<identity>(bearer).user == "alice");
    REQUIRE(std::holds_alternative<identity>(password));
    CHECK(std::get<identity>(password).plugin == "cal");
    CHECK(is_invalid(plain));
    CHECK(is_invalid(forged));
}
