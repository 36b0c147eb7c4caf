#include "store/grant_codec.hpp"

#include "store/store_error.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

namespace {

using namespace std::chrono_literals;
using oi::store::grant;
using oi::store::grant_codec;
using oi::store::grant_key;
using oi::store::store_errc;

oi::config::encryption_key make_key(std::string id, char fill)
{
    return {std::move(id), std::string(32, fill)};
}

grant sample_grant()
{
    grant g;
    g.access_token = oi::secret{"access-token-AAAA"};
    g.refresh_token = oi::secret{"refresh-token-BBBB"};
    g.expires_at = oi::store::clock::time_point{1'700'000'123'456ms};
    g.scope = "calendar.readonly mail.send";
    g.token_type = "Bearer";
    g.version = 7;
    g.refreshed_at = oi::store::clock::time_point{1'699'999'000'001ms};
    g.needs_reauth = true;
    return g;
}

const grant_key k_alice{"google", "alice"};

/// Replaces the character at `pos` with another base64url character.
std::string flip_char(std::string record, std::size_t pos)
{
    record[pos] = record[pos] == 'A' ? 'B' : 'A';
    return record;
}

/// Index of the first payload character (after "v1.<id>.").
std::size_t payload_start(const std::string& record)
{
    return record.find('.', 3) + 1;
}

} // namespace

TEST_CASE("a sealed grant opens to the same fields", "[store][codec]")
{
    const grant_codec codec({make_key("k1", 'x')});
    const grant original = sample_grant();

    const std::string record = codec.seal(k_alice, original);
    const auto opened = codec.open(k_alice, record);

    REQUIRE(opened.has_value());
    CHECK(opened->access_token == original.access_token);
    CHECK(opened->refresh_token == original.refresh_token);
    CHECK(opened->expires_at == original.expires_at);
    CHECK(opened->scope == original.scope);
    CHECK(opened->token_type == original.token_type);
    CHECK(opened->version == original.version);
    CHECK(opened->refreshed_at == original.refreshed_at);
    CHECK(opened->needs_reauth == original.needs_reauth);
}

TEST_CASE("a grant without expiry or refresh token round trips", "[store][codec]")
{
    const grant_codec codec({make_key("k1", 'x')});
    grant original;
    original.access_token = oi::secret{"only-access"};

    const auto opened = codec.open(k_alice, codec.seal(k_alice, original));

    REQUIRE(opened.has_value());
    CHECK_FALSE(opened->has_expiry());
    CHECK(opened->refresh_token.empty());
    CHECK(opened->access_token == original.access_token);
}

TEST_CASE("a record has the v1 key-id shape and no token text", "[store][codec]")
{
    const grant_codec codec({make_key("k1", 'x')});

    const std::string record = codec.seal(k_alice, sample_grant());

    CHECK(record.rfind("v1.k1.", 0) == 0);
    CHECK(record.find("access-token") == std::string::npos);
    CHECK(record.find("refresh-token") == std::string::npos);
    CHECK(record.find_first_of("+/=") == std::string::npos);
}

TEST_CASE("sealing the same grant twice uses fresh nonces", "[store][codec]")
{
    const grant_codec codec({make_key("k1", 'x')});

    const auto first = codec.seal(k_alice, sample_grant());
    const auto second = codec.seal(k_alice, sample_grant());

    CHECK(first != second);
}

TEST_CASE("a record does not open under a different key with the same id", "[store][codec]")
{
    const grant_codec sealer({make_key("k1", 'x')});
    const grant_codec opener({make_key("k1", 'y')});

    const auto opened = opener.open(k_alice, sealer.seal(k_alice, sample_grant()));

    REQUIRE(opened.has_error());
    CHECK(opened.error() == store_errc::corrupt_record);
}

TEST_CASE("a record with an unconfigured key id is reported as unknown_key", "[store][codec]")
{
    const grant_codec sealer({make_key("old", 'x')});
    const grant_codec opener({make_key("k1", 'x')});

    const auto opened = opener.open(k_alice, sealer.seal(k_alice, sample_grant()));

    REQUIRE(opened.has_error());
    CHECK(opened.error() == store_errc::unknown_key);
}

TEST_CASE("truncated and malformed records are corrupt", "[store][codec]")
{
    const grant_codec codec({make_key("k1", 'x')});
    const std::string record = codec.seal(k_alice, sample_grant());
    const std::string bad = GENERATE_COPY(
        record.substr(0, record.size() - 4), record.substr(0, payload_start(record) + 20),
        record.substr(0, payload_start(record)), std::string("v1.k1"),
        std::string("v2") + record.substr(2), std::string(""), record + "*", record + "A");

    const auto opened = codec.open(k_alice, bad);

    REQUIRE(opened.has_error());
    CHECK(opened.error() == store_errc::corrupt_record);
}

