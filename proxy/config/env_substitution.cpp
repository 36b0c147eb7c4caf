#include "config/env_substitution.hpp"

#include <cstdlib>

namespace oi::config {

namespace {

bool is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

bool is_valid_name(std::string_view name)
{
    if (name.empty() || !is_name_start(name.front())) {
        return false;
    }
    for (char c : name) {
        if (!is_name_char(c)) {
            return false;
        }
    }
    return true;
}

/// Expands the inside of one `${...}` (without the braces) onto `out`.
std::optional<substitution_error> expand_reference(std::string_view inner, const env_lookup& env,
                                                   std::string& out)
{
    std::string_view name = inner;
    std::optional<std::string_view> fallback;
    if (auto sep = inner.find(":-"); sep != std::string_view::npos) {
        name = inner.substr(0, sep);
        fallback = inner.substr(sep + 2);
    }

    if (!is_valid_name(name)) {
        return substitution_error{"invalid environment variable name in ${...}"};
    }
    if (fallback && fallback->find("${") != std::string_view::npos) {
        return substitution_error{"nested ${...} in a default value is not supported"};
    }

    std::optional<std::string> value = env(name);
    if (fallback && (!value || value->empty())) {
        out += *fallback;
        return std::nullopt;
    }
    if (!value) {
        return substitution_error{"environment variable " + std::string(name) + " is not set"};
    }
    out += *value;
    return std::nullopt;
}

} // namespace

env_lookup process_env()
{
    return [](std::string_view name) -> std::optional<std::string> {
        const char* value = std::getenv(std::string(name).c_str());
        if (value == nullptr) {
            return std::nullopt;
        }
        return std::string(value);
    };
}

std::variant<std::string, substitution_error> substitute_env(std::string_view text,
                                                             const env_lookup& env)
{
    std::string out;
    out.reserve(text.size());

    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t dollar = text.find('$', i);
        if (dollar == std::string_view::npos || dollar + 1 >= text.size()) {
            out += text.substr(i);
            break;
        }
        out += text.substr(i, dollar - i);

        char next = text[dollar + 1];
        if (next == '$') {
            out += '$';
            i = dollar + 2;
            continue;
        }
        if (next != '{') {
            out += '$';
            i = dollar + 1;
            continue;
        }

        std::size_t close = text.find('}', dollar + 2);
        if (close == std::string_view::npos) {
            return substitution_error{"unterminated ${ (missing })"};
        }
        if (auto err = expand_reference(text.substr(dollar + 2, close - dollar - 2), env, out)) {
            return *err;
        }
        i = close + 1;
    }
    return out;
}

} // namespace oi::config
