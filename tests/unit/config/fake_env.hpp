#pragma once

// Helpers shared by the config tests: a fake environment and shortcuts to load YAML text.

#include "config/loader.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

namespace oi::config::testing {

inline env_lookup fake_env(std::map<std::string, std::string, std::less<>> vars)
{
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) {
            return std::nullopt;
        }
        return it->second;
    };
}

inline const env_lookup& empty_env()
{
    static const env_lookup env = fake_env({});
    return env;
}

/// 32 bytes of 'k', base64.
inline constexpr std::string_view k_test_key_b64 = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=";

/// Loads `yaml` and requires success.
inline config load_ok(std::string_view yaml, const env_lookup& env = empty_env())
{
    auto result = load_config_text(yaml, "test.yaml", env);
    if (auto* errors = std::get_if<std::vector<config_error>>(&result)) {
        for (const auto& e : *errors) {
            UNSCOPED_INFO(format_error(e));
        }
        FAIL("the config did not load");
    }
    return std::get<config>(std::move(result));
}

/// Loads `yaml` and requires failure; returns the errors.
inline std::vector<config_error> load_errors(std::string_view yaml,
                                             const env_lookup& env = empty_env())
{
    auto result = load_config_text(yaml, "test.yaml", env);
    REQUIRE(std::holds_alternative<std::vector<config_error>>(result));
    return std::get<std::vector<config_error>>(std::move(result));
}

/// The single error of a config that must fail with exactly one.
inline config_error single_error(std::string_view yaml, const env_lookup& env = empty_env())
{
    auto errors = load_errors(yaml, env);
    for (const auto& e : errors) {
        UNSCOPED_INFO(format_error(e));
    }
    REQUIRE(errors.size() == 1);
    return errors.front();
}

} // namespace oi::config::testing
