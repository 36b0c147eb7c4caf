#include "http/message.hpp"

#include "http/detail/char_class.hpp"
#include "http/detail/framing.hpp"

#include <array>
#include <cstring>

namespace oi::http {
namespace {

using detail::is;
using detail::k_field_value;
using detail::k_tchar;

/// Hands out the CRLF-terminated lines of a head, one at a time, from the first max_header_bytes of
/// the input. When it cannot, `result` says why: incomplete, too_large or invalid.
class line_reader {
public:
    line_reader(std::string_view data, std::size_t max_header_bytes) noexcept
        : data_(data), window_(data.substr(0, max_header_bytes))
    {}

    /// True with `line` (CRLF excluded) when one more complete line is available.
    bool next(std::string_view& line) noexcept
    {
        const void* lf = pos_ < window_.size()
                             ? std::memchr(window_.data() + pos_, '\n', window_.size() - pos_)
                             : nullptr;
        if (lf == nullptr) {
            return need_more();
        }

        // RFC 9112 section 2.2: lines end in CRLF; a bare LF is refused rather than tolerated,
        // since parsers that disagree on line ends disagree on where fields and bodies start.
        const auto lf_pos = static_cast<std::size_t>(static_cast<const char*>(lf) - window_.data());
        if (lf_pos == pos_ || window_[lf_pos - 1] != '\r') {
            return fail(parse_status::invalid, "bare LF in header section");
        }
        line = window_.substr(pos_, lf_pos - 1 - pos_);
        pos_ = lf_pos + 1;
        return true;
    }

    /// The head goes on past the bytes received: incomplete, or too_large once more bytes than
    /// the limit have arrived (waiting for more cannot help then). Returns false.
    bool need_more() noexcept
    {
        if (data_.size() > window_.size()) {
            return fail(parse_status::too_large, "header section exceeds the size limit");
        }
        result_.status = parse_status::incomplete;
        return false;
    }

    [[nodiscard]] std::string_view window() const noexcept { return window_; }
    [[nodiscard]] std::size_t pos() const noexcept { return pos_; }
    void advance_to(std::size_t pos) noexcept { pos_ = pos; }

    bool fail(parse_status status, const char* error) noexcept
    {
        result_.status = status;
        result_.error = error;
        return false;
    }

    parse_result complete() noexcept
    {
        result_.status = parse_status::complete;
        result_.consumed = pos_;
        return result_;
    }

