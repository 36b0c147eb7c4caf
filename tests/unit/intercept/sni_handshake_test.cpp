#include "intercept/sni_selector.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <optional>

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;
using oi::intercept::certificate_authority;
using oi::intercept::leaf_cache;

namespace {

constexpr auto k_use = asio::as_tuple(asio::use_awaitable);

struct handshake_outcome {
    boost::system::error_code server;
    boost::system::error_code client;
    std::string alpn;
};

/// One TLS handshake over loopback: the server uses the interception context (SNI selector,
/// `fallback` as the CONNECT host); the client trusts only the CA, checks `verify_host`, sends
/// `sni` when not empty and offers ALPN h2 and http/1.1.
handshake_outcome handshake(const certificate_authority& ca, leaf_cache& cache,
                            std::optional<std::string> fallback, const std::string& sni,
                            const std::string& verify_host)
{
    asio::io_context io;
    ssl::context server_ctx = oi::intercept::make_interception_context(cache);
    ssl::context client_ctx{ssl::context::tls_client};
    X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx.native_handle()), ca.certificate());
    client_ctx.set_verify_mode(ssl::verify_peer);
    client_ctx.set_verify_callback(ssl::host_name_verification(verify_host));
    tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
    handshake_outcome outcome;

    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto [ec, socket] = co_await acceptor.async_accept(k_use);
            REQUIRE_FALSE(ec);
            ssl::stream<tcp::socket> tls{std::move(socket), server_ctx};
            if (fallback) {
                REQUIRE(oi::intercept::set_fallback_host(tls.native_handle(), *fallback));
            }
            std::tie(outcome.server) =
                co_await tls.async_handshake(ssl::stream_base::server, k_use);
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            ssl::stream<tcp::socket> tls{io, client_ctx};
            auto [ec] = co_await tls.next_layer().async_connect(acceptor.local_endpoint(), k_use);
            REQUIRE_FALSE(ec);
            if (!sni.empty()) {
                SSL_set_tlsext_host_name(tls.native_handle(), sni.c_str());
            }
            static constexpr unsigned char k_offer[] = "\x02h2\x08http/1.1";
            SSL_set_alpn_protos(tls.native_handle(), k_offer, sizeof k_offer - 1);
            std::tie(outcome.client) =
                co_await tls.async_handshake(ssl::stream_base::client, k_use);
            const unsigned char* alpn = nullptr;
            unsigned int alpn_length = 0;
            SSL_get0_alpn_selected(tls.native_handle(), &alpn, &alpn_length);
            outcome.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_length);
        },
        asio::detached);
    io.run();
    return outcome;
}

struct fixture {
    certificate_authority ca = certificate_authority::generate();
    leaf_cache cache{ca};
};

} // namespace

TEST_CASE("a client trusting only the CA completes a handshake for the SNI name and gets "
          "http/1.1",
          "[intercept][tls]")
{
    fixture f;

    const auto outcome =
        handshake(f.ca, f.cache, "fallback.example:443", "api.example.com", "api.example.com");

    CHECK_FALSE(outcome.server);
    CHECK_FALSE(outcome.client);
    CHECK(outcome.alpn == "http/1.1");
}

TEST_CASE("without SNI the leaf is for the CONNECT host, an IP literal in an IP SAN",
          "[intercept][tls]")
{
    fixture f;

    const auto v4 = handshake(f.ca, f.cache, "127.0.0.1:8443", "", "127.0.0.1");
    const auto v6 = handshake(f.ca, f.cache, "[::1]:443", "", "::1");

    CHECK_FALSE(v4.server);
    CHECK_FALSE(v4.client);
    CHECK_FALSE(v6.server);
    CHECK_FALSE(v6.client);
}

TEST_CASE("without SNI a CONNECT host name with a port gets a leaf for the name",
          "[intercept][tls]")
{
    fixture f;

    const auto outcome = handshake(f.ca, f.cache, "API.example.com:443", "", "api.example.com");

    CHECK_FALSE(outcome.server);
    CHECK_FALSE(outcome.client);
}

TEST_CASE("an SNI name with a port appended, as Go clients send it, is served without the port",
          "[intercept][tls]")
{
    fixture f;

    const auto outcome =
        handshake(f.ca, f.cache, std::nullopt, "api.example.com:443", "api.example.com");

    CHECK_FALSE(outcome.server);
    CHECK_FALSE(outcome.client);
}

TEST_CASE("a client checking another host name rejects the leaf", "[intercept][tls]")
{
    fixture f;

    const auto outcome = handshake(f.ca, f.cache, std::nullopt, "a.example", "b.example");

    CHECK(outcome.client);
}

TEST_CASE("a client trusting another CA rejects the leaf", "[intercept][tls]")
{
    fixture f;
    const auto other = certificate_authority::generate();

    const auto outcome = handshake(other, f.cache, std::nullopt, "a.example", "a.example");

    CHECK(outcome.client);
}

TEST_CASE("the handshake fails when there is neither SNI nor a CONNECT host", "[intercept][tls]")
{
    fixture f;

    const auto outcome = handshake(f.ca, f.cache, std::nullopt, "", "a.example");

    CHECK(outcome.server);
    CHECK(outcome.client);
}
