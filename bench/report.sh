# The table bench/run.sh prints at the end, and the targets of issue 8 checked against it.
# Sourced; print_report reads rows (lib.sh), startup_ms and idle (resources.sh).

declare -A section_titles=(
    [get]="absolute-form GET, placeholder in a header (wrk)"
    [post4k]="absolute-form POST, 4 KiB JSON body with the placeholder (wrk)"
    [latency]="latency at a fixed rate: half of oauth-injector's GET peak (hey -q)"
    [connect]="CONNECT, intercepted, 32 kept-alive tunnels (hey -x)"
)
declare -A section_references=([get]=haproxy [post4k]=haproxy [latency]=direct
    [connect]="squid ssl-bump")

# ratio A B: A / B with two decimals, "-" when B is empty or zero.
ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { print (b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }'; }

print_rows() {
    local section="$1" row s t v reference ref_rps ref_p99 note
    reference="${section_references[$section]}"
    ref_rps="$(rps_of "$section" "$reference")"
    ref_p99="$(field_of "$section" "$reference" 3)"
    printf '\n%s\n' "${section_titles[$section]}"
    printf '  %-18s %10s %9s %9s %7s %12s  %s\n' target req/s p50_ms p99_ms errors cpu_us/req \
        "vs $reference"
    for row in "${rows[@]}"; do
        IFS='|' read -r s t v _ <<<"$row"
        [[ "$s" == "$section" ]] || continue
        if [[ "$v" == failed:* ]]; then
            printf '  %-18s %s\n' "$t" "$v"
            continue
        fi
        read -r rps p50 p99 errors cpu <<<"$v"
        if [[ "$section" == latency ]]; then
            note="p99 +$(awk -v a="$p99" -v b="$ref_p99" 'BEGIN { printf "%.3f", a - b }') ms"
        else
            note="$(ratio "$rps" "$ref_rps")x"
        fi
        printf '  %-18s %10.0f %9.3f %9.3f %7d %12s  %s\n' "$t" "$rps" "$p50" "$p99" "$errors" \
            "$cpu" "$note"
        ((errors == 0)) || status=1
    done
}

# verdict NAME VALUE OP LIMIT UNIT: one line of the targets block.
verdict() {
    local met
    met="$(awk -v v="${2:-nan}" -v l="$4" -v op="$3" 'BEGIN {
        if (v == "nan" || v == "-") { print "not measured"; exit }
        ok = (op == ">=") ? (v + 0 >= l + 0) : (v + 0 <= l + 0)
        print ok ? "met" : "NOT met" }')"
    printf '  %-52s %10s %-4s (target %s %s)  %s\n' "$1" "$2" "$5" "$3" "$4" "$met"
}

print_targets() {
    local oi_get oi_post
    oi_get="$(rps_of get oauth-injector)"
    oi_post="$(rps_of post4k oauth-injector)"
    printf '\ntargets (issue 8), oauth-injector:\n'
    verdict "GET throughput / haproxy" "$(ratio "$oi_get" "$(rps_of get haproxy)")" ">=" 1.2 x
    verdict "p99 added over direct at $half_rate req/s" "$(awk \
        -v a="$(field_of latency oauth-injector 3)" -v b="$(field_of latency direct 3)" \
        'BEGIN { if (a == "" || b == "") print "-"; else printf "%.3f", a - b }')" "<=" 1 ms
    verdict "4 KiB body throughput / GET throughput" "$(ratio "$oi_post" "$oi_get")" ">=" 0.85 x
    verdict "CONNECT throughput / squid ssl-bump" \
        "$(ratio "$(rps_of connect oauth-injector)" "$(rps_of connect "squid ssl-bump")")" ">=" 20 x
    verdict "CONNECT throughput / mitmproxy" \
        "$(ratio "$(rps_of connect oauth-injector)" "$(rps_of connect mitmproxy)")" ">=" 50 x
    local memory="${idle[oauth-injector]:-failed}" per_kib="-" start="-"
    [[ "$memory" == failed* ]] || per_kib="$(awk '{ printf "%.1f", $3 / 1024 }' <<<"$memory")"
    verdict "RSS per idle keep-alive connection ($idle_connections)" "$per_kib" "<=" 16 KiB
    [[ "${startup_ms[oauth-injector]:-failed}" == failed* ]] ||
        start="${startup_ms[oauth-injector]%% *}"
    verdict "start-up to /readyz 200 (median of $startup_runs)" "$start" "<=" 100 ms
    local calls="-" failures="-"
    if [[ "$storm" != failed* && -n "$storm" ]]; then
        read -r s_calls s_expiries s_failed _ <<<"$storm"
        calls="$(ratio "$s_calls" "$s_expiries")"
        failures="$s_failed"
    fi
    verdict "refresh storm: token endpoint calls per expiry" "$calls" "<=" 1 ""
    verdict "refresh storm: failed requests" "$failures" "<=" 0 ""
}

print_resources() {
    local name
    printf '\nresources\n'
    for name in "${oi_names[@]}"; do
        printf '  %-18s start-up to ready (ms: median, slowest; median CPU): %s\n' "$name" \
            "${startup_ms[$name]:-not measured}"
        printf '  %-18s idle connections (RSS before KiB, after KiB, bytes each, still open): %s\n' \
            "$name" "${idle[$name]:-not measured}"
    done
    local calls expiries failed requests p50 p99 longest
    if [[ "$storm" == failed* || -z "$storm" ]]; then
        printf '  %-18s refresh storm: %s\n' oauth-injector "${storm:-not measured}"
    else
        read -r calls expiries failed requests p50 p99 longest <<<"$storm"
        printf '  %-18s refresh storm (%s concurrent requests per expiry, 2 proxies): %s token\n' \
            oauth-injector "$((requests / expiries))" "$calls"
        printf '  %-18s   endpoint calls for %s expiries, %s of %s requests failed, end to end\n' \
            "" "$expiries" "$failed" "$requests"
        printf '  %-18s   p50 %s ms, p99 %s ms, longest %s ms (origin checks each token by\n' \
            "" "$p50" "$p99" "$longest"
        printf '  %-18s   introspection at the provider)\n' ""
    fi
}

print_report() {
    printf '\n%s, %s, %s cores; %s; servers %s thread(s); %s users in Redis\n' "$(date -u +%F)" \
        "$(uname -m)" "$(nproc)" "$duration per load" "$threads" "$users"
    local section
    for section in get post4k latency connect; do
        print_rows "$section"
    done
    print_resources
    print_targets
}
