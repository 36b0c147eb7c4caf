#include "config/presets.hpp"

#include "config/loader.hpp"
#include "fake_env.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using namespace oi::config;
using oi::config::testing::load_errors;
using oi::config::testing::load_ok;
using oi::config::testing::single_error;

namespace {

using strings = std::vector<std::string>;

/// A config whose only connection `c` has `body` (indented by four spaces) as its keys.
connection load_connection(const std::string& body)
{
    auto c = load_ok("store: { memory: {} }\nconnections:\n  c:\n" + body);
    return c.connections.at("c");
}

} // namespace

TEST_CASE("a google preset with only a client and scopes gets Google's endpoints and quirks",
          "[config][presets]")
{
    auto g = load_connection("    preset: google\n"
                             "    client_id: id\n"
                             "    scopes: https://www.googleapis.com/auth/calendar.readonly\n");

    CHECK(g.preset == "google");
    CHECK(g.authorization_url == "https://accounts.google.com/o/oauth2/v2/auth");
    CHECK(g.token_url == "https://oauth2.googleapis.com/token");
    CHECK(g.revocation_url == "https://oauth2.googleapis.com/revoke");
    CHECK(g.access_type == "offline");
    CHECK(g.prompt == "consent");
    CHECK(g.allowed_hosts == strings{"www.googleapis.com", "*.googleapis.com"});
    CHECK(g.scopes == strings{"https://www.googleapis.com/auth/calendar.readonly"});
    CHECK(g.scope_separator == ' ');
    CHECK(g.token_from == token_source::top_level);
}

TEST_CASE("the slack, github and microsoft presets fill their endpoints and hosts",
          "[config][presets]")
{
    auto slack = load_connection("    preset: slack\n    client_id: id\n");
    auto github = load_connection("    preset: github\n    client_id: id\n");
    auto microsoft = load_connection("    preset: microsoft\n    client_id: id\n");

    CHECK(slack.authorization_url == "https://slack.com/oauth/v2/authorize");
    CHECK(slack.token_url == "https://slack.com/api/oauth.v2.access");
    CHECK(slack.revocation_url.empty());
    CHECK(slack.allowed_hosts == strings{"slack.com"});
    CHECK(slack.scope_separator == ',');
    CHECK(github.authorization_url == "https://github.com/login/oauth/authorize");
    CHECK(github.token_url == "https://github.com/login/oauth/access_token");
    CHECK(github.revocation_url.empty());
    CHECK(github.allowed_hosts == strings{"api.github.com", "uploads.github.com"});
    CHECK(microsoft.authorization_url ==
          "https://login.microsoftonline.com/common/oauth2/v2.0/authorize");
    CHECK(microsoft.token_url == "https://login.microsoftonline.com/common/oauth2/v2.0/token");
    CHECK(microsoft.tenant == "common");
    CHECK(microsoft.scopes == strings{"offline_access", "User.Read"});
    CHECK(microsoft.allowed_hosts == strings{"graph.microsoft.com"});
}

TEST_CASE("the connection's own keys override the preset's, and scopes replace its list",
          "[config][presets]")
{
    auto g = load_connection("    preset: google\n"
                             "    client_id: id\n"
                             "    token_url: https://token.example/t\n"
                             "    prompt: \"\"\n"
                             "    access_type: online\n"
                             "    scopes: [openid, email]\n"
                             "    allowed_hosts: [people.googleapis.com]\n"
                             "    on_missing_token: reject\n");
    auto m = load_connection("    preset: microsoft\n"
                             "    client_id: id\n"
                             "    scopes: Mail.Read\n");

    CHECK(g.token_url == "https://token.example/t");
    CHECK(g.authorization_url == "https://accounts.google.com/o/oauth2/v2/auth");
    CHECK(g.prompt.empty());
    CHECK(g.access_type == "online");
    CHECK(g.scopes == strings{"openid", "email"});
    CHECK(g.allowed_hosts == strings{"people.googleapis.com"});
    CHECK(g.missing == on_missing_token::reject);
    CHECK(m.scopes == strings{"offline_access", "Mail.Read"});
}

