#pragma once

// Helpers shared by the libFuzzer targets: a reader that splits the fuzzer's bytes into the
// pieces a target needs, and a check that aborts (a finding) when an invariant breaks.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace oi::fuzz {

/// Aborts with `what` when `ok` is false: libFuzzer records the input as a crash.
inline void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
        std::abort();
    }
}

/// Takes bytes from the front of the input.
class input {
public:
    input(const std::uint8_t* data, std::size_t size)
        : rest_(reinterpret_cast<const char*>(data), size)
    {}

    /// One byte (0 when the input is used up).
    std::uint8_t byte()
    {
        if (rest_.empty()) {
            return 0;
        }
        const auto b = static_cast<std::uint8_t>(rest_.front());
        rest_.remove_prefix(1);
        return b;
    }

    /// Up to the next `separator` (dropped), or everything left.
    std::string_view until(char separator)
    {
        const std::size_t at = rest_.find(separator);
        std::string_view out = rest_.substr(0, at);
        rest_.remove_prefix(at == std::string_view::npos ? rest_.size() : at + 1);
        return out;
    }

    [[nodiscard]] std::string_view rest() const noexcept { return rest_; }

private:
    std::string_view rest_;
};

/// True when `part` lies inside `whole` (views that must point into the caller's buffer).
inline bool inside(std::string_view part, std::string_view whole)
{
    if (part.empty()) {
        return true;
    }
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

} // namespace oi::fuzz
