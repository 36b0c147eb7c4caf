#include "config/yaml_reader.hpp"

#include "config/units.hpp"

#include <algorithm>
#include <charconv>

namespace oi::config::detail {

namespace {

bool is_empty_value(const YAML::Node& node)
{
    return !node.IsDefined() || node.IsNull();
}

YAML::Mark value_mark_of(const YAML::Node& value, const YAML::Mark& key_mark)
{
    return is_empty_value(value) ? key_mark : value.Mark();
}

std::string describe_choices(std::span<const std::string_view> choices)
{
    std::string out;
    for (std::size_t i = 0; i < choices.size(); ++i) {
        if (i > 0) {
            out += i + 1 == choices.size() ? " or " : ", ";
        }
        out += choices[i];
    }
    return out;
}

} // namespace

const entry* map_view::find(std::string_view key) const
{
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [&](const entry& e) { return e.key == key; });
    return it == entries_.end() ? nullptr : &*it;
}

std::string join_path(std::string_view parent, std::string_view child)
{
    if (parent.empty()) {
        return std::string(child);
    }
    std::string out(parent);
    out += '.';
    out += child;
    return out;
}

entry root_entry(const YAML::Node& root)
{
    YAML::Mark start;
    start.line = 0;
    start.column = 0;
    return entry{"", root, start, is_empty_value(root) ? start : root.Mark(), ""};
}

void yaml_reader::error(const YAML::Mark& at, std::string_view path, std::string message)
{
    errors_.push_back(
        config_error{file_, at.line + 1, at.column + 1, std::string(path), std::move(message)});
}

std::vector<config_error> yaml_reader::take_errors()
{
    std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    return std::move(errors_);
}

std::optional<map_view> yaml_reader::fixed_map(const entry& at, std::span<const key_spec> known)
{
    return read_map(at.value, at.key_mark, at.path, &known);
}

std::optional<map_view> yaml_reader::fixed_map(const YAML::Node& node, const YAML::Mark& mark,
                                               const std::string& path,
                                               std::span<const key_spec> known)
{
    return read_map(node, mark, path, &known);
}

std::optional<map_view> yaml_reader::free_map(const entry& at)
{
    return read_map(at.value, at.key_mark, at.path, nullptr);
}

std::optional<map_view> yaml_reader::read_map(const YAML::Node& node, const YAML::Mark& mark,
                                              const std::string& path,
                                              std::span<const key_spec>* known)
{
    if (is_empty_value(node)) {
        return map_view({}, mark, path);
    }
    if (!node.IsMap()) {
        error(node.Mark(), path, "expected a map of keys to values");
        return std::nullopt;
    }

    std::vector<entry> entries;
    for (const auto& pair : node) {
        const YAML::Node& key = pair.first;
        if (!key.IsScalar()) {
            error(key.Mark(), path, "a key must be plain text");
            continue;
        }

        std::string name = key.Scalar();
        if (known != nullptr) {
            auto spec = std::find_if(known->begin(), known->end(), [&](const key_spec& k) {
                return k.name == name || (!k.alias.empty() && k.alias == name);
            });
            if (spec == known->end()) {
                error(key.Mark(), join_path(path, name), "unknown key");
                continue;
            }
            name = std::string(spec->name);
        }

        auto previous = std::find_if(entries.begin(), entries.end(),
                                     [&](const entry& e) { return e.key == name; });
        if (previous != entries.end()) {
            std::string message = "key given twice";
            if (key.Scalar() != name) {
                message += " (as " + key.Scalar() + " and under another spelling)";
            }
            message += "; the first is at line " + std::to_string(previous->key_mark.line + 1);
            error(key.Mark(), join_path(path, name), std::move(message));
            continue;
        }
        entries.push_back(entry{name, pair.second, key.Mark(),
                                value_mark_of(pair.second, key.Mark()), join_path(path, name)});
    }
    return map_view(std::move(entries), mark, path);
}

std::optional<std::vector<entry>> yaml_reader::list(const entry& at)
{
    if (is_empty_value(at.value)) {
        return std::vector<entry>{};
    }
    if (!at.value.IsSequence()) {
        error(at, "expected a list");
        return std::nullopt;
    }

    std::vector<entry> items;
    std::size_t index = 0;
    for (const YAML::Node& item : at.value) {
        std::string path = at.path + "[" + std::to_string(index++) + "]";
        YAML::Mark mark = is_empty_value(item) ? at.value_mark : item.Mark();
        items.push_back(entry{"", item, mark, mark, std::move(path)});
    }
    return items;
}

std::optional<std::string> yaml_reader::string(const entry& at)
{
    if (is_empty_value(at.value)) {
        return std::string();
    }
    if (!at.value.IsScalar()) {
        error(at, "expected a single value, not a list or map");
        return std::nullopt;
    }

    auto result = substitute_env(at.value.Scalar(), env_);
    if (auto* err = std::get_if<substitution_error>(&result)) {
        error(at, std::move(err->message));
        return std::nullopt;
    }
    return std::get<std::string>(std::move(result));
}

std::optional<std::string> yaml_reader::non_empty_string(const entry& at)
{
    auto value = string(at);
    if (value && value->empty()) {
        error(at, "must not be empty");
        return std::nullopt;
    }
    return value;
}

std::optional<bool> yaml_reader::boolean(const entry& at)
{
    auto value = string(at);
    if (!value) {
        return std::nullopt;
    }
    if (*value == "true") {
        return true;
    }
    if (*value == "false") {
        return false;
    }
    error(at, "expected true or false");
    return std::nullopt;
}

std::optional<std::uint64_t> yaml_reader::integer(const entry& at, std::uint64_t min,
                                                  std::uint64_t max)
{
    auto value = string(at);
    if (!value) {
        return std::nullopt;
    }
    std::uint64_t number = 0;
    auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), number);
    if (value->empty() || ec != std::errc{} || end != value->data() + value->size() ||
        number < min || number > max) {
        error(at,
              "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max));
        return std::nullopt;
    }
    return number;
}

std::optional<std::chrono::milliseconds> yaml_reader::duration(const entry& at, bool allow_zero)
{
    auto value = string(at);
    if (!value) {
        return std::nullopt;
    }
    auto parsed = parse_duration(*value);
    if (!parsed) {
        error(at, "expected a duration with a unit: ms, s, m or h (e.g. 500ms, 30s, 5m)");
        return std::nullopt;
    }
    if (!allow_zero && parsed->count() == 0) {
        error(at, "must be greater than zero");
        return std::nullopt;
    }
    return parsed;
}

std::optional<std::uint64_t> yaml_reader::size(const entry& at)
{
    auto value = string(at);
    if (!value) {
        return std::nullopt;
    }
    auto parsed = parse_size(*value);
    if (!parsed) {
        error(at, "expected a size in bytes, optionally with a unit: B, KiB, MiB or GiB");
        return std::nullopt;
    }
    if (*parsed == 0) {
        error(at, "must be greater than zero");
        return std::nullopt;
    }
    return parsed;
}

std::optional<std::size_t> yaml_reader::choice(const entry& at,
                                               std::span<const std::string_view> choices)
{
    auto value = string(at);
    if (!value) {
        return std::nullopt;
    }
    auto it = std::find(choices.begin(), choices.end(), *value);
    if (it == choices.end()) {
        error(at, "expected " + describe_choices(choices));
        return std::nullopt;
    }
    return static_cast<std::size_t>(it - choices.begin());
}

void yaml_reader::missing(const map_view& map, std::string_view key)
{
    error(map.mark(), join_path(map.path(), key), "required key is missing");
}

} // namespace oi::config::detail
