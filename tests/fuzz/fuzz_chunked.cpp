// The chunked decoder (RFC 9112 section 7.1), fed the same body whole and in pieces split where
// the input says. Invariants: payload views lie inside the piece given; the verdict (done, error,
// bytes consumed) and the payload are the same whatever the split; a decoded body re-encoded
// with append_chunk decodes to the same payload.

#include "fuzz_support.hpp"
#include "http/chunked.hpp"

#include <string>
#include <vector>

namespace {

using oi::fuzz::require;

struct outcome {
    std::string payload;
    std::size_t consumed = 0;
    bool done = false;
    bool failed = false;
};

/// Decodes `body` fed in pieces of the given sizes (the last piece takes the rest).
outcome decode(std::string_view body, const std::vector<std::size_t>& pieces)
{
    oi::http::chunked_decoder decoder{256};
    outcome out;
    std::size_t next_piece = 0;
    while (out.consumed < body.size() && !out.done && !out.failed) {
        std::size_t size = body.size() - out.consumed;
        if (next_piece < pieces.size()) {
            size = std::min(size, pieces[next_piece++]);
        }
        std::string_view piece = body.substr(out.consumed, size);
        while (!piece.empty() && !out.done && !out.failed) {
            const auto step = decoder.decode(piece);
            require(step.consumed <= piece.size(), "consumed beyond the piece");
            require(oi::fuzz::inside(step.data, piece), "payload outside the piece");
            require(step.consumed > 0 || step.done || step.error != nullptr,
                    "no progress on a non-empty piece");
            out.payload.append(step.data);
            out.consumed += step.consumed;
            out.done = step.done;
            out.failed = step.error != nullptr;
            piece.remove_prefix(step.consumed);
            if (step.consumed == 0) {
                break;
            }
        }
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    oi::fuzz::input in{data, size};
    std::vector<std::size_t> pieces;
    for (std::uint8_t n = in.byte() % 16; n > 0; --n) {
        pieces.push_back(1 + in.byte() % 32);
    }
    const std::string_view body = in.rest();

    const outcome whole = decode(body, {});
    const outcome split = decode(body, pieces);

    require(whole.payload == split.payload, "the payload depends on the split");
    require(whole.done == split.done && whole.failed == split.failed,
            "the verdict depends on the split");
    if (whole.done) {
        require(whole.consumed == split.consumed, "the body's end depends on the split");
        std::string encoded;
        oi::http::append_chunk(encoded, whole.payload);
        oi::http::append_last_chunk(encoded);
        const outcome again = decode(encoded, {});
        require(again.done && again.consumed == encoded.size() && again.payload == whole.payload,
                "a re-encoded body does not decode to its payload");
    }
    return 0;
}
