#pragma once

// The redirect of /oauth/start to a connection's authorization endpoint (RFC 6749 section 4.1.1
// with PKCE, RFC 7636 section 4.3). Pure function, any thread.

#include "config/config.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace oi::authflow {

struct authorization_parameters {
    std::string_view redirect_uri;
    std::string_view state;
    std::string_view code_challenge; // S256
};

/// `authorization_url` with, appended to whatever query it already has: response_type=code,
/// client_id, redirect_uri, scope (the scopes joined by spaces, when any), state,
/// code_challenge, code_challenge_method=S256, prompt and access_type (when set), then each
/// extra_params entry whose name is not one of those (the flow's own parameters win: an
/// extra_params entry must not be able to replace the state or the PKCE challenge). Every name
/// and value is form-urlencoded (oauth::form_urlencode: only unreserved characters stay, a space
/// is '+'). nullopt when authorization_url is not an absolute URL.
[[nodiscard]] std::optional<std::string>
authorization_redirect(const config::connection& connection,
                       const authorization_parameters& parameters);

} // namespace oi::authflow
