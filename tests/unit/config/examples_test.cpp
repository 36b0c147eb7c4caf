#include "config/loader.hpp"

#include "fake_env.hpp"

#include <catch2/catch.hpp>

using namespace oi::config;
using oi::config::testing::fake_env;
using oi::config::testing::k_test_key_b64;

namespace {

env_lookup example_env()
{
    return fake_env({{"ADMIN_TOKEN", "admin"},
                     {"TOKEN_KEY", std::string(k_test_key_b64)},
                     {"GOOGLE_CLIENT_ID", "g-id"},
                     {"GOOGLE_CLIENT_SECRET", "g-secret"},
                     {"SLACK_CLIENT_ID", "s-id"},
                     {"SLACK_CLIENT_SECRET", "s-secret"},
                     {"GITHUB_CLIENT_ID", "gh-id"},
                     {"GITHUB_CLIENT_SECRET", "gh-secret"},
                     {"MS_CLIENT_ID", "ms-id"},
                     {"MS_CLIENT_SECRET", "ms-secret"}});
}

config load_example(const std::string& relative)
{
    auto result = load_config_file(std::string(OI_SOURCE_DIR) + "/" + relative, example_env());
    if (auto* errors = std::get_if<std::vector<config_error>>(&result)) {
        for (const auto& e : *errors) {
            UNSCOPED_INFO(format_error(e));
        }
        FAIL(relative + " did not load");
    }
    return std::get<config>(std::move(result));
}

} // namespace

TEST_CASE("the shipped example config loads with its environment", "[config][examples]")
{
    auto c = load_example("config/oauth-injector.yaml");

    CHECK(c.listen.proxy.port == 8080);
    CHECK(c.listen.public_listener->port == 8081);
    CHECK(c.listen.admin->port == 9090);
    CHECK(c.store.type == store_config::kind::redis);
    CHECK(c.store.encryption_keys.size() == 1);
    CHECK(c.plugins.at("google-calendar").connection_id == "google");
    CHECK(c.plugins.at("google-drive").connection_id == "google");
    CHECK(c.plugins.at("slack-send").connection_id == "plugin:slack-send");
    CHECK(c.connections.at("plugin:slack-send").client_id == "s-id");
    CHECK(c.connections.at("google").client_secret.reveal() == "g-secret");
}

TEST_CASE("the example config refuses to load without its secrets", "[config][examples]")
{
    auto result =
        load_config_file(std::string(OI_SOURCE_DIR) + "/config/oauth-injector.yaml", fake_env({}));

    auto& errors = std::get<std::vector<config_error>>(result);
    CHECK(errors.size() == 6); // ADMIN_TOKEN, TOKEN_KEY, two Google and two Slack variables
}

TEST_CASE("the provider examples load", "[config][examples]")
{
    auto google = load_example("config/examples/google.yaml");
    auto slack = load_example("config/examples/slack.yaml");
    auto github = load_example("config/examples/github.yaml");
    auto microsoft = load_example("config/examples/microsoft.yaml");

    CHECK(google.connections.at("google").token_url == "https://oauth2.googleapis.com/token");
    CHECK(slack.connections.at("slack").token_url == "https://slack.com/api/oauth.v2.access");
    CHECK(github.connections.at("github").token_url ==
          "https://github.com/login/oauth/access_token");
    CHECK(microsoft.connections.at("microsoft").token_url ==
          "https://login.microsoftonline.com/common/oauth2/v2.0/token");
    CHECK(google.connections.at("google").revocation_url == "https://oauth2.googleapis.com/revoke");
    CHECK(google.connections.at("google").access_type == "offline");
    CHECK(slack.connections.at("slack").scope_separator == ',');
    CHECK(github.connections.at("github").allowed_hosts.size() == 2);
    CHECK(microsoft.connections.at("microsoft").scopes.front() == "offline_access");
}
