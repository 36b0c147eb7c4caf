#pragma once

// The short HTML pages that the public listener shows end users' browsers. Pure functions, any
// thread. Every text that goes into a page is HTML-escaped here, whatever its origin.

#include <string>
#include <string_view>

namespace oi::authflow {

/// `&`, `<`, `>`, `"` and `'` as character references; control characters other than tab and
/// newline dropped.
[[nodiscard]] std::string html_escape(std::string_view text);

/// A complete, self-contained UTF-8 HTML document with `title` as its title and heading and
/// `message` as its one paragraph; no script, no external resource.
[[nodiscard]] std::string render_page(std::string_view title, std::string_view message);

} // namespace oi::authflow
