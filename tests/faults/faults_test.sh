#!/usr/bin/env bash
# Fault injection on the commands that write outputs: a previous output exists,
# the command writing its successor is made to fail at many points, and after
# every failure each final path must hold the previous output byte for byte or
# the complete new one (never a torn one), nothing else may be left in the
# output directory, and a failed run must exit non-zero with a message.
#
#   eio      strace -e inject=SYSCALL:error=EIO:when=N for every N at which the
#            command makes SYSCALL, for each syscall that writes, syncs, renames
#            or creates (counted on a clean run first)
#   enospc   the same with ENOSPC; and a real full filesystem: the output dir
#            on a tmpfs big enough for the previous output only
#   kill     strace -e inject=SYSCALL:signal=SIGKILL:when=N, every N, same
#            syscalls. A killed run cannot clean up: its temp files (named in
#            docs/testing.md) may remain, but only those, and a re-run must
#            then succeed.
#
# Usage: faults_test.sh NESTBOX NESTBOX_LAUNCH SOURCE_DIR COMMAND
#   COMMAND: compose | squash | sign | install
# Needs root (tmpfs mounts, in a private mount namespace) and strace; exits 77
# (skip) otherwise.
set -euo pipefail
nestbox=$1 launch=$2 src=$3 cmd=$4
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (tmpfs mounts)"; exit 77; fi
command -v strace >/dev/null || { echo "SKIP: strace not installed (scripts/install-deps.sh)"; exit 77; }
# traced ARGS...: strace ARGS. LeakSanitizer cannot run under ptrace, so a
# sanitized build (scripts/sanitize.sh) checks traced runs for memory errors only.
traced() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace "$@"; }
if [ -z "${NESTBOX_FAULTS_NS:-}" ]; then
  NESTBOX_FAULTS_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
export SOURCE_DATE_EPOCH=1700000000
work=$(mktemp -d /tmp/nestbox-faults.XXXXXX)
trap 'umount -q "$work"/run 2>/dev/null || true; rm -rf "$work"' EXIT
fail() { echo "FAIL [$cmd]: $*"; exit 1; }
ignored=()
runs=0 torn_checks=0 killed_leftovers=0 new_after_fail=0 sanitizer_points=0

# --- inputs: an old and a new version of examples/hello.toml ----------------
mkdir -p "$work/in/staging/bin"
cp /bin/busybox "$work/in/staging/bin/busybox"
cp "$src/examples/hello.toml" "$work/in/old.toml"
# The new version is bigger (1 MiB of incompressible data) so that it does
# not fit where the old one just fits.
head -c 1048576 /dev/urandom > "$work/in/blob.bin"
sed 's/^version = 1$/version = 2/' "$src/examples/hello.toml" > "$work/in/new.toml"
printf '\n[[rootfs.file]]\npath = "/data/blob"\nsource = "blob.bin"\n' >> "$work/in/new.toml"
"$nestbox" keygen -o "$work/in/demo" >/dev/null
mkdir -p "$work/in/keys" && cp "$work/in/demo.pub" "$work/in/keys/"
tree_of() {  # compose a tree for VERSION (old|new) into OUT
  "$nestbox" compose "$work/in/$1.toml" --out "$2" --strategy tree >/dev/null
}

