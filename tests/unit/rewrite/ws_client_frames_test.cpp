#include "rewrite/ws_client_frames.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

using oi::rewrite::placeholder_set;
using oi::rewrite::ws_client_frames;

namespace {

const placeholder_set k_set({"{OAUTH_PLUGIN_ACCESS_TOKEN}"});
constexpr std::string_view k_token = "ya29.token-value";
constexpr std::uint64_t k_limit = 1024 * 1024;

/// One frame as a client writes it (RFC 6455 section 5.2), masked with `mask` unless `masked` is
/// false; `length_bytes` forces a (possibly non-minimal) extended length encoding.
struct frame_spec {
    std::uint8_t first = 0x81; // FIN + text
    std::string payload;
    bool masked = true;
    int length_bytes = -1; // -1: minimal; 0, 2 or 8: that encoding
};

std::string encode(const frame_spec& f)
{
    std::string out(1, static_cast<char>(f.first));
    const std::uint64_t n = f.payload.size();
    const int bytes = f.length_bytes >= 0 ? f.length_bytes : (n < 126 ? 0 : (n < 65536 ? 2 : 8));
    const char mask_bit = f.masked ? static_cast<char>(0x80) : 0;
    out.push_back(static_cast<char>(mask_bit | (bytes == 0 ? n : (bytes == 2 ? 126 : 127))));
    for (int i = bytes - 1; i >= 0; --i) {
        out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
    }
    const std::string mask = "\x11\x5a\xc3\x07";
    if (f.masked) {
        out.append(mask);
    }
    for (std::size_t i = 0; i < f.payload.size(); ++i) {
        out.push_back(f.masked ? static_cast<char>(f.payload[i] ^ mask[i % 4]) : f.payload[i]);
    }
    return out;
}

struct decoded_frame {
    std::uint8_t first = 0;
    std::string payload;
    int length_bytes = 0;
};

/// Decodes masked client frames as a server would; nullopt on anything malformed or left over
/// (an incomplete last frame is dropped instead when `partial_tail`).
std::optional<std::vector<decoded_frame>> decode(std::string_view bytes, bool partial_tail = false)
{
    std::vector<decoded_frame> frames;
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        if (bytes.size() - pos < 2) {
            return partial_tail ? std::optional(frames) : std::nullopt;
        }
        if ((static_cast<std::uint8_t>(bytes[pos + 1]) & 0x80) == 0) {
            return std::nullopt;
        }
        decoded_frame f{static_cast<std::uint8_t>(bytes[pos]), {}, 0};
        std::uint64_t n = static_cast<std::uint8_t>(bytes[pos + 1]) & 0x7F;
        pos += 2;
        f.length_bytes = n == 126 ? 2 : (n == 127 ? 8 : 0);
        if (f.length_bytes > 0) {
            if (bytes.size() - pos < static_cast<std::size_t>(f.length_bytes)) {
                return partial_tail ? std::optional(frames) : std::nullopt;
            }
            n = 0;
            for (int i = 0; i < f.length_bytes; ++i) {
                n = (n << 8) | static_cast<std::uint8_t>(bytes[pos++]);
            }
        }
        if (bytes.size() - pos < 4 + n) {
            return partial_tail ? std::optional(frames) : std::nullopt;
        }
        const std::string_view mask = bytes.substr(pos, 4);
        pos += 4;
        for (std::uint64_t i = 0; i < n; ++i) {
            f.payload.push_back(static_cast<char>(bytes[pos + i] ^ mask[i % 4]));
        }
        pos += n;
        frames.push_back(std::move(f));
    }
    return frames;
}

/// Feeds `in` to a fresh rewriter in pieces of `step` bytes; the output, or nullopt on an error.
std::optional<std::string> run(std::string_view in, std::size_t step = 7,
                               std::uint64_t limit = k_limit)
{
    ws_client_frames frames(k_set, k_token, limit);
    std::string out;
    for (std::size_t pos = 0; pos < in.size(); pos += step) {
        if (!frames.feed(in.substr(pos, step), out)) {
            return std::nullopt;
        }
    }
    return out;
}

