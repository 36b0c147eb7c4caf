#include "common/refusal.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <array>

namespace oi {

namespace {

struct refusal_info {
    std::string_view code;
    unsigned status;
    std::string_view reason_phrase;
};

constexpr std::array k_refusals{
    refusal_info{"identity_required", 407, "Proxy Authentication Required"},
    refusal_info{"identity_invalid", 407, "Proxy Authentication Required"},
    refusal_info{"unknown_plugin", 403, "Forbidden"},
    refusal_info{"host_not_allowed", 403, "Forbidden"},
    refusal_info{"destination_denied", 403, "Forbidden"},
    refusal_info{"authorization_required", 401, "Unauthorized"},
    refusal_info{"bad_request", 400, "Bad Request"},
    refusal_info{"header_too_large", 431, "Request Header Fields Too Large"},
    refusal_info{"payload_too_large", 413, "Content Too Large"},
    refusal_info{"upstream_unreachable", 502, "Bad Gateway"},
    refusal_info{"upstream_timeout", 504, "Gateway Timeout"},
    refusal_info{"upstream_bad_response", 502, "Bad Gateway"},
    refusal_info{"store_unavailable", 503, "Service Unavailable"},
    refusal_info{"overloaded", 503, "Service Unavailable"},
    refusal_info{"not_found", 404, "Not Found"},
    refusal_info{"method_not_allowed", 405, "Method Not Allowed"},
    refusal_info{"unauthorized", 401, "Unauthorized"},
    refusal_info{"config_invalid", 422, "Unprocessable Content"},
    refusal_info{"restart_required", 409, "Conflict"},
};

static_assert(k_refusals.size() == static_cast<std::size_t>(k_last_refusal) + 1,
              "every refusal has a code, a status and a reason phrase");

const refusal_info& info(refusal r) noexcept
{
    return k_refusals.at(static_cast<std::size_t>(r));
}

} // namespace

std::string_view refusal_code(refusal r) noexcept
{
    return info(r).code;
}

unsigned refusal_status(refusal r) noexcept
{
    return info(r).status;
}

std::string refusal_response(refusal r, std::string_view message, bool close,
                             std::string_view extra_json_fields)
{
    const refusal_info& i = info(r);

    std::string body = R"({"error":")";
    body += i.code;
    body += R"(","message":)";
    body += boost::json::serialize(boost::json::string(message));
    if (!extra_json_fields.empty()) {
        body += ',';
        body += extra_json_fields;
    }
    body += "}\n";

    std::string out = "HTTP/1.1 " + std::to_string(i.status) + ' ';
    out += i.reason_phrase;
    out += "\r\nX-OAuth-Injector-Error: ";
    out += i.code;
    out += "\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: ";
    out += std::to_string(body.size());
    out += close ? "\r\nConnection: close\r\n" : "\r\n";
    if (r == refusal::identity_required || r == refusal::identity_invalid) {
        // RFC 9110 section 11.7.1: a 407 carries a challenge.
        out += "Proxy-Authenticate: Basic realm=\"oauth-injector\"\r\n";
    }
    out += "\r\n";
    out += body;
    return out;
}

} // namespace oi
