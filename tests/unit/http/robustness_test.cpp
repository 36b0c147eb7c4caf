#include "http/chunked.hpp"
#include "http/message.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>

namespace {

bool within(std::string_view part, std::string_view whole)
{
    return part.empty() || (part.data() >= whole.data() &&
                            part.data() + part.size() <= whole.data() + whole.size());
}

/// Replaces, inserts or deletes a few random bytes, favouring the bytes parsers care about.
std::string mutate(std::mt19937& random, std::string text)
{
    static const std::string special = "\r\n :;,\t\"\\0aZ\x7f\x80\xff";
    for (int n = static_cast<int>(random() % 4); n >= 0 && !text.empty(); --n) {
        const std::size_t at = random() % text.size();
        const char byte = random() % 2 == 0 ? special[random() % special.size()]
                                            : static_cast<char>(random() % 256);
        switch (random() % 3) {
        case 0:
            text[at] = byte;
            break;
        case 1:
            text.insert(at, 1, byte);
            break;
        default:
            text.erase(at, 1);
        }
    }
    return text;
}

} // namespace

TEST_CASE("mutated heads never make the parser read outside its input", "[http]")
{
    const std::string request = "POST http://a.example/x?y=1 HTTP/1.1\r\nHost: a.example\r\n"
                                "Content-Length: 10\r\nConnection: keep-alive, x\r\n"
                                "Expect: 100-continue\r\nX-A: \"quoted\"\t\r\n\r\n";
    const std::string response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
                                 "Content-Type: text/plain\r\n\r\n";
    std::mt19937 random{777};
    oi::http::request_head request_head;
    oi::http::response_head response_head;

    for (int round = 0; round < 20000; ++round) {
        const std::string text = mutate(random, round % 2 == 0 ? request : response);
        const std::size_t limit = 16 + random() % 200;

        const auto result = round % 2 == 0
                                ? oi::http::parse_request_head(text, limit, request_head)
                                : oi::http::parse_response_head(text, limit, "GET", response_head);

        REQUIRE(result.consumed <= std::min(text.size(), limit));
        REQUIRE(result.error != nullptr);
        if (result.status == oi::http::parse_status::complete) {
            const auto& fields = round % 2 == 0 ? request_head.fields : response_head.fields;
            for (const auto& field : fields) {
                REQUIRE(within(field.name, text));
                REQUIRE(within(field.value, text));
                REQUIRE_FALSE(field.name.empty());
            }
        }
    }
}

TEST_CASE("mutated chunked bodies never make the decoder read outside its input", "[chunked]")
{
    const std::string body = "5;a=\"b\"\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\n";
    std::mt19937 random{778};

    for (int round = 0; round < 20000; ++round) {
        const std::string text = mutate(random, body);
        oi::http::chunked_decoder decoder{64};
        std::string_view rest = text;

        while (!rest.empty()) {
            const std::string_view piece = rest.substr(0, 1 + random() % 9);
            const auto step = decoder.decode(piece);

            REQUIRE(step.consumed <= piece.size());
            REQUIRE(within(step.data, piece.substr(0, step.consumed)));
            rest.remove_prefix(step.consumed);
            if (step.done || step.error != nullptr) {
                break;
            }
        }
    }
}
