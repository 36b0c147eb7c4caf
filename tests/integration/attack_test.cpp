// Attacks on the real binary (issue 6): each test tries one way a plugin, a hostile upstream or a
// network neighbour could get a token it should not have, or starve other clients, and shows that
// the proxy refuses it. The pure parsers and the JWT verifier have their own unit tests; these
// check that the binary wires them in.

#include "proxy_fixture.hpp"

#include "common/base64.hpp"
#include "common/secret.hpp"
#include "identity/identity.hpp"

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>

using namespace oi::test;

namespace {

constexpr std::string_view k_identity_secret = "identity-secret-for-attack-tests-0123456789";

/// A proxy in front of the fixture's origins whose config the test writes: `identity_block` and
/// `upstream_block` are whole YAML sections; the rest is fixed.
struct attack_proxy {
    redis_server redis;
    origin_server plain;
    scoped_temp_dir dir;
    unsigned short proxy_port = free_tcp_port();
    unsigned short admin_port = free_tcp_port();
    std::unique_ptr<process> proxy;

    void start(const std::string& identity_block, const std::string& upstream_block,
               const std::string& limits_block = "",
               std::vector<std::pair<std::string, std::string>> extra_env = {})
    {
        config_head head;
        head.proxy_port = proxy_port;
        head.admin_port = admin_port;
        head.redis_url = redis.url();
        const std::string config = head.yaml() + identity_block + R"(
connections:
  google:
    authorization_url: https://accounts.example.com/auth
    token_url: https://accounts.example.com/token
    client_id: client-1
    allowed_hosts: [127.0.0.1, localhost, rebind.oi-test]
plugins:
  calendar: { connection: google }
)" + upstream_block + limits_block +
                                   "log: { level: debug, format: json }\n";
        std::vector<std::pair<std::string, std::string>> env{
            {"ADMIN_TOKEN", std::string{k_admin_token}},
            {"TOKEN_KEY", std::string{k_token_key}},
            {"IDENTITY_SECRET", std::string{k_identity_secret}}};
        env.insert(env.end(), extra_env.begin(), extra_env.end());
        proxy = start_proxy_binary(dir.path() / "config.yaml", config, std::move(env), proxy_port,
                                   admin_port);
    }

    [[nodiscard]] std::string upstream_allowing_origin() const
    {
        return "upstream:\n  allow_addresses: [" + plain.address() + "]\n  connect_timeout: 2s\n";
    }
};

/// `text` with "{port}" replaced by `port`.
std::string with_port(std::string text, unsigned short port)
{
    if (const std::size_t at = text.find("{port}"); at != std::string::npos) {
        text.replace(at, 6, std::to_string(port));
    }
    return text;
}

/// A GET with the placeholder in Authorization (or none, when `placeholder` is false).
std::string get_request(const std::string& url, std::string_view identity_lines,
                        bool placeholder = true)
{
    return "GET " + url + " HTTP/1.1\r\nHost: x\r\n" + std::string{identity_lines} +
           (placeholder ? "Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}\r\n" : "") +
           "Connection: close\r\n\r\n";
}

std::string b64(std::string_view text)
{
    return oi::base64url_encode(text);
}

std::string
signed_token(std::string_view key, std::chrono::seconds ttl,
             std::chrono::system_clock::time_point now = std::chrono::system_clock::now())
{
    return oi::identity::sign_identity(oi::secret{std::string{key}}, "alice", "calendar", ttl, now);
}

} // namespace