std::string message_of(const std::vector<decoded_frame>& frames)
{
    std::string text;
    for (const auto& f : frames) {
        if ((f.first & 0x0F) < 0x8) {
            text += f.payload;
        }
    }
    return text;
}

} // namespace

TEST_CASE("a text message carrying the placeholder reaches the server with the token",
          "[ws_frames]")
{
    const std::string message = R"({"type":"auth","access_token":"{OAUTH_PLUGIN_ACCESS_TOKEN}"})";
    const std::size_t step = GENERATE(1, 3, 64, 4096);

    const auto out = run(encode({.payload = message}), step);

    REQUIRE(out);
    const auto frames = decode(*out);
    REQUIRE(frames);
    REQUIRE(frames->size() == 1);
    CHECK(frames->front().first == 0x81);
    CHECK(frames->front().payload == R"({"type":"auth","access_token":"ya29.token-value"})");
}

TEST_CASE("payload lengths around the 7-bit and 16-bit encodings are re-encoded minimally",
          "[ws_frames]")
{
    // The token is shorter than the placeholder by 11 bytes, so a payload just over a boundary
    // falls under it once rewritten.
    const std::size_t length = GENERATE(0, 125, 126, 136, 137, 65535, 65536, 65546, 65547, 70000);
    const bool with_placeholder = GENERATE(false, true);
    std::string payload(length, 'a');
    if (with_placeholder && length >= 27) {
        payload.replace(length / 2, 27, "{OAUTH_PLUGIN_ACCESS_TOKEN}");
    }
    std::string expected = payload;
    if (with_placeholder && length >= 27) {
        expected.replace(length / 2, 27, k_token);
    }

    const auto out = run(encode({.first = 0x82, .payload = payload}), 1000);

    REQUIRE(out);
    const auto frames = decode(*out);
    REQUIRE(frames);
    REQUIRE(frames->size() == 1);
    CHECK(frames->front().first == 0x82);
    CHECK(frames->front().payload == expected);
    const std::size_t n = expected.size();
    CHECK(frames->front().length_bytes == (n < 126 ? 0 : (n < 65536 ? 2 : 8)));
}

TEST_CASE("every rewritten frame is masked with a fresh key", "[ws_frames]")
{
    const std::string frame = encode({.payload = "hello {OAUTH_PLUGIN_ACCESS_TOKEN}"});
    std::vector<std::string> keys;

    for (int i = 0; i < 4; ++i) {
        const auto out = run(frame, frame.size());
        REQUIRE(out);
        REQUIRE((static_cast<std::uint8_t>((*out)[1]) & 0x80) != 0);
        keys.push_back(out->substr(2, 4));
    }

    // Four random 32-bit keys all equal to the client's would be a 2^-128 coincidence.
    const std::string client_key = "\x11\x5a\xc3\x07";
    CHECK_FALSE((keys[0] == client_key && keys[1] == client_key && keys[2] == client_key &&
                 keys[3] == client_key));
    CHECK_FALSE((keys[0] == keys[1] && keys[1] == keys[2] && keys[2] == keys[3]));
}

TEST_CASE("a placeholder split across fragments with control frames between them is replaced",
          "[ws_frames]")
{
    std::string in = encode({.first = 0x01, .payload = "before {OAUTH_PLUG"});
    in += encode({.first = 0x89, .payload = "ping"});
    in += encode({.first = 0x00, .payload = "IN_ACC"});
    in += encode({.first = 0x8A, .payload = "pong"});
    in += encode({.first = 0x80, .payload = "ESS_TOKEN} after"});
    const std::size_t step = GENERATE(1, 5, 1000);

    const auto out = run(in, step);

    REQUIRE(out);
    const auto frames = decode(*out);
    REQUIRE(frames);
    CHECK(message_of(*frames) == "before ya29.token-value after");
    REQUIRE(frames->size() == 5);
    CHECK(frames->at(0).first == 0x01);
    CHECK(frames->at(1).first == 0x89);
    CHECK(frames->at(1).payload == "ping");
    CHECK(frames->at(2).first == 0x00);
    CHECK(frames->at(3).first == 0x8A);
    CHECK(frames->at(4).first == 0x80);
}

