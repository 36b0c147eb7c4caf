#pragma once

// Character classes of the HTTP grammar (RFC 9110 section 5.6, RFC 9112 section 2), as 256-entry
// tables so that the parsers test a byte with one load. Internal to oi_http and oi_rewrite users
// that need the same classes; stateless, usable from any thread.

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace oi::http::detail {

using char_table = std::array<bool, 256>;

/// tchar (RFC 9110 section 5.6.2): "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
/// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
inline constexpr char_table k_tchar = [] {
    char_table t{};
    for (int c = '0'; c <= '9'; ++c) {
        t[c] = true;
    }
    for (int c = 'a'; c <= 'z'; ++c) {
        t[c] = true;
        t[c - 'a' + 'A'] = true;
    }
    for (unsigned char c : std::string_view{"!#$%&'*+-.^_`|~"}) {
        t[c] = true;
    }
    return t;
}();

/// Bytes allowed in a field value (RFC 9110 section 5.5): VCHAR, obs-text, SP and HTAB. Everything
/// else (NUL, CR, LF, the other controls and DEL) is refused.
inline constexpr char_table k_field_value = [] {
    char_table t{};
    for (int c = 0x21; c <= 0x7e; ++c) {
        t[c] = true;
    }
    for (int c = 0x80; c <= 0xff; ++c) {
        t[c] = true;
    }
    t[' '] = true;
    t['\t'] = true;
    return t;
}();

/// Bytes allowed in a request-target as this proxy accepts it: visible ASCII only (RFC 9112
/// section 3.2 with RFC 3986; no spaces, no controls, no obs-text).
inline constexpr char_table k_target = [] {
    char_table t{};
    for (int c = 0x21; c <= 0x7e; ++c) {
        t[c] = true;
    }
    return t;
}();

/// qdtext (RFC 9110 section 5.6.4): HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text.
inline constexpr char_table k_qdtext = [] {
    char_table t = k_field_value;
    t['"'] = false;
    t['\\'] = false;
    return t;
}();

[[nodiscard]] inline constexpr bool is(const char_table& table, char c) noexcept
{
    return table[static_cast<unsigned char>(c)];
}

[[nodiscard]] inline constexpr bool is_ows(char c) noexcept
{
    return c == ' ' || c == '\t';
}

[[nodiscard]] inline constexpr char to_lower(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Removes leading and trailing OWS (SP / HTAB).
[[nodiscard]] inline constexpr std::string_view trim_ows(std::string_view s) noexcept
{
    while (!s.empty() && is_ows(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_ows(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

/// True when every byte of `s` is in `table` (an empty `s` included).
[[nodiscard]] inline constexpr bool all_of(const char_table& table, std::string_view s) noexcept
{
    for (char c : s) {
        if (!is(table, c)) {
            return false;
        }
    }
    return true;
}

/// The first position at or after `pos` whose byte is not VCHAR, obs-text or SP: that is, HTAB,
/// CR, LF, another control, DEL, or s.size(). Field values are most of a head's bytes, so this
/// looks at eight of them at a time: a byte below 0x20 or equal to 0x7f sets its high bit in
/// `mask`, and the lowest set bit is exact (borrows only make later bytes look special).
[[nodiscard]] inline std::size_t skip_plain_field_text(std::string_view s, std::size_t pos) noexcept
{
    if constexpr (std::endian::native == std::endian::little) {
        constexpr std::uint64_t k_ones = 0x0101010101010101ULL;
        constexpr std::uint64_t k_highs = 0x8080808080808080ULL;
        for (; pos + 8 <= s.size(); pos += 8) {
            std::uint64_t word = 0;
            std::memcpy(&word, s.data() + pos, 8);
            const std::uint64_t below_space = (word - k_ones * 0x20) & ~word & k_highs;
            const std::uint64_t del = word ^ (k_ones * 0x7f);
            const std::uint64_t is_del = (del - k_ones) & ~del & k_highs;
            if (const std::uint64_t mask = below_space | is_del; mask != 0) {
                return pos + static_cast<std::size_t>(std::countr_zero(mask)) / 8;
            }
        }
    }
    while (pos < s.size() && s[pos] != '\t' && is(k_field_value, s[pos])) {
        ++pos;
    }
    return pos;
}

} // namespace oi::http::detail
