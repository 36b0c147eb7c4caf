#include "admin/router.hpp"

#include "common/log.hpp"
#include "unit/admin/fake_grant_store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

namespace http = boost::beast::http;

namespace {

constexpr const char* k_admin_token = "admintok-7f3a9c";
constexpr const char* k_client_secret = "client-secret-51b2";
constexpr const char* k_access_token = "ya29.access-token-c0ffee";

oi::config::config admin_config()
{
    oi::config::config cfg;
    cfg.admin_token = oi::secret(k_admin_token);

    oi::config::connection google;
    google.id = "google";
    google.preset = "google";
    google.authorization_url = "https://accounts.google.com/o/oauth2/v2/auth";
    google.token_url = "https://oauth2.googleapis.com/token";
    google.client_id = "client-id";
    google.client_secret = oi::secret(k_client_secret);
    google.scopes = {"openid", "email"};
    google.allowed_hosts = {"www.googleapis.com"};
    cfg.connections["google"] = google;
    cfg.plugins["google-calendar"] = {"google-calendar", "google"};
    cfg.plugins["google-mail"] = {"google-mail", "google"};
    return cfg;
}

// Everything one request needs, built fresh per test.
struct fixture {
    oi::config::config cfg = admin_config();
    oi::test::fake_grant_store store;
    oi::metrics::metrics metrics{cfg};
    std::vector<std::string> changed;           // "connection/user" per grant_changed call
    oi::token::refresh_now_result next_refresh; // what the refresh hook answers
    oi::admin::admin_hooks hooks{
        [this](const oi::store::grant_key& k) { changed.push_back(k.connection + "/" + k.user); },
        {},
        [this](const oi::config::connection&, const oi::store::grant_key&)
            -> boost::asio::awaitable<oi::token::refresh_now_result> { co_return next_refresh; }};
    oi::admin::admin_context ctx{cfg, store, metrics, hooks, std::chrono::milliseconds(50)};

    oi::admin::handled run(http::verb method, std::string target, std::string body = {},
                           const char* token = k_admin_token)
    {
        oi::admin::request req{method, target, 11};
        if (token != nullptr) {
            req.set(http::field::authorization, std::string("Bearer ") + token);
        }
        req.body() = std::move(body);
        req.prepare_payload();

        boost::asio::io_context ioc;
        std::optional<oi::admin::handled> out;
        boost::asio::co_spawn(ioc, oi::admin::handle(req, ctx),
                              [&](std::exception_ptr e, oi::admin::handled h) {
                                  if (e) {
                                      std::rethrow_exception(e);
                                  }
                                  out = std::move(h);
                                  ioc.stop(); // a hung ping may still be pending
                              });
        ioc.run();
        REQUIRE(out.has_value());
        return std::move(*out);
    }
};

boost::json::value body_of(const oi::admin::handled& h)
{
    return boost::json::parse(h.res.body());
}

std::string error_of(const oi::admin::handled& h)
{
    return std::string(h.res["X-OAuth-Injector-Error"]);
}

} // namespace

TEST_CASE("healthz answers ok without a token", "[admin]")
{
    fixture f;

    const auto h = f.run(http::verb::get, "/healthz", {}, nullptr);

    CHECK(h.res.result_int() == 200);
    CHECK(h.res.body() == R"({"status":"ok"})");
    CHECK(h.route == "/healthz");
}

TEST_CASE("readyz is ready when the store answers a ping", "[admin]")
{
    fixture f;

    const auto h = f.run(http::verb::get, "/readyz", {}, nullptr);

    CHECK(h.res.result_int() == 200);
}

TEST_CASE("readyz is not ready when the store fails or does not answer in time", "[admin]")
{
    const bool hanging = GENERATE(false, true);
    fixture f;
    f.store.fail = !hanging;
    f.store.hang_ping = hanging;

    const auto h = f.run(http::verb::get, "/readyz", {}, nullptr);

    CHECK(h.res.result_int() == 503);
    CHECK(h.res.body() == R"({"status":"not_ready","store":"unavailable"})");
    CHECK(f.metrics.serialize().find(R"(store_errors_total{operation="ping"} 1)") !=
          std::string::npos);
}

