# Shared helpers for the scripts in this folder and bench/. Sourced, not executed.
#
# The project's Debian packages are listed once, here: scripts/setup.sh installs
# OI_DEBIAN_PACKAGES; bench/run.sh adds OI_BENCH_PACKAGES.

OI_DEBIAN_PACKAGES=(
    build-essential cmake pkg-config
    libboost1.81-all-dev libssl-dev libyaml-cpp-dev libhiredis-dev prometheus-cpp-dev libidn2-dev
    catch2 libspdlog-dev libcli11-dev
    redis-server redis-sentinel
    curl python3 python3-requests python3-jwt nodejs npm openssl clang-format
    clang  # libFuzzer and its sanitizers for scripts/fuzz.sh
    prometheus python3-yaml  # promtool and YAML for tests/ops/check_observability.py
    golang-go  # a Go plugin's net/http client, tests/e2e/go_client_test.sh (standard library only)
    python3-httpx python3-aiohttp  # Python plugins' async-era clients, tests/e2e/clients_test.sh
)

OI_BENCH_PACKAGES=(
    wrk hey nginx haproxy squid-openssl mitmproxy  # load generators, origin, reference proxies
    redis-server curl openssl python3 nodejs npm  # nodejs, npm: the refresh storm (provider)
)

OI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

oi_log() { printf '==> %s\n' "$*" >&2; }
oi_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Packages whose command may come from another package: NodeSource's nodejs ships npm and
# conflicts with Debian's npm package, so npm counts as present when the command is.
declare -A OI_PACKAGE_COMMANDS=([npm]=npm)

# Prints the packages among "$@" that dpkg does not report as installed.
oi_missing_packages() {
    local pkg status
    for pkg in "$@"; do
        if [[ -n "${OI_PACKAGE_COMMANDS[$pkg]:-}" ]] && command -v "${OI_PACKAGE_COMMANDS[$pkg]}" >/dev/null; then
            continue
        fi
        status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
        if [[ "$status" != "install ok installed" ]]; then
            printf '%s\n' "$pkg"
        fi
    done
}

# Installs the packages among "$@" that are missing; does nothing (not even apt-get update) when
# all are present. Needs root, or sudo without a password.
oi_ensure_packages() {
    local missing
    mapfile -t missing < <(oi_missing_packages "$@")
    if ((${#missing[@]} == 0)); then
        return 0
    fi

    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || oi_die "missing packages (${missing[*]}) and not root"
        sudo=(sudo)
    fi

    oi_log "installing: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
}

# The build directory: OI_BUILD_DIR if set, else build/ at the root.
oi_build_dir() { printf '%s\n' "${OI_BUILD_DIR:-$OI_ROOT/build}"; }

# The sanitized build directory (scripts/test.sh, scripts/fuzz.sh): OI_SANITIZE_BUILD_DIR if set,
# else build-sanitize/ at the root.
oi_sanitize_dir() { printf '%s\n' "${OI_SANITIZE_BUILD_DIR:-$OI_ROOT/build-sanitize}"; }

# Configures $1 as the sanitized build: clang, ASan+UBSan and libFuzzer coverage everywhere
# (-DOI_FUZZ=ON), so that one build holds the fuzzers, the test programs and the proxy binary.
oi_configure_sanitized() {
    local launcher=()
    if command -v ccache >/dev/null; then
        launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    fi
    cmake -S "$OI_ROOT" -B "$1" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
        -DOI_FUZZ=ON "${launcher[@]}" >/dev/null
}

# Runtime options for sanitized programs: every report ends the program with a non-zero status.
# Children of the tests and the e2e scripts add log_path to these.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Prints the sanitizer logs (files named <prefix>.<pid>) in the directory $1 to stderr and fails
# when there is any.
oi_check_sanitizer_logs() {
    local log found=0
    for log in "$1"/*; do
        [[ -s "$log" ]] || continue
        found=1
        printf '==> sanitizer report %s:\n' "$log" >&2
        cat "$log" >&2
    done
    ((found == 0)) || oi_die "sanitizer reports in $1"
}

# Prints a free TCP port on 127.0.0.1 (asks the kernel for port 0).
oi_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits up to $2 seconds (default 10) for a TCP listener on 127.0.0.1:$1.
oi_wait_for_port() {
    local port="$1" deadline=$((SECONDS + ${2:-10}))
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

# Installs the npm packages of the folder $1 from its package-lock.json (npm ci), unless
# $1/node_modules already holds exactly that lock file's packages: the lock file's checksum is
# kept in node_modules/.oi-lock-sha256 after each install.
oi_npm_ci() {
    local dir="$1" stamp="$1/node_modules/.oi-lock-sha256" sum
    sum="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$sum" ]]; then
        return 0
    fi
    oi_log "npm ci in ${dir#"$OI_ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    printf '%s\n' "$sum" >"$stamp"
}
