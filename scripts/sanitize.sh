#!/usr/bin/env bash
# The whole ctest suite under AddressSanitizer + UndefinedBehaviorSanitizer in
# its own build directory (-DNESTBOX_SANITIZE=ON: -fsanitize=address,undefined
# -fno-sanitize-recover=all). Any report fails the run: ASan and UBSan halt on
# the first error. Benchmark helpers are not built. Tests that cannot run under
# ASan are excluded below, each with its reason in docs/testing.md.
# Env: NESTBOX_ASAN_BUILD_DIR (default build-asan), NESTBOX_CTEST_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${NESTBOX_ASAN_BUILD_DIR:-build-asan}
jobs=$(nproc)

# -O1 as the ASan documentation recommends, -g1 (line tables: reports still
# name file and line): both compile much faster than -O2 -g, which matters
# on a 2-core CI machine that builds everything twice.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNESTBOX_SANITIZE=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" >/dev/null
# The test binaries (*_tests, *_tests_<variant>, *_test), the programs
# they drive and their probes (nestbox_*probe); not the benchmark helpers
# (composer_bench, nestbox-bench-run, nestbox-gen-bpf, verify_probe).
mapfile -t exes < <(cmake --build "$build" --target help |
  sed -n 's/^\([A-Za-z0-9_-]*_tests\(_[a-z0-9]*\)\?\|[A-Za-z0-9_-]*_test\|nestbox\|nestbox-launch\(-openwrt-default\)\?\|nestbox_\([a-z0-9_]*_\)\?probe\): phony$/\1/p')
cmake --build "$build" -j"$jobs" --target "${exes[@]}"
# Every file a test names in the build directory must now exist: a program
# the pattern above missed fails here, named, not as a test that cannot
# find it (a clean CI checkout has no leftovers to hide it).
missing=$(grep -rhoE "$PWD/$build/[A-Za-z0-9_/.+-]+" "$build" --include=CTestTestfile.cmake | sort -u |
  while read -r f; do [ -e "$f" ] || echo "$f"; done)
if [ -n "$missing" ]; then
  echo "sanitize.sh: tests run programs this script did not build (extend its target pattern):" >&2
  echo "$missing" >&2
  exit 1
fi

export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp:print_suppressions=1
# The fault-injection tests exercise the sanitized binaries' error paths at
# fewer points than the plain run (docs/testing.md).
export NESTBOX_FAULT_POINTS=${NESTBOX_FAULT_POINTS:-3}
# The rename race of e2e_store: 500 tries in the plain run, 100 here (the same
# code path; ASan makes each run several times slower).
export NESTBOX_RACE_TRIES=${NESTBOX_RACE_TRIES:-100}
# Excluded tests (see docs/testing.md, "Sanitizers").
exclude=${NESTBOX_ASAN_EXCLUDE:-}
ctest --test-dir "$build" --output-on-failure -j"$jobs" ${exclude:+-E "$exclude"} ${NESTBOX_CTEST_ARGS:-}
