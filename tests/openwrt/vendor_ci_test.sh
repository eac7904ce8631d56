#!/bin/sh
# openwrt/ci/vendor-ci.sh and openwrt/imagebuilder/nestbox-post-image.sh
# against a recording stand-in for `nestbox`: stage order, arguments, JSON
# reports, stop at the first failing stage with its exit code. The real
# nestbox runs the same scripts in vendor_ci_real_test.sh.
set -eu
src="${NESTBOX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
ci="$src/openwrt/ci/vendor-ci.sh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0 passes=0

check() {  # check NAME COMMAND...
	if "$@" 2>/dev/null; then passes=$((passes + 1)); else fails=$((fails + 1)); echo "FAIL: $*"; fi
}

# The stand-in: logs "stage args", prints a JSON report, fails where FAIL_STAGE=stage:code says;
# sign writes two images into --out.
cat > "$tmp/nestbox" <<'STUB'
#!/bin/sh
stage="$1"; shift
if [ "${1:-}" = --help ]; then
	case " ${NOJSON:-} " in
		*" $stage "*) echo "usage: nestbox $stage FILE..." ;;
		*) echo "usage: nestbox $stage [--json] ..." ;;
	esac
	exit 0
fi
echo "$stage $*" >> "$STUB_LOG"
if [ "${1:-}" != --json ]; then
	printf '%s\n' "a.toml: ok (\"a\" version 1)" 'C:\path	tab'
	exit 0
fi
case "${FAIL_STAGE:-}" in
	"$stage":*) echo "$stage: something is wrong" >&2; exit "${FAIL_STAGE#*:}" ;;
