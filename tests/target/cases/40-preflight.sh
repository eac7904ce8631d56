# The kernel preflight decides from the running kernel's own facts: a start
# prints no "cannot tell" warning (no /boot/config-* in the guest), and
# `check` tells the squashfs decompressor from /proc/kallsyms (a start leaves
# that to the mount: reading kallsyms costs more than the rest of a start).
. "$NB_LIB"
[ -e /boot/config-$(uname -r) ] && { nb_fail preflight-facts "the guest has /boot/config"; exit 0; }
out=$(nb_run hello 2>&1); rc=$?
echo "$out"
if [ $rc = 0 ] && ! echo "$out" | grep -q "cannot tell"; then nb_ok preflight-no-warning
else nb_fail preflight-no-warning "exit $rc: $out"; fi
gzip=$("$NB_LAUNCH" check | grep "squashfs_gzip")
echo "$gzip"
if echo "$gzip" | grep -q "/proc/kallsyms: the squashfs decompressor"; then nb_ok check-decompressor-from-kallsyms
else nb_fail check-decompressor-from-kallsyms "$gzip"; fi
