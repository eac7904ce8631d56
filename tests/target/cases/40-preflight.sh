# The kernel preflight decides from the running kernel's own facts: a start
# prints no "cannot tell" warning (no /boot/config-* in the guest).
. "$NB_LIB"
[ -e /boot/config-$(uname -r) ] && { nb_fail preflight-facts "the guest has /boot/config"; exit 0; }
out=$(nb_run hello 2>&1); rc=$?
echo "$out"
if [ $rc = 0 ] && ! echo "$out" | grep -q "cannot tell"; then nb_ok preflight-no-warning
else nb_fail preflight-no-warning "exit $rc: $out"; fi
"$NB_LAUNCH" check | grep -i squashfs || true