TEST_CASE("readyz is not ready when the server's extra condition fails", "[admin]")
{
    fixture f;
    f.hooks.ready_extra = [] { return false; };

    const auto h = f.run(http::verb::get, "/readyz", {}, nullptr);

    CHECK(h.res.result_int() == 503);
}

TEST_CASE("metrics answer in the Prometheus text format without a token", "[admin]")
{
    fixture f;

    const auto h = f.run(http::verb::get, "/metrics", {}, nullptr);

    CHECK(h.res.result_int() == 200);
    CHECK(h.res[http::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(h.res.body().find("# TYPE oauth_injector_requests_total counter") != std::string::npos);
}

TEST_CASE("v1 routes refuse a missing, wrong or malformed bearer token", "[admin]")
{
    fixture f;
    oi::admin::request req{http::verb::get, "/v1/connections", 11};

    const auto missing = f.run(http::verb::get, "/v1/connections", {}, nullptr);
    const auto wrong = f.run(http::verb::get, "/v1/connections", {}, "admintok-7f3a9d");
    const auto prefix = f.run(http::verb::get, "/v1/connections", {}, "admintok");
    const auto unknown_connection =
        f.run(http::verb::get, "/v1/connections/nope/grants/u", {}, nullptr);

    for (const auto* h : {&missing, &wrong, &prefix, &unknown_connection}) {
        CHECK(h->res.result_int() == 401);
        CHECK(error_of(*h) == "unauthorized");
        CHECK(body_of(*h).at("error").as_string() == "unauthorized");
        CHECK(h->res[http::field::www_authenticate].starts_with("Bearer"));
    }
    CHECK(f.metrics.serialize().find(R"(refusals_total{code="unauthorized"} 4)") !=
          std::string::npos);
}

TEST_CASE("an unset admin token disables the v1 routes", "[admin]")
{
    fixture f;
    f.cfg.admin_token = oi::secret();

    const auto h = f.run(http::verb::get, "/v1/connections", {}, "");

    CHECK(h.res.result_int() == 401);
}

TEST_CASE("the bearer scheme is matched without regard to case", "[admin]")
{
    fixture f;
    oi::admin::request req{http::verb::get, "/v1/connections", 11};
    req.set(http::field::authorization, std::string("bEaReR ") + k_admin_token);

    boost::asio::io_context ioc;
    std::optional<oi::admin::handled> out;
    boost::asio::co_spawn(ioc, oi::admin::handle(req, f.ctx),
                          [&](std::exception_ptr, oi::admin::handled h) { out = std::move(h); });
    ioc.run();

    REQUIRE(out.has_value());
    CHECK(out->res.result_int() == 200);
}

TEST_CASE("connections are listed with their plugins and without secrets", "[admin]")
{
    fixture f;

    const auto h = f.run(http::verb::get, "/v1/connections");

    REQUIRE(h.res.result_int() == 200);
    const auto list = body_of(h).at("connections").as_array();
    REQUIRE(list.size() == 1);
    const auto& google = list[0].as_object();
    CHECK(google.at("id").as_string() == "google");
    CHECK(google.at("token_url").as_string() == "https://oauth2.googleapis.com/token");
    CHECK(google.at("revocation_url").is_null());
    CHECK(google.at("on_missing_token").as_string() == "empty");
    CHECK(google.at("plugins").as_array().size() == 2);
    CHECK(google.at("scopes").as_array().size() == 2);
    CHECK_FALSE(google.contains("client_secret"));
    CHECK(h.res.body().find(k_client_secret) == std::string::npos);
}

TEST_CASE("a grant that was never stored reads as not connected", "[admin]")
{
    fixture f;

    const auto h = f.run(http::verb::get, "/v1/connections/google/grants/alice");

    REQUIRE(h.res.result_int() == 200);
    CHECK(h.res.body() ==
          R"({"connected":false,"expires_at":null,"scopes":[],"needs_reauth":false})");
    CHECK(h.route == "/v1/connections/{c}/grants/{user}");
}

TEST_CASE("an imported grant is stored, versioned and announced", "[admin]")
{
    fixture f;
    const std::string body = std::string(R"({"access_token":")") + k_access_token +
                             R"(","refresh_token":"r-1","expires_at":"2030-01-02T03:04:05Z"})";
    const oi::log::capture logs;

    const auto first = f.run(http::verb::put, "/v1/connections/google/grants/alice", body);
    const auto second = f.run(http::verb::put, "/v1/connections/google/grants/alice", body);

    REQUIRE(first.res.result_int() == 200);
    CHECK(first.res.body() == R"({"connected":true,"expires_at":"2030-01-02T03:04:05Z",)"
                              R"("scopes":["openid","email"],"needs_reauth":false})");
    const oi::store::grant& stored = f.store.grants.at({"google", "alice"});
    CHECK(stored.access_token.reveal() == k_access_token);
    CHECK(stored.refresh_token.reveal() == "r-1");
    CHECK(stored.version == 2);
    CHECK(f.changed == std::vector<std::string>{"google/alice", "google/alice"});
    CHECK(second.res.body().find(k_access_token) == std::string::npos);
    CHECK_FALSE(logs.contains(k_access_token));
}

