#!/usr/bin/env bash
# The README's test command and CI's only step (.ci/run). Run as root on
# Debian 12: tests mount, use loop devices, namespaces and cgroups.
# Stages, each timed (the table at the end):
#   deps   scripts/install-deps.sh
#   build  RelWithDebInfo build of everything (build/)
#   test   the whole ctest suite on it
#   asan   scripts/sanitize.sh: every test again under ASan+UBSan (build-asan/)
#   fuzz   scripts/fuzz.sh: every libFuzzer target for FUZZ_SECONDS (60) (build-fuzz/)
#   cross  scripts/cross-build.sh --test --fetch: nestbox-launch for aarch64 and
#          mipsel, its target unit tests under qemu-user (build-cross/), after
#          installing the cross toolchains and qemu-user (install-deps.sh --cross).
#          NESTBOX_CROSS=0 installs nothing: without toolchains the stage is then
#          "skipped" with the reason.
#   target tests/target/run.sh: Debian bookworm's own amd64, arm64 and mipsel kernels
#          booted under qemu-system (TCG) run the device suite
#          (tests/target/cases) on the launcher from `build` and the cross
#          build; installs qemu-system and fetches the kernels (apt). Fails,
#          never skips, when anything cannot be fetched or a guest fails.
# NESTBOX_STAGES picks stages (default: all, in this order). A failed stage
# does not stop later independent ones (test needs build); the exit status is
# non-zero if any stage failed. ccache (installed by deps) keeps rebuilds cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
stages=${NESTBOX_STAGES:-deps build test asan fuzz cross target}
build=${NESTBOX_BUILD_DIR:-build}
jobs=$(nproc)

stage_build() {
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${NESTBOX_CMAKE_ARGS:-}
  cmake --build "$build" -j"$jobs"
}
stage_test() {
  ctest --test-dir "$build" --output-on-failure -j"$jobs" ${NESTBOX_CTEST_ARGS:-}
}
stage_deps() { bash scripts/install-deps.sh; }
stage_asan() { bash scripts/sanitize.sh; }
stage_fuzz() { bash scripts/fuzz.sh; }
# Exit 77: nothing could be built (no toolchain), which is a skip, not a pass.
stage_cross() {
  local fetch=()
  if [[ ${NESTBOX_CROSS:-1} == 1 ]]; then
    bash scripts/install-deps.sh --cross
    fetch=(--fetch)
  fi
  local out rc=0
  out=$(bash scripts/cross-build.sh --test "${fetch[@]}" 2>&1) || rc=$?
  printf '%s\n' "$out"
  ((rc == 0)) || return "$rc"
  # The reasons go to the table at the end too: a long log may be cut.
  why[cross]=$(grep '^cross-build: SKIP' <<<"$out" | sed 's/^cross-build: SKIP //' | paste -sd ';' || true)
  grep -q '^cross-build: SKIP' <<<"$out" && ! grep -q 'unit tests passed' <<<"$out" && return 77
  return 0
}

stage_target() { NESTBOX_BUILD_DIR="$build" bash tests/target/run.sh; }

declare -A took result why
failed=0
total_start=$SECONDS
for s in $stages; do
  if [[ $s == test && ${result[build]:-ok} != ok ]]; then result[$s]=skipped; took[$s]=0; continue; fi
  # target needs build's nestbox; without it the stage fails (it never skips).
  if [[ $s == target && ${result[build]:-ok} != ok ]]; then result[$s]=FAILED; failed=1; took[$s]=0; continue; fi
  echo "=== stage $s ($(date -u +%H:%M:%S))"
  start=$SECONDS
  rc=0
  "stage_$s" || rc=$?
  case $rc in
    0) result[$s]=ok ;;
    77) result[$s]=skipped ;;
    *) result[$s]=FAILED; failed=1 ;;
  esac
  took[$s]=$((SECONDS - start))
  echo "=== stage $s: ${result[$s]} in $((took[$s] / 60))m$((took[$s] % 60))s"
done
echo
echo "stage   result   time"
for s in $stages; do
  printf '%-7s %-8s %dm%02ds%s\n' "$s" "${result[$s]}" $((took[$s] / 60)) $((took[$s] % 60)) "${why[$s]:+  (${why[$s]})}"
done
total=$((SECONDS - total_start))
printf '%-7s %-8s %dm%02ds\n' total "$([[ $failed == 0 ]] && echo ok || echo FAILED)" $((total / 60)) $((total % 60))
exit $failed
