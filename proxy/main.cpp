// oauth-injector's command line (SPEC.md "Command line"). Only wiring: every subcommand calls into
// a module. Start-up failures end here as one line on stderr and a non-zero exit.

#include "common/log.hpp"
#include "config/loader.hpp"
#include "config/printer.hpp"
#include "config/units.hpp"
#include "identity/identity.hpp"
#include "intercept/ca_files.hpp"
#include "server/server.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <optional>

namespace {

constexpr std::string_view k_version = "oauth-injector 0.1.0";

/// Loads the config, printing every error as FILE:LINE:COL: path: message.
std::optional<oi::config::config> load(const std::string& path)
{
    auto loaded = oi::config::load_config_file(path, oi::config::process_env());
    if (auto* errors = std::get_if<std::vector<oi::config::config_error>>(&loaded)) {
        for (const auto& error : *errors) {
            std::cerr << oi::config::format_error(error) << '\n';
        }
        return std::nullopt;
    }
    return std::get<oi::config::config>(std::move(loaded));
}

int run(const std::string& config_path)
{
    auto cfg = load(config_path);
    if (!cfg) {
        return 2;
    }
    oi::log::init(oi::log::parse_level(cfg->log.level).value_or(oi::log::level::info),
                  cfg->log.format == oi::config::log_config::format_kind::json);

    oi::server::server server{std::move(*cfg)};
    server.start();
    server.wait();
    return 0;
}

/// With `print`, the effective config (secrets masked) goes to stdout instead of "ok".
int check_config(const std::string& config_path, bool print)
{
    auto cfg = load(config_path);
    if (!cfg) {
        return 2;
    }
    if (print) {
        std::cout << oi::config::print_config(*cfg);
        return 0;
    }
    std::cout << config_path << ": ok\n";
    return 0;
}

int sign_identity(const std::string& secret_env, const std::string& user, const std::string& plugin,
                  const std::string& ttl_text)
{
    const char* value = std::getenv(secret_env.c_str());
    if (value == nullptr || *value == '\0') {
        std::cerr << "identity sign: the environment variable " << secret_env << " is not set\n";
        return 2;
    }
    const auto ttl = oi::config::parse_duration(ttl_text);
    if (!ttl || ttl->count() <= 0) {
        std::cerr << "identity sign: --ttl takes a duration such as 30s or 5m\n";
        return 2;
    }
    std::cout << oi::identity::sign_identity(oi::secret{value}, user, plugin,
                                             std::chrono::duration_cast<std::chrono::seconds>(*ttl),
                                             std::chrono::system_clock::now())
              << '\n';
    return 0;
}

int init_ca(const std::string& dir, bool force)
{
    const auto files = oi::intercept::write_new_ca(dir, force);
    std::cout << oi::intercept::trust_instructions(files);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{"oauth-injector: an egress proxy that injects users' OAuth tokens into plugin "
                 "requests"};
    app.require_subcommand(0, 1);
    app.set_version_flag("--version", std::string{k_version});

    std::string config_path;
    app.add_option("--config", config_path, "configuration file (same as `run --config`)");

    auto* run_cmd = app.add_subcommand("run", "serve with the given configuration");
    run_cmd->add_option("--config", config_path, "configuration file")->required();

    auto* check_cmd =
        app.add_subcommand("check-config", "validate a configuration file and print every error");
    check_cmd->add_option("--config", config_path, "configuration file")->required();
    bool print_effective = false;
    check_cmd->add_flag("--print", print_effective,
                        "print the effective config (presets and ${...} applied, secrets masked)");

    auto* identity_cmd = app.add_subcommand("identity", "plugin identity tokens");
    identity_cmd->require_subcommand(1);
    auto* sign_cmd = identity_cmd->add_subcommand("sign", "print a signed identity (HS256 JWT)");
    std::string secret_env;
    std::string user;
    std::string plugin;
    std::string ttl = "5m";
    sign_cmd->add_option("--secret-env", secret_env, "variable holding identity.secret")
        ->required();
    sign_cmd->add_option("--user", user, "end user id")->required();
    sign_cmd->add_option("--plugin", plugin, "plugin id")->required();
    sign_cmd->add_option("--ttl", ttl, "lifetime, e.g. 5m");

    auto* ca_cmd = app.add_subcommand("ca", "the interception CA");
    ca_cmd->require_subcommand(1);
    auto* ca_init_cmd =
        ca_cmd->add_subcommand("init", "write a new CA as DIR/ca.pem and DIR/ca.key (mode 0600)");
    std::string ca_dir;
    bool ca_force = false;
    ca_init_cmd->add_option("--dir", ca_dir, "directory for ca.pem and ca.key")->required();
    ca_init_cmd->add_flag("--force", ca_force, "replace an existing CA");

    CLI11_PARSE(app, argc, argv);

    try {
        if (*check_cmd) {
            return check_config(config_path, print_effective);
        }
        if (*sign_cmd) {
            return sign_identity(secret_env, user, plugin, ttl);
        }
        if (*ca_init_cmd) {
            return init_ca(ca_dir, ca_force);
        }
        if (*run_cmd || !config_path.empty()) {
            return run(config_path);
        }
        std::cout << app.help();
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "oauth-injector: " << e.what() << '\n';
        oi::log::flush();
        return 1;
    }
}
