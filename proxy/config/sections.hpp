#pragma once

// One reader per top-level section of the YAML, internal to oi_config. Each fills its part of
// `config` from the section's entry and reports problems to the yaml_reader; on an error the field
// keeps its default and loading goes on, so that every error is found in one pass.

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace oi::config::detail {

/// When `map` has `key`, reads it with `read` (a reader call returning std::optional) into
/// `field`; a missing key or a bad value leaves `field` unchanged.
template <typename T, typename Read>
void assign(const map_view& map, std::string_view key, T& field, Read&& read)
{
    if (const entry* e = map.find(key)) {
        if (auto value = read(*e)) {
            field = std::move(*value);
        }
    }
}

void read_listen(yaml_reader& r, const entry& at, listen_config& out);
void read_store(yaml_reader& r, const entry& at, store_config& out);
void read_identity(yaml_reader& r, const entry& at, identity_config& out);
void read_placeholders(yaml_reader& r, const entry& at, std::vector<std::string>& out);
void read_upstream(yaml_reader& r, const entry& at, upstream_config& out);
void read_intercept(yaml_reader& r, const entry& at, intercept_config& out);
void read_limits(yaml_reader& r, const entry& at, limits_config& out);
void read_log(yaml_reader& r, const entry& at, log_config& out);

/// `connections:`: the shared connections, keyed by id.
void read_connections(yaml_reader& r, const entry& at, std::map<std::string, connection>& out);

/// `plugins:`; a plugin's own connection is added to `connections` as `plugin:<id>`. Must run
/// after read_connections so that references to shared connections can be checked.
void read_plugins(yaml_reader& r, const entry& at, std::map<std::string, plugin>& plugins,
                  std::map<std::string, connection>& connections);

} // namespace oi::config::detail
