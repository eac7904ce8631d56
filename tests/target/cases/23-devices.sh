# The device allow-list on cgroup v2 (a BPF_PROG_TYPE_CGROUP_DEVICE program):
# the guest's /dev/kmsg bound into the container (devices kept: the image
# declares one) cannot be opened (EPERM); /dev/null can.
. "$NB_LIB"
out=$(nb_run devices 2>&1); rc=$?
echo "$out"
nb_expect devices-null "$out" "null yes"
if echo "$out" | grep -q "^kmsg rc=1 .*Operation not permitted"; then nb_ok devices-denied-eperm
else nb_fail devices-denied-eperm "exit $rc: $out"; fi
