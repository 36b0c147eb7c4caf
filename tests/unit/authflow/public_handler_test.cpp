#include "authflow/public_handler.hpp"

#include "authflow/flow_state.hpp"
#include "authflow/pkce.hpp"
#include "store/memory_grant_store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/url/parse.hpp>
#include <catch2/catch.hpp>

#include <map>

namespace http = boost::beast::http;

namespace {

using namespace std::chrono_literals;

oi::config::config flow_config()
{
    oi::config::config cfg;
    cfg.public_url = "https://auth.example.com";
    cfg.listen.public_listener = oi::config::endpoint{"127.0.0.1", 0};
    oi::config::connection c;
    c.id = "google";
    c.authorization_url = "https://accounts.example.com/auth?tenant=t1";
    c.token_url = "https://accounts.example.com/token";
    c.client_id = "client-1";
    c.scopes = {"calendar.read"};
    c.allowed_hosts = {"api.example.com"};
    cfg.connections["google"] = c;
    return cfg;
}

/// Everything one request needs: a memory store, a connector that /oauth/start never uses.
struct fixture {
    oi::config::config cfg = flow_config();
    boost::asio::io_context io;
    boost::asio::ssl::context tls{boost::asio::ssl::context::tls_client};
    oi::upstream::connector connector{io, tls, cfg.upstream};
    std::shared_ptr<oi::store::memory_grant_backend> backend =
        std::make_shared<oi::store::memory_grant_backend>();
    oi::store::memory_grant_store store{backend};
    oi::metrics::metrics metrics{cfg};
    oi::authflow::link_signer links{oi::secret{std::string(32, 'k')}};
    oi::authflow::public_context ctx{cfg, store, connector, metrics, links, {}};

    std::optional<oi::authflow::public_answer> get(const std::string& target,
                                                   http::verb method = http::verb::get)
    {
        oi::authflow::request req{method, target, 11};
        std::optional<std::optional<oi::authflow::public_answer>> out;
        boost::asio::co_spawn(io, oi::authflow::handle_public(req, ctx),
                              [&](std::exception_ptr e, auto answer) {
                                  if (e) {
                                      std::rethrow_exception(e);
                                  }
                                  out = std::move(answer);
                              });
        io.restart();
        io.run();
        REQUIRE(out.has_value());
        return std::move(*out);
    }

    std::string start_target(std::chrono::system_clock::time_point now)
    {
        const auto link = links.mint(cfg.public_url, "google", "alice", "", now);
        return link.url.substr(cfg.public_url.size());
    }
};

std::map<std::string, std::string> query_of(std::string_view url)
{
    const auto parsed = boost::urls::parse_uri_reference(url);
    REQUIRE(parsed.has_value());
    std::map<std::string, std::string> out;
    for (const auto& param : parsed->params()) {
        out[param.key] = param.value;
    }
    return out;
}

void check_page_headers(const oi::authflow::response& res)
{
    CHECK(res[http::field::cache_control] == "no-store");
    CHECK(res["Referrer-Policy"] == "no-referrer");
}

} // namespace

TEST_CASE("/oauth/start stores the user, connection and the verifier of the challenge",
          "[authflow][public]")
{
    fixture f;

    const auto answer = f.get(f.start_target(std::chrono::system_clock::now()));

    REQUIRE(answer.has_value());
    REQUIRE(answer->res.result_int() == 302);
    check_page_headers(answer->res);
    const std::string location(answer->res[http::field::location]);
    CHECK(location.rfind("https://accounts.example.com/auth?tenant=t1&", 0) == 0);
    auto q = query_of(location);
    CHECK(q["redirect_uri"] == "https://auth.example.com/oauth/callback");
    const auto record = f.backend->take_state(q["state"]);
    REQUIRE(record.has_value());
    const auto state = oi::authflow::decode_flow_state(*record);
    REQUIRE(state.has_value());
    CHECK(state->connection == "google");
    CHECK(state->user == "alice");
    CHECK(oi::authflow::s256_challenge(state->code_verifier.reveal()) == q["code_challenge"]);
}

