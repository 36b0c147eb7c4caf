#include "admin/grant_json.hpp"

#include "admin/rfc3339.hpp"
#include "oauth/token_response.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <limits>

namespace oi::admin {

namespace {

// Expiry further out than this is refused: it is a typo (milliseconds for seconds), not a token.
constexpr std::int64_t k_max_expiry_seconds = 10LL * 365 * 24 * 3600;

boost::json::value nullable(std::string_view s)
{
    return s.empty() ? boost::json::value(nullptr) : boost::json::value(s);
}

boost::json::array string_array(const std::vector<std::string>& items)
{
    boost::json::array out;
    for (const std::string& item : items) {
        out.emplace_back(item);
    }
    return out;
}

boost::json::array split_scope(std::string_view scope)
{
    boost::json::array out;
    while (!scope.empty()) {
        const std::size_t space = scope.find(' ');
        const std::string_view word = scope.substr(0, space);
        if (!word.empty()) {
            out.emplace_back(word);
        }
        scope = space == std::string_view::npos ? std::string_view() : scope.substr(space + 1);
    }
    return out;
}

std::string join_scopes(const std::vector<std::string>& scopes)
{
    std::string out;
    for (const std::string& s : scopes) {
        out += out.empty() ? "" : " ";
        out += s;
    }
    return out;
}

// A JSON number that is a whole number of seconds within the accepted range.
std::optional<std::int64_t> whole_seconds(const boost::json::value& v) noexcept
{
    if (v.is_int64()) {
        return v.get_int64();
    }
    if (v.is_uint64()) {
        const std::uint64_t u = v.get_uint64();
        return u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                   ? std::optional<std::int64_t>(static_cast<std::int64_t>(u))
                   : std::nullopt;
    }
    if (v.is_double()) {
        const double d = v.get_double();
        if (std::isfinite(d) && std::abs(d) < 1e15) {
            return static_cast<std::int64_t>(d);
        }
    }
    return std::nullopt;
}

// Reads an optional string member: absent or null leaves `out` alone; other types are an error.
bool optional_string(const boost::json::object& o, std::string_view key, std::string& out)
{
    const boost::json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
        return true;
    }
    if (!v->is_string()) {
        return false;
    }
    out.assign(v->get_string().data(), v->get_string().size());
    return true;
}

grant_import fail(std::string message)
{
    return {std::nullopt, std::move(message)};
}

} // namespace

grant_import parse_grant_import(std::string_view body, const config::connection& connection,
                                store::clock::time_point now)
{
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(body, ec);
    if (ec || !doc.is_object()) {
        return fail("the body must be a JSON object");
    }
    const boost::json::object& o = doc.get_object();

    store::grant g;
    const boost::json::value* access = o.if_contains("access_token");
    if (access == nullptr || !access->is_string() || access->get_string().empty()) {
        return fail("access_token must be a non-empty string");
    }
    if (!oauth::is_access_token(access->get_string())) {
        return fail("access_token must be visible ASCII other than \" and \\");
    }
    g.access_token = secret(std::string(access->get_string()));

    std::string refresh;
    if (!optional_string(o, "refresh_token", refresh)) {
        return fail("refresh_token must be a string");
    }
    g.refresh_token = secret(std::move(refresh));

    g.scope = join_scopes(connection.scopes);
    if (!optional_string(o, "scope", g.scope)) {
        return fail("scope must be a space-separated string");
    }
    if (!optional_string(o, "token_type", g.token_type) || g.token_type.empty()) {
        return fail("token_type must be a non-empty string");
    }

    const boost::json::value* expires_in = o.if_contains("expires_in");
    const boost::json::value* expires_at = o.if_contains("expires_at");
    if (expires_in != nullptr && expires_in->is_null()) {
        expires_in = nullptr;
    }
    if (expires_at != nullptr && expires_at->is_null()) {
        expires_at = nullptr;
    }
    if (expires_in != nullptr && expires_at != nullptr) {
        return fail("give either expires_in or expires_at, not both");
    }

    const auto now_seconds = std::chrono::floor<std::chrono::seconds>(now);
    if (expires_in != nullptr) {
        const auto secs = whole_seconds(*expires_in);
        if (!secs || *secs < 0 || *secs > k_max_expiry_seconds) {
            return fail("expires_in must be a number of seconds between 0 and 10 years");
        }
        g.expires_at = now_seconds + std::chrono::seconds(*secs);
    } else if (expires_at != nullptr) {
        std::optional<sys_seconds> at;
        if (expires_at->is_string()) {
            at = parse_rfc3339(expires_at->get_string());
        } else if (const auto secs = whole_seconds(*expires_at); secs && *secs > 0) {
            at = sys_seconds(std::chrono::seconds(*secs));
        }
        if (!at || *at > now_seconds + std::chrono::seconds(k_max_expiry_seconds)) {
            return fail("expires_at must be unix seconds or an RFC 3339 date-time, "
                        "at most 10 years ahead");
        }
        g.expires_at = *at;
    }

    g.refreshed_at = now;
    g.needs_reauth = false;
    return {std::move(g), {}};
}

namespace {

boost::json::object grant_status_object(const store::grant* g)
{
    boost::json::object o;
    o["connected"] = g != nullptr;
    o["expires_at"] = g != nullptr && g->has_expiry()
                          ? boost::json::value(format_rfc3339(g->expires_at))
                          : boost::json::value(nullptr);
    o["scopes"] = g != nullptr ? split_scope(g->scope) : boost::json::array();
    o["needs_reauth"] = g != nullptr && g->needs_reauth;
    return o;
}

} // namespace

std::string grant_status_json(const store::grant* g)
{
    return boost::json::serialize(grant_status_object(g));
}

std::string refresh_answer_json(const store::grant* g, const refresh_answer_fields& fields)
{
    boost::json::object o = grant_status_object(g);
    o["refresh"] = fields.refresh;
    if (!fields.refusal.empty()) {
        o["error"] = fields.refusal;
        o["message"] = fields.message;
    }
    if (!fields.provider_error.empty()) {
        o["provider_error"] = fields.provider_error;
    }
    return boost::json::serialize(o);
}

std::string connections_json(const config::config& cfg)
{
    boost::json::array list;
    for (const auto& [id, c] : cfg.connections) {
        boost::json::array plugins;
        for (const auto& [plugin_id, p] : cfg.plugins) {
            if (p.connection_id == id) {
                plugins.emplace_back(plugin_id);
            }
        }

        boost::json::object o;
        o["id"] = id;
        o["preset"] = nullable(c.preset);
        o["authorization_url"] = c.authorization_url;
        o["token_url"] = c.token_url;
        o["revocation_url"] = nullable(c.revocation_url);
        o["scopes"] = string_array(c.scopes);
        o["allowed_hosts"] = string_array(c.allowed_hosts);
        o["on_missing_token"] = c.missing == config::on_missing_token::reject ? "reject" : "empty";
        o["plugins"] = std::move(plugins);
        list.emplace_back(std::move(o));
    }

    boost::json::object out;
    out["connections"] = std::move(list);
    return boost::json::serialize(out);
}

} // namespace oi::admin
