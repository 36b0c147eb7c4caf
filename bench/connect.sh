# The CONNECT loads: HTTPS to the origin through intercepting proxies, each with its own CA. hey
# (Go's HTTP client) keeps its 32 tunnels alive, so each tunnel carries many requests. Sourced by
# bench/run.sh after the servers are up; each function adds rows to the table.

# Runs a command without the CA variables the machine's environment may set.
clean_env() {
    env -u CURL_CA_BUNDLE -u SSL_CERT_FILE -u SSL_CERT_DIR -u REQUESTS_CA_BUNDLE "$@"
}

# check_injection NAME CA PROXY_URL EXPECTED: the origin must see EXPECTED as Authorization.
check_injection() {
    local seen
    seen="$(clean_env curl -s --max-time 10 --cacert "$2" -x "$3" \
        -H 'Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}' \
        "https://127.0.0.1:$origin_tls_port/auth" || true)"
    [[ "$seen" == "$4" ]] || { echo "failed: $1 did not inject (origin saw '${seen:0:40}')"; return 1; }
}

# connect_load NAME CA PROXY_URL EXPECTED PID: one row for the proxy, after checking its
# injection; CPU time charged to PID (and its children).
connect_load() {
    local name="$1" ca="$2" proxy="$3" expected="$4" check
    measured_pids=("$5")
    if ! check="$(check_injection "$name" "$ca" "$proxy" "$expected")"; then
        add_row connect "$name" "$check"
        return
    fi
    add_row connect "$name" "$(SSL_CERT_FILE="$ca" run_hey "connect-$name" -c 32 -x "$proxy" \
        -H 'Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}' \
        "https://127.0.0.1:$origin_tls_port/index.json")"
}

# Every proxy in turn; the reference proxies are started here and stopped when done.
connect_throughput() {
    local name
    for name in "${oi_names[@]}"; do
        connect_load "$name" "$work/oi-ca/ca.pem" \
            "http://bench-plugin:user-1@127.0.0.1:${oi_ports[$name]}" "Bearer bench-token-1" "${oi_pids[$name]}"
    done
    if start_squid; then
        connect_load "squid ssl-bump" "$work/squid/ca.pem" "http://127.0.0.1:$squid_port" \
            "Bearer bench-static-token" "$squid_pid"
        stop "$squid_pid"
    else
        add_row connect "squid ssl-bump" "failed: $problem"
    fi
    if start_mitmproxy; then
        connect_load mitmproxy "$work/mitmproxy/mitmproxy-ca-cert.pem" \
            "http://127.0.0.1:$mitm_port" "Bearer bench-static-token" "$mitm_pid"
        stop "$mitm_pid"
    else
        add_row connect mitmproxy "failed: $problem"
    fi
}
