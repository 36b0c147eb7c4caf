#include "admin/rfc3339.hpp"

#include <array>
#include <cstdio>

namespace oi::admin {

namespace {

// Reads exactly `n` decimal digits at `pos`.
std::optional<int> digits(std::string_view s, std::size_t pos, std::size_t n) noexcept
{
    if (pos + n > s.size()) {
        return std::nullopt;
    }
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return std::nullopt;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

bool at(std::string_view s, std::size_t pos, char c) noexcept
{
    return pos < s.size() && s[pos] == c;
}

} // namespace

std::string format_rfc3339(std::chrono::system_clock::time_point t)
{
    using namespace std::chrono;
    const auto secs = floor<seconds>(t);
    const auto day = floor<days>(secs);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> hms{secs - day};

    std::array<char, 32> buf{};
    const int n = std::snprintf(
        buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
        static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
        static_cast<int>(hms.seconds().count()));
    return {buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0};
}

std::optional<sys_seconds> parse_rfc3339(std::string_view s) noexcept
{
    using namespace std::chrono;

    // full-date "T" partial-time: YYYY-MM-DDTHH:MM:SS (the T may be lower case, section 5.6 NOTE)
    const auto y = digits(s, 0, 4);
    const auto mo = digits(s, 5, 2);
    const auto d = digits(s, 8, 2);
    const auto h = digits(s, 11, 2);
    const auto mi = digits(s, 14, 2);
    const auto sec = digits(s, 17, 2);
    if (!y || !mo || !d || !h || !mi || !sec || !at(s, 4, '-') || !at(s, 7, '-') ||
        !(at(s, 10, 'T') || at(s, 10, 't')) || !at(s, 13, ':') || !at(s, 16, ':')) {
        return std::nullopt;
    }
    if (*h > 23 || *mi > 59 || *sec > 59) {
        return std::nullopt;
    }
    const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)},
                             day{static_cast<unsigned>(*d)}};
    if (!ymd.ok()) {
        return std::nullopt;
    }

    // time-secfrac: dropped (whole seconds are enough for token expiry).
    std::size_t pos = 19;
    if (at(s, pos, '.')) {
        const std::size_t start = ++pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            ++pos;
        }
        if (pos == start) {
            return std::nullopt;
        }
    }

    // time-offset: "Z" / ("+" / "-") HH:MM
    seconds offset{0};
    if (at(s, pos, 'Z') || at(s, pos, 'z')) {
        ++pos;
    } else if (at(s, pos, '+') || at(s, pos, '-')) {
        const bool negative = s[pos] == '-';
        const auto oh = digits(s, pos + 1, 2);
        const auto om = digits(s, pos + 4, 2);
        if (!oh || !om || !at(s, pos + 3, ':') || *oh > 23 || *om > 59) {
            return std::nullopt;
        }
        offset = hours{*oh} + minutes{*om};
        if (negative) {
            offset = -offset;
        }
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) {
        return std::nullopt;
    }

    const sys_seconds local = sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*sec};
    return local - offset;
}

} // namespace oi::admin
