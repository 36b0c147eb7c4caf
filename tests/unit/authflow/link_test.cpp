#include "authflow/link.hpp"

#include "common/base64.hpp"

#include <boost/url/parse.hpp>
#include <catch2/catch.hpp>

namespace {

using namespace std::chrono_literals;
using oi::authflow::link_error;
using oi::authflow::link_signer;

const oi::authflow::clock::time_point k_now{std::chrono::seconds{1'800'000'000}};

link_signer signer(char fill = 'k')
{
    oi::config::store_config store;
    store.encryption_keys.push_back({"k1", std::string(32, fill)});
    return link_signer::from_config(store);
}

/// The `link` parameter of a minted URL.
std::string token_of(const std::string& url)
{
    const auto parsed = boost::urls::parse_absolute_uri(url);
    REQUIRE(parsed.has_value());
    return (*parsed->params().find("link")).value;
}

} // namespace

TEST_CASE("a minted link verifies to its connection, user and return_to", "[authflow][link]")
{
    const link_signer s = signer();

    const auto link = s.mint("https://auth.example.com", "google", "alice@example.com",
                             "https://chat.example.com/done", k_now);
    const auto claims = s.verify(token_of(link.url), k_now + 9min);

    CHECK(link.url.rfind("https://auth.example.com/oauth/start?link=", 0) == 0);
    CHECK(link.expires_at == k_now + 10min);
    REQUIRE(claims.has_value());
    CHECK(claims->connection == "google");
    CHECK(claims->user == "alice@example.com");
    CHECK(claims->return_to == "https://chat.example.com/done");
    CHECK_FALSE(claims->nonce.empty());
}

TEST_CASE("two links for the same user differ by their nonce", "[authflow][link]")
{
    const link_signer s = signer();

    const auto a = s.mint("https://auth.example.com", "google", "alice", "", k_now);
    const auto b = s.mint("https://auth.example.com", "google", "alice", "", k_now);

    CHECK(a.url != b.url);
}

TEST_CASE("a link is refused as expired from its tenth minute on", "[authflow][link]")
{
    const link_signer s = signer();
    const std::string token = token_of(s.mint("http://127.0.0.1:8081", "c", "u", "", k_now).url);

    const auto at_expiry = s.verify(token, k_now + 10min);
    const auto later = s.verify(token, k_now + 1h);

    REQUIRE(at_expiry.has_error());
    CHECK(at_expiry.error() == link_error::expired);
    REQUIRE(later.has_error());
    CHECK(later.error() == link_error::expired);
}

TEST_CASE("a link with any changed character is invalid", "[authflow][link]")
{
    const link_signer s = signer();
    const std::string token = token_of(s.mint("http://127.0.0.1:8081", "c", "u", "", k_now).url);
    // Never the last character of a part: its low bits may be padding that decoding ignores.
    const std::size_t from_end = GENERATE(0U, 1U);
    const std::size_t offset = GENERATE(0U, 10U, 40U, 80U);
    const std::size_t position = from_end == 1 ? token.size() - 2 - offset / 10 : offset;
    REQUIRE(position < token.size());
    std::string tampered = token;
    tampered[position] = tampered[position] == 'A' ? 'B' : 'A';

    const auto claims = s.verify(tampered, k_now);

    REQUIRE(claims.has_error());
    CHECK(claims.error() == link_error::invalid);
}

TEST_CASE("a link re-signed with other claims or another key is invalid", "[authflow][link]")
{
    const link_signer s = signer('k');
    const link_signer other = signer('x');
    oi::authflow::link_claims claims{"c", "mallory", "", "n", k_now + 10min};
    const std::string by_other = other.sign(claims);
    // The claims of one link with the signature of another.
    const std::string alice = s.sign({"c", "alice", "", "n", k_now + 10min});
    const std::string bob = s.sign({"c", "bob", "", "n", k_now + 10min});
    const std::string spliced = alice.substr(0, alice.rfind('.')) + bob.substr(bob.rfind('.'));

    CHECK(s.verify(by_other, k_now).has_error());
    CHECK(s.verify(spliced, k_now).has_error());
    CHECK(s.verify("", k_now).has_error());
    CHECK(s.verify("not.a.link", k_now).has_error());
}

TEST_CASE("links signed from one store key verify in every replica with that key",
          "[authflow][link]")
{
    const std::string token =
        token_of(signer('k').mint("http://127.0.0.1:8081", "c", "u", "", k_now).url);

    CHECK(signer('k').verify(token, k_now).has_value());
    CHECK(signer('j').verify(token, k_now).has_error());
}

TEST_CASE("return_to must fall under a configured origin", "[authflow][link]")
{
    const std::vector<std::string> origins{"https://chat.example.com", "http://127.0.0.1:3000"};
    const auto [url, allowed] = GENERATE(table<std::string, bool>({
        {"https://chat.example.com/done?x=1", true},
        {"https://CHAT.example.com:443/", true},
        {"http://127.0.0.1:3000/back", true},
        {"http://chat.example.com/done", false},
        {"https://chat.example.com.evil.test/done", false},
        {"https://evil.test/?https://chat.example.com", false},
        {"https://chat.example.com@evil.test/", false},
        {"//chat.example.com/done", false},
        {"javascript:alert(1)", false},
        {"http://127.0.0.1:3001/", false},
        {"https://chat.example.com/" + std::string(3000, 'a'), false},
    }));

    CHECK(oi::authflow::return_to_allowed(url, origins) == allowed);
}
