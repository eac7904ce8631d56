# cgroup v2 pids.max: a fork bomb of 40 sleepers under pids_max = 16 leaves
# at most 16 processes alive in the container.
. "$NB_LIB"
out=$(nb_run pids 2>&1); rc=$?
echo "$out"
live=$(echo "$out" | sed -n 's/^live \([0-9]*\)$/\1/p')
if [ -z "$live" ]; then nb_fail pids-max "no count (exit $rc): $out"
elif [ "$live" -le 16 ] && echo "$out" | grep -q "can't fork\|Resource temporarily unavailable\|fork"; then nb_ok pids-max
else nb_fail pids-max "$live processes alive under pids_max 16: $out"; fi
