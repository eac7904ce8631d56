#!/bin/sh
# nestbox vendor CI: the gate a firmware CI job runs before it ships containers.
#
#   validate -> kernel-check -> compose -> sign -> verify
#
# Every stage runs `nestbox <stage> --json`; its JSON report goes to
# OUT/reports/NN-<stage>.json and its messages to OUT/reports/NN-<stage>.log.
# A subcommand whose --help offers no --json runs without it, and the script
# writes its report: {"stage", "exit", "json": false, "output": its stdout}.
# The first failing stage stops the run; the script exits with that stage's
# status (1 = failure, 2 = bad input, as every nestbox command) after saying
# which stage failed and where its report is. OUT/reports/summary.json lists
# the stages that ran with their exit codes. Exit 0: images in OUT/images are
# signed and verified.
#
# usage: vendor-ci.sh --staging DIR --kernel-config FILE --key KEY.pem
#                     --keyring DIR --out DIR MANIFEST...
# environment: NESTBOX  the nestbox binary (default: nestbox in PATH, e.g.
#                       $(STAGING_DIR_HOST)/bin/nestbox in an OpenWrt buildroot)
set -eu

NESTBOX="${NESTBOX:-nestbox}"
staging="" kconfig="" key="" keyring="" out=""

usage() {
	echo "usage: vendor-ci.sh --staging DIR --kernel-config FILE --key KEY.pem --keyring DIR --out DIR MANIFEST..." >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
		--staging) staging="${2:-}"; shift 2 || usage ;;
		--kernel-config) kconfig="${2:-}"; shift 2 || usage ;;
		--key) key="${2:-}"; shift 2 || usage ;;
		--keyring) keyring="${2:-}"; shift 2 || usage ;;
		--out) out="${2:-}"; shift 2 || usage ;;
		--help|-h) sed -n '2,20s/^# \{0,1\}//p' "$0"; exit 0 ;;
		--) shift; break ;;
		-*) echo "vendor-ci: unknown option '$1'" >&2; usage ;;
		*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "vendor-ci: no manifests given" >&2; usage; }
for v in staging kconfig key keyring out; do
	eval "val=\${$v}"
	[ -n "$val" ] || { echo "vendor-ci: missing --$(echo "$v" | sed 's/kconfig/kernel-config/')" >&2; usage; }
done
[ -d "$staging" ] || { echo "vendor-ci: --staging $staging: not a directory" >&2; exit 2; }
[ -f "$kconfig" ] || { echo "vendor-ci: --kernel-config $kconfig: no such file" >&2; exit 2; }
[ -f "$key" ] || { echo "vendor-ci: --key $key: no such file" >&2; exit 2; }
[ -d "$keyring" ] || { echo "vendor-ci: --keyring $keyring: not a directory" >&2; exit 2; }
for m in "$@"; do
	[ -f "$m" ] || { echo "vendor-ci: manifest $m: no such file" >&2; exit 2; }
done

reports="$out/reports"
images="$out/images"
mkdir -p "$reports" "$images"
summary=""
step=0

write_summary() {
	printf '{"ok": %s, "stages": [%s]}\n' "$1" "$summary" > "$reports/summary.json.tmp"
	mv "$reports/summary.json.tmp" "$reports/summary.json"
}

# stdin as the inside of a JSON string (POSIX tools only).
json_text() {
	tr -d '\000-\010\013-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' |
		awk '{ printf "%s%s", sep, $0; sep = "\\n" }'
}

# run_stage NAME ARGS...: one nestbox command, its report and its verdict.
run_stage() {
	name="$1"; shift
	step=$((step + 1))
	report="$reports/$(printf '%02d' "$step")-$name.json"
	log="$reports/$(printf '%02d' "$step")-$name.log"
	echo "vendor-ci: $name"
	rc=0
	if "$NESTBOX" "$name" --help 2>/dev/null | grep -q -- '--json'; then
		"$NESTBOX" "$name" --json "$@" > "$report" 2> "$log" || rc=$?
	else
		"$NESTBOX" "$name" "$@" > "$report.out" 2> "$log" || rc=$?
		printf '{"stage": "%s", "exit": %d, "json": false, "output": "%s"}\n' \
			"$name" "$rc" "$(json_text < "$report.out")" > "$report"
		rm -f "$report.out"
	fi
	[ -z "$summary" ] || summary="$summary, "
	summary="$summary{\"stage\": \"$name\", \"exit\": $rc, \"report\": \"$(basename "$report")\"}"
	if [ "$rc" -ne 0 ]; then
		write_summary false
		kind="failure"
		[ "$rc" -eq 2 ] && kind="bad input"
		echo "vendor-ci: $name failed (exit $rc, $kind): see $report and $log" >&2
		sed 's/^/  /' "$log" >&2
		exit "$rc"
	fi
}

# The image files compose wrote, in a stable order.
composed_images() {
	find "$images" -maxdepth 1 -type f -name '*.img' | LC_ALL=C sort
}

run_stage validate "$@"
run_stage kernel-check --config "$kconfig" --manifests "$@"
run_stage compose --staging "$staging" --out "$images" "$@"
# shellcheck disable=SC2046  # image paths are produced by compose: no spaces
set -- $(composed_images)
[ $# -gt 0 ] || { echo "vendor-ci: compose wrote no images into $images" >&2; write_summary false; exit 1; }
run_stage sign --key "$key" "$@"
run_stage verify --keyring "$keyring" "$@"
write_summary true
echo "vendor-ci: $# image(s) signed and verified in $images"
