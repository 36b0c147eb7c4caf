#include "authflow/flow_state.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace oi::authflow {

namespace {

constexpr std::size_t k_state_chars = 43; // base64url of k_state_bytes without padding

std::string field(const boost::json::object& object, std::string_view name)
{
    const auto* value = object.if_contains(name);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string{};
}

} // namespace

secret encode_flow_state(const flow_state& state)
{
    boost::json::object object;
    object["v"] = 1;
    object["c"] = state.connection;
    object["u"] = state.user;
    object["pkce"] = state.code_verifier.reveal();
    if (!state.return_to.empty()) {
        object["r"] = state.return_to;
    }
    return secret{boost::json::serialize(object)};
}

std::optional<flow_state> decode_flow_state(std::string_view record)
{
    boost::system::error_code ec;
    const boost::json::value value = boost::json::parse(record, ec);
    if (ec || !value.is_object()) {
        return std::nullopt;
    }
    const boost::json::object& object = value.as_object();
    const auto* version = object.if_contains("v");
    if (version == nullptr || !version->is_int64() || version->as_int64() != 1) {
        return std::nullopt;
    }

    flow_state out{field(object, "c"), field(object, "u"), secret{field(object, "pkce")},
                   field(object, "r")};
    if (out.connection.empty() || out.user.empty() || out.code_verifier.empty()) {
        return std::nullopt;
    }
    return out;
}

bool plausible_state(std::string_view value) noexcept
{
    if (value.size() != k_state_chars) {
        return false;
    }
    return std::all_of(value.begin(), value.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    });
}

} // namespace oi::authflow
