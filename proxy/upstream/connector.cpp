#include "upstream/connector.hpp"

#include "routing/address_policy.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace oi::upstream {

namespace {

using tcp = asio::ip::tcp;

bool is_ip_literal(std::string_view host)
{
    error_code ec;
    (void)asio::ip::make_address(host, ec);
    return !ec;
}

/// Names the SNI and the identity the certificate must prove (RFC 6125 via OpenSSL's checks).
bool set_expected_peer(SSL* ssl, const std::string& host)
{
    if (is_ip_literal(host)) {
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
    }
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 &&
           SSL_set1_host(ssl, host.c_str()) == 1;
}

connect_result failed(refusal r, std::string detail)
{
    connect_result out;
    out.failure = r;
    out.detail = std::move(detail);
    return out;
}

} // namespace

connector::connector(asio::io_context& io, asio::ssl::context& tls,
                     const config::upstream_config& cfg)
    : io_(io), tls_(tls), sessions_(k_tls_session_destinations),
      policy_(std::shared_ptr<void>{}, &cfg)
{}

void connector::set_policy(std::shared_ptr<const config::upstream_config> policy)
{
    policy_ = std::move(policy);
}

asio::awaitable<connect_result> connector::connect(const destination& to)
{
    // One policy for the whole attempt, even when a reload replaces it meanwhile.
    const std::shared_ptr<const config::upstream_config> policy = policy_;
    const config::upstream_config& cfg = *policy;

    // Resolve, bounded by the connect timeout (the resolver has no deadline of its own).
    tcp::resolver resolver{io_};
    asio::steady_timer deadline{io_, cfg.connect_timeout};
    deadline.async_wait([&resolver](error_code ec) {
        if (!ec) {
            resolver.cancel();
        }
    });
    const std::string host{to.host};
    const std::string port = std::to_string(to.port);
    auto [rec, results] = co_await resolver.async_resolve(
        host, port, tcp::resolver::numeric_service, asio::as_tuple(asio::use_awaitable));
    deadline.cancel();
    if (rec == asio::error::operation_aborted) {
        co_return failed(refusal::upstream_timeout, "name resolution timed out");
    }
    if (rec) {
        co_return failed(refusal::upstream_unreachable, "name resolution failed: " + rec.message());
    }

    // Keep only the addresses the destination policy allows.
    std::vector<tcp::endpoint> permitted;
    for (const auto& entry : results) {
        if (routing::address_permitted(entry.endpoint().address(), to.port, cfg)) {
            permitted.push_back(entry.endpoint());
        }
    }
    if (permitted.empty()) {
        co_return failed(refusal::destination_denied, "no permitted address for the host");
    }

    // Connect to the checked addresses only.
    boost::beast::tcp_stream tcp_stream{io_};
    tcp_stream.expires_after(cfg.connect_timeout);
    auto [cec, ep] =
        co_await tcp_stream.async_connect(permitted, asio::as_tuple(asio::use_awaitable));
    if (cec == boost::beast::error::timeout) {
        co_return failed(refusal::upstream_timeout, "connect timed out");
    }
    if (cec) {
        co_return failed(refusal::upstream_unreachable, "connect failed: " + cec.message());
    }
    error_code ignored;
    tcp_stream.socket().set_option(tcp::no_delay(true), ignored);

    if (to.scheme == "https") {
        co_return co_await start_tls(std::move(tcp_stream), to, cfg.connect_timeout);
    }
    tcp_stream.expires_never();
    connect_result out;
    out.stream = std::make_unique<tcp_byte_stream>(std::move(tcp_stream));
    co_return out;
}

asio::awaitable<connect_result> connector::start_tls(boost::beast::tcp_stream tcp_stream,
                                                     const destination& to,
                                                     config::duration timeout)
{
    auto tls = std::make_unique<tls_byte_stream::stream_type>(std::move(tcp_stream), tls_);
    if (!set_expected_peer(tls->native_handle(), std::string{to.host})) {
        co_return failed(refusal::upstream_unreachable, "cannot set the TLS peer name");
    }
    tls->set_verify_mode(asio::ssl::verify_peer);
    sessions_.prepare(tls->native_handle(), to.host, to.port);

    boost::beast::get_lowest_layer(*tls).expires_after(timeout);
    auto [hec] = co_await tls->async_handshake(asio::ssl::stream_base::client,
                                               asio::as_tuple(asio::use_awaitable));
    if (hec) {
        sessions_.forget(to.host, to.port);
    }
    if (hec == boost::beast::error::timeout) {
        co_return failed(refusal::upstream_timeout, "TLS handshake timed out");
    }
    if (hec) {
        co_return failed(refusal::upstream_unreachable, "TLS handshake failed: " + hec.message());
    }
    boost::beast::get_lowest_layer(*tls).expires_never();

    connect_result out;
    out.tls = true;
    out.resumed = SSL_session_reused(tls->native_handle()) == 1;
    out.stream = std::make_unique<tls_byte_stream>(std::move(tls));
    co_return out;
}

} // namespace oi::upstream
