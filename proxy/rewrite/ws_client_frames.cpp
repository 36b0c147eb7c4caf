#include "rewrite/ws_client_frames.hpp"

#include <openssl/rand.h>

#include <algorithm>

namespace oi::rewrite {

namespace {

constexpr std::uint8_t k_continuation = 0x0;
constexpr std::uint8_t k_text = 0x1;
constexpr std::uint8_t k_binary = 0x2;
constexpr std::uint8_t k_first_control = 0x8;
constexpr std::uint8_t k_pong = 0xA;
constexpr std::uint64_t k_max_control_payload = 125; // section 5.5
constexpr std::uint64_t k_max_16bit_length = 0xFFFF;

/// The header size announced by its first two bytes (section 5.2): 2, then 2 or 8 bytes of
/// extended length, then 4 bytes of masking key when the MASK bit is set.
std::size_t head_size(std::uint8_t second)
{
    const std::uint8_t length7 = second & 0x7F;
    const std::size_t extended = length7 == 126 ? 2 : (length7 == 127 ? 8 : 0);
    return 2 + extended + ((second & 0x80) != 0 ? 4 : 0);
}

void unmask(std::string& payload, const std::array<std::uint8_t, 4>& mask)
{
    for (std::size_t i = 0; i < payload.size(); ++i) {
        payload[i] = static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^ mask[i % 4]);
    }
}

void append_length(std::uint64_t length, std::string& out)
{
    // The minimal encoding (section 5.2), with the MASK bit set: client frames are masked.
    if (length <= k_max_control_payload) {
        out.push_back(static_cast<char>(0x80 | length));
        return;
    }
    const int bytes = length <= k_max_16bit_length ? 2 : 8;
    out.push_back(static_cast<char>(0x80 | (bytes == 2 ? 126 : 127)));
    for (int i = bytes - 1; i >= 0; --i) {
        out.push_back(static_cast<char>((length >> (8 * i)) & 0xFF));
    }
}

} // namespace

ws_client_frames::ws_client_frames(const placeholder_set& set, std::string_view replacement,
                                   std::uint64_t max_frame_bytes)
    : rewriter_(set, replacement), max_frame_bytes_(max_frame_bytes)
{}

bool ws_client_frames::feed(std::string_view in, std::string& out)
{
    while (!in.empty() || (!in_head_ && remaining_ == 0)) {
        if (in_head_) {
            if (!take_head(in)) {
                return head_bytes_.size() < 2 || (head_bytes_[1] & 0x80) != 0;
            }
            if (!parse_head() || !valid_head()) {
                return false;
            }
            in_head_ = false;
            if (!start_payload(out)) {
                return false;
            }
        }
        take_payload(in, out);
        if (remaining_ == 0) {
            if (mode_ == payload_mode::rewrite && !finish_rewritten_frame(out)) {
                return false;
            }
            in_head_ = true;
            head_bytes_.clear();
        }
    }
    return true;
}

bool ws_client_frames::take_head(std::string_view& in)
{
    // Byte by byte up to the size the first two bytes announce: a header is at most 14 bytes.
    while (!in.empty()) {
        if (head_bytes_.size() >= 2 &&
            head_bytes_.size() == head_size(static_cast<std::uint8_t>(head_bytes_[1]))) {
            break;
        }
        head_bytes_.push_back(in.front());
        in.remove_prefix(1);
    }
    if (head_bytes_.size() >= 2 && (head_bytes_[1] & 0x80) == 0) {
        return false; // an unmasked client frame: the caller reports it
    }
    return head_bytes_.size() >= 2 &&
           head_bytes_.size() == head_size(static_cast<std::uint8_t>(head_bytes_[1]));
}