    [[nodiscard]] const parse_result& result() const noexcept { return result_; }

private:
    std::string_view data_;
    std::string_view window_;
    std::size_t pos_ = 0;
    parse_result result_;
};

/// "HTTP/1.0" or "HTTP/1.1" (RFC 9112 section 2.3: the name is case-sensitive). Returns the minor
/// version, or -1 for anything else, HTTP/2.0 and HTTP/0.9 included.
int parse_version(std::string_view text) noexcept
{
    if (text == "HTTP/1.1") {
        return 1;
    }
    if (text == "HTTP/1.0") {
        return 0;
    }
    return -1;
}

/// Finds the CR that ends the field value starting at `pos`, checking every byte on the way:
/// field-value = *( VCHAR / obs-text / SP / HTAB ) (RFC 9110 section 5.5). NUL, the other controls
/// and DEL are refused, never replaced; so are a CR not followed by LF and a bare LF.
bool find_value_end(line_reader& reader, std::size_t pos, std::size_t& end)
{
    const std::string_view w = reader.window();
    for (;;) {
        pos = detail::skip_plain_field_text(w, pos);
        if (pos == w.size()) {
            return reader.need_more();
        }
        switch (w[pos]) {
        case '\t':
            ++pos;
            continue;
        case '\r':
            if (pos + 1 == w.size()) {
                return reader.need_more();
            }
            if (w[pos + 1] != '\n') {
                return reader.fail(parse_status::invalid, "bare CR in header section");
            }
            end = pos;
            return true;
        case '\n':
            return reader.fail(parse_status::invalid, "bare LF in header section");
        default:
            return reader.fail(parse_status::invalid, "invalid character in a field value");
        }
    }
}

/// Reads field lines up to and including the empty line that ends the head (RFC 9112 section 5),
/// appending to `fields` and feeding `framing`. One pass over the bytes, without a separate
/// search for line ends. False when the reader stopped (see its result).
bool read_fields(line_reader& reader, std::vector<header_field>& fields,
                 detail::framing_fields& framing)
{
    const std::string_view w = reader.window();
    std::size_t pos = reader.pos();
    for (;;) {
        if (pos == w.size()) {
            return reader.need_more();
        }

        // The empty line: the end of the head.
        if (w[pos] == '\r') {
            if (pos + 1 == w.size()) {
                return reader.need_more();
            }
            if (w[pos + 1] != '\n') {
                return reader.fail(parse_status::invalid, "bare CR in header section");
            }
            reader.advance_to(pos + 2);
            return true;
        }

        // A line starting with whitespace is obs-fold (RFC 9112 section 5.2), or whitespace
        // between the start-line and the first field (section 2.2): both are refused.
        if (detail::is_ows(w[pos])) {
            return reader.fail(parse_status::invalid, "obs-fold or leading whitespace in a field");
        }

        // field-name = token, immediately followed by ":" (section 5.1: no whitespace before it).
        const std::size_t name_begin = pos;
        while (pos < w.size() && is(k_tchar, w[pos])) {
            ++pos;
        }
        if (pos == w.size()) {
            return reader.need_more();
        }
        if (w[pos] != ':') {
            return reader.fail(parse_status::invalid, detail::is_ows(w[pos])
                                                          ? "whitespace before colon in a field"
                                                          : "invalid field name");
        }
        if (pos == name_begin) {
            return reader.fail(parse_status::invalid, "empty field name");
        }

        std::size_t value_end = 0;
        if (!find_value_end(reader, pos + 1, value_end)) {
            return false;
        }
        const header_field& field = fields.emplace_back(
            header_field{w.substr(name_begin, pos - name_begin),
                         detail::trim_ows(w.substr(pos + 1, value_end - pos - 1))});
        if (const char* error = framing.observe(field)) {
            return reader.fail(parse_status::invalid, error);
        }
        pos = value_end + 2;
    }
}

/// Connection persistence (RFC 9112 section 9.3): HTTP/1.1 unless "close"; HTTP/1.0 only with
/// "keep-alive".
bool persistent(int version_minor, const detail::framing_fields& framing) noexcept
{
    if (framing.connection_close) {
        return false;
    }
    return version_minor == 1 || framing.connection_keep_alive;
}

/// The checks shared by requests and responses that carry Transfer-Encoding (RFC 9112 6.1).
const char* check_transfer_encoding(int version_minor, const detail::framing_fields& framing)
{
    // Section 6.1: a message with both is a smuggling attempt or a broken sender; either way the
    // framing cannot be trusted. Refused for responses too, where 6.3 would let TE win.
    if (framing.content_length_seen) {
        return "both Content-Length and Transfer-Encoding";
    }
    // Section 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    if (version_minor == 0) {
        return "Transfer-Encoding in an HTTP/1.0 message";
    }
    // Section 7: chunked must not be applied more than once.
    if (framing.chunked_count > 1) {
        return "chunked applied more than once";
    }
    if (framing.chunked_count == 1 && !framing.final_is_chunked) {
        return "chunked is not the final transfer coding";
    }
    return nullptr;
}

template <class Head> void reset_head(Head& head)
{
    head.fields.clear(); // keeps the capacity: callers reuse heads across messages
    head.version_minor = 1;
    head.body = body_kind::none;
    head.content_length = 0;
    head.keep_alive = true;
}

const header_field* find_field(const std::vector<header_field>& fields,
                               std::string_view name) noexcept
{
    for (const header_field& field : fields) {
        if (iequals(field.name, name)) {
            return &field;
        }
    }
    return nullptr;
}

} // namespace

parse_result parse_request_head(std::string_view data, std::size_t max_header_bytes,
                                request_head& out)
{
    reset_head(out);
    out.method = {};
    out.target = {};
    out.expect_continue = false;
    out.host = {};
    line_reader reader{data, max_header_bytes};

    // RFC 9112 section 2.2: empty lines (CRLF) before the request-line are ignored.
    std::string_view line;
    do {
        if (!reader.next(line)) {
            return reader.result();
        }
    } while (line.empty());

    // request-line = method SP request-target SP HTTP-version (section 3), single spaces only.
    const std::size_t sp1 = line.find(' ');
    const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) {
        reader.fail(parse_status::invalid, "malformed request-line");
        return reader.result();
    }
    out.method = line.substr(0, sp1);
    out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    out.version_minor = parse_version(line.substr(sp2 + 1));
    if (out.method.empty() || !detail::all_of(k_tchar, out.method)) {
        reader.fail(parse_status::invalid, "invalid method");
        return reader.result();
    }
    if (out.target.empty() || !detail::all_of(detail::k_target, out.target)) {
        reader.fail(parse_status::invalid, "invalid request-target");
        return reader.result();
    }
    if (out.version_minor < 0) {
        out.version_minor = 1;
        reader.fail(parse_status::invalid, "unsupported HTTP version");
        return reader.result();
    }

    detail::framing_fields framing;
    if (!read_fields(reader, out.fields, framing)) {
        return reader.result();
    }

    // Request framing (section 6.3): a Transfer-Encoding whose only coding is chunked, or a
    // Content-Length, or no body. Any other coding cannot be delimited: 400 (6.3 item 4).
    if (framing.transfer_encoding_seen) {
        if (const char* error = check_transfer_encoding(out.version_minor, framing)) {
            reader.fail(parse_status::invalid, error);
            return reader.result();
        }
        if (framing.codings != 1 || framing.chunked_count != 1) {
            reader.fail(parse_status::invalid, "unsupported transfer coding in a request");
            return reader.result();
        }
        out.body = body_kind::chunked;
    } else if (framing.content_length_seen) {
        out.body = body_kind::length;
        out.content_length = framing.content_length;
    }

    // Section 3.2: an HTTP/1.1 request carries exactly one Host field.
    if (out.version_minor == 1 && framing.host_count != 1) {
        reader.fail(parse_status::invalid,
                    framing.host_count == 0 ? "missing Host" : "repeated Host");
        return reader.result();
    }
    if (framing.host_count > 1) {
        reader.fail(parse_status::invalid, "repeated Host");
        return reader.result();
    }
    out.host = framing.host;
    out.keep_alive = persistent(out.version_minor, framing);
    out.expect_continue = framing.expect_continue;
    return reader.complete();
}

