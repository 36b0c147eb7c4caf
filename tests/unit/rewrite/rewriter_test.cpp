#include "rewrite/rewriter.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using oi::rewrite::placeholder_set;
using oi::rewrite::stream_rewriter;

namespace {

const std::vector<std::string> k_default_patterns{"{OAUTH_PLUGIN_ACCESS_TOKEN}",
                                                  "<OAUTH_PLUGIN_ACCESS_TOKEN>"};

/// The matching rule written the slow, obvious way: at each position, the longest pattern that
/// matches there; otherwise copy one byte.
std::string reference_replace(const std::vector<std::string>& patterns, std::string_view in,
                              std::string_view replacement)
{
    std::string out;
    std::size_t pos = 0;
    while (pos < in.size()) {
        std::size_t longest = 0;
        for (const std::string& pattern : patterns) {
            if (in.substr(pos).starts_with(pattern)) {
                longest = std::max(longest, pattern.size());
            }
        }
        if (longest > 0) {
            out += replacement;
            pos += longest;
        } else {
            out += in[pos++];
        }
    }
    return out;
}

std::string replace_all(const placeholder_set& set, std::string_view in,
                        std::string_view replacement)
{
    std::string out;
    set.replace_all(in, replacement, out);
    return out;
}

/// Feeds `in` in pieces ending at `cuts` and checks the hold-back bound after each piece.
std::string stream_replace(const placeholder_set& set, std::string_view in,
                           std::string_view replacement, const std::vector<std::size_t>& cuts,
                           std::size_t& replacements)
{
    stream_rewriter rewriter{set, replacement};
    std::string out;
    std::size_t begin = 0;
    std::vector<std::size_t> ends = cuts;
    ends.push_back(in.size());
    for (std::size_t end : ends) {
        rewriter.feed(in.substr(begin, end - begin), out);
        REQUIRE(rewriter.pending() < std::max<std::size_t>(set.max_length(), 1));
        begin = end;
    }
    rewriter.finish(out);
    replacements = rewriter.replacements();
    return out;
}

/// A random text made mostly of pattern pieces (whole, cut short, or with a byte changed).
std::string random_text(std::mt19937& random, const std::vector<std::string>& patterns)
{
    static const std::string filler = "ab{}<>_OAUTH";
    std::uniform_int_distribution<int> pieces{0, 12};
    std::uniform_int_distribution<int> kind{0, 3};
    std::string text;
    for (int n = pieces(random); n > 0; --n) {
        const std::string& pattern = patterns[random() % patterns.size()];
        switch (kind(random)) {
        case 0:
            text += pattern;
            break;
        case 1:
            text += pattern.substr(0, random() % pattern.size());
            break;
        case 2: {
            std::string changed = pattern;
            changed[random() % changed.size()] = filler[random() % filler.size()];
            text += changed;
            break;
        }
        default:
            for (int k = static_cast<int>(random() % 5); k > 0; --k) {
                text += filler[random() % filler.size()];
            }
        }
    }
    return text;
}

} // namespace

TEST_CASE("every placeholder is replaced and other text is copied unchanged", "[rewrite]")
{
    const placeholder_set set{k_default_patterns};

    const std::string out = replace_all(
        set, "a={OAUTH_PLUGIN_ACCESS_TOKEN}&b=<OAUTH_PLUGIN_ACCESS_TOKEN>&c={OAUTH_PLUG", "tok");

    CHECK(out == "a=tok&b=tok&c={OAUTH_PLUG");
    CHECK(replace_all(set, "nothing to see {here} <there>", "tok") ==
          "nothing to see {here} <there>");
    CHECK(set.count("{OAUTH_PLUGIN_ACCESS_TOKEN}{OAUTH_PLUGIN_ACCESS_TOKEN}") == 2);
    CHECK(set.contains_any("x<OAUTH_PLUGIN_ACCESS_TOKEN>"));
    CHECK_FALSE(set.contains_any("x<OAUTH_PLUGIN_ACCESS_TOKEN"));
    CHECK(set.max_length() == 27);
}

TEST_CASE("replace_all appends to what the output already holds", "[rewrite]")
{
    const placeholder_set set{k_default_patterns};
    std::string out = "head:";

    set.replace_all("[{OAUTH_PLUGIN_ACCESS_TOKEN}]", "t", out);

    CHECK(out == "head:[t]");
}

