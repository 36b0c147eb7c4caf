#pragma once

// The bytes of one request to a connection's token endpoint (RFC 6749 sections 4.1.3 and 6):
// `POST <origin-form> HTTP/1.1` with Host, `Accept: application/json`, `User-Agent`, the body as
// form (RFC 6749 appendix B) or JSON per `content_type`, client authentication per `client_auth`
// (RFC 6749 section 2.3.1), always a Content-Length body and `Connection: close` (a token
// request is rare; one connection per request keeps the response framing simple and leaves no
// idle connection to a provider behind).
//
// Pure functions, callable from any thread. A token_url that cannot be used is an empty
// optional; nothing else fails. The request text holds the client secret and the grant's
// parameters, so it is returned as oi::secret.

#include "common/secret.hpp"
#include "config/config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oi::oauth {

/// The grant's parameters in the order they are sent, e.g. {"grant_type", "refresh_token"},
/// {"refresh_token", grant.refresh_token.reveal()}. Values may be secrets; the views must outlive
/// the call that takes them.
using token_params = std::vector<std::pair<std::string_view, std::string_view>>;

/// Where a token_url points.
struct token_endpoint {
    std::string scheme;      // "http" or "https"
    std::string host;        // normalized as upstream::destination wants it
    std::uint16_t port = 0;  // explicit or the scheme's default
    std::string target;      // origin-form: path (at least "/") and "?query"
    std::string host_header; // the Host field value
};

/// Parses an absolute http(s) URL (the rules of http::parse_absolute_target: no userinfo, no
/// fragment, a plain host name or an IP literal).
[[nodiscard]] std::optional<token_endpoint> parse_token_endpoint(std::string_view token_url);

/// The complete request: head and body. With `client_auth: post` the body ends with client_id
/// and client_secret; with `basic` they travel in `Authorization: Basic` after form-encoding
/// each (RFC 6749 section 2.3.1). A public client (empty client_secret) sends only client_id in
/// the body, whatever client_auth says (RFC 6749 section 3.2.1).
[[nodiscard]] secret build_token_request(const config::connection& connection,
                                         const token_endpoint& endpoint,
                                         const token_params& params);

/// application/x-www-form-urlencoded encoding of one name or value (RFC 6749 appendix B, as
/// HTML defines it): ALPHA, DIGIT, "-", ".", "_", "~" stay, a space becomes "+", every other
/// byte becomes %XX with upper-case hex.
[[nodiscard]] std::string form_urlencode(std::string_view value);

} // namespace oi::oauth
