// The YAML config loader. Any text either loads or gives errors, never a crash or an exception;
// every error names a position inside the text. A config that loads prints (check-config
// --print) without the secrets the environment supplied, and when nothing was masked the
// printed text loads back and prints the same.

#include "config/loader.hpp"
#include "config/printer.hpp"
#include "fuzz_support.hpp"

#include <yaml-cpp/yaml.h>

#include <string>

namespace {

constexpr std::string_view k_env_secret = "s3cr3t-from-env-0123456789abcdef0123456789";

/// Every variable is set to a recognizable secret, except those starting with U (unset).
std::optional<std::string> fuzz_env(std::string_view name)
{
    if (name.starts_with('U')) {
        return std::nullopt;
    }
    return std::string(k_env_secret);
}

/// The node at `path` below `root`, or an invalid node when a step is missing (yaml-cpp throws
/// when indexing through a missing key).
YAML::Node at(YAML::Node node, std::initializer_list<const char*> path)
{
    for (const char* key : path) {
        if (!node.IsMap() || !node[key]) {
            return YAML::Node(YAML::NodeType::Undefined);
        }
        node = node[key];
    }
    return node;
}

bool masked_or_empty(const YAML::Node& node)
{
    if (!node.IsDefined()) {
        return true; // not printed at all (e.g. no redis section)
    }
    const auto text = node.as<std::string>();
    return text.empty() || text == oi::config::k_masked;
}

/// Every secret's place in the printed YAML holds the mask or nothing.
void check_masked(const std::string& printed)
{
    using oi::fuzz::require;
    const YAML::Node root = YAML::Load(printed);
    require(masked_or_empty(at(root, {"admin_token"})), "the admin token printed");
    require(masked_or_empty(at(root, {"identity", "secret"})), "the identity secret printed");
    require(masked_or_empty(at(root, {"store", "redis", "password"})),
            "the redis password printed");
    for (const auto& key : at(root, {"store", "encryption_keys"})) {
        require(masked_or_empty(at(key, {"key"})), "an encryption key printed");
    }
    for (const auto& c : at(root, {"connections"})) {
        require(masked_or_empty(at(c.second, {"client_secret"})), "a client secret printed");
    }
    for (const auto& p : at(root, {"plugins"})) {
        require(masked_or_empty(at(p.second, {"oauth", "client_secret"})),
                "a client secret printed");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using oi::fuzz::require;
    const std::string_view text{reinterpret_cast<const char*>(data), size};
    const oi::config::env_lookup env = fuzz_env;

    auto loaded = oi::config::load_config_text(text, "fuzz.yaml", env);
    if (auto* errors = std::get_if<std::vector<oi::config::config_error>>(&loaded)) {
        require(!errors->empty(), "failed without an error");
        for (const auto& e : *errors) {
            require(e.line >= 0 && e.column >= 0, "a negative position");
            require(!e.message.empty(), "an error without a message");
        }
        return 0;
    }

    const auto& cfg = std::get<oi::config::config>(loaded);
    const std::string printed = oi::config::print_config(cfg);
    check_masked(printed);
    if (printed.find(oi::config::k_masked) != std::string::npos) {
        return 0;
    }
    auto again = oi::config::load_config_text(printed, "printed.yaml", env);
    require(std::holds_alternative<oi::config::config>(again), "the printed config does not load");
    require(oi::config::print_config(std::get<oi::config::config>(again)) == printed,
            "the printed config does not print the same");
    return 0;
}