TEST_CASE("an import with expires_in counts from now and keeps the given scope", "[admin]")
{
    fixture f;
    const auto before = oi::store::clock::now();

    const auto h = f.run(http::verb::put, "/v1/connections/google/grants/bob",
                         R"({"access_token":"t","expires_in":3600,"scope":"a b"})");

    REQUIRE(h.res.result_int() == 200);
    const oi::store::grant& stored = f.store.grants.at({"google", "bob"});
    CHECK(stored.expires_at >=
          std::chrono::floor<std::chrono::seconds>(before) + std::chrono::seconds(3600));
    CHECK(stored.expires_at <= oi::store::clock::now() + std::chrono::seconds(3600));
    CHECK(stored.scope == "a b");
    CHECK(body_of(h).at("scopes").as_array().size() == 2);
}

TEST_CASE("an import body that is not acceptable is refused as a bad request", "[admin]")
{
    fixture f;
    const char* body = GENERATE(
        R"({"access_token":)", R"([1,2])", R"({})", R"({"access_token":""})",
        R"({"access_token":5})", R"({"access_token":"t","expires_in":10,"expires_at":20})",
        R"({"access_token":"t","expires_at":"tomorrow"})",
        R"({"access_token":"t","expires_in":-1})", R"({"access_token":"t","refresh_token":7})",
        // Tokens that would split or corrupt a forwarded header or target (RFC 6749 A.12).
        R"({"access_token":"t\r\nX-Injected: 1"})", R"({"access_token":"t\u0000"})",
        R"({"access_token":"caf\u00e9"})", R"({"access_token":"t u"})",
        R"({"access_token":"t\"u"})");

    const auto h = f.run(http::verb::put, "/v1/connections/google/grants/alice", body);

    CHECK(h.res.result_int() == 400);
    CHECK(error_of(h) == "bad_request");
    CHECK(f.store.saves == 0);
    CHECK(f.changed.empty());
}

TEST_CASE("a grant for an unknown connection is not found", "[admin]")
{
    fixture f;

    const auto h = f.run(http::verb::get, "/v1/connections/dropbox/grants/alice");

    CHECK(h.res.result_int() == 404);
    CHECK(error_of(h) == "not_found");
}

TEST_CASE("user ids in the path are percent-decoded", "[admin]")
{
    fixture f;

    const auto h = f.run(http::verb::put, "/v1/connections/google/grants/alice%40example.com%2Fx",
                         R"({"access_token":"t"})");

    REQUIRE(h.res.result_int() == 200);
    CHECK(f.store.grants.count({"google", "alice@example.com/x"}) == 1);
    CHECK(f.changed == std::vector<std::string>{"google/alice@example.com/x"});
}

TEST_CASE("user ids with control characters are refused", "[admin]")
{
    fixture f;

    const auto h = f.run(http::verb::get, "/v1/connections/google/grants/a%0Ab");

    CHECK(h.res.result_int() == 400);
}

