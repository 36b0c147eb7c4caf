#include "authflow/authorization_request.hpp"

#include "oauth/token_request.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <algorithm>
#include <array>

namespace oi::authflow {

namespace {

constexpr std::array<std::string_view, 9> k_flow_parameters{
    "response_type",         "client_id", "redirect_uri", "scope", "state", "code_challenge",
    "code_challenge_method", "prompt",    "access_type"};

std::string join_scopes(const std::vector<std::string>& scopes)
{
    std::string out;
    for (const std::string& scope : scopes) {
        if (!out.empty()) {
            out += ' ';
        }
        out += scope;
    }
    return out;
}

} // namespace

std::optional<std::string> authorization_redirect(const config::connection& connection,
                                                  const authorization_parameters& parameters)
{
    auto parsed = boost::urls::parse_absolute_uri(connection.authorization_url);
    if (!parsed) {
        return std::nullopt;
    }
    boost::urls::url url(*parsed);
    // RFC 6749 section 3.1: the endpoint's own query is kept; a fragment is not allowed.
    url.remove_fragment();

    // Encoded here rather than by Boost.URL, which leaves '+' as it is in a query while
    // providers read the query as a form (RFC 6749 appendix B), where '+' is a space.
    std::string query(url.encoded_query());
    const auto append = [&query](std::string_view name, std::string_view value) {
        query += query.empty() ? "" : "&";
        query += oauth::form_urlencode(name);
        query += '=';
        query += oauth::form_urlencode(value);
    };
    append("response_type", "code");
    append("client_id", connection.client_id);
    append("redirect_uri", parameters.redirect_uri);
    const std::string scope = join_scopes(connection.scopes);
    if (!scope.empty()) {
        append("scope", scope);
    }
    append("state", parameters.state);
    append("code_challenge", parameters.code_challenge);
    append("code_challenge_method", "S256");
    if (!connection.prompt.empty()) {
        append("prompt", connection.prompt);
    }
    if (!connection.access_type.empty()) {
        append("access_type", connection.access_type);
    }
    for (const auto& [name, value] : connection.extra_params) {
        if (std::find(k_flow_parameters.begin(), k_flow_parameters.end(), name) ==
            k_flow_parameters.end()) {
            append(name, value);
        }
    }
    url.set_encoded_query(query);
    return std::string(url.buffer());
}

} // namespace oi::authflow
