#include "oauth/token_request.hpp"

#include "http/target.hpp"

#include <boost/json/serialize.hpp>
#include <openssl/evp.h>

namespace oi::oauth {

namespace {

constexpr std::string_view k_form_type = "application/x-www-form-urlencoded";
constexpr std::string_view k_json_type = "application/json";

bool is_unreserved(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

void append_form_encoded(std::string& out, std::string_view value)
{
    static constexpr std::string_view k_hex = "0123456789ABCDEF";
    for (const char c : value) {
        if (is_unreserved(c)) {
            out += c;
        } else if (c == ' ') {
            out += '+';
        } else {
            const auto byte = static_cast<unsigned char>(c);
            out += '%';
            out += k_hex[byte >> 4U];
            out += k_hex[byte & 0x0FU];
        }
    }
}

std::string base64_encode(std::string_view bytes)
{
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                        reinterpret_cast<const unsigned char*>(bytes.data()),
                                        static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(written));
    return out;
}

/// The parameters that go into the body: the grant's, then the client's credentials unless they
/// travel in the Authorization header.
token_params body_params(const config::connection& connection, const token_params& params)
{
    token_params out = params;
    const bool public_client = connection.client_secret.empty();
    if (public_client || connection.auth_method == config::client_auth::post) {
        out.emplace_back("client_id", connection.client_id);
    }
    if (!public_client && connection.auth_method == config::client_auth::post) {
        out.emplace_back("client_secret", connection.client_secret.reveal());
    }
    return out;
}

void append_form_body(std::string& out, const token_params& params)
{
    bool first = true;
    for (const auto& [name, value] : params) {
        if (!first) {
            out += '&';
        }
        first = false;
        append_form_encoded(out, name);
        out += '=';
        append_form_encoded(out, value);
    }
}

/// A flat JSON object of strings, members in the given order.
void append_json_body(std::string& out, const token_params& params)
{
    out += '{';
    bool first = true;
    for (const auto& [name, value] : params) {
        if (!first) {
            out += ',';
        }
        first = false;
        out += boost::json::serialize(name);
        out += ':';
        out += boost::json::serialize(value);
    }
    out += '}';
}

/// RFC 6749 section 2.3.1: the id and the secret are form-encoded, then joined by ":" and sent
/// as HTTP Basic credentials (RFC 7617).
void append_basic_authorization(std::string& out, const config::connection& connection)
{
    std::string credentials;
    append_form_encoded(credentials, connection.client_id);
    credentials += ':';
    append_form_encoded(credentials, connection.client_secret.reveal());

    out += "Authorization: Basic ";
    out += base64_encode(credentials);
    out += "\r\n";
}

} // namespace

std::optional<token_endpoint> parse_token_endpoint(std::string_view token_url)
{
    auto target = http::parse_absolute_target(token_url);
    if (!target) {
        return std::nullopt;
    }
    token_endpoint out;
    out.host_header = http::host_header_value(target->scheme, target->host, target->port);
    out.scheme = std::move(target->scheme);
    out.host = std::move(target->host);
    out.port = target->port;
    out.target = std::move(target->origin_form);
    return out;
}

secret build_token_request(const config::connection& connection, const token_endpoint& endpoint,
                           const token_params& params)
{
    const bool json = connection.token_content_type == config::content_type::json;
    const bool basic =
        connection.auth_method == config::client_auth::basic && !connection.client_secret.empty();

    std::string body;
    const token_params all = body_params(connection, params);
    if (json) {
        append_json_body(body, all);
    } else {
        append_form_body(body, all);
    }

    std::string out;
    out.reserve(256 + endpoint.target.size() + endpoint.host_header.size() + body.size());
    out += "POST ";
    out += endpoint.target;
    out += " HTTP/1.1\r\nHost: ";
    out += endpoint.host_header;
    out += "\r\nAccept: application/json\r\nUser-Agent: oauth-injector\r\nContent-Type: ";
    out += json ? k_json_type : k_form_type;
    out += "\r\n";
    if (basic) {
        append_basic_authorization(out, connection);
    }
    out += "Content-Length: ";
    out += std::to_string(body.size());
    out += "\r\nConnection: close\r\n\r\n";
    out += body;
    return secret{std::move(out)};
}

std::string form_urlencode(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    append_form_encoded(out, value);
    return out;
}

} // namespace oi::oauth
