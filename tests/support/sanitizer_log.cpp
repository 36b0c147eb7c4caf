#include "support/sanitizer_log.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace oi::test {
namespace {

constexpr std::string_view k_log_name = "sanitizer"; // the runtimes append ".<pid>"

void append_option(environment_overrides& env, const std::string& name, const std::string& option)
{
    for (auto& [key, value] : env) {
        if (key == name) {
            value += (value.empty() ? "" : ":") + option;
            return;
        }
    }
    const char* inherited = std::getenv(name.c_str());
    const std::string base = inherited ? inherited : "";
    env.emplace_back(name, base.empty() ? option : base + ":" + option);
}

} // namespace

void add_sanitizer_log_path(environment_overrides& env, const std::filesystem::path& dir)
{
    // UBSan inside ASan reads its own variable too, and either may set log_path.
    const std::string option = "log_path=" + (dir / k_log_name).string();
    append_option(env, "ASAN_OPTIONS", option);
    append_option(env, "UBSAN_OPTIONS", option);
}

std::string read_sanitizer_reports(const std::filesystem::path& dir)
{
    std::string text;
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ignored)) {
        if (entry.path().filename().string().starts_with(std::string{k_log_name} + ".")) {
            std::ifstream in(entry.path(), std::ios::binary);
            std::ostringstream content;
            content << in.rdbuf();
            text += content.str();
        }
    }
    return text;
}

} // namespace oi::test
