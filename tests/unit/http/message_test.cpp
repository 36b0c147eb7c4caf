#include "http/message.hpp"

#include <catch2/catch.hpp>

#include <string>

using oi::http::body_kind;
using oi::http::parse_status;

namespace {

constexpr std::size_t k_limit = 8 * 1024;

struct request_vector {
    const char* what;
    std::string head;
    parse_status expected;
};

oi::http::parse_result parse_request(std::string_view text, oi::http::request_head& head,
                                     std::size_t limit = k_limit)
{
    return oi::http::parse_request_head(text, limit, head);
}

oi::http::parse_result parse_response(std::string_view text, std::string_view method,
                                      oi::http::response_head& head)
{
    return oi::http::parse_response_head(text, k_limit, method, head);
}

} // namespace

TEST_CASE("request heads are accepted or refused as RFC 9112 strictness requires", "[http]")
{
    const std::string get = "GET http://a.example/x HTTP/1.1\r\nHost: a.example\r\n";
    const std::string post = "POST http://a.example/x HTTP/1.1\r\nHost: a.example\r\n";
    const std::vector<request_vector> vectors{
        {"plain GET", get + "\r\n", parse_status::complete},
        {"CL then TE", post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
         parse_status::invalid},
        {"TE then CL", post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
         parse_status::invalid},
        {"duplicated equal CL", post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\n",
         parse_status::complete},
        {"equal CL list", post + "Content-Length: 5, 5\r\n\r\n", parse_status::complete},
        {"differing CL", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
         parse_status::invalid},
        {"differing CL list", post + "Content-Length: 5,6\r\n\r\n", parse_status::invalid},
        {"CL with plus sign", post + "Content-Length: +5\r\n\r\n", parse_status::invalid},
        {"CL with minus sign", post + "Content-Length: -5\r\n\r\n", parse_status::invalid},
        {"CL with inner space", post + "Content-Length: 1 2\r\n\r\n", parse_status::invalid},
        {"CL in hex", post + "Content-Length: 0x10\r\n\r\n", parse_status::invalid},
        {"CL empty", post + "Content-Length: \r\n\r\n", parse_status::invalid},
        {"CL empty list element", post + "Content-Length: 5,,5\r\n\r\n", parse_status::invalid},
        {"CL overflowing 64 bits", post + "Content-Length: 18446744073709551616\r\n\r\n",
         parse_status::invalid},
        {"CL at the 64-bit maximum", post + "Content-Length: 18446744073709551615\r\n\r\n",
         parse_status::complete},
        {"obs-fold", get + "X-A: one\r\n two\r\n\r\n", parse_status::invalid},
        {"obs-fold with tab", get + "X-A: one\r\n\ttwo\r\n\r\n", parse_status::invalid},
        {"whitespace before the first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
         parse_status::invalid},
        {"bare CR in a value", get + "X-A: o\rne\r\n\r\n", parse_status::invalid},
        {"bare CR in the request-line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n",
         parse_status::invalid},
        {"bare CR as a line end", get + "X-A: one\r\r\n\r\n", parse_status::invalid},
        {"bare LF ending a field", get + "X-A: one\n\r\n", parse_status::invalid},
        {"bare LF ending the head", get + "\n", parse_status::invalid},
        {"bare LF ending the request-line", "GET / HTTP/1.1\nHost: a\r\n\r\n",
         parse_status::invalid},
        {"NUL in a value", get + std::string("X-A: o\0ne\r\n\r\n", 13), parse_status::invalid},
        {"DEL in a value", get + "X-A: o\x7fne\r\n\r\n", parse_status::invalid},
        {"other control in a value", get + "X-A: o\x01ne\r\n\r\n", parse_status::invalid},
        {"obs-text and tab in a value", get + "X-A: caf\xc3\xa9\tok\r\n\r\n",
         parse_status::complete},
        {"space before colon", get + "X-A : one\r\n\r\n", parse_status::invalid},
        {"tab before colon", get + "X-A\t: one\r\n\r\n", parse_status::invalid},
        {"invalid name character", get + "X(A): one\r\n\r\n", parse_status::invalid},
        {"non-ASCII name", get + "X-\xc3\xa9: one\r\n\r\n", parse_status::invalid},
        {"empty name", get + ": one\r\n\r\n", parse_status::invalid},
        {"line without colon", get + "X-A one\r\n\r\n", parse_status::invalid},
        {"missing Host", "GET http://a.example/ HTTP/1.1\r\n\r\n", parse_status::invalid},
        {"duplicate Host", get + "Host: b.example\r\n\r\n", parse_status::invalid},
        {"HTTP/1.0 without Host", "GET http://a.example/ HTTP/1.0\r\n\r\n", parse_status::complete},
        {"HTTP/1.0 with two Hosts", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
         parse_status::invalid},
        {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", parse_status::invalid},
        {"HTTP/0.9", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", parse_status::invalid},
        {"lower-case http", "GET / http/1.1\r\nHost: a\r\n\r\n", parse_status::invalid},
        {"missing version", "GET /\r\nHost: a\r\n\r\n", parse_status::invalid},
        {"double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", parse_status::invalid},
        {"space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", parse_status::invalid},
        {"non-ASCII target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", parse_status::invalid},
        {"invalid method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", parse_status::invalid},
        {"TE gzip, chunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n",
         parse_status::invalid},
        {"TE chunked, chunked", post + "Transfer-Encoding: chunked, chunked\r\n\r\n",
         parse_status::invalid},
        {"TE chunked in two fields",
         post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
         parse_status::invalid},
        {"TE chunked then gzip", post + "Transfer-Encoding: chunked, gzip\r\n\r\n",
         parse_status::invalid},
        {"TE gzip", post + "Transfer-Encoding: gzip\r\n\r\n", parse_status::invalid},
        {"TE chunked with a parameter", post + "Transfer-Encoding: chunked;x=1\r\n\r\n",
         parse_status::invalid},
        {"TE empty", post + "Transfer-Encoding: \r\n\r\n", parse_status::invalid},
        {"TE with an empty element", post + "Transfer-Encoding: ,chunked\r\n\r\n",
         parse_status::invalid},
        {"TE chunked", post + "Transfer-Encoding: chunked\r\n\r\n", parse_status::complete},
        {"TE Chunked in another case", post + "Transfer-Encoding: ChUnKeD\r\n\r\n",
         parse_status::complete},
        {"HTTP/1.0 with TE", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
         parse_status::invalid},
        {"leading empty lines", "\r\n\r\n" + get + "\r\n", parse_status::complete},
        {"leading bare LF", "\n" + get + "\r\n", parse_status::invalid},
    };

    for (const request_vector& v : vectors) {
        oi::http::request_head head;

        const auto result = parse_request(v.head, head);

        INFO(v.what);
        CHECK(result.status == v.expected);
        if (v.expected == parse_status::complete) {
            CHECK(result.consumed == v.head.size());
        } else {
            CHECK(std::string_view{result.error}.size() > 0);
        }
    }
}

TEST_CASE("a request head exposes method, target, fields and framing", "[http]")
{
    const std::string text = "POST http://api.example/v1?q=1 HTTP/1.1\r\n"
                             "Host: api.example\r\n"
                             "X-Token:  \t{OAUTH_PLUGIN_ACCESS_TOKEN} \t\r\n"
                             "Content-Length: 42\r\n"
                             "Expect: 100-Continue\r\n"
                             "\r\n"
                             "body bytes";
    oi::http::request_head head;

    const auto result = parse_request(text, head);

    REQUIRE(result.status == parse_status::complete);
    CHECK(result.consumed == text.size() - 10);
    CHECK(head.method == "POST");
    CHECK(head.target == "http://api.example/v1?q=1");
    CHECK(head.version_minor == 1);
    CHECK(head.fields.size() == 4);
    CHECK(head.host == "api.example");
    CHECK(head.body == body_kind::length);
    CHECK(head.content_length == 42);
    CHECK(head.keep_alive);
    CHECK(head.expect_continue);
    REQUIRE(head.find("x-token") != nullptr);
    CHECK(head.find("x-token")->name == "X-Token");
    CHECK(head.find("x-token")->value == "{OAUTH_PLUGIN_ACCESS_TOKEN}");
    CHECK(head.find("x-missing") == nullptr);
}

TEST_CASE("find returns the first of several fields with the same name", "[http]")
{
    oi::http::request_head head;

    const auto result =
        parse_request("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\n\r\n", head);

    REQUIRE(result.status == parse_status::complete);
    REQUIRE(head.find("X-A") != nullptr);
    CHECK(head.find("X-A")->value == "1");
}

TEST_CASE("a reused request head is cleared between parses", "[http]")
{
    oi::http::request_head head;
    REQUIRE(parse_request("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                          "Content-Length: 3\r\nConnection: close\r\n\r\n",
                          head)
                .status == parse_status::complete);

    const auto result = parse_request("GET / HTTP/1.0\r\n\r\n", head);

    REQUIRE(result.status == parse_status::complete);
    CHECK(head.fields.empty());
    CHECK(head.body == body_kind::none);
    CHECK(head.content_length == 0);
    CHECK_FALSE(head.expect_continue);
    CHECK(head.host.empty());
    CHECK(head.version_minor == 0);
}

TEST_CASE("keep-alive follows the version and the Connection list", "[http]")
{
    struct vector {
        std::string head;
        bool keep_alive;
    };
    const std::vector<vector> vectors{
        {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n", false},
        {"GET / HTTP/1.0\r\n\r\n", false},
        {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
        {"GET / HTTP/1.0\r\nConnection: x, keep-alive\r\n\r\n", true},
        {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false},
    };

    for (const vector& v : vectors) {
        oi::http::request_head head;

        const auto result = parse_request(v.head, head);

        INFO(v.head);
        REQUIRE(result.status == parse_status::complete);
        CHECK(head.keep_alive == v.keep_alive);
    }
}

TEST_CASE("every strict prefix of a valid head is incomplete and the whole is complete", "[http]")
{
    const std::string text = "\r\nPUT http://a.example/p?x=1 HTTP/1.1\r\n"
                             "Host: a.example\r\n"
                             "Transfer-Encoding: chunked\r\n"
                             "X-Empty:\r\n"
                             "\r\n";
    oi::http::request_head head;

    for (std::size_t n = 0; n < text.size(); ++n) {
        const auto result = parse_request(std::string_view{text}.substr(0, n), head);
        INFO("prefix length " << n);
        REQUIRE(result.status == parse_status::incomplete);
    }
    const auto result = parse_request(text, head);

    REQUIRE(result.status == parse_status::complete);
    CHECK(result.consumed == text.size());
    CHECK(head.body == body_kind::chunked);
    REQUIRE(head.find("x-empty") != nullptr);
    CHECK(head.find("x-empty")->value.empty());
}

TEST_CASE("a head over the size limit is too_large as soon as the limit is passed", "[http]")
{
    const std::string text =
        "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: " + std::string(200, 'p') + "\r\n\r\n";
    oi::http::request_head head;

    const auto exact = parse_request(text, head, text.size());
    const auto over = parse_request(text, head, text.size() - 1);
    const auto early = parse_request(std::string_view{text}.substr(0, 101), head, 100);
    const auto within = parse_request(std::string_view{text}.substr(0, 100), head, 100);

    CHECK(exact.status == parse_status::complete);
    CHECK(over.status == parse_status::too_large);
    CHECK(early.status == parse_status::too_large);
    CHECK(within.status == parse_status::incomplete);
}

TEST_CASE("response heads say how their body is delimited", "[http]")
{
    struct vector {
        const char* what;
        std::string head;
        const char* method;
        parse_status status;
        body_kind body;
    };
    const std::vector<vector> vectors{
        {"204 with a length", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", "GET",
         parse_status::complete, body_kind::none},
        {"304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", "GET",
         parse_status::complete, body_kind::none},
        {"HEAD response", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD",
         parse_status::complete, body_kind::none},
        {"100 Continue", "HTTP/1.1 100 Continue\r\n\r\n", "POST", parse_status::complete,
         body_kind::none},
        {"101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", "GET",
         parse_status::complete, body_kind::none},
        {"2xx to CONNECT", "HTTP/1.1 200 Connection established\r\n\r\n", "CONNECT",
         parse_status::complete, body_kind::none},
        {"407 to CONNECT", "HTTP/1.1 407 No\r\nContent-Length: 2\r\n\r\n", "CONNECT",
         parse_status::complete, body_kind::length},
        {"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "GET", parse_status::complete,
         body_kind::length},
        {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "GET",
         parse_status::complete, body_kind::chunked},
        {"until_eof without framing", "HTTP/1.1 200 OK\r\n\r\n", "GET", parse_status::complete,
         body_kind::until_eof},
        {"until_eof with a non-chunked final coding",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "GET", parse_status::complete,
         body_kind::until_eof},
        {"two equal Content-Lengths",
         "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", "GET",
         parse_status::complete, body_kind::length},
        {"two differing Content-Lengths",
         "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n", "GET",
         parse_status::invalid, body_kind::none},
        {"CL and TE", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
         "GET", parse_status::invalid, body_kind::none},
        {"chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", "GET",
         parse_status::invalid, body_kind::none},
        {"chunked not last", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "GET",
         parse_status::invalid, body_kind::none},
        {"HTTP/1.0 with TE", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "GET",
         parse_status::invalid, body_kind::none},
        {"no reason and no space", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", "GET",
         parse_status::complete, body_kind::length},
        {"empty reason", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", "GET",
         parse_status::complete, body_kind::length},
        {"status 99", "HTTP/1.1 099 X\r\n\r\n", "GET", parse_status::invalid, body_kind::none},
        {"status 600", "HTTP/1.1 600 X\r\n\r\n", "GET", parse_status::invalid, body_kind::none},
        {"two-digit status", "HTTP/1.1 20 OK\r\n\r\n", "GET", parse_status::invalid,
         body_kind::none},
        {"four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", "GET", parse_status::invalid,
         body_kind::none},
        {"HTTP/2 status-line", "HTTP/2 200 OK\r\n\r\n", "GET", parse_status::invalid,
         body_kind::none},
        {"control in the reason", "HTTP/1.1 200 O\x01K\r\n\r\n", "GET", parse_status::invalid,
         body_kind::none},
        {"obs-fold", "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\r\n", "GET", parse_status::invalid,
         body_kind::none},
    };

    for (const vector& v : vectors) {
        oi::http::response_head head;

        const auto result = parse_response(v.head, v.method, head);

        INFO(v.what);
        REQUIRE(result.status == v.status);
        if (v.status == parse_status::complete) {
            CHECK(result.consumed == v.head.size());
            CHECK(head.body == v.body);
        }
    }
}

TEST_CASE("a response head exposes status, reason, length and persistence", "[http]")
{
    oi::http::response_head head;

    const auto length = parse_response(
        "HTTP/1.1 201 Created Here\r\nContent-Length: 7\r\nConnection: keep-alive\r\n\r\n", "POST",
        head);

    REQUIRE(length.status == parse_status::complete);
    CHECK(head.status == 201);
    CHECK(head.reason == "Created Here");
    CHECK(head.content_length == 7);
    CHECK(head.keep_alive);

    const auto eof = parse_response("HTTP/1.1 200 OK\r\n\r\n", "GET", head);

    REQUIRE(eof.status == parse_status::complete);
    CHECK(head.body == body_kind::until_eof);
    CHECK_FALSE(head.keep_alive);

    const auto old = parse_response("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", "GET", head);

    REQUIRE(old.status == parse_status::complete);
    CHECK(head.version_minor == 0);
    CHECK_FALSE(head.keep_alive);
}

TEST_CASE("hop-by-hop fields include the standard ones and those named by Connection", "[http]")
{
    oi::http::request_head head;
    REQUIRE(parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Private, close\r\n"
                          "X-Private: 1\r\nX-Public: 2\r\n\r\n",
                          head)
                .status == parse_status::complete);

    CHECK(oi::http::is_hop_by_hop("Connection", head.fields));
    CHECK(oi::http::is_hop_by_hop("transfer-encoding", head.fields));
    CHECK(oi::http::is_hop_by_hop("Proxy-Authorization", head.fields));
    CHECK(oi::http::is_hop_by_hop("Keep-Alive", head.fields));
    CHECK(oi::http::is_hop_by_hop("x-private", head.fields));
    CHECK_FALSE(oi::http::is_hop_by_hop("X-Public", head.fields));
    CHECK_FALSE(oi::http::is_hop_by_hop("Host", head.fields));
}

TEST_CASE("a token is found among the list elements of every field of that name", "[http]")
{
    oi::http::request_head head;
    REQUIRE(parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n"
                          "Connection: Upgrade\r\nUpgrade: h2c , WebSocket\r\n\r\n",
                          head)
                .status == parse_status::complete);

    CHECK(oi::http::lists_token(head.fields, "connection", "upgrade"));
    CHECK(oi::http::lists_token(head.fields, "Upgrade", "websocket"));
    CHECK_FALSE(oi::http::lists_token(head.fields, "Upgrade", "web"));
    CHECK_FALSE(oi::http::lists_token(head.fields, "Host", "upgrade"));
}

TEST_CASE("iequals compares ASCII case-insensitively", "[http]")
{
    CHECK(oi::http::iequals("Content-Length", "content-length"));
    CHECK_FALSE(oi::http::iequals("Content-Length", "content-lengt"));
    CHECK_FALSE(oi::http::iequals("a", "b"));
    CHECK_FALSE(oi::http::iequals("\xc3", "\xe3"));
}

TEST_CASE("every control byte at every position of a long value is refused", "[http]")
{
    const std::string prefix = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: ";
    const std::string value = "abcdefghijklmnopqrstuvwx\x80\xff yz";
    oi::http::request_head head;

    for (std::size_t at = 0; at <= value.size(); ++at) {
        for (int byte = 0; byte < 256; ++byte) {
            const bool allowed = byte == '\t' || (byte >= 0x20 && byte != 0x7f);
            std::string text = prefix + value;
            text.insert(prefix.size() + at, 1, static_cast<char>(byte));
            text += "\r\n\r\n";

            const auto result = parse_request(text, head);

            INFO("byte " << byte << " at " << at);
            REQUIRE(result.status == (allowed ? parse_status::complete : parse_status::invalid));
        }
    }
}
