#include "rewrite/rewriter.hpp"

namespace oi::rewrite {

stream_rewriter::stream_rewriter(const placeholder_set& set, std::string_view replacement)
    : set_(set), replacement_(replacement)
{}

void stream_rewriter::feed(std::string_view in, std::string& out)
{
    std::size_t matches = 0;
    std::size_t from = 0; // where the scan of `in` itself starts

    // First decide the held-back bytes. A match starting among them ends at most max_length()
    // bytes into `in`, so they are joined with that much of it only: a small copy, never `in`.
    if (!pending_.empty()) {
        const std::size_t held = pending_.size();
        scratch_.assign(pending_);
        scratch_.append(in.substr(0, set_.max_length()));
        const auto head = set_.scan(
            scratch_, {.stop = held, .at_end = false, .out = &out, .replacement = replacement_},
            matches);
        replacements_ += matches;
        if (head.undecided) {
            // Still undecided: then `in` was shorter than max_length() and is all in scratch_.
            pending_.assign(std::string_view{scratch_}.substr(head.end));
            return;
        }
        pending_.clear();
        from = head.end - held; // past a match that ended inside `in`, if any
    }

    // Then `in`, holding back a tail that may be the start of a placeholder.
    matches = 0;
    const auto body = set_.scan(in,
                                {.from = from,
                                 .stop = in.size(),
                                 .at_end = false,
                                 .out = &out,
                                 .replacement = replacement_},
                                matches);
    replacements_ += matches;
    if (body.undecided) {
        pending_.assign(in.substr(body.end));
    }
}

void stream_rewriter::finish(std::string& out)
{
    std::size_t matches = 0;
    set_.scan(pending_, {.stop = pending_.size(), .out = &out, .replacement = replacement_},
              matches);
    replacements_ += matches;
    pending_.clear();
}

} // namespace oi::rewrite
