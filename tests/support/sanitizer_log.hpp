#pragma once

// Where sanitized children write their ASan, LeakSanitizer and UBSan reports.
//
// In a sanitized build (OI_SANITIZE) the proxy binary that the integration tests start is
// instrumented too, but its reports would only reach its stderr file, which nobody reads when
// the test passes, and LeakSanitizer reports after the test has stopped the child. So every
// `process` is started with ASAN_OPTIONS and UBSAN_OPTIONS extended by
// log_path=<its directory>/sanitizer, and reads those files when it is destroyed, after the child
// has ended (process::sanitizer_report): a report fails the running test. An uninstrumented
// child ignores these variables.

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace oi::test {

using environment_overrides = std::vector<std::pair<std::string, std::string>>;

/// Adds log_path=<dir>/sanitizer to ASAN_OPTIONS and UBSAN_OPTIONS in `env`, keeping what the
/// overrides or the parent's environment already set in them.
void add_sanitizer_log_path(environment_overrides& env, const std::filesystem::path& dir);

/// What the child wrote to the sanitizer logs under `dir` (the runtimes name them
/// sanitizer.<pid>); empty when nothing.
[[nodiscard]] std::string read_sanitizer_reports(const std::filesystem::path& dir);

} // namespace oi::test
