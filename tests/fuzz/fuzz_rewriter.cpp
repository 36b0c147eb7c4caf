// The streaming placeholder rewriter. The input gives up to three placeholders, a replacement, a
// body and split points; the body fed to a stream_rewriter in those pieces must come out exactly
// as placeholder_set::replace_all does it in one go, with the same number of replacements.

#include "fuzz_support.hpp"
#include "rewrite/rewriter.hpp"

#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using oi::fuzz::require;
    oi::fuzz::input in{data, size};

    std::vector<std::string> patterns;
    for (std::uint8_t n = 1 + in.byte() % 3; n > 0; --n) {
        std::string_view p = in.until('\x01');
        if (!p.empty() && p.size() <= 64) {
            patterns.emplace_back(p);
        }
    }
    if (patterns.empty()) {
        return 0;
    }
    const std::string replacement{in.until('\x01')};
    std::vector<std::size_t> pieces;
    for (std::uint8_t n = in.byte() % 16; n > 0; --n) {
        pieces.push_back(in.byte() % 24); // 0: an empty feed
    }
    const std::string_view body = in.rest();

    const oi::rewrite::placeholder_set set{patterns};
    std::string expected;
    set.replace_all(body, replacement, expected);

    oi::rewrite::stream_rewriter rewriter{set, replacement};
    std::string streamed;
    std::size_t at = 0;
    for (std::size_t piece : pieces) {
        const std::size_t n = std::min(piece, body.size() - at);
        rewriter.feed(body.substr(at, n), streamed);
        require(rewriter.pending() < std::max<std::size_t>(set.max_length(), 1),
                "held back a whole placeholder or more");
        at += n;
    }
    rewriter.feed(body.substr(at), streamed);
    rewriter.finish(streamed);

    require(streamed == expected, "streamed output differs from the one-shot replacement");
    require(rewriter.replacements() == set.count(body), "replacement count differs");
    require(set.contains_any(body) == (set.count(body) > 0), "contains_any disagrees with count");
    return 0;
}
