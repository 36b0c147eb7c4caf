#include "config/units.hpp"

#include <array>
#include <charconv>
#include <limits>
#include <utility>

namespace oi::config {

namespace {

/// Splits "123unit" into its number and its unit; nullopt when there is no leading number.
std::optional<std::pair<std::uint64_t, std::string_view>> split_number(std::string_view text)
{
    std::uint64_t value = 0;
    const char* first = text.data();
    const char* last = text.data() + text.size();
    auto [end, ec] = std::from_chars(first, last, value);
    if (ec != std::errc{} || end == first) {
        return std::nullopt;
    }
    return std::pair{value, text.substr(static_cast<std::size_t>(end - first))};
}

std::optional<std::uint64_t> scale(std::uint64_t value, std::uint64_t factor)
{
    if (value > std::numeric_limits<std::uint64_t>::max() / factor) {
        return std::nullopt;
    }
    return value * factor;
}

} // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text)
{
    constexpr std::array<std::pair<std::string_view, std::uint64_t>, 4> k_units{{
        {"ms", 1},
        {"s", 1000},
        {"m", 60 * 1000},
        {"h", 60 * 60 * 1000},
    }};

    auto parts = split_number(text);
    if (!parts) {
        return std::nullopt;
    }
    for (const auto& [unit, factor] : k_units) {
        if (parts->second != unit) {
            continue;
        }
        auto millis = scale(parts->first, factor);
        using rep = std::chrono::milliseconds::rep;
        if (!millis || *millis > static_cast<std::uint64_t>(std::numeric_limits<rep>::max())) {
            return std::nullopt;
        }
        return std::chrono::milliseconds(static_cast<rep>(*millis));
    }
    return std::nullopt;
}

std::optional<std::uint64_t> parse_size(std::string_view text)
{
    constexpr std::array<std::pair<std::string_view, std::uint64_t>, 5> k_units{{
        {"", 1},
        {"B", 1},
        {"KiB", 1024},
        {"MiB", 1024 * 1024},
        {"GiB", 1024 * 1024 * 1024},
    }};

    auto parts = split_number(text);
    if (!parts) {
        return std::nullopt;
    }
    for (const auto& [unit, factor] : k_units) {
        if (parts->second == unit) {
            return scale(parts->first, factor);
        }
    }
    return std::nullopt;
}

} // namespace oi::config
