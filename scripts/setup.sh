#!/usr/bin/env bash
# Installs what is missing from the project's Debian packages (scripts/lib.sh lists them) and
# builds everything into build/ (or $OI_BUILD_DIR), RelWithDebInfo unless CMAKE_BUILD_TYPE is set.
# Extra arguments are passed to the cmake configure step (e.g. -DOI_SANITIZE=ON).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

oi_ensure_packages "${OI_DEBIAN_PACKAGES[@]}"

build_dir="$(oi_build_dir)"
jobs="$(nproc)"

oi_log "configuring $build_dir"
cmake -S "$OI_ROOT" -B "$build_dir" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" "$@"

oi_log "building with $jobs jobs"
cmake --build "$build_dir" -j "$jobs"