TEST_CASE("deleting a grant removes it and announces the change", "[admin]")
{
    fixture f;
    f.store.grants[{"google", "alice"}] = oi::store::grant{};

    const auto h = f.run(http::verb::delete_, "/v1/connections/google/grants/alice");

    CHECK(h.res.result_int() == 200);
    CHECK(body_of(h).at("removed").as_bool());
    CHECK(f.store.grants.empty());
    CHECK(f.changed == std::vector<std::string>{"google/alice"});
}

TEST_CASE("a store failure answers store_unavailable", "[admin]")
{
    fixture f;
    f.store.fail = true;
    const auto method = GENERATE(http::verb::get, http::verb::put, http::verb::delete_);

    const auto h = f.run(method, "/v1/connections/google/grants/alice", R"({"access_token":"t"})");

    CHECK(h.res.result_int() == 503);
    CHECK(error_of(h) == "store_unavailable");
    CHECK(f.changed.empty());
}

TEST_CASE("unknown routes are not found and wrong methods are not allowed", "[admin]")
{
    fixture f;

    const auto unknown = f.run(http::verb::get, "/v2/things");
    const auto post = f.run(http::verb::post, "/v1/connections/google/grants/alice");
    const auto put_health = f.run(http::verb::put, "/healthz");

    CHECK(unknown.res.result_int() == 404);
    CHECK(unknown.route == "other");
    CHECK(post.res.result_int() == 405);
    CHECK(post.res[http::field::allow] == "GET, PUT, DELETE");
    CHECK(put_health.res.result_int() == 405);
}

namespace {

std::shared_ptr<const oi::store::grant> refreshed_grant()
{
    oi::store::grant g;
    g.access_token = oi::secret(k_access_token);
    g.refresh_token = oi::secret("refresh-token-beef");
    g.expires_at = oi::store::clock::now() + std::chrono::hours(1);
    g.scope = "openid email";
    return std::make_shared<const oi::store::grant>(std::move(g));
}

constexpr const char* k_refresh_target = "/v1/connections/google/grants/alice/refresh";

} // namespace

TEST_CASE("an admin refresh answers its outcome and the grant status, never a token", "[admin]")
{
    fixture f;
    f.next_refresh.status = oi::token::refresh_status::success;
    f.next_refresh.grant = refreshed_grant();

    const auto h = f.run(http::verb::post, k_refresh_target);

    CHECK(h.res.result() == http::status::ok);
    CHECK(h.route == "/v1/connections/{c}/grants/{user}/refresh");
    const auto body = body_of(h);
    CHECK(body.at("refresh") == "success");
    CHECK(body.at("connected") == true);
    CHECK(body.at("needs_reauth") == false);
    CHECK(h.res.body().find(k_access_token) == std::string::npos);
    CHECK(h.res.body().find("refresh-token-beef") == std::string::npos);
    CHECK(f.changed == std::vector<std::string>{"google/alice"});
}

TEST_CASE("an admin refresh that the token endpoint fails answers 502 upstream_unreachable",
          "[admin]")
{
    fixture f;
    f.next_refresh.status = oi::token::refresh_status::failed;
    f.next_refresh.grant = refreshed_grant();
    f.next_refresh.error = "temporarily_unavailable";

    const auto h = f.run(http::verb::post, k_refresh_target);

    CHECK(h.res.result() == http::status::bad_gateway);
    CHECK(h.res["X-OAuth-Injector-Error"] == "upstream_unreachable");
    const auto body = body_of(h);
    CHECK(body.at("error") == "upstream_unreachable");
    CHECK(body.at("refresh") == "failed");
    CHECK(body.at("provider_error") == "temporarily_unavailable");
    CHECK(f.changed.empty());
}

TEST_CASE("an admin refresh of a grant that needs re-authorization says so", "[admin]")
{
    fixture f;
    auto g = std::make_shared<oi::store::grant>(*refreshed_grant());
    g->needs_reauth = true;
    f.next_refresh.grant = g; // no status: the service did not run a refresh

    const auto h = f.run(http::verb::post, k_refresh_target);

    CHECK(h.res.result() == http::status::ok);
    CHECK(body_of(h).at("refresh") == "needs_reauth");
    CHECK(body_of(h).at("needs_reauth") == true);
}