TEST_CASE("a message with RSV1 set (permessage-deflate) passes byte for byte", "[ws_frames]")
{
    std::string in = encode({.first = 0x41, .payload = "{OAUTH_PLUGIN_ACCESS_TOKEN}"});
    in += encode({.first = 0x80, .payload = "{OAUTH_PLUGIN_ACCESS_TOKEN}"}); // its continuation
    in += encode({.first = 0xC1, .payload = "{OAUTH_PLUGIN_ACCESS_TOKEN}"}); // FIN + RSV1

    const auto out = run(in, 3);

    REQUIRE(out);
    CHECK(*out == in);
}

TEST_CASE("a data frame over the limit streams through untouched", "[ws_frames]")
{
    const std::string big = std::string(300, 'x') + "{OAUTH_PLUGIN_ACCESS_TOKEN}";
    std::string in = encode({.first = 0x01, .payload = "small {OAUTH_PLUGIN_ACC"});
    const std::string oversize = encode({.first = 0x80, .payload = big});
    in += oversize;
    in += encode({.payload = "next {OAUTH_PLUGIN_ACCESS_TOKEN}"});
    ws_client_frames frames(k_set, k_token, 256);
    std::string out;

    // The oversize frame's header and first payload bytes go out before the rest arrives.
    const std::size_t cut = in.size() - 200;
    REQUIRE(frames.feed(std::string_view(in).substr(0, cut), out));
    CHECK(out.find(oversize.substr(0, 100)) != std::string::npos);
    REQUIRE(frames.feed(std::string_view(in).substr(cut), out));

    const auto decoded = decode(out);
    REQUIRE(decoded);
    REQUIRE(decoded->size() == 4);
    // The held-back start of a possible placeholder went out as its own fragment first.
    CHECK(decoded->at(0).payload == "small ");
    CHECK(decoded->at(1).first == 0x00);
    CHECK(decoded->at(1).payload == "{OAUTH_PLUGIN_ACC");
    CHECK(decoded->at(2).payload == big);
    CHECK(decoded->at(3).payload == "next ya29.token-value");
    CHECK(out.find(oversize) != std::string::npos);
}

TEST_CASE("malformed client frames are protocol errors", "[ws_frames]")
{
    const std::string bad = GENERATE(
        encode({.payload = "unmasked", .masked = false}),
        encode({.payload = "short", .length_bytes = 2}),               // 16-bit for 5 bytes
        encode({.payload = std::string(200, 'a'), .length_bytes = 8}), // 64-bit for 200 bytes
        std::string("\x81\xFF\x80\0\0\0\0\0\0\0\1\2\3\4", 14),         // 64-bit MSB set
        encode({.first = 0x09, .payload = "fragmented ping"}),         // control without FIN
        encode({.first = 0x89, .payload = std::string(126, 'p')}),     // control over 125
        encode({.first = 0x83, .payload = "reserved opcode"}),
        encode({.first = 0x80, .payload = "continuation of nothing"}),
        encode({.first = 0x01, .payload = "a"}) + encode({.first = 0x81, .payload = "b"}));

    CHECK_FALSE(run(bad, 1));
}

TEST_CASE("garbage after valid frames is refused or forwarded as well-formed frames", "[ws_frames]")
{
    // Valid frames, then random bytes with the MASK bit forced on in places, so that some of the
    // garbage parses as frame headers (of any length encoding) and some does not.
    std::uint32_t state = GENERATE(take(200, random(1u, 1000000000u)));
    std::string in = encode({.payload = "ok {OAUTH_PLUGIN_ACCESS_TOKEN}"});
    for (int i = 0; i < 2048; ++i) {
        state = state * 1664525u + 1013904223u;
        const auto byte = static_cast<std::uint8_t>(state >> 24);
        in.push_back(static_cast<char>(i % 5 == 1 ? (byte | 0x80) : byte));
    }

    const auto out = run(in, 97, 512);

    if (out) {
        const auto frames = decode(*out, true);
        REQUIRE(frames);
        REQUIRE_FALSE(frames->empty());
        CHECK(frames->front().payload == "ok ya29.token-value");
    } else {
        SUCCEED("refused as a protocol error");
    }
}
