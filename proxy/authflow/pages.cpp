#include "authflow/pages.hpp"

namespace oi::authflow {

std::string html_escape(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') {
                out += c;
            }
        }
    }
    return out;
}

std::string render_page(std::string_view title, std::string_view message)
{
    const std::string safe_title = html_escape(title);
    std::string page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                       "<title>";
    page += safe_title;
    page += "</title>\n</head>\n<body style=\"font-family: sans-serif; max-width: 36em; "
            "margin: 3em auto\">\n<h1>";
    page += safe_title;
    page += "</h1>\n<p>";
    page += html_escape(message);
    page += "</p>\n</body>\n</html>\n";
    return page;
}

} // namespace oi::authflow
