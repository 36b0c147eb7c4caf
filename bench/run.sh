#!/usr/bin/env bash
# Side-by-side benchmark of oauth-injector and reference proxies on one machine, in one run,
# printed as one table. See bench/README.md. Knobs (environment):
#   BENCH_DURATION=10s (BENCH_QUICK=1: 2s)  BENCH_CONNECTIONS=32  BENCH_WRK_THREADS=2
#   BENCH_USERS=10000  BENCH_IDLE_CONNECTIONS=10000  BENCH_STARTUP_RUNS=5
#   BENCH_STORM_REQUESTS=1000  concurrent requests per expiry in the refresh storm
#   BENCH_THREADS=1      worker threads of nginx, haproxy and oauth-injector alike
#   BENCH_BASELINE=PATH  another oauth-injector binary measured side by side ("baseline" rows)
#   BENCH_NO_BUILD=1     use the existing build (OI_BUILD_DIR) instead of running scripts/setup.sh
#   BENCH_KEEP=1         keep the temporary directory (configs, logs, raw load-generator output)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$bench_dir/servers.sh"
source "$bench_dir/absolute.sh"
source "$bench_dir/connect.sh"
source "$bench_dir/resources.sh"
source "$bench_dir/report.sh"

users="${BENCH_USERS:-10000}"
idle_connections="${BENCH_IDLE_CONNECTIONS:-10000}"
startup_runs="${BENCH_STARTUP_RUNS:-5}"

oi_ensure_packages "${OI_BENCH_PACKAGES[@]}"
if [[ "${BENCH_NO_BUILD:-0}" != 1 ]]; then
    oi_log "building (scripts/setup.sh)"
    "$OI_ROOT/scripts/setup.sh" >"$work/build.log" 2>&1 || oi_die "build failed: see $work/build.log"
fi
ulimit -n "$(ulimit -Hn)" # 10,000 idle client connections, and the load generators'

declare -A oi_binaries=([oauth-injector]="$(oi_build_dir)/oauth-injector")
oi_names=(oauth-injector)
if [[ -n "${BENCH_BASELINE:-}" ]]; then
    oi_binaries[baseline]="$BENCH_BASELINE"
    oi_names+=(baseline)
fi
for name in "${oi_names[@]}"; do
    [[ -x "${oi_binaries[$name]}" ]] || oi_die "no binary at ${oi_binaries[$name]}"
done

start_origin && start_haproxy && start_nginx_proxy && start_redis || oi_die "$problem"
declare -A oi_ports oi_pids
for name in "${oi_names[@]}"; do
    start_oauth_injector "$name" "${oi_binaries[$name]}" && import_grants || oi_die "$problem"
    oi_ports[$name]="$oi_port"
    oi_pids[$name]="$oi_pid"
done

absolute_throughput get 0
absolute_throughput post4k 4096
half_rate="$(awk -v r="$(rps_of get oauth-injector)" 'BEGIN { printf "%d", r / 2 }')"
absolute_latency latency "$half_rate"
connect_throughput
for name in "${oi_names[@]}"; do
    measure_startup "$name" "${oi_binaries[$name]}"
    measure_idle_memory "$name" "${oi_binaries[$name]}"
done
measure_refresh_storm "${oi_binaries[oauth-injector]}"

print_report
exit "$status"
