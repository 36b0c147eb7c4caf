#pragma once

// The chunked transfer coding (RFC 9112 section 7.1): an incremental decoder for bodies received
// from clients and servers, and the two helpers that encode one.
//
// One chunked_decoder per message body, owned by the session that reads it and used from that
// session's executor only. It never allocates and never copies: payload comes back as subranges
// of the caller's input. Errors are static strings, safe to log (they never contain message
// bytes); after an error or the end of the body the decoder stays in that state until reset().

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace oi::http {

class chunked_decoder {
public:
    static constexpr std::size_t k_default_max_overhead = std::size_t{16} * 1024;

    struct step {
        std::size_t consumed = 0; // bytes of the input used by this call
        std::string_view data;    // payload: a subrange of the input, possibly empty
        bool done = false;        // the last chunk and the trailer section have been read
        const char* error = nullptr;
    };

    /// `max_overhead_bytes` bounds one chunk-size line (extensions and CRLF included) and, apart,
    /// the whole trailer section: a peer cannot make the proxy read framing forever.
    explicit chunked_decoder(std::size_t max_overhead_bytes = k_default_max_overhead) noexcept;

    /// Consumes a prefix of `in`; the input may be split at any byte. Call again with the rest
    /// until all of it is consumed, or `done`, or `error`. Bytes after the end of the body (a
    /// pipelined message) are left unconsumed.
    step decode(std::string_view in) noexcept;

    /// Makes the decoder ready for a new body.
    void reset() noexcept;

    /// Chunk sizes above this are refused (they exceed any body the proxy accepts by far, and
    /// keep the size arithmetic far from overflow).
    static constexpr std::uint64_t k_max_chunk_size = std::uint64_t{1} << 62;

private:
    enum class state : std::uint8_t {
        size_first,        // first hex digit of the chunk size
        size,              // more hex digits, or what follows the size
        ext_ws,            // BWS that must be followed by ";"
        ext_after_semi,    // BWS, then an extension name
        ext_name,          // in an extension name
        ext_ws_after_name, // BWS after a name: "=" or ";" must follow
        ext_after_eq,      // BWS, then a token or a quoted string
        ext_token_value,   // in a token value
        ext_quoted,        // in a quoted string
        ext_quoted_pair,   // after a backslash in a quoted string
        ext_after_quoted,  // after the closing quote
        size_lf,           // the LF of the chunk-size line
        data,              // chunk data
        data_cr,           // the CRLF after chunk data
        data_lf,
        trailer_start, // a trailer field, or the final CRLF
        trailer_name,
        trailer_value,
        trailer_lf,
        final_lf,
        done,
        failed,
    };

    /// Advances over one framing byte. False on error (then `error_` says why).
    bool advance(char c) noexcept;
    bool fail(const char* error) noexcept;

    std::size_t max_overhead_;
    state state_ = state::size_first;
    std::uint64_t size_ = 0;      // the chunk size being read
    std::uint64_t remaining_ = 0; // chunk data still to come
    std::size_t line_bytes_ = 0;  // bytes of the current chunk-size line
    std::size_t trailer_bytes_ = 0;
    const char* error_ = nullptr;
};

/// Appends one chunk carrying `payload`; nothing when it is empty (an empty chunk would end the
/// body).
void append_chunk(std::string& out, std::string_view payload);

/// Appends the last chunk and an empty trailer section: "0\r\n\r\n".
void append_last_chunk(std::string& out);

} // namespace oi::http