# --- per command: final paths, how to make the old output, how to run -------
# new_argv OUT: sets argv to the command writing the new version into OUT.
case $cmd in
  compose)
    finals=(hello runtime/hello/policy.bin runtime/hello/config.json runtime/hello/lxc.conf
            runtime/hello/lxc.seccomp)
    dirs_ok='^(runtime|runtime/hello)$'
    make_old() { tree_of old "$1"; }
    new_argv() { argv=("$nestbox" compose "$work/in/new.toml" --out "$1" --strategy tree); }
    ;;
  squash)
    tree_of old "$work/in/oldtree"; tree_of new "$work/in/newtree"
    finals=(hello.sqfs) dirs_ok='^$'
    make_old() { "$nestbox" squash "$work/in/oldtree/hello" "$1/hello.sqfs" --comp gzip 2>/dev/null; }
    new_argv() { argv=("$nestbox" squash "$work/in/newtree/hello" "$1/hello.sqfs" --comp gzip); }
    ;;
  sign)
    tree_of old "$work/in/oldtree"; tree_of new "$work/in/newtree"
    for v in old new; do
      "$nestbox" squash "$work/in/${v}tree/hello" "$work/in/$v.sqfs" --comp gzip 2>/dev/null
    done
    finals=(hello.img) dirs_ok='^$'
    sign_argv() {
      argv=("$nestbox" sign --squashfs "$work/in/$1.sqfs" --policy "$work/in/${1}tree/runtime/hello/policy.bin"
            --manifest "$work/in/$1.toml" -k "$work/in/demo.key" -o "$2/hello.img")
    }
    make_old() { sign_argv old "$1"; "${argv[@]}" >/dev/null; }
    new_argv() { sign_argv new "$1"; }
    ;;
  install)
    # The output directory is a container store; the previous output is v1
    # installed, the new one v2.
    tree_of old "$work/in/oldtree"; tree_of new "$work/in/newtree"
    for v in old new; do
      "$nestbox" squash "$work/in/${v}tree/hello" "$work/in/$v.sqfs" --comp gzip 2>/dev/null
      "$nestbox" sign --squashfs "$work/in/$v.sqfs" --policy "$work/in/${v}tree/runtime/hello/policy.bin" \
        --manifest "$work/in/$v.toml" -k "$work/in/demo.key" -o "$work/in/$v.img" >/dev/null
    done
    finals=(hello/slot-a.img hello/slot-b.img hello/active hello/lock .state/hello.version)
    dirs_ok='^(hello|\.state)$'
    store_args() { echo --store "$1" --keyring "$work/in/keys" --compat nestbox-demo-hgw --state-dir "$work/state"; }
    make_old() { "$launch" install "$work/in/old.img" $(store_args "$1") >/dev/null; }
    new_argv() { argv=("$launch" install "$work/in/new.img" $(store_args "$1")); }
    ;;
  *) fail "unknown command $cmd" ;;
esac
run_cmd() { new_argv "$1"; "${argv[@]}"; }

