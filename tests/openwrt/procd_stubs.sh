# Stand-ins for OpenWrt's /lib/functions.sh (UCI) and /lib/functions/procd.sh,
# sourced before the init script in the dry run. UCI config files are shell
# syntax ("config TYPE 'name'", "option KEY 'value'"), which is how
# functions.sh's config_load reads them too. procd calls are logged, one line
# each, to $PROCD_LOG.
# shellcheck shell=sh disable=SC2034,SC3043

CONFIG_SECTIONS=""
CONFIG_CURRENT=""

config() {
	local type="$1" name="${2:-}"
	[ -n "$name" ] || { CONFIG_ANON=$((${CONFIG_ANON:-0} + 1)); name="cfg$CONFIG_ANON"; }
	CONFIG_SECTIONS="$CONFIG_SECTIONS $name"
	CONFIG_CURRENT="$name"
	eval "CONFIG_${name}_TYPE=\$type"
}

option() {
	eval "CONFIG_${CONFIG_CURRENT}_$1=\$2"
}

config_load() {
	CONFIG_SECTIONS=""
	# shellcheck disable=SC1090  # the config under test
	. "$UCI_CONFIG_DIR/$1"
}

config_get() {
	local var="$1" section="$2" opt="$3" default="${4:-}" isset
	eval "isset=\${CONFIG_${section}_${opt}+x}"
	if [ -n "$isset" ]; then
		eval "$var=\${CONFIG_${section}_${opt}}"
	else
		eval "$var=\$default"
	fi
}

config_get_bool() {
	local _v
	config_get _v "$2" "$3" "${4:-0}"
	case "$_v" in
		1|on|true|yes|enabled) _v=1 ;;
		0|off|false|no|disabled) _v=0 ;;
		*) _v="${4:-0}" ;;
	esac
	eval "$1=\$_v"
}

config_foreach() {
	local fn="$1" type="$2" s t
	shift 2
	for s in $CONFIG_SECTIONS; do
		eval "t=\${CONFIG_${s}_TYPE}"
		[ "$t" = "$type" ] && "$fn" "$s" "$@"
	done
	return 0
}

procd_open_instance() { echo "open_instance $*" >> "$PROCD_LOG"; }
procd_set_param() { echo "set_param $*" >> "$PROCD_LOG"; }
procd_close_instance() { echo "close_instance" >> "$PROCD_LOG"; }
procd_add_reload_trigger() { echo "reload_trigger $*" >> "$PROCD_LOG"; }
