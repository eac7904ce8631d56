#!/usr/bin/env bash
# Composer benchmark: content-index throughput vs `xxhsum -H2` (XXH3-128)
# over the same files, and ELF closure time vs `lddtree`, on the corpus of
# bench/composer_corpus.sh. Warm page cache (one untimed pass first); each
# figure is the best of 3 runs. Prints markdown rows for docs/benchmarks.md.
#   usage: bench/composer_run.sh BUILD_DIR [CACHE_DIR]
set -euo pipefail
build=${1:?build dir}
cache=${2:-/var/cache/nestbox-bench}
staging=$cache/staging
nestbox=$build/cli/nestbox
bench=$build/tests/composer/composer_bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

best() {  # best wall time (s) of 3 runs of "$@"
  local best=999999 t s e
  for _ in 1 2 3; do
    s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l); (( $(echo "$t < $best" | bc -l) )) && best=$t
  done
  printf '%.3f' "$best"
}

# --- content index vs xxhsum ---
find "$staging" -type f | sort >"$work/files"
bytes=$(xargs -d '\n' stat -c %s <"$work/files" | paste -sd+ | bc)
nfiles=$(wc -l <"$work/files")
xargs -d '\n' cat <"$work/files" >/dev/null  # warm the page cache
t_xx=$(best sh -c "xargs -d '\\n' xxhsum -H2 <'$work/files'")
t_nb1=$(best "$bench" index "$work/files" 1)
t_nb=$(best "$bench" index "$work/files")
echo "| files | bytes | xxhsum -H2 (s) | nestbox index, 1 thread (s) | nestbox index, $(nproc) threads (s) | throughput ratio 1 thread | ratio all cores |"
echo "|---|---|---|---|---|---|---|"
printf '| %d | %d | %s | %s | %s | %.2f× | %.2f× |\n' "$nfiles" "$bytes" "$t_xx" "$t_nb1" "$t_nb" \
  "$(echo "$t_xx / $t_nb1" | bc -l)" "$(echo "$t_xx / $t_nb" | bc -l)"
echo

# --- closure vs lddtree: every dynamic ELF program of the corpus ---
: >"$work/progs"
for d in bin sbin usr/bin usr/sbin; do
  [[ -d $staging/$d && ! -L $staging/$d ]] || continue
  for f in "$staging/$d"/*; do
    [[ -f $f && ! -L $f ]] || continue
    [[ $(head -c4 "$f" | od -An -c | tr -d ' ') == 177ELF ]] || continue
    p=/${f#"$staging"/}
    # Only programs whose closure resolves (lddtree prints None otherwise).
    "$nestbox" closure --root "$staging" "$p" >/dev/null 2>&1 && echo "$p" >>"$work/progs"
  done
done
mapfile -t progs <"$work/progs"
t_ld=$(best /usr/bin/python3 /usr/bin/lddtree --root "$staging" -l "${progs[@]}")
t_cl=$(best "$nestbox" closure --root "$staging" "${progs[@]}")
echo "| programs | lddtree --root -l (s) | nestbox closure --root (s) | time ratio |"
echo "|---|---|---|---|"
printf '| %d | %s | %s | %.3f× |\n' "${#progs[@]}" "$t_ld" "$t_cl" "$(echo "$t_cl / $t_ld" | bc -l)"
