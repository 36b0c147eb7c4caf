#include "authflow/pkce.hpp"

#include "authflow/flow_state.hpp"

#include <catch2/catch.hpp>

#include <set>

TEST_CASE("the S256 challenge is the unpadded base64url of the verifier's SHA-256",
          "[authflow][pkce]")
{
    // Expected value computed apart, with Python's hashlib and base64.urlsafe_b64encode.
    CHECK(oi::authflow::s256_challenge("dBjftJeZ4CVP-mJ92K9XGDfZfpJSZmFbqQZ4XqCnCHk") ==
          "-KqmjAKc7pwMpvv4KNeTWcAjYjzPGUnR6reBmtfq6sg");
}

TEST_CASE("code verifiers are 43 unreserved characters and never repeat", "[authflow][pkce]")
{
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        const auto verifier = oi::authflow::new_code_verifier();
        REQUIRE(verifier.has_value());
        CHECK(verifier->size() == 43);
        CHECK(verifier->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789-._~") == std::string::npos);
        seen.insert(*verifier);
    }

    CHECK(seen.size() == 100);
}

TEST_CASE("a flow state round-trips through its record", "[authflow][state]")
{
    const oi::authflow::flow_state state{"google", "alice \"a\"", oi::secret{"verifier-1"},
                                         "https://chat.example.com/"};

    const oi::secret record = oi::authflow::encode_flow_state(state);
    const auto back = oi::authflow::decode_flow_state(record.reveal());

    REQUIRE(back.has_value());
    CHECK(back->connection == "google");
    CHECK(back->user == "alice \"a\"");
    CHECK(back->code_verifier == oi::secret{"verifier-1"});
    CHECK(back->return_to == "https://chat.example.com/");
}

TEST_CASE("records that are not flow states are refused", "[authflow][state]")
{
    const std::string record =
        GENERATE(as<std::string>{}, "", "{}", "[1]", "not json",
                 R"({"v":2,"c":"g","u":"a","pkce":"x"})", R"({"v":1,"c":"g","u":"a"})");

    CHECK_FALSE(oi::authflow::decode_flow_state(record).has_value());
}

TEST_CASE("only 43-character base64url values are taken for states", "[authflow][state]")
{
    const auto state = oi::authflow::random_token(oi::authflow::k_state_bytes);
    REQUIRE(state.has_value());

    CHECK(oi::authflow::plausible_state(*state));
    CHECK_FALSE(oi::authflow::plausible_state(""));
    CHECK_FALSE(oi::authflow::plausible_state(state->substr(1)));
    CHECK_FALSE(oi::authflow::plausible_state(std::string(42, 'a') + "="));
    CHECK_FALSE(oi::authflow::plausible_state(std::string(42, 'a') + "*"));
}
