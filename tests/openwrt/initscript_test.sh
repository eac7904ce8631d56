#!/bin/sh
# Dry run of openwrt/feed/nestbox/files/nestbox.init with stubbed UCI and procd
# functions: which procd instances a given /etc/config/nestbox produces.
set -eu
src="${NESTBOX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
init="$src/openwrt/feed/nestbox/files/nestbox.init"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0 passes=0

# run CONFIG_FILE ARGS...: start_service ARGS in a fresh shell; log in $tmp/log, stderr in $tmp/err
run() {
	cfg="$1"; shift
	mkdir -p "$tmp/etc/config"
	cp "$cfg" "$tmp/etc/config/nestbox"
	: > "$tmp/log"
	UCI_CONFIG_DIR="$tmp/etc/config" PROCD_LOG="$tmp/log" \
		sh -c '. "$1"; . "$2"; shift 2; start_service "$@"' sh \
		"$src/tests/openwrt/procd_stubs.sh" "$init" "$@" 2> "$tmp/err"
}

expect() {  # expect NAME FILE EXPECTED_TEXT
	if [ "$(cat "$2")" = "$3" ]; then
		passes=$((passes + 1))
	else
		fails=$((fails + 1))
		echo "FAIL: $1"; echo "--- expected"; echo "$3"; echo "--- got"; cat "$2"
	fi
}

cat > "$tmp/routers.conf" <<'CONF'
config nestbox 'global'
	option enabled '1'

config container 'nas'
	option enabled '1'
	option autostart '1'

config container 'web'
	option enabled 'yes'
	option autostart '0'
	option respawn_retry '0'

config container 'old'
	option enabled '0'

config container 'vpn'
	option name 'vpn-gw'
	option enabled '1'
	option term_timeout '30'

config container 'bad'
	option name '-rf'
	option enabled '1'
CONF

nas='open_instance nas
set_param command /usr/sbin/nestbox-launch boot nas --rollback-dir /etc/nestbox/rollback
set_param respawn 3600 5 5
set_param term_timeout 10
set_param stdout 1
set_param stderr 1
close_instance'

run "$tmp/routers.conf"
expect "boot starts enabled autostart containers" "$tmp/log" "$nas
open_instance vpn-gw
set_param command /usr/sbin/nestbox-launch boot vpn-gw --rollback-dir /etc/nestbox/rollback
set_param respawn 3600 5 5
set_param term_timeout 30
set_param stdout 1
set_param stderr 1
close_instance"
expect "invalid name is refused with a message" "$tmp/err" \
	"nestbox: section 'bad': invalid container name '-rf'"

run "$tmp/routers.conf" web
expect "start NAME starts a non-autostart container" "$tmp/log" 'open_instance web
set_param command /usr/sbin/nestbox-launch boot web --rollback-dir /etc/nestbox/rollback
set_param respawn 3600 5 0
set_param term_timeout 10
set_param stdout 1
set_param stderr 1
close_instance'

run "$tmp/routers.conf" old
expect "start NAME of a disabled container starts nothing" "$tmp/log" ""
expect "... and says why" "$tmp/err" "nestbox: container 'old' is not enabled in /etc/config/nestbox"

sed 's/option enabled .1./option enabled '"'0'"'/' "$tmp/routers.conf" | sed '1,3!d' > "$tmp/off.conf"
sed '1,3d' "$tmp/routers.conf" >> "$tmp/off.conf"
run "$tmp/off.conf"
expect "global enabled=0 starts nothing" "$tmp/log" ""

cat > "$tmp/store.conf" <<'CONF'
config nestbox 'global'
	option store '/mnt/data/nestbox'

config container 'nas'
	option enabled '1'
CONF
run "$tmp/store.conf"
expect "global store is passed to boot" "$tmp/log" 'open_instance nas
set_param command /usr/sbin/nestbox-launch boot nas --store /mnt/data/nestbox --rollback-dir /etc/nestbox/rollback
set_param respawn 3600 5 5
set_param term_timeout 10
set_param stdout 1
set_param stderr 1
close_instance'

cat > "$tmp/rollback.conf" <<'CONF'
config nestbox 'global'
	option store '/mnt/data/nestbox'
	option rollback_dir '/overlay/nestbox-rollback'

config container 'nas'
	option enabled '1'
CONF
run "$tmp/rollback.conf"
# The records are one place for every store: a UCI edit (LuCI) that points
# them elsewhere would reset the floor, so option rollback_dir is not followed.
expect "option rollback_dir cannot move the records" "$tmp/log" 'open_instance nas
set_param command /usr/sbin/nestbox-launch boot nas --store /mnt/data/nestbox --rollback-dir /etc/nestbox/rollback
set_param respawn 3600 5 5
set_param term_timeout 10
set_param stdout 1
set_param stderr 1
close_instance'
expect "... and says so" "$tmp/err" \
	"nestbox: option rollback_dir '/overlay/nestbox-rollback' ignored: the anti-rollback records are in /etc/nestbox/rollback"

run "$src/openwrt/feed/nestbox/files/nestbox.config"
expect "shipped default config starts nothing" "$tmp/log" ""

: > "$tmp/log"
PROCD_LOG="$tmp/log" sh -c '. "$1"; . "$2"; service_triggers' sh \
	"$src/tests/openwrt/procd_stubs.sh" "$init"
expect "uci changes reload the service" "$tmp/log" "reload_trigger nestbox"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
