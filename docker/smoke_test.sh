#!/usr/bin/env bash
# Builds the container image (docker/Dockerfile) and runs it, with podman, which runs here where
# no Docker engine does. By hand, not in CI: the build stage compiles the proxy (about 10 minutes
# on 2 cores). Checks that the image as shipped:
#   - builds from a clean export of HEAD (git archive), with its .dockerignore-sized context;
#   - runs as the non-root user `oauth-injector`, with the shipped config accepted by check-config;
#   - starts with that config against a Redis (here redis-server on the host), answers /readyz and
#     passes its own HEALTHCHECK command;
#   - serves the admin API, the proxy (refusals as configured: a placeholder toward a host outside
#     allowed_hosts, a private destination) and /metrics;
#   - writes an interception CA into its data volume (`ca init`) as its own user;
#   - stops on SIGTERM with exit status 0.
#
# OI_SMOKE_IMAGE=NAME skips the build and checks an image built before.
# Needs podman, runc and debootstrap (apt-get install podman runc debootstrap). Without an image
# named debian:12 it makes one with debootstrap from Debian's mirror (no registry is reachable
# here). Uses the host's network (the image's listeners on 8080, 8081 and 9090 must be free) and
# podman with runc and cgroupfs, which work in this sandbox where crun does not.
# Prints `ok - ...` / `FAIL - ...` and `N passed, M failed`; exits non-zero on any failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

image=oauth-injector:smoke
name="oi-smoke-$$"
work="$(mktemp -d)"
conf="$work/containers.conf"
printf '[containers]\ndefault_ulimits = []\n' >"$conf" # no rlimits crun/runc may not set here
pm() { CONTAINERS_CONF="$conf" podman --runtime runc --cgroup-manager=cgroupfs "$@"; }

redis_pid=""
cleanup() {
    pm rm -f "$name" >/dev/null 2>&1 || true
    pm volume rm -f "$name-data" >/dev/null 2>&1 || true
    [[ -z "$redis_pid" ]] || kill "$redis_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

source "$OI_ROOT/scripts/checks.sh" # check, finish, equals

# --- base image and build --------------------------------------------------------------------

if ! pm image exists docker.io/library/debian:12; then
    oi_log "debian:12 from debootstrap (minbase bookworm)"
    debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >/dev/null
    tar -C "$work/rootfs" -c . | pm import - docker.io/library/debian:12 >/dev/null
    rm -rf "$work/rootfs"
fi

if [[ -n "${OI_SMOKE_IMAGE:-}" ]]; then
    image="$OI_SMOKE_IMAGE" # an image built before, e.g. by an earlier run of this script
else
    oi_log "building $image from a clean export of HEAD"
    mkdir "$work/context"
    git -C "$OI_ROOT" archive HEAD CMakeLists.txt proxy docker/oauth-injector.yaml \
        docker/Dockerfile | tar -x -C "$work/context"
    start=$SECONDS
    # Docker's image format: OCI images have no HEALTHCHECK.
    pm build --format docker --network host -f "$work/context/docker/Dockerfile" -t "$image" \
        "$work/context" >"$work/build.log" 2>&1 ||
        { tail -n 30 "$work/build.log" >&2; oi_die "build failed"; }
    oi_log "image built in $((SECONDS - start)) s"
fi

# --- the image as shipped ----------------------------------------------------------------------

export ADMIN_TOKEN TOKEN_KEY GOOGLE_CLIENT_ID=smoke-client GOOGLE_CLIENT_SECRET REDIS_URL
ADMIN_TOKEN="$(openssl rand -hex 24)"
TOKEN_KEY="$(openssl rand -base64 32)"
GOOGLE_CLIENT_SECRET="$(openssl rand -hex 16)"
redis_port="$(oi_free_port)"
REDIS_URL="redis://127.0.0.1:$redis_port/0"
env_args=(-e ADMIN_TOKEN -e TOKEN_KEY -e GOOGLE_CLIENT_ID -e GOOGLE_CLIENT_SECRET -e REDIS_URL)

check "the image runs as a non-root user" \
    bash -c "[[ \"\$(CONTAINERS_CONF='$conf' podman --runtime runc --cgroup-manager=cgroupfs \
        run --rm --entrypoint id $image -u)\" != 0 ]]"
check "the shipped config passes check-config" \
    pm run --rm "${env_args[@]}" "$image" check-config \
    --config /etc/oauth-injector/oauth-injector.yaml

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    >"$work/redis.log" 2>&1 &
redis_pid=$!
oi_wait_for_port "$redis_port" 10 || oi_die "redis-server did not start"

pm volume create "$name-data" >/dev/null
pm run -d --name "$name" --network host "${env_args[@]}" \
    -v "$name-data:/var/lib/oauth-injector" "$image" >/dev/null
ready=000
for _ in $(seq 100); do
    ready="$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9090/readyz || true)"
    [[ "$ready" == 200 ]] && break
    sleep 0.1
done
check "/readyz answers 200 with the store reachable" equals "$ready" 200
check "the image's HEALTHCHECK passes" pm healthcheck run "$name"

admin=(-H "Authorization: Bearer $ADMIN_TOKEN")
status="$(curl -s -o /dev/null -w '%{http_code}' "${admin[@]}" -X PUT \
    -d '{"access_token":"smoke-at-0123","expires_in":3600}' \
    http://127.0.0.1:9090/v1/connections/google/grants/alice)"
check "a grant is imported through the admin API: $status" equals "$status" 200

# proxied HEADERS URL: the status and the refusal code of a request through the proxy.
proxied() {
    curl -s -o /dev/null -D "$work/head" -w '%{http_code} ' -x http://127.0.0.1:8080 \
        -H 'X-Plugin-User: alice' -H 'X-Plugin-Id: google-calendar' "$@" || true
    sed -n 's/^X-OAuth-Injector-Error: *//Ip' "$work/head" | tr -d '\r'
}
got="$(proxied -H 'Authorization: Bearer {OAUTH_PLUGIN_ACCESS_TOKEN}' http://127.0.0.1:9/x)"
check "a placeholder toward a host outside allowed_hosts: $got" equals "$got" "403 host_not_allowed"
got="$(proxied http://10.0.0.1/x)"
check "a private destination (deny_private_addresses): $got" equals "$got" "403 destination_denied"
check "/metrics serves the proxy's metrics" \
    bash -c "curl -s http://127.0.0.1:9090/metrics | grep -q '^oauth_injector_requests_total{'"

check "ca init writes the interception CA into the data volume as the image's user" \
    pm run --rm -v "$name-data:/var/lib/oauth-injector" "$image" \
    ca init --dir /var/lib/oauth-injector/ca

pm stop -t 40 "$name" >/dev/null
check "SIGTERM: the proxy exits with status 0" \
    equals "$(pm inspect -f '{{.State.ExitCode}}' "$name")" 0
check "the container's log holds no secret" bash -c "! CONTAINERS_CONF='$conf' podman \
    --runtime runc --cgroup-manager=cgroupfs logs $name 2>&1 |
    grep -qF -e '$ADMIN_TOKEN' -e '$TOKEN_KEY' -e '$GOOGLE_CLIENT_SECRET' -e smoke-at-0123"

finish