parse_result parse_response_head(std::string_view data, std::size_t max_header_bytes,
                                 std::string_view request_method, response_head& out)
{
    reset_head(out);
    out.status = 0;
    out.reason = {};
    line_reader reader{data, max_header_bytes};

    // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 section 4). A
    // missing SP before an empty reason is tolerated: it cannot change the framing.
    std::string_view line;
    if (!reader.next(line)) {
        return reader.result();
    }
    out.version_minor = parse_version(line.substr(0, 8));
    if (out.version_minor < 0 || line.size() < 12 || line[8] != ' ') {
        out.version_minor = 1;
        reader.fail(parse_status::invalid, "malformed status-line");
        return reader.result();
    }
    int status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (line[i] < '0' || line[i] > '9') {
            reader.fail(parse_status::invalid, "malformed status code");
            return reader.result();
        }
        status = status * 10 + (line[i] - '0');
    }
    if (status < 100 || status > 599) {
        reader.fail(parse_status::invalid, "status code out of range");
        return reader.result();
    }
    if (line.size() > 12 && (line[12] != ' ' || !detail::all_of(k_field_value, line.substr(13)))) {
        reader.fail(parse_status::invalid, "malformed reason-phrase");
        return reader.result();
    }
    out.status = status;
    out.reason = line.size() > 12 ? line.substr(13) : std::string_view{};

    detail::framing_fields framing;
    if (!read_fields(reader, out.fields, framing)) {
        return reader.result();
    }
    if (framing.transfer_encoding_seen) {
        if (const char* error = check_transfer_encoding(out.version_minor, framing)) {
            reader.fail(parse_status::invalid, error);
            return reader.result();
        }
    }

    // Section 6.3, items 1 and 2: these responses end with their head, whatever the fields say.
    const bool no_body = status < 200 || status == 204 || status == 304 ||
                         request_method == "HEAD" || (request_method == "CONNECT" && status < 300);
    if (no_body) {
        out.body = body_kind::none;
    } else if (framing.transfer_encoding_seen) {
        // Item 3: chunked last means chunked; another final coding means until the close.
        out.body = framing.final_is_chunked ? body_kind::chunked : body_kind::until_eof;
    } else if (framing.content_length_seen) {
        out.body = body_kind::length;
    } else {
        out.body = body_kind::until_eof; // item 8
    }
    out.content_length = framing.content_length;
    out.keep_alive = out.body != body_kind::until_eof && persistent(out.version_minor, framing);
    return reader.complete();
}

const header_field* request_head::find(std::string_view name) const noexcept
{
    return find_field(fields, name);
}

const header_field* response_head::find(std::string_view name) const noexcept
{
    return find_field(fields, name);
}

bool iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (detail::to_lower(a[i]) != detail::to_lower(b[i])) {
            return false;
        }
    }
    return true;
}

bool is_hop_by_hop(std::string_view name, const std::vector<header_field>& fields) noexcept
{
    // RFC 9110 section 7.6.1, plus Proxy-Connection (a non-standard field some clients still send)
    // and Keep-Alive (RFC 2068 section 19.7.1).
    static constexpr std::array<std::string_view, 9> k_hop_by_hop{"connection",
                                                                  "keep-alive",
                                                                  "proxy-connection",
                                                                  "proxy-authenticate",
                                                                  "proxy-authorization",
                                                                  "te",
                                                                  "trailer",
                                                                  "transfer-encoding",
                                                                  "upgrade"};
    for (std::string_view hop : k_hop_by_hop) {
        if (iequals(name, hop)) {
            return true;
        }
    }

    return lists_token(fields, "connection", name);
}

bool lists_token(const std::vector<header_field>& fields, std::string_view name,
                 std::string_view token) noexcept
{
    bool listed = false;
    for (const header_field& field : fields) {
        if (!listed && iequals(field.name, name)) {
            detail::for_each_list_element(field.value, [&](std::string_view element) {
                listed = listed || iequals(element, token);
            });
        }
    }
    return listed;
}

} // namespace oi::http
