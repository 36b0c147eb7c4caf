#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace oi {

/// A credential (access token, refresh token, client secret, identity secret, admin token, Redis
/// password). It deliberately has no stream operator and no fmt formatter: any attempt to log or
/// format one is a compile error. The value is read through `reveal()`, which is easy to grep for.
class secret {
public:
    secret() = default;
    explicit secret(std::string value) : value_(std::move(value)) {}

    [[nodiscard]] const std::string& reveal() const noexcept { return value_; }
    [[nodiscard]] bool empty() const noexcept { return value_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return value_.size(); }

    friend bool operator==(const secret&, const secret&) = default;

private:
    std::string value_;
};

/// Compares two byte strings in time that depends only on their lengths.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

} // namespace oi