TEST_CASE("the leftmost match wins, then the longest pattern starting there", "[rewrite]")
{
    const placeholder_set set{{"{A}", "{A}B", "A}B", "B{"}};

    CHECK(replace_all(set, "x{A}By", "#") == "x#y");
    CHECK(replace_all(set, "x{A}y", "#") == "x#y");
    CHECK(replace_all(set, "xA}B{A}", "#") == "x##");
    CHECK(replace_all(set, "B{A}", "#") == "#A}");
    CHECK(set.count("aaaa") == 0);
    CHECK(placeholder_set{{"aa"}}.count("aaaaa") == 2);
}

TEST_CASE("duplicate patterns are merged and empty patterns are refused", "[rewrite]")
{
    const placeholder_set set{{"{X}", "{X}"}};

    CHECK(set.patterns().size() == 1);
    CHECK_THROWS_AS(placeholder_set({"{X}", ""}), std::invalid_argument);
}

TEST_CASE("a partial placeholder at the end of a stream is flushed unchanged", "[rewrite]")
{
    const placeholder_set set{k_default_patterns};
    stream_rewriter rewriter{set, "tok"};
    std::string out;

    rewriter.feed("abc{OAUTH_PLUG", out);
    const std::string before_finish = out;
    rewriter.finish(out);

    CHECK(before_finish == "abc");
    CHECK(out == "abc{OAUTH_PLUG");
    CHECK(rewriter.replacements() == 0);
}

TEST_CASE("a placeholder split across pieces is replaced once", "[rewrite]")
{
    const placeholder_set set{k_default_patterns};
    stream_rewriter rewriter{set, "token-value"};
    std::string out;

    rewriter.feed("{\"t\":\"{OAUTH_", out);
    rewriter.feed("PLUGIN_ACCESS", out);
    rewriter.feed("_TOKEN}\"}", out);
    rewriter.finish(out);

    CHECK(out == "{\"t\":\"token-value\"}");
    CHECK(rewriter.replacements() == 1);
}

TEST_CASE("streamed rewriting equals replace_all whatever the split points", "[rewrite]")
{
    const std::vector<std::vector<std::string>> pattern_sets{
        k_default_patterns,
        {"{OAUTH_PLUGIN_ACCESS_TOKEN}", "{OAUTH_PLUGIN_ACCESS_TOKEN}_EXTRA", "{OAUTH", "TOKEN}{"},
        {"{a}", "<b>", "(c)", "[d]", "|e|", "#f#", "aa"}, // more first bytes than memchr handles
        {"x"},
    };
    const std::vector<std::string> replacements{
        "", "T", "a-much-longer-replacement-value.~+/=", "{OAUTH_PLUGIN_ACCESS_TOKEN}"};
    std::mt19937 random{20240607};

    for (const auto& patterns : pattern_sets) {
        const placeholder_set set{patterns};
        for (int round = 0; round < 400; ++round) {
            const std::string text = random_text(random, patterns);
            const std::string& replacement = replacements[random() % replacements.size()];
            std::vector<std::size_t> cuts;
            for (int n = static_cast<int>(random() % 10); n > 0; --n) {
                cuts.push_back(random() % (text.size() + 1));
            }
            std::sort(cuts.begin(), cuts.end());
            std::vector<std::size_t> every_byte;
            for (std::size_t i = 1; i < text.size(); ++i) {
                every_byte.push_back(i);
            }

            const std::string expected = reference_replace(patterns, text, replacement);
            const std::string whole = replace_all(set, text, replacement);
            std::size_t random_count = 0;
            std::size_t byte_count = 0;
            const std::string streamed = stream_replace(set, text, replacement, cuts, random_count);
            const std::string bytewise =
                stream_replace(set, text, replacement, every_byte, byte_count);

            INFO("round " << round << " text " << text);
            REQUIRE(whole == expected);
            REQUIRE(streamed == expected);
            REQUIRE(bytewise == expected);
            REQUIRE(random_count == set.count(text));
            REQUIRE(byte_count == set.count(text));
            REQUIRE(set.contains_any(text) == (set.count(text) > 0));
        }
    }
}

TEST_CASE("text without placeholders streams through with nothing held back", "[rewrite]")
{
    const placeholder_set set{k_default_patterns};
    stream_rewriter rewriter{set, "tok"};
    const std::string big(1 << 20, 'z');
    std::string out;

    rewriter.feed(big, out);

    CHECK(rewriter.pending() == 0);
    CHECK(out == big);
}
