# cgroup v2 memory: a 64 MiB buffer in a 16 MiB cgroup without swap
# (memory.swap.max = 0) is OOM-killed and the launcher says so.
. "$NB_LIB"
out=$(nb_run oom 2>&1); rc=$?
echo "$out"
if [ $rc = 0 ]; then nb_fail memory-oom "dd survived a 16M limit: $out"
elif echo "$out" | grep -qF "nestbox-launch run: oom: out of memory, a process was killed"; then nb_ok memory-oom
else nb_fail memory-oom "exit $rc without the OOM report: $out"; fi
