// `oauth-injector check-config --print` as an operator runs it: the real binary, secrets from the
// environment, the effective config on stdout with every secret masked, exit codes unchanged.

#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>

namespace {

using namespace std::chrono_literals;

constexpr std::array<std::pair<std::string_view, std::string_view>, 4> k_secrets{{
    {"TOKEN_KEY", "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s="},
    {"MS_CLIENT_SECRET", "ms-client-secret-4471f0"},
    {"REDIS_URL", "redis://app:redis-pass-83ce1@127.0.0.1:6379/0"},
    {"ADMIN_TOKEN", "admin-token-0c55e2"},
}};

oi::test::exit_status run_check(oi::test::process& p)
{
    auto status = p.wait_exit(30s);
    REQUIRE(status.has_value());
    return *status;
}

} // namespace

TEST_CASE("check-config --print shows the preset's endpoints and never a secret", "[check_config]")
{
    oi::test::process_options options{
        OI_BINARY,
        {"check-config", "--config", std::string(OI_SOURCE_DIR) + "/config/examples/microsoft.yaml",
         "--print"},
        {{"MS_CLIENT_ID", "ms-id"}, {"MS_TENANT", "contoso.com"}},
        {}};
    for (const auto& [name, value] : k_secrets) {
        options.env.emplace_back(name, value);
    }
    oi::test::process p{options};

    const auto status = run_check(p);
    const std::string out = p.stdout_text();

    INFO(p.stderr_text());
    CHECK(status.success());
    CHECK_THAT(out, Catch::Contains("login.microsoftonline.com/contoso.com/oauth2/v2.0/token"));
    CHECK_THAT(out, Catch::Contains("redis://app@127.0.0.1:6379/0"));
    for (std::string_view secret : {"a2tra2tra2tra2tra2", "ms-client-secret-4471f0",
                                    "redis-pass-83ce1", "admin-token-0c55e2"}) {
        INFO(secret);
        CHECK(out.find(secret) == std::string::npos);
        CHECK(p.stderr_text().find(secret) == std::string::npos);
    }
}

TEST_CASE("check-config --print of a broken config prints the errors and exits 2", "[check_config]")
{
    oi::test::process p{
        {OI_BINARY,
         {"check-config", "--config",
          std::string(OI_SOURCE_DIR) + "/config/examples/microsoft.yaml", "--print"},
         {},
         {}}};

    const auto status = run_check(p);

    CHECK(status.exited);
    CHECK(status.code == 2);
    CHECK(p.stdout_text().empty());
    CHECK_THAT(p.stderr_text(), Catch::Contains("MS_CLIENT_ID is not set"));
}
