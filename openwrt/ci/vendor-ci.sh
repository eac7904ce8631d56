#!/bin/sh
# nestbox vendor CI: the gate a firmware CI job runs before it ships containers.
#
#   validate -> kernel-check -> compose -> sign -> verify (each image)
#
# Every stage runs `nestbox <stage> --json`; its JSON report goes to
# OUT/reports/NN-<stage>.json and its messages to OUT/reports/NN-<stage>.log
# (verify: NN-verify-<image>.json, one per image). A subcommand whose --help
# offers no --json runs without it, and the script writes its report:
# {"stage", "exit", "json": false, "output": its stdout}.
# The first failing stage stops the run; the script exits with that stage's
# status (1 = failure, 2 = bad input, as every nestbox command) after saying
# which stage failed and where its report is. OUT/reports/summary.json lists
# the stages that ran with their exit codes. Exit 0: OUT/images holds one
# signed, verified image per container (NAME.img) and per overlay base.
# compose writes its outputs (squashfs images, trees, baked policies, OCI and
# LXC configs) into OUT/build; relative [[rootfs.source]] paths in the
# manifests are resolved against --staging (path = "." is the staged rootfs).
# OUT/reports and OUT/images are emptied first: they hold this run's only.
# --arch/--compat: the device's identity; verify refuses an image made for
# another device (as nestbox-launch install would on it). --root-owned: the
# staged rootfs is packed owned by 0:0 (OpenWrt's mksquashfs -root-owned), so
# host-hardlink trees are signed with the owners the device will see
# (nestbox compose --root-owned).
#
# usage: vendor-ci.sh --staging DIR --kernel-config FILE --key KEY.pem
#                     --keyring DIR --out DIR [--arch ARCH] [--compat STRING]
#                     [--root-owned] MANIFEST...
# environment: NESTBOX  the nestbox binary (default: nestbox in PATH, e.g.
#                       $(STAGING_DIR_HOST)/bin/nestbox in an OpenWrt buildroot)
set -eu

NESTBOX="${NESTBOX:-nestbox}"
staging="" kconfig="" key="" keyring="" out="" arch="" compat="" root_owned=""

usage() {
	echo "usage: vendor-ci.sh --staging DIR --kernel-config FILE --key KEY.pem --keyring DIR --out DIR [--arch ARCH] [--compat STRING] [--root-owned] MANIFEST..." >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
		--staging) staging="${2:-}"; shift 2 || usage ;;
		--kernel-config) kconfig="${2:-}"; shift 2 || usage ;;
		--key) key="${2:-}"; shift 2 || usage ;;
		--keyring) keyring="${2:-}"; shift 2 || usage ;;
		--out) out="${2:-}"; shift 2 || usage ;;
		--arch) arch="${2:-}"; [ -n "$arch" ] || usage; shift 2 ;;
		--compat) compat="${2:-}"; [ -n "$compat" ] || usage; shift 2 ;;
		--root-owned) root_owned="--root-owned"; shift ;;
		--help|-h) sed -n '2,32s/^# \{0,1\}//p' "$0"; exit 0 ;;
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
build="$out/build"
# Reports and images are this run's alone: an image or report left by an
# earlier run (a container since dropped) must not pass for a verified one.
rm -rf "$reports" "$images"
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

# run_stage COMMAND LABEL ARGS...: `nestbox COMMAND ARGS`, its report
# (NN-LABEL.json) and its verdict.
run_stage() {
	name="$1" label="$2"; shift 2
	step=$((step + 1))
	report="$reports/$(printf '%02d' "$step")-$label.json"
	log="$reports/$(printf '%02d' "$step")-$label.log"
	echo "vendor-ci: $label"
	rc=0
	if "$NESTBOX" "$name" --help 2>/dev/null | grep -q -- '--json'; then
		"$NESTBOX" "$name" --json "$@" > "$report" 2> "$log" || rc=$?
	else
		"$NESTBOX" "$name" "$@" > "$report.out" 2> "$log" || rc=$?
		printf '{"stage": "%s", "exit": %d, "json": false, "output": "%s"}\n' \
			"$label" "$rc" "$(json_text < "$report.out")" > "$report"
		rm -f "$report.out"
	fi
	[ -z "$summary" ] || summary="$summary, "
	summary="$summary{\"stage\": \"$label\", \"exit\": $rc, \"report\": \"$(basename "$report")\"}"
	if [ "$rc" -ne 0 ]; then
		write_summary false
		kind="failure"
		[ "$rc" -eq 2 ] && kind="bad input"
		echo "vendor-ci: $label failed (exit $rc, $kind): see $report and $log" >&2
		sed 's/^/  /' "$log" >&2
		exit "$rc"
	fi
}

# The sources as compose will read them: a missing one stops the gate here.
run_stage validate validate --staging "$staging" "$@"
run_stage kernel-check kernel-check --config "$kconfig" --manifests "$@"
# shellcheck disable=SC2086  # $root_owned: empty or one word
run_stage compose compose --staging "$staging" --out "$build" $root_owned "$@"
run_stage sign sign --composed "$build" --staging "$staging" --key "$key" --out "$images" "$@"
n=0
for img in "$images"/*.img; do
	[ -f "$img" ] || continue
	# The device's identity when given: an image for another device fails here.
	set -- "$img" --keyring "$keyring"
	[ -z "$arch" ] || set -- "$@" --arch "$arch"
	[ -z "$compat" ] || set -- "$@" --compat "$compat"
	run_stage verify "verify-$(basename "$img" .img)" "$@"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "vendor-ci: sign wrote no images into $images" >&2; write_summary false; exit 1; }
write_summary true
echo "vendor-ci: $n image(s) signed and verified in $images"
