# Sourced by every case (tests/target/cases/*.sh) in the guest; busybox sh.
# The case protocol is in tests/target/README.md.

# nb_run NAME [launcher args...]: runs image NAME in the foreground.
nb_run() {
  _n=$1; shift
  "$NB_LAUNCH" run "$NB_IMAGES/$_n.img" --keyring "$NB_KEYRING" --compat nbtarget --state-dir "$NB_STATE" "$@"
}
# nb_start NAME: runs image NAME in the background (its launcher's pid in
# $nb_pid, output in $NB_TMP/NAME.out) and waits until it is running.
nb_start() {
  nb_run "$1" >"$NB_TMP/$1.out" 2>&1 &
  nb_pid=$!
  _i=0
  while [ $_i -lt 100 ]; do
    "$NB_LAUNCH" status "$1" --state-dir "$NB_STATE" 2>/dev/null | grep -q running && return 0
    kill -0 $nb_pid 2>/dev/null || break
    sleep 0.2; _i=$((_i + 1))
  done
  echo "nb_start $1: not running: $(cat "$NB_TMP/$1.out")"
  return 1
}
# nb_stop NAME: stops it and reaps its launcher.
nb_stop() {
  "$NB_LAUNCH" stop "$1" --state-dir "$NB_STATE" >/dev/null 2>&1 || true
  wait "$nb_pid" 2>/dev/null || true
}
nb_ok() { echo "NESTBOX-CASE $1 ok"; }
nb_fail() { _n=$1; shift; echo "NESTBOX-CASE $_n FAIL $*" | tr '\n' ' '; echo; }
# nb_expect CASE OUTPUT LINE: ok when OUTPUT has LINE (whole line).
nb_expect() {
  if printf '%s\n' "$2" | grep -qxF -- "$3"; then nb_ok "$1"; else nb_fail "$1" "expected '$3' in: $2"; fi
}
# nb_veth A B: a veth pair A <-> B, both up. (busybox ip names the peer
# itself, "vethN", whatever `peer name` says: rename it.)
nb_veth() {
  ip link add "$1" type veth || return 1
  _peer=$(ip -o link show "$1" | sed -n "s/^[0-9]*: $1@\([^:]*\):.*/\1/p")
  [ -n "$_peer" ] || { echo "nb_veth: no peer of $1"; return 1; }
  ip link set "$_peer" name "$2" && ip link set "$1" up && ip link set "$2" up
}
