#!/usr/bin/env bash
# Builds every libFuzzer target (clang, ASan+UBSan) and runs each for
# FUZZ_SECONDS (default 60) on its seed corpus (tests/<component>/corpus/<name>/),
# FUZZ_JOBS (default: one per core) targets at a time. New inputs go to a
# scratch directory; the repository is not modified. A crash, leak, timeout or
# sanitizer report fails the run; the input is left in the build dir
# (crash-*, leak-*, timeout-*), to be kept as a regression input once fixed
# (docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
build=${NESTBOX_FUZZ_BUILD_DIR:-build-fuzz}
jobs=${FUZZ_JOBS:-$(nproc)}

CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DNESTBOX_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
mapfile -t targets < <(cmake --build "$build" --target help | sed -n 's/^\(fuzz_[a-z0-9_]*\): phony$/\1/p' | sort -u)
((${#targets[@]})) || { echo "fuzz: no fuzz targets"; exit 1; }
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"

# The fuzz build's UBSan is recoverable: make any report fatal.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1
export NESTBOX_SOURCE_DIR=$PWD   # fuzz_image reads the golden test key from here

# fuzz_one TARGET: runs it, prints one result line; exit status = verdict.
fuzz_one() {
  local t=$1 bin seeds work rc=0
  bin=$(realpath "$(find "$build" -type f -name "$t" -perm -u+x | head -n1)")
  local x=${t#fuzz_}
  seeds=$(find tests -type d -path "*/corpus/$x" | head -n1)
  # fuzz_<component>_<x> may keep its seeds in tests/<component>/corpus/<x>/
  [ -n "$seeds" ] || seeds=$(find "tests/${x%%_*}/corpus" -maxdepth 1 -type d -name "${x#*_}" 2>/dev/null | head -n1)
  [ -n "$seeds" ] || { echo "FAIL $t: no seed corpus tests/*/corpus/${t#fuzz_}/"; return 1; }
  work=$(mktemp -d)
  (cd "$build" && "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 "$work" "$OLDPWD/$seeds" > "$t.log" 2>&1) || rc=$?
  rm -rf "$work"
  if ((rc)); then
    echo "FAIL $t (exit $rc): see $build/$t.log"; tail -30 "$build/$t.log"; return 1
  fi
  echo "ok   $t: $(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$t.log") runs in ${seconds}s," \
       "corpus $(grep -o 'INITED.*corp: [0-9]*' "$build/$t.log" | grep -o '[0-9]*$' | head -n1) seeds"
}

running=0
for t in "${targets[@]}"; do
  echo "== $t (${seconds}s)"
  fuzz_one "$t" > "$build/$t.result" 2>&1 &
  running=$((running + 1))
  if ((running >= jobs)); then wait -n || true; running=$((running - 1)); fi
done
wait
status=0
for t in "${targets[@]}"; do
  cat "$build/$t.result"
  grep -q '^ok ' "$build/$t.result" || status=1
done
exit $status
