#!/usr/bin/env bash
# Builds every libFuzzer target (clang, ASan+UBSan) and runs each for
# FUZZ_SECONDS (default 60) on its seed corpus (tests/<component>/corpus/<name>/).
# A crash fails the run; the crashing input is left in the build dir, to be
# kept under tests/<component>/corpus/ as a regression input once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
build=${NESTBOX_FUZZ_BUILD_DIR:-build-fuzz}

CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DNESTBOX_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=$(cmake --build "$build" --target help | sed -n 's/^\(fuzz_[a-z0-9_]*\):.*/\1/p' | sort -u)
cmake --build "$build" -j"$(nproc)" --target $targets
status=0
for t in $targets; do
  bin=$(find "$build" -type f -name "$t" -perm -u+x | head -n1)
  seeds=$(find tests -type d -path "*/corpus/${t#fuzz_}" | head -n1)
  work=$(mktemp -d)
  echo "== $t (${seconds}s, seeds: ${seeds:-none})"
  if ! (cd "$build" && "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "$work" ${seeds:+"$OLDPWD/$seeds"} > "$t.log" 2>&1); then
    echo "FAIL $t: see $build/$t.log"; tail -20 "$build/$t.log"; status=1
  else
    grep -E "^stat::number_of_executed_units" "$build/$t.log" || true
  fi
  rm -rf "$work"
done
exit $status
