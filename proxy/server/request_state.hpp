#pragma once

// Per-request state of a proxy_session; private to the session's implementation files.

#include "common/secret.hpp"
#include "config/config.hpp"
#include "http/message.hpp"
#include "http/target.hpp"
#include "server/exchange_record.hpp"
#include "server/proxy_session.hpp"
#include "store/grant.hpp"

#include <boost/beast/core/flat_buffer.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace oi::server {

/// How much is read from a client or an upstream in one go.
inline constexpr std::size_t k_read_chunk = 16 * 1024;

/// The bytes held in a buffer, as text.
inline std::string_view as_view(const boost::beast::flat_buffer& b)
{
    return {static_cast<const char*>(b.data().data()), b.size()};
}

struct proxy_session::request_state {
    exchange_record rec;
    http::proxy_target target;
    std::string user;
    std::string plugin;
    const config::connection* connection = nullptr;
    bool host_allowed = false;
    bool head_has_placeholder = false;
    bool websocket = false; // an opening handshake (RFC 6455 section 4.1) asking for an upgrade
    // Whose access token replaces the placeholders; null: they are replaced by nothing. Held,
    // not copied: the token stays in the grant's secret.
    std::shared_ptr<const store::grant> grant;
    bool body_read = false; // the request body has been read from the client completely
    refusal upstream_failure = refusal::upstream_unreachable; // why the exchange failed

    /// What replaces the placeholders: the access token, or nothing.
    [[nodiscard]] std::string_view token() const
    {
        return grant ? grant->access_token.reveal() : std::string_view{};
    }

    /// The value of a field that must appear at most once; sets `duplicated` when it repeats.
    static std::optional<std::string_view> single_field(const http::request_head& head,
                                                        std::string_view name, bool& duplicated)
    {
        std::optional<std::string_view> found;
        for (const auto& field : head.fields) {
            if (http::iequals(field.name, name)) {
                if (found) {
                    duplicated = true;
                }
                found = field.value;
            }
        }
        return found;
    }

    /// Whether a client field travels upstream as it is (after rewriting). Framing, hop-by-hop
    /// (RFC 9110 section 7.6.1), Host (rebuilt from the target), Expect (answered here) and the
    /// identity fields stay behind.
    static bool forwarded(const http::request_head& head, const config::identity_config& id,
                          const http::header_field& field)
    {
        const std::string_view n = field.name;
        return !http::is_hop_by_hop(n, head.fields) && !http::iequals(n, "Host") &&
               !http::iequals(n, "Content-Length") && !http::iequals(n, "Expect") &&
               !http::iequals(n, id.user_header) && !http::iequals(n, id.plugin_header) &&
               !http::iequals(n, id.token_header);
    }
};

} // namespace oi::server
