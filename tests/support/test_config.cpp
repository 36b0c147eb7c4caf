#include "support/test_config.hpp"

namespace oi::test {

namespace {

std::string loopback(unsigned short port)
{
    return "127.0.0.1:" + std::to_string(port);
}

/// `text` with a final newline, so that the next section starts on its own line.
std::string as_lines(const std::string& text)
{
    return text.empty() || text.back() == '\n' ? text : text + "\n";
}

} // namespace

std::string config_head::yaml() const
{
    std::string out =
        "listen:\n  proxy: " + loopback(proxy_port) + "\n  admin: " + loopback(admin_port) + "\n";
    if (public_port != 0) {
        out += "  public: " + loopback(public_port) + "\npublic_url: http://" +
               loopback(public_port) + "\n";
    }
    out += "admin_token: ${ADMIN_TOKEN}\nthreads: " + std::to_string(threads) + "\n";
    out += "store:\n  redis:\n    url: " + redis_url + "\n    key_prefix: " + key_prefix + "\n" +
           as_lines(redis_extra);
    out += "  encryption_keys:\n    - { id: k1, key: \"${TOKEN_KEY}\" }\n" + as_lines(store_extra);
    return out;
}

} // namespace oi::test