TEST_CASE("an expired or tampered link gets a page and stores no state", "[authflow][public]")
{
    fixture f;
    const std::string expired = f.start_target(std::chrono::system_clock::now() - 11min);
    std::string tampered = f.start_target(std::chrono::system_clock::now());
    tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';

    const auto old = f.get(expired);
    const auto forged = f.get(tampered);
    const auto missing = f.get("/oauth/start");

    REQUIRE(old.has_value());
    CHECK(old->res.result_int() == 410);
    CHECK(old->res["X-OAuth-Injector-Error"] == "link_expired");
    check_page_headers(old->res);
    REQUIRE(forged.has_value());
    CHECK(forged->res.result_int() == 400);
    CHECK(forged->res["X-OAuth-Injector-Error"] == "link_invalid");
    REQUIRE(missing.has_value());
    CHECK(missing->res.result_int() == 400);
}

TEST_CASE("a callback with access_denied consumes the state and stores nothing",
          "[authflow][public]")
{
    fixture f;
    const auto start = f.get(f.start_target(std::chrono::system_clock::now()));
    REQUIRE(start.has_value());
    const std::string state = query_of(start->res[http::field::location])["state"];

    const auto denied = f.get("/oauth/callback?state=" + state + "&error=access_denied");
    const auto again = f.get("/oauth/callback?state=" + state + "&code=abc");

    REQUIRE(denied.has_value());
    CHECK(denied->res.result_int() == 403);
    CHECK(denied->res["X-OAuth-Injector-Error"] == "access_denied");
    check_page_headers(denied->res);
    REQUIRE(again.has_value());
    CHECK(again->res.result_int() == 400);
    CHECK(again->res["X-OAuth-Injector-Error"] == "invalid_state");
    CHECK(f.backend->size() == 0);
}

TEST_CASE("a provider error code is shown escaped or not at all", "[authflow][public]")
{
    fixture f;
    const auto start = f.get(f.start_target(std::chrono::system_clock::now()));
    REQUIRE(start.has_value());
    const std::string state = query_of(start->res[http::field::location])["state"];

    const auto answer =
        f.get("/oauth/callback?state=" + state + "&error=%3Cscript%3Ealert(1)%3C/script%3E");

    REQUIRE(answer.has_value());
    CHECK(answer->res.result_int() == 502);
    CHECK(answer->res.body().find("<script") == std::string::npos);
    CHECK(answer->res[http::field::content_type] == "text/html; charset=utf-8");
}

TEST_CASE("a callback with an unknown or malformed state is refused with a page",
          "[authflow][public]")
{
    fixture f;
    const std::string target =
        GENERATE(as<std::string>{}, "/oauth/callback", "/oauth/callback?code=abc",
                 "/oauth/callback?state=short&code=abc",
                 "/oauth/callback?state=" + std::string(43, 'a') + "&code=x",
                 "/oauth/callback?state=a&state=b&code=x");

    const auto answer = f.get(target);

    REQUIRE(answer.has_value());
    CHECK(answer->res.result_int() == 400);
    CHECK(answer->res["X-OAuth-Injector-Error"] == "invalid_state");
    CHECK(answer->res.body().find("Nothing was saved") != std::string::npos);
    check_page_headers(answer->res);
}

TEST_CASE("a link or state whose connection is no longer configured gets a 404 page",
          "[authflow][public]")
{
    fixture f;
    const std::string link = f.start_target(std::chrono::system_clock::now());
    const auto started = f.get(f.start_target(std::chrono::system_clock::now()));
    REQUIRE(started.has_value());
    const std::string state = query_of(started->res[http::field::location])["state"];
    f.cfg.connections.erase("google");

    const auto start = f.get(link);
    const auto callback = f.get("/oauth/callback?state=" + state + "&code=abc");

    for (const auto* answer : {&start, &callback}) {
        REQUIRE(answer->has_value());
        CHECK((*answer)->res.result_int() == 404);
        CHECK((*answer)->res["X-OAuth-Injector-Error"] == "connection_not_configured");
        check_page_headers((*answer)->res);
    }
    CHECK(f.backend->size() == 0);
}

TEST_CASE("other paths are not the flow's and other methods are not allowed", "[authflow][public]")
{
    fixture f;

    const auto other = f.get("/v1/connections");
    const auto post = f.get("/oauth/start", http::verb::post);

    CHECK_FALSE(other.has_value());
    REQUIRE(post.has_value());
    CHECK(post->res.result_int() == 405);
    CHECK(post->res[http::field::allow] == "GET");
}
