#pragma once

// The part of a test proxy's YAML configuration that the integration tests share: the listeners,
// the admin token, the worker count and a Redis store with one encryption key. Secrets are
// references to the environment (`${ADMIN_TOKEN}`, `${TOKEN_KEY}`) that the test sets when it
// starts the binary. The test appends its own sections (connections, plugins, upstream, limits,
// log) as YAML text after `yaml()`.

#include <string>

namespace oi::test {

struct config_head {
    unsigned short proxy_port = 0;
    unsigned short admin_port = 0;
    unsigned short public_port = 0; // 0: no public listener; else listen.public and public_url
    unsigned threads = 2;
    std::string redis_url;
    std::string key_prefix = "test";
    std::string redis_extra; // lines under `store.redis`, indented four spaces
    std::string store_extra; // lines under `store`, indented two spaces

    /// `listen`, `public_url`, `admin_token`, `threads` and `store`, each line ending in '\n'.
    [[nodiscard]] std::string yaml() const;
};

} // namespace oi::test
