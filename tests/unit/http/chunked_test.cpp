#include "http/chunked.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace {

struct outcome {
    std::string payload;
    std::size_t consumed = 0;
    bool done = false;
    std::string error; // empty when none

    bool operator==(const outcome&) const = default;
};

/// Feeds `input` to a fresh decoder in pieces that end at `cuts` (sorted offsets), calling decode
/// until each piece is used up, the body ends or an error occurs.
outcome decode_in_pieces(std::string_view input, const std::vector<std::size_t>& cuts,
                         std::size_t max_overhead = 16 * 1024)
{
    oi::http::chunked_decoder decoder{max_overhead};
    outcome result;
    std::size_t begin = 0;
    std::vector<std::size_t> ends = cuts;
    ends.push_back(input.size());
    for (std::size_t end : ends) {
        std::string_view piece = input.substr(begin, end - begin);
        while (!piece.empty()) {
            const auto step = decoder.decode(piece);
            result.payload.append(step.data);
            result.consumed += step.consumed;
            piece.remove_prefix(step.consumed);
            if (step.error != nullptr) {
                result.error = step.error;
                return result;
            }
            if (step.done) {
                result.done = true;
                return result;
            }
        }
        begin = end;
    }
    return result;
}

outcome decode_whole(std::string_view input, std::size_t max_overhead = 16 * 1024)
{
    return decode_in_pieces(input, {}, max_overhead);
}

} // namespace

TEST_CASE("a chunked body decodes to its payload and stops before the next message", "[chunked]")
{
    const std::string body = "5;name=value;q=\"a \\\"b\\\" c\"\r\nhello\r\n"
                             "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
                             "0\r\nX-Trailer: yes\r\n\r\n";

    const outcome result = decode_whole(body + "GET / HTTP/1.1\r\n");

    CHECK(result.error.empty());
    CHECK(result.done);
    CHECK(result.payload == "helloabcdefghijklmnopqrstuvwxyz");
    CHECK(result.consumed == body.size());
}

TEST_CASE("decoding byte by byte or in random pieces equals decoding at once", "[chunked]")
{
    const std::string body = "3\r\nabc\r\n"
                             "10 ; ext ; e2 = \"v;al\" ; e3=tok\r\n0123456789abcdef\r\n"
                             "00000001\r\nZ\r\n"
                             "000;last\r\nA: 1\r\nB:\t2 \r\n\r\n";
    const outcome whole = decode_whole(body);
    REQUIRE(whole.done);
    REQUIRE(whole.payload == "abc0123456789abcdefZ");

    std::vector<std::size_t> every_byte;
    for (std::size_t i = 1; i < body.size(); ++i) {
        every_byte.push_back(i);
    }
    CHECK(decode_in_pieces(body, every_byte) == whole);

    std::mt19937 random{12345};
    for (int round = 0; round < 500; ++round) {
        std::vector<std::size_t> cuts;
        std::uniform_int_distribution<std::size_t> offset{0, body.size()};
        for (int n = round % 8; n > 0; --n) {
            cuts.push_back(offset(random));
        }
        std::sort(cuts.begin(), cuts.end());

        const outcome split = decode_in_pieces(body, cuts);

        REQUIRE(split == whole);
    }
}

TEST_CASE("an error found in pieces is the error found at once", "[chunked]")
{
    const std::string body = "3\r\nabc\r\n4;x=\"unterminated\r\nabcd\r\n0\r\n\r\n";
    const outcome whole = decode_whole(body);
    REQUIRE_FALSE(whole.error.empty());

    std::vector<std::size_t> every_byte;
    for (std::size_t i = 1; i < body.size(); ++i) {
        every_byte.push_back(i);
    }

    CHECK(decode_in_pieces(body, every_byte) == whole);
}

