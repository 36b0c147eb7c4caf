#pragma once

// Placeholder rewriting inside the client-to-server half of a WebSocket connection (RFC 6455
// section 5): the bytes a client sends after the opening handshake are parsed into frames, the
// payloads of text and binary messages are rewritten like a streamed body, and each rewritten
// frame is sent on with its new length and a fresh masking key.
//
// Sans-I/O: feed() takes whatever bytes arrived and appends what is to be sent to the server. One
// instance belongs to one connection and is used from its executor only. A protocol error is
// reported by feed() returning false; the connection must then be closed (section 7.1.7).
//
// What is left untouched, on purpose:
// - control frames (section 5.5): passed as they came, also between the fragments of a message;
// - frames with an RSV bit set, and the rest of their message: an extension such as
//   permessage-deflate (RFC 7692) transformed the payload, and a placeholder cannot be found in
//   it. The proxy does not let the extension be negotiated toward allowed hosts (it drops the
//   Sec-WebSocket-Extensions offer), so this only happens with a client that breaks the protocol;
// - a data frame whose payload is longer than `max_frame_bytes`: streamed through as it arrives,
//   never held whole. A placeholder inside it is not replaced; one that straddles it and a
//   neighbouring fragment is not replaced either.
// A placeholder split between the fragments of one message is replaced: the message is rewritten
// by one stream_rewriter, and bytes that may start a placeholder move to the next fragment.

#include "rewrite/rewriter.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace oi::rewrite {

class ws_client_frames {
public:
    /// `set` and `replacement` must outlive this object (as for stream_rewriter).
    ws_client_frames(const placeholder_set& set, std::string_view replacement,
                     std::uint64_t max_frame_bytes);

    /// Consumes `in` and appends the frames for the server to `out`. False on a protocol error;
    /// nothing more may be fed then.
    [[nodiscard]] bool feed(std::string_view in, std::string& out);

    /// Placeholders replaced so far.
    [[nodiscard]] std::size_t replacements() const noexcept { return rewriter_.replacements(); }

private:
    enum class payload_mode {
        rewrite,     // held until complete, then rewritten and framed again
        passthrough, // sent on as it arrives, header included
    };

    struct frame_head {
        bool fin = false;
        bool rsv = false; // any of RSV1..RSV3 (section 5.2)
        std::uint8_t opcode = 0;
        std::uint64_t length = 0;
        std::array<std::uint8_t, 4> mask{};
    };

    /// Consumes header bytes from `in`; true when a whole header has been parsed into head_.
    bool take_head(std::string_view& in);
    bool parse_head();
    [[nodiscard]] bool valid_head() const;
    bool start_payload(std::string& out);
    void take_payload(std::string_view& in, std::string& out);
    bool finish_rewritten_frame(std::string& out);
    /// Appends one masked frame; false only when no masking key could be drawn.
    bool emit_frame(bool fin, std::uint8_t opcode, std::string_view payload, std::string& out);
    bool flush_held_back(std::string& out);

    stream_rewriter rewriter_;
    std::uint64_t max_frame_bytes_;

    std::string head_bytes_; // the current header as received, at most 14 bytes
    frame_head head_;
    bool in_head_ = true;
    payload_mode mode_ = payload_mode::passthrough;
    std::uint64_t remaining_ = 0; // payload bytes of the current frame not yet received
    std::string payload_;         // the current frame's payload (rewrite mode), unmasked
    std::string rewritten_;

    bool in_message_ = false;          // a fragmented message has started and not ended
    bool message_passthrough_ = false; // that message is passed untouched (RSV bit)
};

} // namespace oi::rewrite
