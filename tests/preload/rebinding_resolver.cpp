// An LD_PRELOAD library for the DNS-rebinding test (tests/integration/attack_test.cpp).
//
// It makes one name (OI_REBIND_NAME) resolve to a different address on each lookup, cycling
// through the comma-separated list in OI_REBIND_ANSWERS, the way a hostile DNS server with a zero
// TTL would. Every other name goes to the real getaddrinfo. Each lookup of the name is counted in
// the file OI_REBIND_COUNT (one byte appended per lookup), so the test can see how many lookups
// the proxy made. Another name (OI_HANG_NAME) stands for a DNS server that does not answer: its
// lookup returns EAI_AGAIN only after OI_HANG_SECONDS (default 12) seconds, for the tests of the
// store's bounded lookups (tests/integration/sentinel_proxy_test.cpp). Built as a module; never
// linked into the proxy.

#include <dlfcn.h>
#include <netdb.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using getaddrinfo_fn = int (*)(const char*, const char*, const addrinfo*, addrinfo**);

std::atomic<unsigned> g_lookups{0};

std::vector<std::string> answers()
{
    std::vector<std::string> out;
    const char* list = std::getenv("OI_REBIND_ANSWERS");
    std::string item;
    for (const char* p = list ? list : "";; ++p) {
        if (*p == ',' || *p == '\0') {
            if (!item.empty()) {
                out.push_back(item);
            }
            item.clear();
            if (*p == '\0') {
                break;
            }
        } else {
            item.push_back(*p);
        }
    }
    return out;
}

void count_lookup()
{
    if (const char* path = std::getenv("OI_REBIND_COUNT")) {
        if (FILE* f = std::fopen(path, "a")) {
            std::fputc('.', f);
            std::fclose(f);
        }
    }
}

} // namespace

extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                           addrinfo** res)
{
    static const auto real = reinterpret_cast<getaddrinfo_fn>(dlsym(RTLD_NEXT, "getaddrinfo"));
    const char* hang = std::getenv("OI_HANG_NAME");
    if (node != nullptr && hang != nullptr && std::strcmp(node, hang) == 0) {
        const char* seconds = std::getenv("OI_HANG_SECONDS");
        ::sleep(seconds != nullptr ? static_cast<unsigned>(std::atoi(seconds)) : 12U);
        return EAI_AGAIN;
    }
    const char* name = std::getenv("OI_REBIND_NAME");
    if (node == nullptr || name == nullptr || std::strcmp(node, name) != 0) {
        return real(node, service, hints, res);
    }

    const auto list = answers();
    if (list.empty()) {
        return EAI_NONAME;
    }
    count_lookup();
    const std::string& answer = list[g_lookups.fetch_add(1) % list.size()];

    // Let the real resolver build the result from a numeric address, so that the caller's
    // freeaddrinfo releases it normally.
    addrinfo numeric{};
    if (hints != nullptr) {
        numeric = *hints;
    }
    numeric.ai_flags |= AI_NUMERICHOST;
    return real(answer.c_str(), service, &numeric, res);
}