bool ws_client_frames::parse_head()
{
    const auto byte = [this](std::size_t i) { return static_cast<std::uint8_t>(head_bytes_[i]); };
    head_.fin = (byte(0) & 0x80) != 0;
    head_.rsv = (byte(0) & 0x70) != 0;
    head_.opcode = byte(0) & 0x0F;

    // Section 5.2: the payload length in 7 bits, or 126 and 16 bits, or 127 and 64 bits whose
    // most significant bit is 0; "the minimal number of bytes MUST be used".
    const std::uint8_t length7 = byte(1) & 0x7F;
    const std::size_t extended = length7 == 126 ? 2 : (length7 == 127 ? 8 : 0);
    head_.length = extended == 0 ? length7 : 0;
    for (std::size_t i = 0; i < extended; ++i) {
        head_.length = (head_.length << 8) | byte(2 + i);
    }
    const bool minimal = (extended == 0) ||
                         (extended == 2 && head_.length > k_max_control_payload) ||
                         (extended == 8 && head_.length > k_max_16bit_length);
    if (!minimal || (head_.length >> 63) != 0) {
        return false;
    }
    std::copy_n(head_bytes_.begin() + static_cast<std::ptrdiff_t>(2 + extended), 4,
                head_.mask.begin());
    return true;
}

bool ws_client_frames::valid_head() const
{
    // Section 5.5: control frames are short and never fragmented. Section 5.4: continuation
    // frames only inside a message, a new message only after the previous one ended. Opcodes
    // 3-7 and 11-15 are reserved (section 5.2); no extension that defines them is negotiated.
    if (head_.opcode >= k_first_control) {
        return head_.opcode <= k_pong && head_.fin && head_.length <= k_max_control_payload;
    }
    if (head_.opcode == k_continuation) {
        return in_message_;
    }
    return (head_.opcode == k_text || head_.opcode == k_binary) && !in_message_;
}

bool ws_client_frames::start_payload(std::string& out)
{
    remaining_ = head_.length;
    const bool control = head_.opcode >= k_first_control;
    if (!control) {
        if (head_.opcode != k_continuation) {
            message_passthrough_ = head_.rsv; // the first frame says whether it is compressed
        }
        in_message_ = !head_.fin;
    }

    const bool rewrite =
        !control && !head_.rsv && !message_passthrough_ && head_.length <= max_frame_bytes_;
    if (rewrite) {
        mode_ = payload_mode::rewrite;
        payload_.clear(); // grows as the payload arrives: a header alone allocates nothing
        return true;
    }

    // Untouched: the header goes out as received and the payload follows as it arrives. A data
    // fragment passed this way ends what the rewriter holds back of its message first, so that
    // those bytes keep their place (an intermediary may refragment, section 5.4).
    mode_ = payload_mode::passthrough;
    if (!control && head_.opcode == k_continuation && !message_passthrough_ &&
        !flush_held_back(out)) {
        return false;
    }
    out.append(head_bytes_);
    return true;
}

void ws_client_frames::take_payload(std::string_view& in, std::string& out)
{
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size()));
    if (mode_ == payload_mode::rewrite) {
        payload_.append(in.substr(0, n));
    } else {
        out.append(in.substr(0, n));
    }
    in.remove_prefix(n);
    remaining_ -= n;
}

bool ws_client_frames::finish_rewritten_frame(std::string& out)
{
    unmask(payload_, head_.mask);
    rewritten_.clear();
    rewriter_.feed(payload_, rewritten_);
    if (head_.fin) {
        rewriter_.finish(rewritten_);
    }
    return emit_frame(head_.fin, head_.opcode, rewritten_, out);
}

bool ws_client_frames::flush_held_back(std::string& out)
{
    rewritten_.clear();
    rewriter_.finish(rewritten_);
    return rewritten_.empty() || emit_frame(false, k_continuation, rewritten_, out);
}

bool ws_client_frames::emit_frame(bool fin, std::uint8_t opcode, std::string_view payload,
                                  std::string& out)
{
    // A fresh masking key from the CSPRNG for every frame the proxy builds: section 5.3 wants
    // keys the sender's application cannot predict, and the payload is now partly the proxy's
    // (the token), so reusing the client's key would send two different payloads under one key.
    std::array<std::uint8_t, 4> mask{};
    if (RAND_bytes(mask.data(), static_cast<int>(mask.size())) != 1) {
        return false;
    }
    out.push_back(static_cast<char>((fin ? 0x80 : 0x00) | opcode));
    append_length(payload.size(), out);
    out.append(reinterpret_cast<const char*>(mask.data()), mask.size());
    const std::size_t start = out.size();
    out.append(payload);
    for (std::size_t i = 0; i < payload.size(); ++i) {
        out[start + i] = static_cast<char>(static_cast<std::uint8_t>(out[start + i]) ^ mask[i % 4]);
    }
    return true;
}

} // namespace oi::rewrite
