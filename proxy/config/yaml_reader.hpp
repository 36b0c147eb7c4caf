#pragma once

// The loader's reading context: walks a yaml-cpp tree, substitutes `${...}` in scalars, converts
// values, and collects every error with its file, line, column and dotted path instead of
// stopping at the first. Internal to oi_config; used on the loading thread only, at start-up.
//
// Positions: an error about a key (unknown, duplicated) points at the key; an error about a value
// points at the value, or at its key when the value is empty (yaml-cpp places an empty value at
// the next token, which would mislead). A missing key points at the key of the enclosing map.

#include "config/env_substitution.hpp"
#include "config/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace oi::config::detail {

/// One key of a map as the reader found it.
struct entry {
    std::string key; // canonical spelling (an alias is folded into its canonical name)
    YAML::Node value;
    YAML::Mark key_mark;
    YAML::Mark value_mark; // the key's mark when the value is empty
    std::string path;      // dotted path of the value
};

/// A known key and its optional alternative spelling (the plugin-manifest camelCase names).
struct key_spec {
    std::string_view name;
    std::string_view alias = {};
};

/// The keys of one YAML map, read and checked.
class map_view {
public:
    map_view() = default;
    map_view(std::vector<entry> entries, YAML::Mark mark, std::string path)
        : entries_(std::move(entries)), mark_(mark), path_(std::move(path))
    {}

    [[nodiscard]] const entry* find(std::string_view key) const;
    [[nodiscard]] const std::vector<entry>& entries() const noexcept { return entries_; }
    [[nodiscard]] const YAML::Mark& mark() const noexcept { return mark_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    std::vector<entry> entries_;
    YAML::Mark mark_;
    std::string path_;
};

class yaml_reader {
public:
    yaml_reader(std::string_view file_name, const env_lookup& env) : file_(file_name), env_(env) {}

    void error(const YAML::Mark& at, std::string_view path, std::string message);
    void error(const entry& at, std::string message)
    {
        error(at.value_mark, at.path, std::move(message));
    }
    [[nodiscard]] std::vector<config_error> take_errors();
    [[nodiscard]] bool has_errors() const noexcept { return !errors_.empty(); }

    /// A map whose keys must all be in `known`; unknown and repeated keys are errors. nullopt
    /// (and an error) when the node is not a map; an empty value counts as an empty map.
    std::optional<map_view> fixed_map(const entry& at, std::span<const key_spec> known);
    std::optional<map_view> fixed_map(const YAML::Node& node, const YAML::Mark& mark,
                                      const std::string& path, std::span<const key_spec> known);
    /// A map with free-form keys (ids); repeated keys are errors.
    std::optional<map_view> free_map(const entry& at);

    /// A list's items as entries with paths `path[i]`; an empty value counts as an empty list.
    std::optional<std::vector<entry>> list(const entry& at);

    /// A scalar after `${...}` substitution; an empty value reads as "".
    std::optional<std::string> string(const entry& at);
    std::optional<std::string> non_empty_string(const entry& at);
    std::optional<bool> boolean(const entry& at);
    std::optional<std::uint64_t> integer(const entry& at, std::uint64_t min, std::uint64_t max);
    std::optional<std::chrono::milliseconds> duration(const entry& at, bool allow_zero);
    std::optional<std::uint64_t> size(const entry& at);

    /// `value` must be one of `choices`; the error lists them.
    std::optional<std::size_t> choice(const entry& at, std::span<const std::string_view> choices);

    /// Reports a missing required key at the enclosing map.
    void missing(const map_view& map, std::string_view key);

private:
    std::optional<map_view> read_map(const YAML::Node& node, const YAML::Mark& mark,
                                     const std::string& path, std::span<const key_spec>* known);

    std::string file_;
    const env_lookup& env_;
    std::vector<config_error> errors_;
};

/// The root of a document as an entry (path "", positions at the document's start).
[[nodiscard]] entry root_entry(const YAML::Node& root);

/// `parent.child`, or `child` at the root.
[[nodiscard]] std::string join_path(std::string_view parent, std::string_view child);

} // namespace oi::config::detail
