#!/usr/bin/env bash
# End-to-end test of a plugin written in Go (tests/e2e/go/main.go): net/http's default transport,
# configured only through HTTPS_PROXY / HTTP_PROXY (the identity in the proxy URL's userinfo) and
# SSL_CERT_FILE, run with a clean environment (`env -i`). It offers HTTP/2 in the tunnel's TLS
# handshake, keeps tunnels alive across requests, and sends bodies with Content-Length or chunked.
#
# Go never sends requests for localhost or a loopback address through a proxy (its httpproxy
# package exempts them), so the origins are reached by a name, api.e2e.test, that only the proxy
# can resolve: the proxy runs with the LD_PRELOAD resolver of the DNS-rebinding test
# (build/tests/liboi_rebinding_resolver.so, or OI_RESOLVER) answering 127.0.0.1 for that name.
# The Go program uses the standard library only; GOPROXY=off keeps the build offline.
#
# Prints `ok - ...` or `FAIL - ...` per check and `N passed, M failed` last; exits non-zero on any
# failure. Bounded by OI_E2E_TIMEOUT seconds (default 180); OI_E2E_KEEP=1 keeps the temporary
# directory. Secrets are random per run and never printed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../scripts/lib.sh"
source "$here/e2e_lib.sh"

name=api.e2e.test
resolver="${OI_RESOLVER:-$(dirname "$binary")/tests/liboi_rebinding_resolver.so}"
[[ -f "$resolver" ]] || oi_die "no resolver module at $resolver (build the tests, or set OI_RESOLVER)"
command -v go >/dev/null || oi_die "no Go toolchain (apt-get install golang-go)"
(cd "$here/go" && GOPROXY=off GOFLAGS=-mod=mod go build -o "$tmp/goclient" .) ||
    oi_die "building the Go client failed"

start_echo_origins "DNS:$name"
start_proxy proxy deny "[$name]" LD_PRELOAD="$resolver" OI_REBIND_NAME="$name" \
    OI_REBIND_ANSWERS=127.0.0.1
proxy_url="http://calendar:alice@127.0.0.1:$proxy_port"
auth="Authorization: Bearer $placeholder"
out="$tmp/answer"

# go_client PROXY_URL GOCLIENT-ARGS...: runs the Go client with nothing from this environment but
# PATH, the proxy variables and the interception CA; its JSON lines go to $out.1, $out.2, ...
go_client() {
    local proxy="$1"
    shift
    rm -f "$out".*
    env -i PATH="$PATH" HOME="$tmp" HTTPS_PROXY="$proxy" HTTP_PROXY="$proxy" \
        SSL_CERT_FILE="$tmp/ica/ca.pem" "$tmp/goclient" "$@" >"$out" 2>"$out.err" || true
    local i=0 line
    while IFS= read -r line; do
        i=$((i + 1))
        printf '%s\n' "$line" >"$out.$i"
        json_eval "$out.$i" 'j(d["body"])' >"$out.$i.origin" 2>/dev/null || true
    done <"$out"
}

field() { json_eval "$out.$1" "d['$2']" 2>/dev/null || true; }
origin_field() { json_eval "$out.$1.origin" "d['$2']" 2>/dev/null || true; }

# --- through a CONNECT tunnel, intercepted -------------------------------------------------

go_client "$proxy_url" -repeat 3 -header "$auth" "https://$name:$tls_port/go/get"
check "GET https:// (CONNECT, intercepted): status $(field 1 status), $(field 1 proto)" \
    equals "$(field 1 status) $(field 1 proto)" "200 HTTP/1.1"
check "GET https://: the origin saw the access token over TLS" \
    origin_saw "$out.1.origin" Authorization "Bearer $access_token"
check "GET https://: the origin was reached in TLS" equals "$(origin_field 1 tls)" true
check "three requests on one client: the second and third reused the tunnel" \
    equals "$(field 2 reused) $(field 3 reused)" "true true"
check "three requests on one client: each carried the access token" \
    origin_saw "$out.3.origin" Authorization "Bearer $access_token"

body="{\"token\": \"$placeholder\", \"pad\": \"$(printf 'x%.0s' {1..3000})\"}"
expected="${body/"$placeholder"/"$access_token"}"
go_client "$proxy_url" -method POST -body "$body" -header "$auth" \
    -header 'Content-Type: application/json' "https://$name:$tls_port/go/post"
check "POST with Content-Length: status $(field 1 status), the body's placeholder replaced" \
    equals "$(origin_field 1 body)" "$expected"

go_client "$proxy_url" -method POST -chunked -body "$body" -header "$auth" \
    "https://$name:$tls_port/go/chunked"
check "POST chunked: status $(field 1 status), the body's placeholder replaced" \
    equals "$(origin_field 1 body)" "$expected"

# --- absolute-form, plain HTTP ---------------------------------------------------------------

go_client "$proxy_url" -header "$auth" "http://$name:$plain_port/go/plain"
check "GET http:// (absolute-form, Proxy-Authorization): status $(field 1 status)" \
    origin_saw "$out.1.origin" Authorization "Bearer $access_token"
check "GET http://: the origin was reached in plain HTTP" equals "$(origin_field 1 tls)" false
check "GET http://: the proxy credentials were not forwarded" \
    origin_saw "$out.1.origin" Proxy-Authorization ""

# --- refusals as Go sees them ----------------------------------------------------------------

go_client "http://127.0.0.1:$proxy_port" -header "$auth" "https://$name:$tls_port/go/anonymous"
check "CONNECT without an identity: Go reports the proxy's 407" \
    grep -q "Proxy Authentication Required" "$out.1"
go_client "http://127.0.0.1:$proxy_port" -header "$auth" "http://$name:$plain_port/go/anonymous"
check "absolute-form without an identity: 407 identity_required" \
    equals "$(field 1 status) $(json_eval "$out.1" 'j(d["body"])["error"]' 2>/dev/null)" \
    "407 identity_required"

check "the proxy's log never contains the access token" \
    bash -c "! grep -aqF -- '$access_token' '$tmp/proxy.log'"

finish
