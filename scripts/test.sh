#!/usr/bin/env bash
# The README's test command: installs every dependency, builds everything and
# runs every test. Used as-is by CI (.ci/run). Run as root on Debian 12: tests
# mount, use loop devices, namespaces and cgroups.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
build=${NESTBOX_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${NESTBOX_CMAKE_ARGS:-}
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" ${NESTBOX_CTEST_ARGS:-}
