#!/usr/bin/env bash
# The README's main command: runs nestbox's main job on the bundled examples.
# Today: validate every example and print each resolved policy. It grows with
# the pipeline into compose -> sign -> verify -> launch.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh >/dev/null
build=${NESTBOX_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target nestbox nestbox-launch >/dev/null
nestbox="$build/cli/nestbox"

echo "== validate"
"$nestbox" validate examples/*.toml
for m in examples/*.toml; do
  echo
  echo "== resolved policy: $m"
  "$nestbox" show "$m"
done