TEST_CASE("an admin refresh without a grant answers 404 and other methods 405", "[admin]")
{
    fixture f;

    const auto missing = f.run(http::verb::post, k_refresh_target);
    const auto get = f.run(http::verb::get, k_refresh_target);
    f.next_refresh.store_failed = true;
    const auto store_down = f.run(http::verb::post, k_refresh_target);

    CHECK(missing.res.result() == http::status::not_found);
    CHECK(get.res.result() == http::status::method_not_allowed);
    CHECK(get.res[http::field::allow] == "POST");
    CHECK(store_down.res.result() == http::status::service_unavailable);
}

namespace {

/// The fixture with a public listener, one return_to origin and a link signer.
struct link_fixture : fixture {
    link_fixture()
    {
        cfg.listen.public_listener = oi::config::endpoint{"127.0.0.1", 8081};
        cfg.public_url = "https://auth.example.com";
        cfg.return_to_origins = {"https://chat.example.com"};
        hooks.links = &links;
    }

    oi::authflow::link_signer links{oi::secret{std::string(32, 'k')}};
};

constexpr const char* k_link_target = "/v1/connections/google/grants/alice/authorize-link";

} // namespace

TEST_CASE("an authorize link is minted for the user and connection of the path", "[admin][link]")
{
    link_fixture f;

    const auto h =
        f.run(http::verb::post, k_link_target, R"({"return_to":"https://chat.example.com/x"})");

    REQUIRE(h.res.result_int() == 200);
    const std::string url(body_of(h).at("url").as_string());
    CHECK(url.rfind("https://auth.example.com/oauth/start?link=", 0) == 0);
    CHECK(body_of(h).at("expires_at").as_string().size() == 20);
    const auto claims =
        f.links.verify(url.substr(url.find('=') + 1), std::chrono::system_clock::now());
    REQUIRE(claims.has_value());
    CHECK(claims->connection == "google");
    CHECK(claims->user == "alice");
    CHECK(claims->return_to == "https://chat.example.com/x");
}

TEST_CASE("an authorize link without a body has no return_to", "[admin][link]")
{
    link_fixture f;

    const auto h = f.run(http::verb::post, k_link_target);

    REQUIRE(h.res.result_int() == 200);
    const std::string url(body_of(h).at("url").as_string());
    const auto claims =
        f.links.verify(url.substr(url.find('=') + 1), std::chrono::system_clock::now());
    REQUIRE(claims.has_value());
    CHECK(claims->return_to.empty());
}

TEST_CASE("authorize-link refuses a foreign return_to and unknown fields", "[admin][link]")
{
    link_fixture f;
    const std::string body =
        GENERATE(as<std::string>{}, R"({"return_to":"https://evil.example/x"})",
                 R"x({"return_to":"javascript:alert(1)"})x", R"({"return_to":5})",
                 R"({"user":"bob"})", "[1]", "{");

    const auto h = f.run(http::verb::post, k_link_target, body);

    CHECK(h.res.result_int() == 400);
    CHECK(error_of(h) == "bad_request");
}

TEST_CASE("authorize-link is not found without a public listener", "[admin][link]")
{
    link_fixture f;
    f.cfg.listen.public_listener.reset();

    const auto h = f.run(http::verb::post, k_link_target);

    CHECK(h.res.result_int() == 404);
}

TEST_CASE("authorize-link answers POST only", "[admin][link]")
{
    link_fixture f;

    const auto h = f.run(http::verb::get, k_link_target);

    CHECK(h.res.result_int() == 405);
    CHECK(h.res[http::field::allow] == "POST");
}

TEST_CASE("deleting without a revocation_url reports nothing revoked", "[admin]")
{
    fixture f;
    f.store.grants[{"google", "alice"}] = oi::store::grant{};

    const auto h = f.run(http::verb::delete_, "/v1/connections/google/grants/alice");

    CHECK(body_of(h).at("revoked").is_null());
    CHECK_FALSE(body_of(h).as_object().contains("revocation_error"));
}