TEST_CASE("with an identity secret set, forged, expired and unsigned identities are refused",
          "[attack][integration]")
{
    attack_proxy f;
    f.start("identity:\n  secret: ${IDENTITY_SECRET}\n  max_ttl: 10m\n",
            f.upstream_allowing_origin());
    const auto now = std::chrono::system_clock::now();
    const std::string valid = signed_token(k_identity_secret, std::chrono::minutes(5));
    const std::string body_part = valid.substr(valid.find('.') + 1);
    const std::string forged_payload =
        b64(R"({"sub":"bob","plugin":"calendar","exp":)" +
            std::to_string(std::chrono::system_clock::to_time_t(now) + 300) + "}");

    struct attempt {
        std::string what;
        std::string headers;
        std::string code;
    };
    const auto a = GENERATE_COPY(
        attempt{"unsigned headers", "X-Plugin-User: alice\r\nX-Plugin-Id: calendar\r\n",
                "identity_required"},
        attempt{"alg none",
                "X-Plugin-Identity: " + b64(R"({"alg":"none","typ":"JWT"})") + "." +
                    forged_payload + ".\r\n",
                "identity_invalid"},
        attempt{"HS512 header on an HS256 signature",
                "X-Plugin-Identity: " + b64(R"({"alg":"HS512","typ":"JWT"})") + "." + body_part +
                    "\r\n",
                "identity_invalid"},
        attempt{
            "signed with another key",
            "X-Plugin-Identity: " +
                signed_token("another-secret-of-the-same-length-0123456", std::chrono::minutes(5)) +
                "\r\n",
            "identity_invalid"},
        attempt{"payload changed under the original signature",
                "X-Plugin-Identity: " + valid.substr(0, valid.find('.')) + "." + forged_payload +
                    valid.substr(valid.rfind('.')) + "\r\n",
                "identity_invalid"},
        attempt{"expired",
                "X-Plugin-Identity: " +
                    signed_token(k_identity_secret, std::chrono::minutes(5),
                                 now - std::chrono::hours(1)) +
                    "\r\n",
                "identity_invalid"},
        attempt{"valid longer than max_ttl",
                "X-Plugin-Identity: " + signed_token(k_identity_secret, std::chrono::hours(24)) +
                    "\r\n",
                "identity_invalid"});
    CAPTURE(a.what);

    const auto r = http_exchange(f.proxy_port, get_request(f.plain.url("/"), a.headers));

    CHECK(r.status == 407);
    CHECK(r.header("X-OAuth-Injector-Error") == a.code);
    CHECK(f.plain.requests().empty());
}

TEST_CASE("a valid signed identity is served and cannot be overridden by plain headers",
          "[attack][integration]")
{
    attack_proxy f;
    f.start("identity:\n  secret: ${IDENTITY_SECRET}\n", f.upstream_allowing_origin());
    REQUIRE(http_exchange(f.admin_port,
                          "PUT /v1/connections/google/grants/alice HTTP/1.1\r\nHost: a\r\n"
                          "Authorization: Bearer " +
                              std::string{k_admin_token} +
                              "\r\nContent-Length: 39\r\n\r\n"
                              R"({"access_token":"alice-token-abcdefgh"})")
                .status == 200);
    const std::string token = signed_token(k_identity_secret, std::chrono::minutes(5));

    const auto r = http_exchange(f.proxy_port,
                                 get_request(f.plain.url("/"), "X-Plugin-Identity: " + token +
                                                                   "\r\nX-Plugin-User: bob\r\n"));

    REQUIRE(r.status == 200);
    REQUIRE(f.plain.requests().size() == 1);
    const auto seen = f.plain.requests().front();
    CHECK(seen.header("Authorization") == "Bearer alice-token-abcdefgh");
    CHECK(seen.header_count("X-Plugin-User") == 0);
    CHECK(seen.header_count("X-Plugin-Identity") == 0);
}

TEST_CASE("loopback, private, metadata and other special addresses are never connected to",
          "[attack][integration]")
{
    attack_proxy f;
    f.start("", "upstream:\n  deny_private_addresses: true\n  connect_timeout: 2s\n");
    // The origin's port is added here, not in the GENERATE: its values are made once, on the
    // first run, and each run starts a new origin.
    const std::string target = GENERATE(
        as<std::string>{}, "127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}",
        "[::ffff:127.0.0.1]:{port}", "0.0.0.0:{port}", "169.254.169.254", "[fd00:ec2::254]",
        "10.0.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1", "[fe80::1]", "224.0.0.1");
    const std::string host = with_port(target, f.plain.port());
    CAPTURE(host);

    // No placeholder: the host checks of the connection do not apply, only the address policy.
    const auto r = http_exchange(
        f.proxy_port, get_request("http://" + host + "/latest/meta-data/",
                                  "X-Plugin-User: alice\r\nX-Plugin-Id: calendar\r\n", false));

    CHECK(r.status == 403);
    CHECK(r.header("X-OAuth-Injector-Error") == "destination_denied");
    CHECK(f.plain.requests().empty());
}