esac
if [ "$stage" = sign ]; then
	while [ $# -gt 0 ]; do [ "$1" = --out ] && out="$2"; shift; done
	[ -n "${SIGN_NOTHING:-}" ] || { mkdir -p "$out"; : > "$out/web.img"; : > "$out/nas.img"; }
fi
printf '{"command": "%s", "ok": true}\n' "$stage"
STUB
chmod +x "$tmp/nestbox"
mkdir -p "$tmp/root" "$tmp/keys"
: > "$tmp/kconfig"; : > "$tmp/key.pem"; : > "$tmp/nas.toml"; : > "$tmp/web.toml"
args="--staging $tmp/root --kernel-config $tmp/kconfig --key $tmp/key.pem --keyring $tmp/keys"

run() {  # run OUT [ENV...]: vendor-ci with the stand-in; exit status in $rc
	out="$1"; shift
	: > "$tmp/calls"
	rc=0
	# shellcheck disable=SC2086
	env NESTBOX="$tmp/nestbox" STUB_LOG="$tmp/calls" "$@" \
		sh "$ci" $args --out "$out" "$tmp/nas.toml" "$tmp/web.toml" > "$tmp/stdout" 2> "$tmp/stderr" || rc=$?
}

json_ok() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1"; }
summary_is() { python3 - "$1" "$2" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
got = "%s %s" % (s["ok"], " ".join("%s=%d" % (x["stage"], x["exit"]) for x in s["stages"]))
sys.exit(0 if got == sys.argv[2] else print(got) or 1)
PY
}

run "$tmp/ok"
check test "$rc" -eq 0
check test "$(cat "$tmp/calls")" = "validate --json --staging $tmp/root $tmp/nas.toml $tmp/web.toml
kernel-check --json --config $tmp/kconfig --manifests $tmp/nas.toml $tmp/web.toml
compose --json --staging $tmp/root --out $tmp/ok/build $tmp/nas.toml $tmp/web.toml
sign --json --composed $tmp/ok/build --staging $tmp/root --key $tmp/key.pem --out $tmp/ok/images $tmp/nas.toml $tmp/web.toml
verify --json $tmp/ok/images/nas.img --keyring $tmp/keys
verify --json $tmp/ok/images/web.img --keyring $tmp/keys"
for r in 01-validate 02-kernel-check 03-compose 04-sign 05-verify-nas 06-verify-web summary; do
	check json_ok "$tmp/ok/reports/$r.json"
done
check summary_is "$tmp/ok/reports/summary.json" "True validate=0 kernel-check=0 compose=0 sign=0 verify-nas=0 verify-web=0"

# The device's identity and the root-owned packing reach verify and compose.
args_plain="$args"
args="$args --arch aarch64 --compat my-router-v1 --root-owned"
run "$tmp/dev"
args="$args_plain"
check test "$rc" -eq 0
check test "$(cat "$tmp/calls")" = "validate --json --staging $tmp/root $tmp/nas.toml $tmp/web.toml
kernel-check --json --config $tmp/kconfig --manifests $tmp/nas.toml $tmp/web.toml
compose --json --staging $tmp/root --out $tmp/dev/build --root-owned $tmp/nas.toml $tmp/web.toml
sign --json --composed $tmp/dev/build --staging $tmp/root --key $tmp/key.pem --out $tmp/dev/images $tmp/nas.toml $tmp/web.toml
verify --json $tmp/dev/images/nas.img --keyring $tmp/keys --arch aarch64 --compat my-router-v1
verify --json $tmp/dev/images/web.img --keyring $tmp/keys --arch aarch64 --compat my-router-v1"

# A subcommand without --json: run without it, its output wrapped as a JSON report.
run "$tmp/nj" NOJSON="validate"
check test "$rc" -eq 0
check test "$(head -n1 "$tmp/calls")" = "validate --staging $tmp/root $tmp/nas.toml $tmp/web.toml"
check python3 - "$tmp/nj/reports/01-validate.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
want = 'a.toml: ok ("a" version 1)\nC:\\path\ttab'
sys.exit(0 if r == {"stage": "validate", "exit": 0, "json": False, "output": want} else print(r) or 1)
PY

run "$tmp/kc" FAIL_STAGE=kernel-check:1
check test "$rc" -eq 1
check test "$(cut -d' ' -f1 "$tmp/calls" | tr '\n' ' ')" = "validate kernel-check "
check grep -q "vendor-ci: kernel-check failed (exit 1, failure): see $tmp/kc/reports/02-kernel-check.json" "$tmp/stderr"
check grep -q "  kernel-check: something is wrong" "$tmp/stderr"
check summary_is "$tmp/kc/reports/summary.json" "False validate=0 kernel-check=1"

run "$tmp/bad" FAIL_STAGE=validate:2
check test "$rc" -eq 2
check test "$(cut -d' ' -f1 "$tmp/calls")" = "validate"
check grep -q "(exit 2, bad input)" "$tmp/stderr"

run "$tmp/vf" FAIL_STAGE=verify:1
check test "$rc" -eq 1
check summary_is "$tmp/vf/reports/summary.json" "False validate=0 kernel-check=0 compose=0 sign=0 verify-nas=1"

run "$tmp/none" SIGN_NOTHING=1
check test "$rc" -eq 1
check grep -q "sign wrote no images" "$tmp/stderr"

rc=0; sh "$ci" --staging "$tmp/root" --out "$tmp/x" "$tmp/nas.toml" 2> "$tmp/stderr" || rc=$?
check test "$rc" -eq 2
check grep -q "missing --kernel-config" "$tmp/stderr"
rc=0
# shellcheck disable=SC2086  # $args is a word list by design
NESTBOX="$tmp/nestbox" sh "$ci" $args --out "$tmp/x" "$tmp/missing.toml" 2> "$tmp/stderr" || rc=$?
check test "$rc" -eq 2
check grep -q "manifest $tmp/missing.toml: no such file" "$tmp/stderr"

# ImageBuilder post-step: finds the staged root, fills the FILES= overlay.
mkdir -p "$tmp/ib/build_dir/target-mipsel_24kc_musl/root-ramips"
rc=0
NESTBOX="$tmp/nestbox" STUB_LOG="$tmp/calls" sh "$src/openwrt/imagebuilder/nestbox-post-image.sh" \
	"$tmp/ib" "$tmp/files" -- --kernel-config "$tmp/kconfig" --key "$tmp/key.pem" \
	--keyring "$tmp/keys" "$tmp/nas.toml" > "$tmp/stdout" 2>&1 || rc=$?
check test "$rc" -eq 0
check test -f "$tmp/files/srv/nestbox/images/nas.img"
check grep -q "compose --json --staging $tmp/ib/build_dir/target-mipsel_24kc_musl/root-ramips" "$tmp/calls"
# The kmods for PACKAGES asked of nestbox for exactly the manifests (not the
# options' values), printed in the final make image command.
check grep -qx "kernel-check --openwrt-packages --manifests $tmp/nas.toml" "$tmp/calls"
check grep -q "PACKAGES=\"nestbox-launch a.toml: ok" "$tmp/stdout"
rc=0; sh "$src/openwrt/imagebuilder/nestbox-post-image.sh" "$tmp/empty" "$tmp/f" -- x 2> "$tmp/stderr" || rc=$?
check test "$rc" -eq 2
check grep -q "run 'make image' first" "$tmp/stderr"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
