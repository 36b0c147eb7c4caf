#include "rewrite/rewriter.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace oi::rewrite {

/// Yields the positions of a text where some pattern's first byte occurs. With a few distinct
/// first bytes (the usual case: "{" and "<") it runs memchr for each and remembers each next
/// occurrence, so the text is swept once per byte value; otherwise it tests a table byte by byte.
class placeholder_set::candidate_finder {
public:
    static constexpr std::size_t k_max_memchr = 4;

    candidate_finder(const placeholder_set& set, std::string_view text, std::size_t stop) noexcept
        : set_(set), text_(text), stop_(stop)
    {
        for (unsigned char c : set.first_bytes_) {
            is_first_[c] = true;
        }
    }

    /// The first candidate position at or after `from`, or `stop` when there is none before it.
    std::size_t next(std::size_t from) noexcept
    {
        if (from >= stop_) {
            return stop_;
        }
        const std::string& bytes = set_.first_bytes_;
        if (bytes.size() > k_max_memchr) {
            while (from < stop_ && !is_first_[static_cast<unsigned char>(text_[from])]) {
                ++from;
            }
            return from;
        }

        std::size_t best = stop_;
        for (std::size_t k = 0; k < bytes.size(); ++k) {
            if (!primed_ || next_[k] < from) {
                const void* hit = std::memchr(text_.data() + from, bytes[k], stop_ - from);
                next_[k] =
                    hit == nullptr
                        ? stop_
                        : static_cast<std::size_t>(static_cast<const char*>(hit) - text_.data());
            }
            best = std::min(best, next_[k]);
        }
        primed_ = true;
        return best;
    }

private:
    const placeholder_set& set_;
    std::string_view text_;
    std::size_t stop_;
    std::array<std::size_t, k_max_memchr> next_{};
    std::array<bool, 256> is_first_{};
    bool primed_ = false;
};

placeholder_set::placeholder_set(std::vector<std::string> patterns)
{
    std::sort(patterns.begin(), patterns.end());
    patterns.erase(std::unique(patterns.begin(), patterns.end()), patterns.end());
    for (const std::string& pattern : patterns) {
        if (pattern.empty()) {
            throw std::invalid_argument("placeholder patterns must not be empty");
        }
        max_length_ = std::max(max_length_, pattern.size());
        if (first_bytes_.find(pattern.front()) == std::string::npos) {
            first_bytes_.push_back(pattern.front());
        }
    }
    patterns_ = std::move(patterns);

    // Group by first byte, longest first, so that the first full match found is the longest.
    order_.resize(patterns_.size());
    for (std::uint32_t i = 0; i < order_.size(); ++i) {
        order_[i] = i;
    }
    std::sort(order_.begin(), order_.end(), [this](std::uint32_t a, std::uint32_t b) {
        const auto fa = static_cast<unsigned char>(patterns_[a].front());
        const auto fb = static_cast<unsigned char>(patterns_[b].front());
        return fa != fb ? fa < fb : patterns_[a].size() > patterns_[b].size();
    });
    for (std::uint32_t i = 0; i < order_.size(); ++i) {
        auto& range = by_first_[static_cast<unsigned char>(patterns_[order_[i]].front())];
        if (range.first == range.second) {
            range.first = i;
        }
        range.second = i + 1;
    }
}

std::size_t placeholder_set::match_at(std::string_view text, std::size_t pos,
                                      bool at_end) const noexcept
{
    const std::size_t available = text.size() - pos;
    const auto [begin, end] = by_first_[static_cast<unsigned char>(text[pos])];
    for (std::uint32_t i = begin; i < end; ++i) {
        const std::string& pattern = patterns_[order_[i]];
        if (pattern.size() > available) {
            // A longer pattern that the text so far agrees with: only more text can tell.
            if (!at_end && std::memcmp(text.data() + pos, pattern.data(), available) == 0) {
                return k_undecided;
            }
            continue;
        }
        if (std::memcmp(text.data() + pos, pattern.data(), pattern.size()) == 0) {
            return pattern.size();
        }
    }
    return k_no_match;
}

placeholder_set::scan_result placeholder_set::scan(std::string_view text,
                                                   const scan_options& options,
                                                   std::size_t& matches) const
{
    candidate_finder finder{*this, text, options.stop};
    std::size_t emitted = options.from; // text before this is already in the output
    std::size_t pos = finder.next(options.from);
    while (pos < options.stop) {
        const std::size_t length = match_at(text, pos, options.at_end);
        if (length == k_undecided) {
            if (options.out != nullptr) {
                options.out->append(text.substr(emitted, pos - emitted));
            }
            return {pos, true};
        }
        if (length == k_no_match) {
            pos = finder.next(pos + 1);
            continue;
        }

        if (options.out != nullptr) {
            options.out->append(text.substr(emitted, pos - emitted));
            options.out->append(options.replacement);
        }
        ++matches;
        emitted = pos + length;
        if (options.first_only) {
            return {emitted, false};
        }
        pos = finder.next(emitted);
    }

    // A match may have ended past `stop`; otherwise everything up to `stop` is plain text.
    const std::size_t end = std::max(emitted, options.stop);
    if (options.out != nullptr) {
        options.out->append(text.substr(emitted, end - emitted));
    }
    return {end, false};
}

bool placeholder_set::contains_any(std::string_view text) const
{
    std::size_t matches = 0;
    scan(text, {.stop = text.size(), .first_only = true}, matches);
    return matches > 0;
}

std::size_t placeholder_set::count(std::string_view text) const
{
    std::size_t matches = 0;
    scan(text, {.stop = text.size()}, matches);
    return matches;
}

void placeholder_set::replace_all(std::string_view in, std::string_view replacement,
                                  std::string& out) const
{
    std::size_t matches = 0;
    scan(in, {.stop = in.size(), .out = &out, .replacement = replacement}, matches);
}

} // namespace oi::rewrite