TEST_CASE("loopback written in unusual numeric forms is refused too", "[attack][integration]")
{
    // getaddrinfo accepts inet_aton's forms (decimal, hex, octal, short); a host check that only
    // knew dotted quads would let these through to 127.0.0.1.
    attack_proxy f;
    f.start("", "upstream:\n  deny_private_addresses: true\n");
    const std::string target = GENERATE(as<std::string>{}, "2130706433:{port}", "0x7f000001:{port}",
                                        "017700000001:{port}", "127.1:{port}", "0x7f.0.0.1:{port}");
    const std::string host = with_port(target, f.plain.port());
    CAPTURE(host);

    const auto r = http_exchange(
        f.proxy_port, get_request("http://" + host + "/",
                                  "X-Plugin-User: alice\r\nX-Plugin-Id: calendar\r\n", false));

    CHECK((r.status == 400 || r.status == 403));
    CHECK(f.plain.requests().empty());
}

TEST_CASE("a name that answers differently on each lookup cannot steer the proxy to loopback",
          "[attack][integration]")
{
    // DNS rebinding: the first answer is an allowed address, later ones the forbidden loopback
    // address the origin listens on. A proxy that checked one answer and connected to another
    // would reach the origin; this one connects only to the address it checked.
    attack_proxy f;
    const auto counter = f.dir.path() / "lookups";
    f.start("",
            "upstream:\n  deny_private_addresses: true\n  connect_timeout: 2s\n"
            "  allow_addresses: [127.0.0.2]\n",
            "",
            {{"LD_PRELOAD", OI_REBINDING_RESOLVER},
             {"ASAN_OPTIONS", "verify_asan_link_order=0"},
             {"OI_REBIND_NAME", "rebind.oi-test"},
             {"OI_REBIND_ANSWERS", "127.0.0.2,127.0.0.1"},
             {"OI_REBIND_COUNT", counter.string()}});
    const std::string url = "http://rebind.oi-test:" + std::to_string(f.plain.port()) + "/";
    const std::string ids = "X-Plugin-User: alice\r\nX-Plugin-Id: calendar\r\n";

    const auto first = http_exchange(f.proxy_port, get_request(url, ids, false));
    const auto second = http_exchange(f.proxy_port, get_request(url, ids, false));

    // First lookup: 127.0.0.2, allowed, where nothing listens. Second: 127.0.0.1, refused.
    CHECK(first.status == 502);
    CHECK(first.header("X-OAuth-Injector-Error") == "upstream_unreachable");
    CHECK(second.status == 403);
    CHECK(second.header("X-OAuth-Injector-Error") == "destination_denied");
    CHECK(f.plain.requests().empty());
    std::ifstream lookups{counter};
    const std::string dots{std::istreambuf_iterator<char>{lookups}, {}};
    CHECK(dots.size() == 2); // one lookup per request: the checked answer is the one used
}

TEST_CASE("an upstream response carrying a second message is not delivered to the next request",
          "[attack][integration]")
{
    // Response smuggling: the origin answers one request with two responses. The extra bytes
    // must not become the answer to the client's next request on the same connection.
    attack_proxy f;
    f.plain.set_handler([](const recorded_request& rq, response_writer& w) {
        if (rq.target == "/first") {
            w.write_raw("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
                        "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled");
        } else {
            w.respond(canned_response{.body = "genuine"});
        }
    });
    f.start("", f.upstream_allowing_origin());
    const std::string ids = "X-Plugin-User: alice\r\nX-Plugin-Id: calendar\r\n";
    raw_connection c{f.proxy_port};

    c.send("GET " + f.plain.url("/first") + " HTTP/1.1\r\nHost: x\r\n" + ids + "\r\n");
    const auto first = c.read_response();
    c.send("GET " + f.plain.url("/second") + " HTTP/1.1\r\nHost: x\r\n" + ids + "\r\n");
    const auto second = c.read_response();

    CHECK(first.body == "first");
    CHECK(second.body == "genuine");
    CHECK(f.plain.wait_for_requests(2, std::chrono::seconds(5)));
}

