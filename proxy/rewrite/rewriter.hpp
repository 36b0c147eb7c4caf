#pragma once

// Placeholder rewriting: finds the configured placeholders (such as {OAUTH_PLUGIN_ACCESS_TOKEN})
// in request targets, header values and bodies, and replaces them with the access token.
//
// placeholder_set is built once per configuration and then only read: share it between threads
// freely. stream_rewriter rewrites one message body as it streams through; it belongs to the
// session that forwards that body and is used from its executor only. Neither reports errors:
// every input is valid, and only the constructor (at start-up) throws, on an empty pattern.
//
// Matching: the leftmost match wins; among the patterns that match there, the longest. Matches
// do not overlap, and replaced text is never scanned again.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace oi::rewrite {

class placeholder_set {
public:
    /// Throws std::invalid_argument when a pattern is empty. Duplicates are ignored.
    explicit placeholder_set(std::vector<std::string> patterns);

    [[nodiscard]] bool contains_any(std::string_view text) const;

    /// Number of non-overlapping matches, as replace_all would replace them.
    [[nodiscard]] std::size_t count(std::string_view text) const;

    /// Appends `in` to `out` with every match replaced by `replacement`.
    void replace_all(std::string_view in, std::string_view replacement, std::string& out) const;

    /// The length of the longest pattern (0 when there is none).
    [[nodiscard]] std::size_t max_length() const noexcept { return max_length_; }

    [[nodiscard]] const std::vector<std::string>& patterns() const noexcept { return patterns_; }

private:
    friend class stream_rewriter;
    class candidate_finder;

    static constexpr std::size_t k_no_match = 0;
    static constexpr std::size_t k_undecided = static_cast<std::size_t>(-1);

    /// Where a scan stopped: `end` is the first byte not yet emitted; `undecided` when a match may
    /// start at `end` but the text ends before it can be decided.
    struct scan_result {
        std::size_t end = 0;
        bool undecided = false;
    };

    /// Options of one scan over a text.
    struct scan_options {
        std::size_t from = 0;         // first position to examine
        std::size_t stop = 0;         // matches are looked for at positions before this only
        bool at_end = true;           // no more text follows: a partial match is no match
        bool first_only = false;      // stop after the first match (contains_any)
        std::string* out = nullptr;   // where text and replacements are appended, if anywhere
        std::string_view replacement; // what a match becomes
    };

    /// Emits text[from, end) with matches replaced, and counts the matches in `matches`.
    scan_result scan(std::string_view text, const scan_options& options,
                     std::size_t& matches) const;

    /// The length of the longest pattern matching at `pos`, k_no_match, or k_undecided.
    [[nodiscard]] std::size_t match_at(std::string_view text, std::size_t pos,
                                       bool at_end) const noexcept;

    std::vector<std::string> patterns_;
    std::size_t max_length_ = 0;
    std::string first_bytes_; // the distinct first bytes of the patterns
    // Pattern indices grouped by first byte, longest first; by_first_[b] is a range of order_.
    std::vector<std::uint32_t> order_;
    std::array<std::pair<std::uint32_t, std::uint32_t>, 256> by_first_{};
};

class stream_rewriter {
public:
    /// `set` and `replacement` (usually the revealed access token) must outlive the rewriter; the
    /// token is not copied.
    stream_rewriter(const placeholder_set& set, std::string_view replacement);

    /// Appends the rewritten form of `in` to `out`. Output is identical to replace_all over the
    /// concatenation of every fed piece, whatever the split points. At most max_length() - 1 bytes
    /// (the start of a possible match) are held back until more input or finish().
    void feed(std::string_view in, std::string& out);

    /// Flushes the held-back bytes; the rewriter can then start a new body.
    void finish(std::string& out);

    [[nodiscard]] std::size_t replacements() const noexcept { return replacements_; }

    /// Bytes currently held back.
    [[nodiscard]] std::size_t pending() const noexcept { return pending_.size(); }

private:
    const placeholder_set& set_;
    std::string_view replacement_;
    std::string pending_; // the held-back tail: always shorter than max_length()
    std::string scratch_; // pending_ joined with the start of the next input
    std::size_t replacements_ = 0;
};

} // namespace oi::rewrite