TEST_CASE("malformed chunked framing is refused", "[chunked]")
{
    const std::vector<std::string> bodies{
        " 5\r\nhello\r\n0\r\n\r\n", // leading space
        "5 \r\nhello\r\n0\r\n\r\n", // trailing space
        "0x5\r\nhello\r\n0\r\n\r\n",
        "+5\r\nhello\r\n0\r\n\r\n",
        "-1\r\nx\r\n0\r\n\r\n",
        "g\r\n",
        "\r\n",
        "5\nhello\r\n0\r\n\r\n",      // bare LF after the size
        "5\rhello\r\n0\r\n\r\n",      // bare CR after the size
        "5\r\nhelloX\r\n0\r\n\r\n",   // data longer than announced
        "5\r\nhello\n0\r\n\r\n",      // bare LF after data
        "5\r\nhello\r0\r\n\r\n",      // bare CR after data
        "5;\r\nhello\r\n0\r\n\r\n",   // empty extension name
        "5;a=\r\nhello\r\n0\r\n\r\n", // empty extension value
        "5;a \r\nhello\r\n0\r\n\r\n", // BWS before CRLF
        "5;a=b c\r\nhello\r\n0\r\n\r\n",
        "5;a=\"x\"y\r\nhello\r\n0\r\n\r\n",
        "5;a=\"x\r\nhello\r\n0\r\n\r\n", // CR inside a quoted string
        "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n",
        "5;a(b)\r\nhello\r\n0\r\n\r\n",
        "5,a\r\nhello\r\n0\r\n\r\n",
        "0\r\nX-A : 1\r\n\r\n",      // whitespace before the colon in a trailer
        "0\r\nX-A: 1\r\n 2\r\n\r\n", // obs-fold in a trailer
        std::string("0\r\nX-A: \0\r\n\r\n", 12),
        "0\r\nX-A: 1\n\r\n", // bare LF in a trailer
        "0\r\nX-A\r\n\r\n",  // trailer without a colon
        "0\r\n\r\r\n",       // bare CR at the end
    };

    for (std::size_t i = 0; i < bodies.size(); ++i) {
        const outcome result = decode_whole(bodies[i]);

        INFO("vector " << i);
        CHECK_FALSE(result.error.empty());
        CHECK_FALSE(result.done);
    }
}

TEST_CASE("chunk sizes above 2^62 are refused without overflowing", "[chunked]")
{
    oi::http::chunked_decoder at_limit;
    oi::http::chunked_decoder over_limit;
    oi::http::chunked_decoder overflowing;

    const auto ok = at_limit.decode("4000000000000000\r\nabc");
    const auto over = over_limit.decode("4000000000000001\r\n");
    const auto wrap = overflowing.decode("100000000000000000000005\r\n");

    CHECK(ok.error == nullptr);
    CHECK(ok.data == "abc");
    CHECK(over.error != nullptr);
    CHECK(wrap.error != nullptr);
}

TEST_CASE("chunk-size lines and trailers longer than the overhead bound are refused", "[chunked]")
{
    const std::string long_ext = "5;e=" + std::string(100, 'x') + "\r\nhello\r\n0\r\n\r\n";
    const std::string long_trailer = "0\r\nX-A: " + std::string(100, 'x') + "\r\n\r\n";
    const std::string many_zeros = std::string(100, '0') + "\r\n\r\n";

    CHECK_FALSE(decode_whole(long_ext, 64).error.empty());
    CHECK_FALSE(decode_whole(long_trailer, 64).error.empty());
    CHECK_FALSE(decode_whole(many_zeros, 64).error.empty());
    CHECK(decode_whole(long_ext, 1024).done);
    CHECK(decode_whole(long_trailer, 1024).done);
    CHECK(decode_whole(many_zeros, 1024).done);
}

TEST_CASE("a decoder stays failed or done until reset", "[chunked]")
{
    oi::http::chunked_decoder decoder;
    REQUIRE(decoder.decode("z").error != nullptr);

    const auto after_error = decoder.decode("0\r\n\r\n");
    decoder.reset();
    const auto after_reset = decoder.decode("0\r\n\r\n");
    const auto after_done = decoder.decode("0\r\n\r\n");

    CHECK(after_error.error != nullptr);
    CHECK(after_error.consumed == 0);
    CHECK(after_reset.done);
    CHECK(after_reset.consumed == 5);
    CHECK(after_done.done);
    CHECK(after_done.consumed == 0);
}

TEST_CASE("encoded chunks decode back to their payload", "[chunked]")
{
    std::string encoded;
    const std::string big(300, 'b');

    oi::http::append_chunk(encoded, "hello");
    oi::http::append_chunk(encoded, "");
    oi::http::append_chunk(encoded, big);
    oi::http::append_last_chunk(encoded);

    CHECK(encoded.substr(0, 10) == "5\r\nhello\r\n");
    CHECK(encoded.substr(10, 5) == "12c\r\n");
    CHECK(encoded.substr(encoded.size() - 5) == "0\r\n\r\n");
    const outcome decoded = decode_whole(encoded);
    CHECK(decoded.done);
    CHECK(decoded.payload == "hello" + big);
    CHECK(decoded.consumed == encoded.size());
}
