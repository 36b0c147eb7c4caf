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

# Step 3: end-to-end tests with real clients (node, python, curl) and a real OAuth provider
# (tests/e2e/provider, on the npm package oidc-provider), each a script under tests/e2e/.
oi_log "e2e: OAuth provider self-test"
oi_npm_ci "$OI_ROOT/tests/e2e/provider"
(cd "$OI_ROOT/tests/e2e/provider" && timeout 300 node --test --test-reporter=spec selftest.mjs)

oi_log "e2e: signed identities minted with PyJWT and jsonwebtoken"
oi_npm_ci "$OI_ROOT/tests/e2e/identity"
OI_BINARY="$build_dir/oauth-injector" "$OI_ROOT/tests/e2e/identity_libs_test.sh"

oi_log "e2e: curl, http.client and requests through the proxy"
OI_BINARY="$build_dir/oauth-injector" "$OI_ROOT/tests/e2e/curl_proxy_test.sh"

oi_log "e2e: token refresh against the provider, two proxies on one Redis"
OI_BINARY="$build_dir/oauth-injector" timeout 300 node "$OI_ROOT/tests/e2e/refresh_e2e.mjs"

oi_log "e2e: Node (undici, axios, ws) and Python urllib through CONNECT and absolute-form"
oi_npm_ci "$OI_ROOT/tests/e2e/clients"
OI_BINARY="$build_dir/oauth-injector" "$OI_ROOT/tests/e2e/clients_test.sh"

oi_log "e2e: a Go plugin (net/http, HTTPS_PROXY) through CONNECT and absolute-form"
OI_BINARY="$build_dir/oauth-injector" "$OI_ROOT/tests/e2e/go_client_test.sh"

oi_log "e2e: authorization flow (authorize link, /oauth/start, oidc-provider, /oauth/callback)"
OI_BINARY="$build_dir/oauth-injector" timeout 300 python3 "$OI_ROOT/tests/e2e/authflow_test.py"

# Step 4: observability and container files (docker/) against the real binary's /metrics, with
# promtool; no Docker engine needed (the image and compose file themselves are not run here).
oi_log "ops: dashboard, Prometheus config, Dockerfile and compose checks"
OI_BINARY="$build_dir/oauth-injector" timeout 300 python3 "$OI_ROOT/tests/ops/check_observability.py"

# Step 5: fuzzing (tests/fuzz): the libFuzzer targets, built with clang, ASan and UBSan in
# build-fuzz/, each run for OI_FUZZ_SECONDS (30 here to keep CI short; scripts/fuzz.sh alone
# defaults to 60). Any crash, sanitizer report or broken invariant fails the run.
oi_log "fuzz: request head, chunked, rewriter, config, JWT and token-answer parsers"
OI_FUZZ_SECONDS="${OI_FUZZ_SECONDS:-30}" "$OI_ROOT/scripts/fuzz.sh"

# Step 6 (opt-in, OI_CI_SANITIZE=1): the unit and integration tests again, built with GCC's
# AddressSanitizer and UBSan (OI_SANITIZE=ON) in build-asan/. A second full build: about as long
# as the first, so CI leaves it out unless asked.
if [[ "${OI_CI_SANITIZE:-0}" == 1 ]]; then
    oi_log "sanitizers: unit and integration tests under ASan+UBSan"
    OI_BUILD_DIR="$OI_ROOT/build-asan" "$OI_ROOT/scripts/setup.sh" -DOI_SANITIZE=ON
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --test-dir "$OI_ROOT/build-asan" --output-on-failure --timeout 1800
fi