TEST_CASE("tampering with nonce, ciphertext or tag is detected", "[store][codec]")
{
    const grant_codec codec({make_key("k1", 'x')});
    const std::string record = codec.seal(k_alice, sample_grant());
    const std::size_t start = payload_start(record);
    // 12 nonce bytes are the first 16 characters; the tag is the last 16 bytes.
    const std::size_t pos = GENERATE_COPY(start + 3, start + 30, record.size() - 5);

    const auto opened = codec.open(k_alice, flip_char(record, pos));

    REQUIRE(opened.has_error());
    CHECK(opened.error() == store_errc::corrupt_record);
}

TEST_CASE("a record moved to another user's key does not open", "[store][codec]")
{
    const grant_codec codec({make_key("k1", 'x')});
    const std::string record = codec.seal(k_alice, sample_grant());
    const grant_key other = GENERATE(grant_key{"google", "mallory"}, grant_key{"slack", "alice"},
                                     grant_key{"googlea", "lice"}, grant_key{"google", "alice "});

    const auto opened = codec.open(other, record);

    REQUIRE(opened.has_error());
    CHECK(opened.error() == store_errc::corrupt_record);
}

TEST_CASE("after rotation old records open and are flagged for re-sealing", "[store][codec]")
{
    const grant_codec before({make_key("k2", 'b')});
    const grant_codec after({make_key("k1", 'a'), make_key("k2", 'b')});
    const std::string old_record = before.seal(k_alice, sample_grant());

    const auto opened = after.open(k_alice, old_record);
    const std::string new_record = after.seal(k_alice, *opened);

    REQUIRE(opened.has_value());
    CHECK(opened->access_token == sample_grant().access_token);
    CHECK_FALSE(after.sealed_with_current_key(old_record));
    CHECK(after.sealed_with_current_key(new_record));
    CHECK(before.sealed_with_current_key(old_record));
}

TEST_CASE("invalid key sets are refused at start-up", "[store][codec]")
{
    CHECK_THROWS_AS(grant_codec({}), std::invalid_argument);
    CHECK_THROWS_AS(grant_codec({{"k1", std::string(31, 'x')}}), std::invalid_argument);
    CHECK_THROWS_AS(grant_codec({{"k1", std::string(33, 'x')}}), std::invalid_argument);
    CHECK_THROWS_AS(grant_codec({{"", std::string(32, 'x')}}), std::invalid_argument);
    CHECK_THROWS_AS(grant_codec({{"k.1", std::string(32, 'x')}}), std::invalid_argument);
    CHECK_THROWS_AS(grant_codec({make_key("k1", 'x'), make_key("k1", 'y')}), std::invalid_argument);
}

TEST_CASE("a start-up error about a key does not print the key", "[store][codec]")
{
    const std::string key_material(31, 'Q');

    try {
        grant_codec codec({{"k1", key_material}});
        FAIL("expected invalid_argument");
    } catch (const std::invalid_argument& e) {
        CHECK(std::string_view(e.what()).find("QQQQ") == std::string_view::npos);
    }
}

TEST_CASE("a state record opens only for its own state id, and under a rotated key",
          "[store][codec][state]")
{
    const grant_codec old_codec({make_key("k1", '\x01')});
    const grant_codec rotated({make_key("k2", '\x02'), make_key("k1", '\x01')});
    const std::string record = R"({"pkce":"verifier-text","r":"https://chat.example.com/x"})";

    const std::string sealed = old_codec.seal_state("state-a", record);

    CHECK(sealed.rfind("s1.k1.", 0) == 0);
    CHECK(sealed.find("verifier-text") == std::string::npos);
    const auto opened = rotated.open_state("state-a", sealed);
    REQUIRE(opened.has_value());
    CHECK(opened->reveal() == record);
    CHECK(old_codec.open_state("state-b", sealed).error() == store_errc::corrupt_record);
    CHECK(old_codec.open_state("state-a", flip_char(sealed, sealed.size() - 3)).error() ==
          store_errc::corrupt_record);
    CHECK(grant_codec({make_key("k3", '\x03')}).open_state("state-a", sealed).error() ==
          store_errc::unknown_key);
}

TEST_CASE("a grant record does not open as a state record nor the reverse", "[store][codec][state]")
{
    const grant_codec codec({make_key("k1", '\x01')});

    const std::string grant_record = codec.seal(k_alice, sample_grant());
    const std::string state_record = codec.seal_state("alice", "{}");

    CHECK_FALSE(codec.open_state("alice", grant_record).has_value());
    CHECK_FALSE(codec.open(k_alice, state_record).has_value());
}