TEST_CASE("an upstream response with ambiguous framing is refused and never reused",
          "[attack][integration]")
{
    attack_proxy f;
    const std::string response = GENERATE(
        std::string{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n0\r\n\r\n"},
        std::string{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"},
        std::string{"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n"},
        std::string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"},
        std::string{"HTTP/1.1 200 OK\r\nBad\rHeader: 1\r\nContent-Length: 0\r\n\r\n"});
    CAPTURE(response);
    f.plain.set_handler(respond_raw(response, false));
    f.start("", f.upstream_allowing_origin());
    const std::string ids = "X-Plugin-User: alice\r\nX-Plugin-Id: calendar\r\n";
    raw_connection c{f.proxy_port, std::chrono::seconds(2)};

    c.send("GET " + f.plain.url("/") + " HTTP/1.1\r\nHost: x\r\n" + ids + "\r\n");
    const std::string answer = c.read_until_close();
    CAPTURE(answer);

    // Either refused before anything was relayed, or cut off mid-body with the client connection
    // closed: never a clean answer on a connection that goes on being used.
    if (answer.starts_with("HTTP/1.1 502")) {
        CHECK(answer.find("X-OAuth-Injector-Error: upstream_bad_response") != std::string::npos);
    } else {
        CHECK(c.closed_by_peer());
        CHECK(answer.find("0\r\n\r\n") == std::string::npos);
    }
}

namespace {

/// What follows "<METHOD> <absolute URL> HTTP/1.1" and the identity lines in a refused request:
/// the rest of its head and its body. Written without the origin's port: Catch2 makes the values
/// of a GENERATE once, on the first run of a test case, while each run starts a new origin.
struct framing_attack {
    std::string method;
    std::string rest;
};

/// Sends each attack through the proxy toward the origin, followed on the same connection by a
/// second, well-formed request that would reach the origin if a peer disagreed on where the
/// first one ends; the proxy must refuse the first with 400, close, and forward nothing.
void check_refused_and_closed(const framing_attack& attack)
{
    attack_proxy f;
    f.start("", f.upstream_allowing_origin());
    const std::string ids = "X-Plugin-User: alice\r\nX-Plugin-Id: calendar\r\n";
    const std::string smuggled =
        "GET " + f.plain.url("/smuggled") + " HTTP/1.1\r\nHost: x\r\n" + ids + "\r\n";
    raw_connection c{f.proxy_port, std::chrono::seconds(5)};

    c.send(attack.method + " " + f.plain.url("/first") + " HTTP/1.1\r\nHost: x\r\n" + ids +
           attack.rest + smuggled);
    const auto r = c.read_response();

    CHECK(r.status == 400);
    CHECK(r.header("X-OAuth-Injector-Error") == "bad_request");
    CHECK(c.closed_by_peer());
    CHECK(f.plain.requests().empty());
}

} // namespace

TEST_CASE("a request smuggled behind an ambiguous one is never forwarded", "[attack][integration]")
{
    // CL.TE and TE.CL desync attempts: whichever framing a peer believed, the bytes after the
    // ambiguous request would be a second request.
    const auto attack = GENERATE(
        framing_attack{"POST", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
        framing_attack{"POST", "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n"},
        framing_attack{"POST", "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"},
        framing_attack{"POST", "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"},
        framing_attack{"POST", "Content-Length: +5\r\n\r\n"});
    CAPTURE(attack.rest);
    check_refused_and_closed(attack);
}

TEST_CASE("a request with a bare CR, a NUL or an overflowing chunk size is refused and closes",
          "[attack][integration]")
{
    // Bytes that some parsers take as a line end or a string end, and a chunk size that wraps a
    // 64-bit counter: each could make two parsers disagree on where the request ends. The chunked
    // ones are found only while the body is relayed, after the destination was accepted.
    const auto attack = GENERATE(
        framing_attack{"GET", "X-A: one\rX-B: two\r\n\r\n"},          // bare CR inside a field line
        framing_attack{"GET", "X-A: one\r\r\n\r\n"},                  // bare CR before the line end
        framing_attack{"GET", std::string("X-A: o\0ne\r\n\r\n", 13)}, // NUL in a value
        // 2^64 + 5: five bytes to a parser whose size wraps
        framing_attack{"POST",
                       "Transfer-Encoding: chunked\r\n\r\n10000000000000005\r\nabcde\r\n0\r\n\r\n"},
        framing_attack{"POST", "Transfer-Encoding: chunked\r\n\r\n5\rabcde\r\n0\r\n\r\n"});
    CAPTURE(attack.rest);
    check_refused_and_closed(attack);
}

TEST_CASE("an upstream redirect is passed back to the client, never followed",
          "[attack][integration]")
{
    // Following it would carry the injected Authorization to wherever the upstream points.
    attack_proxy f;
    origin_server elsewhere;
    f.plain.set_handler(redirect_to(elsewhere.url("/collect"), 307));
    f.start("", "upstream:\n  allow_addresses: [" + f.plain.address() + ", " + elsewhere.address() +
                    "]\n");

    const auto r = http_exchange(
        f.proxy_port,
        get_request(f.plain.url("/api"), "X-Plugin-User: alice\r\nX-Plugin-Id: calendar\r\n"));

    CHECK(r.status == 307);
    CHECK(r.header("Location") == elsewhere.url("/collect"));
    CHECK(f.plain.requests().size() == 1);
    CHECK(elsewhere.requests().empty());
}

namespace {

/// A plain socket to 127.0.0.1:port for the slowloris test (one io_context per connection, as
/// raw_connection has, would be wasteful for a thousand of them).
class slow_socket {
public:
    explicit slow_socket(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0))
    {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ =
            fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~slow_socket()
    {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    slow_socket(const slow_socket&) = delete;
    slow_socket& operator=(const slow_socket&) = delete;

    [[nodiscard]] bool connected() const { return connected_; }
    bool send(std::string_view bytes)
    {
        return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
               static_cast<ssize_t>(bytes.size());
    }
    [[nodiscard]] int fd() const { return fd_; }

private:
    int fd_;
    bool connected_ = false;
};

} // namespace

TEST_CASE("a slowloris of a thousand connections neither starves other clients nor lingers",
          "[attack][integration]")
{
    attack_proxy f;
    f.start("", f.upstream_allowing_origin(), "limits:\n  header_timeout: 3s\n");
    const std::string ids = "X-Plugin-User: alice\r\nX-Plugin-Id: calendar\r\n";
    const std::string partial = "GET " + f.plain.url("/") + " HTTP/1.1\r\nHost: x\r\n";
    std::vector<std::unique_ptr<slow_socket>> attackers;
    for (int i = 0; i < 1000; ++i) {
        attackers.push_back(std::make_unique<slow_socket>(f.proxy_port));
        REQUIRE(attackers.back()->connected());
        attackers.back()->send(partial);
    }

    // While they all trickle, an honest client is served.
    const auto started = std::chrono::steady_clock::now();
    for (auto& a : attackers) {
        a->send("X-Trickle: 1\r\n");
    }
    const auto honest = http_exchange(f.proxy_port, get_request(f.plain.url("/"), ids));
    const auto honest_took = std::chrono::steady_clock::now() - started;

    CHECK(honest.status == 200);
    CHECK(honest_took < std::chrono::seconds(3)); // served before the attackers' deadline

    // The head deadline is for the whole head, however steadily the bytes trickle: after it,
    // every attacker has been answered (408/400) or cut off. Wait for all of them with poll(),
    // still trickling to the ones not yet done.
    std::vector<pollfd> waiting;
    for (auto& a : attackers) {
        waiting.push_back(pollfd{.fd = a->fd(), .events = POLLIN, .revents = 0});
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (!waiting.empty() && std::chrono::steady_clock::now() < deadline) {
        ::poll(waiting.data(), waiting.size(), 250);
        std::erase_if(waiting, [](const pollfd& p) { return p.revents != 0; });
        for (auto& p : waiting) {
            ::send(p.fd, "X-Trickle: 1\r\n", 14, MSG_NOSIGNAL);
        }
    }
    CHECK(waiting.empty());
    CHECK(f.plain.requests().size() == 1);
}