TEST_CASE("microsoft's tenant goes into both endpoints unless the URLs are given",
          "[config][presets]")
{
    auto tenant = load_connection("    preset: microsoft\n"
                                  "    tenant: contoso.onmicrosoft.com\n"
                                  "    client_id: id\n");
    auto explicit_url = load_connection("    preset: microsoft\n"
                                        "    tenant: organizations\n"
                                        "    client_id: id\n"
                                        "    token_url: https://login.example/token\n");

    CHECK(tenant.tenant == "contoso.onmicrosoft.com");
    CHECK(tenant.authorization_url ==
          "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize");
    CHECK(tenant.token_url ==
          "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
    CHECK(explicit_url.token_url == "https://login.example/token");
    CHECK(explicit_url.authorization_url ==
          "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize");
}

TEST_CASE("microsoft keeps offline_access when the connection already lists it",
          "[config][presets]")
{
    auto m = load_connection("    preset: microsoft\n"
                             "    client_id: id\n"
                             "    scopes: User.Read offline_access\n");

    CHECK(m.scopes == strings{"User.Read", "offline_access"});
}

TEST_CASE("a bad tenant, a tenant without the microsoft preset and an unknown preset are errors",
          "[config][presets]")
{
    auto [body, path, words] = GENERATE(table<std::string, std::string, std::string>({
        {"    preset: microsoft\n    tenant: a/b\n    client_id: id\n", "connections.c.tenant",
         "GUID"},
        {"    preset: google\n    tenant: x\n    client_id: id\n    scopes: s\n",
         "connections.c.tenant", "only used by the microsoft preset"},
        {"    preset: dropbox\n    client_id: id\n", "connections.c.preset", "microsoft"},
        {"    preset: google\n    client_id: id\n", "connections.c.scopes", "at least one scope"},
    }));

    auto e = single_error("store: { memory: {} }\nconnections:\n  c:\n" + body);

    CHECK(e.path == path);
    CHECK_THAT(e.message, Catch::Contains(words));
}

TEST_CASE("with a preset only client_id stays required; without one all four keys are",
          "[config][presets]")
{
    auto with_preset =
        single_error("store: { memory: {} }\nconnections:\n  c: { preset: github }\n");
    auto without = load_errors("store: { memory: {} }\nconnections:\n  c: { scopes: [a] }\n");

    CHECK(with_preset.path == "connections.c.client_id");
    CHECK(without.size() == 4);
}

TEST_CASE("token_source and scope_separator are read, and scope_parameter joins with it",
          "[config][presets]")
{
    auto slack = load_connection("    preset: slack\n"
                                 "    client_id: id\n"
                                 "    scopes: [chat:write, channels:read]\n"
                                 "    token_source: authed_user\n");
    auto spaced = load_connection("    preset: slack\n"
                                  "    client_id: id\n"
                                  "    scopes: [a, b]\n"
                                  "    scope_separator: space\n");

    CHECK(slack.token_from == token_source::authed_user);
    CHECK(scope_parameter(slack) == "chat:write,channels:read");
    CHECK(scope_parameter(spaced) == "a b");
}

TEST_CASE("every preset's defaults are valid connection values", "[config][presets]")
{
    for (const preset_spec& p : presets()) {
        INFO(p.name);

        auto c = preset_defaults(p, "");

        CHECK(c.authorization_url.starts_with("https://"));
        CHECK(c.token_url.starts_with("https://"));
        CHECK(c.authorization_url.find('{') == std::string::npos);
        CHECK_FALSE(c.allowed_hosts.empty());
        CHECK(find_preset(p.name) == &p);
    }
    CHECK(find_preset("dropbox") == nullptr);
}