# snapshot PATH: content, type, mode and size of a file or of a whole tree.
snapshot() {
  if [ -d "$1" ]; then
    # (no size for directories: it depends on the file system, e.g. tmpfs)
    (cd "$1" && find . \( -type f -printf '%p %y %m %s\n' \) -o -printf '%p %y %m %l\n' | LC_ALL=C sort &&
     find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
  elif [ -e "$1" ]; then
    sha256sum < "$1"
  else
    echo absent
  fi
}
# leftovers OUT: entries of OUT that are neither a final path (or inside one)
# nor one of the directories that hold them.
leftovers() {
  local out=$1 rel f inside
  (cd "$out" && find . -mindepth 1 -printf '%P\n') | LC_ALL=C sort | while read -r rel; do
    inside=0
    for f in "${finals[@]}"; do [[ $rel == "$f" || $rel == "$f"/* ]] && inside=1; done
    ((inside)) || [[ $rel =~ $dirs_ok ]] || echo "$rel"
  done
}

# Reference outputs: old and new, each from an uninterrupted run (install:
# the images themselves are the reference; see store_state).
# All runs write into the same directory, $work/run: compose's lxc.conf names it.
mkdir -p "$work/run"; make_old "$work/run"; cp -a "$work/run" "$work/ref-old"
run_cmd "$work/run" >/dev/null 2>"$work/err" || fail "clean run: $(cat "$work/err")"
mv "$work/run" "$work/ref-new"
[ "$cmd" != install ] || differs=1
for f in "${finals[@]}"; do
  [ "$cmd" != install ] || break
  snapshot "$work/ref-old/$f" > "$work/old.$(echo "$f" | tr / _)"
  snapshot "$work/ref-new/$f" > "$work/new.$(echo "$f" | tr / _)"
  cmp -s "$work/old.$(echo "$f" | tr / _)" "$work/new.$(echo "$f" | tr / _)" || differs=1
done
# Some final paths may be the same in both versions (compose's policy.bin: the
# version is not in the policy); at least one must differ.
[ -n "${differs:-}" ] || fail "old and new outputs are identical; the test would prove nothing"
[ -z "$(leftovers "$work/ref-new")" ] || fail "clean run left: $(leftovers "$work/ref-new")"

# check_state OUT CONTEXT: every final path old or complete new; returns 0
# when the new output is (partly) there, 1 when everything is the old one.
check_state() {
  [ "$cmd" != install ] || { store_state "$@"; return; }
  local out=$1 ctx=$2 f key snap any_new=0
  for f in "${finals[@]}"; do
    key=$(echo "$f" | tr / _)
    snap=$(snapshot "$out/$f")
    torn_checks=$((torn_checks + 1))
    if [ "$snap" == "$(cat "$work/old.$key")" ]; then continue; fi
    [ "$snap" == "$(cat "$work/new.$key")" ] || fail "$ctx: $f is neither the previous output nor the complete new one"
    any_new=1
  done
  return $((1 - any_new))
}
# store_state STORE CONTEXT (install): the active slot is v1 or v2 byte for
# byte, and `nestbox-launch run hello` starts it; 0 when it is v2.
store_state() {
  local slot; slot=$(cat "$1/hello/active" 2>/dev/null) || fail "$2: no active pointer"
  local img="$1/hello/slot-$slot.img" which
  if cmp -s "$img" "$work/in/old.img"; then which=old
  elif cmp -s "$img" "$work/in/new.img"; then which=new
  else fail "$2: active slot $slot is neither v1 nor v2"; fi
  local out; out=$("$launch" run hello $(store_args "$1") 2>&1) || fail "$2: the store does not boot: $out"
  grep -q "^hello from hello" <<<"$out" || fail "$2: boot printed: $out"
  [ "$which" == new ]
}
# all_new OUT CONTEXT: every final path is the complete new output.
all_new() {
  [ "$cmd" != install ] || { store_state "$@" || fail "$2: v1 still active"; return; }
  local f key
  for f in "${finals[@]}"; do
    key=$(echo "$f" | tr / _)
    [ "$(snapshot "$1/$f")" == "$(cat "$work/new.$key")" ] || fail "$2: $f is not the complete new output"
  done
}

# Syscalls at which faults are injected: what the command does to write, sync,
# rename or create. Counted per syscall on a clean run (strace counts each
# syscall separately for when=N).
syscalls=(write pwrite64 copy_file_range sendfile fsync fdatasync rename renameat2 linkat
          mkdir mkdirat openat unlink unlinkat)
cp -a "$work/ref-old" "$work/run"
new_argv "$work/run"
traced -f -qq -o "$work/count.st" -e trace="$(IFS=,; echo "${syscalls[*]}")" "${argv[@]}" \
  >/dev/null 2>&1 || fail "counting run failed"
# points[SYSCALL]: the call numbers N to inject at. openat: only the opens of
# the command's own inputs and outputs (under $work), not the dynamic
# loader's library lookups, which fall back by design.
declare -A points
max_points=${NESTBOX_FAULT_POINTS:-5}
for s in "${syscalls[@]}"; do
  points[$s]=$({ grep -E "^[0-9]+ +$s\(" "$work/count.st" || true; } | awk -v s="$s" -v w="$work" \
    's != "openat" || index($0, w) { printf "%d ", NR }')
  # At most $max_points per syscall, spread evenly, always the first and last.
  set -- ${points[$s]}
  if (($# > max_points)); then
    local_pts=() all=("$@")
    for ((i = 0; i < max_points; i++)); do local_pts+=("${all[i * ($# - 1) / (max_points - 1)]}"); done
    points[$s]="${local_pts[*]}"
  fi
done
echo "points of a clean $cmd run: $(for s in "${syscalls[@]}"; do [ -n "${points[$s]}" ] && printf '%s=%s ' "$s" "$(wc -w <<<"${points[$s]}")"; done)"

# only_temp_names LIST: every entry is a documented temp name (docs/testing.md).
only_temp_names() {
  ! grep -vE '(^|/)\.nestbox-(tmp|work|outputs)-[0-9]+(/|$)|^\.nestbox-commit$|\.tmp\.[0-9]+$|^hello/(slot-[ab]\.img|active)\.tmp$|^\.state/hello\.version\.tmp' <<<"$1" | grep -q .
}
# all_old OUT CONTEXT: every final path is still the previous output. A
# refused compose commits nothing: never a new tree beside an old policy.
all_old() {
  local f key
  for f in "${finals[@]}"; do
    key=$(echo "$f" | tr / _)
    [ "$(snapshot "$1/$f")" == "$(cat "$work/old.$key")" ] || fail "$2: $f changed although the run failed"
  done
}
# inject MODE SYSCALL N: one run with the fault, then the checks.
inject() {
  local mode=$1 s=$2 n=$3 out="$work/run" rc=0 spec ctx="$1 at $2 #$3"
  rm -rf "$out"; cp -a "$work/ref-old" "$out"
  case $mode in
    eio) spec="$s:error=EIO:when=$n" ;;
    enospc) spec="$s:error=ENOSPC:when=$n" ;;
    kill) spec="$s:signal=SIGKILL:when=$n" ;;
  esac
  new_argv "$out"
  # (a subshell reaps a killed strace, so bash's "Killed" note goes nowhere)
  (traced -f -qq -o "$work/inj.st" -e trace="$s" -e inject="$spec" "${argv[@]}" >/dev/null 2>"$work/err") \
    2>/dev/null || rc=$?
  runs=$((runs + 1))
  local hit; hit=$(grep -m1 "INJECTED" "$work/inj.st" || true)
  if check_state "$out" "$ctx"; then new_after_fail=$((new_after_fail + 1)); fi
  if [ -z "$hit" ]; then return; fi  # the Nth call never came (a count from another run)
  # Sanitized builds (scripts/sanitize.sh): the Nth call may be the sanitizer
  # runtime's own (it probes memory through a pipe write); failing it trips
  # the runtime's internal CHECK, which exits before any nestbox code runs.
  # The state was checked above; there is nothing of nestbox's to judge.
  if grep -q "^SanitizerTool: CHECK failed:\|^AddressSanitizer: CHECK failed:" "$work/err"; then
    sanitizer_points=$((sanitizer_points + 1))
    return
  fi
  local left; left=$(leftovers "$out")
  if [ "$mode" == kill ]; then
    [ "$rc" != 0 ] || fail "$ctx: exit 0 although killed"
    if [ -n "$left" ]; then
      # Only the documented temp names may survive a SIGKILL.
      only_temp_names "$left" || fail "$ctx: unexpected leftover after kill: $left"
      killed_leftovers=$((killed_leftovers + 1))
    fi
    # The next run must succeed over whatever the kill left.
    run_cmd "$out" >/dev/null 2>"$work/err2" || fail "$ctx: re-run after the kill failed: $(cat "$work/err2")"
    all_new "$out" "$ctx, re-run after the kill"
    return
  fi
  # compose: a fault inside the commit (after its journal) keeps the journal
  # and the held outputs; the next run completes the commit before anything
  # else, and then writes the complete new output.
  if [ "$cmd" == compose ] && grep -qx '\.nestbox-commit' <<<"$left"; then
    [ "$rc" != 0 ] || fail "$ctx: exit 0 with an unfinished commit"
    only_temp_names "$left" || fail "$ctx: unexpected leftover: $left"
    run_cmd "$out" >/dev/null 2>"$work/err2" || fail "$ctx: re-run after an interrupted commit failed: $(cat "$work/err2")"
    all_new "$out" "$ctx, re-run after an interrupted commit"
    [ -z "$(leftovers "$out")" ] || fail "$ctx: re-run left: $(leftovers "$out")"
    return
  fi
  if [ "$cmd" == compose ] && [ "$rc" != 0 ]; then all_old "$out" "$ctx"; fi
  # A failed run removes its temp files, unless the fault hit that removal.
  if [ -n "$left" ]; then
    # (an unlink, or the open of a temp directory that remove_all walks)
    grep -qE "^[0-9]+ +(unlink(at)?\(|openat\(.*(\.nestbox-(tmp|work|outputs)-|\.tmp\.))" <<<"$hit" ||
      fail "$ctx: left behind after a failed run: $left"
    only_temp_names "$left" || fail "$ctx: unexpected leftover: $left"
  fi
  if [ "$rc" == 0 ]; then
    # Success despite the fault (a failed report on stdout, a best-effort
    # directory fsync after the rename): then the new output must be complete.
    all_new "$out" "$ctx (exit 0)"
    # A failed cleanup of the command's own temp files may leave them; nothing else.
    [ -z "$left" ] || only_temp_names "$left" || fail "$ctx (exit 0): left behind: $left"
    ignored+=("$ctx: $hit${left:+ (left: $(tr '\n' ' ' <<<"$left"))}")
    return
  fi
  # 1 (failure), or 2 when the fault hit the reading of an input (reported
  # as a bad input file): never a crash.
  [[ $rc == 1 || $rc == 2 ]] || fail "$ctx: exit $rc (expected 1 or 2): $(cat "$work/err")"
  # A clear message naming the error, unless stderr itself was the victim.
  # libseccomp's BPF export reports any write error as ECANCELED.
  if ! grep -qE "^[0-9]+ +write\(2," <<<"$hit"; then
    local want="Input/output error"; [ "$mode" == enospc ] && want="No space left on device"
    # OpenSSL's key loader reports a failed open of the key file as
    # "cannot open (...unregistered scheme)"; the key file is named.
    grep -qE "^nestbox(-launch)? $cmd: .*($want|libseccomp: export BPF: Operation canceled|key $work/in/demo.key: cannot open)" "$work/err" ||
      fail "$ctx: message does not say '$want': $(cat "$work/err")"
  fi
}

for mode in eio enospc kill; do
  for s in "${syscalls[@]}"; do
    for n in ${points[$s]}; do inject "$mode" "$s" "$n"; done
  done
done

# A real full filesystem: the output dir is a tmpfs with room for the old
# output plus half of what the new one adds.
rm -rf "$work/run"; mkdir -p "$work/run"
old_kb=$(du -sk "$work/ref-old" | cut -f1); new_kb=$(du -sk "$work/ref-new" | cut -f1)
mount -t tmpfs -o size=$((old_kb + (new_kb - old_kb) / 2 + 64))k nestbox-faults "$work/run"
cp -a "$work/ref-old/." "$work/run/"
rc=0; run_cmd "$work/run" >/dev/null 2>"$work/err" || rc=$?
[ "$rc" == 1 ] || fail "full tmpfs: exit $rc: $(cat "$work/err")"
grep -q "No space left on device" "$work/err" || fail "full tmpfs: message: $(cat "$work/err")"
echo "full tmpfs: $(head -c 300 "$work/err")"
check_state "$work/run" "full tmpfs" && fail "full tmpfs: the new output appeared although it does not fit"
left=$(leftovers "$work/run"); [ -z "$left" ] || fail "full tmpfs: left behind: $left"
umount "$work/run"

for i in "${ignored[@]}"; do echo "fault without failure (new output complete): $i"; done
in_sanitizer=""
((sanitizer_points == 0)) || in_sanitizer="; $sanitizer_points faults hit the sanitizer runtime's own calls"
echo "faults $cmd: ok ($runs injected runs, $torn_checks final-path checks; $new_after_fail ended with the new output complete; $killed_leftovers kills left documented temp files$in_sanitizer)"
