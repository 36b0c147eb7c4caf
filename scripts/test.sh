#!/usr/bin/env bash
# Builds everything (scripts/setup.sh) and runs the test suites. Exits non-zero on any failure.
#
# The integration tests start their own redis-server processes on free ports; this script only
# makes sure the packages are installed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$OI_ROOT/scripts/setup.sh"
build_dir="$(oi_build_dir)"

# Step 1: unit and integration tests (Catch2, through CTest).
oi_log "ctest"
ctest --test-dir "$build_dir" --output-on-failure --timeout 1200

# Step 2: formatting (.clang-format); an unformatted file fails the run (STYLE.md).
"$OI_ROOT/scripts/check-format.sh"

# Step 3: the sanitized build (clang, ASan+UBSan with no recovery, libFuzzer coverage) in
# build-sanitize/: the same sources once more, into the unit and integration tests, the proxy
# binary and the fuzzers. Then the unit and integration tests under the sanitizers; the
# integration tests start this build's (sanitized) proxy binary, whose reports fail the test that
# started it (tests/support/sanitizer_log.hpp).
san_dir="$(oi_sanitize_dir)"
oi_log "sanitizers: building tests, binary and fuzzers with clang, ASan and UBSan in $san_dir"
oi_configure_sanitized "$san_dir"
cmake --build "$san_dir" -j "$(nproc)"
oi_log "sanitizers: unit and integration tests under ASan+UBSan"
ctest --test-dir "$san_dir" --output-on-failure --timeout 1800

# Step 4: end-to-end tests with real clients (node, python, curl) and a real OAuth provider
# (tests/e2e/provider, on the npm package oidc-provider), each a script under tests/e2e/, run once,
# against the sanitized binary (the integration tests cover the release binary). Its sanitizer
# reports go to files in $san_logs, checked after each script: a leak reported at exit after the
# script's SIGTERM fails the run even when the script passed.
san_binary="$san_dir/oauth-injector"
san_logs="$(mktemp -d)"
trap 'rm -rf "$san_logs"' EXIT
e2e() {
    local status=0
    ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$san_logs/asan" \
        UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$san_logs/ubsan" OI_BINARY="$san_binary" "$@" ||
        status=$?
    oi_check_sanitizer_logs "$san_logs"
    return "$status"
}

oi_log "e2e: OAuth provider self-test"
oi_npm_ci "$OI_ROOT/tests/e2e/provider"
(cd "$OI_ROOT/tests/e2e/provider" && timeout 300 node --test --test-reporter=spec selftest.mjs)

oi_log "e2e: signed identities minted with PyJWT and jsonwebtoken"
oi_npm_ci "$OI_ROOT/tests/e2e/identity"
e2e "$OI_ROOT/tests/e2e/identity_libs_test.sh"

oi_log "e2e: curl, http.client and requests through the proxy"
e2e "$OI_ROOT/tests/e2e/curl_proxy_test.sh"

oi_log "e2e: token refresh against the provider, two proxies on one Redis"
e2e timeout 300 node "$OI_ROOT/tests/e2e/refresh_e2e.mjs"

oi_log "e2e: Node (undici, axios, ws) and Python urllib through CONNECT and absolute-form"
oi_npm_ci "$OI_ROOT/tests/e2e/clients"
e2e "$OI_ROOT/tests/e2e/clients_test.sh"

oi_log "e2e: a Go plugin (net/http, HTTPS_PROXY) through CONNECT and absolute-form"
e2e "$OI_ROOT/tests/e2e/go_client_test.sh"

oi_log "e2e: authorization flow (authorize link, /oauth/start, oidc-provider, /oauth/callback)"
e2e timeout 300 python3 "$OI_ROOT/tests/e2e/authflow_test.py"

# Step 5: observability and container files (docker/) against the release binary's /metrics,
# with promtool; no Docker engine needed (the image and compose file themselves are not run here).
oi_log "ops: dashboard, Prometheus config, Dockerfile and compose checks"
OI_BINARY="$build_dir/oauth-injector" timeout 300 python3 "$OI_ROOT/tests/ops/check_observability.py"

# Step 6: fuzzing (tests/fuzz): the libFuzzer targets from build-sanitize/, each run for
# OI_FUZZ_SECONDS (30 here to keep CI short; scripts/fuzz.sh alone defaults to 60). Any crash,
# sanitizer report or broken invariant fails the run.
oi_log "fuzz: request head, chunked, rewriter, config, JWT and token-answer parsers"
OI_FUZZ_SECONDS="${OI_FUZZ_SECONDS:-30}" OI_FUZZ_BUILD_DIR="$san_dir" "$OI_ROOT/scripts/fuzz.sh"
