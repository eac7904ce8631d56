# cgroup v2 cpu.max (10 ms per 100 ms) throttles a busy loop (cpu.stat
# nr_throttled > 0), cpu.weight and memory.swap.max are written; then the
# freezer: `freeze` sets cgroup.freeze and the kernel reports it frozen,
# `thaw` undoes it.
. "$NB_LIB"
cg=/sys/fs/cgroup/nestbox-cpu
nb_start cpu || { nb_fail cpu-max "did not start"; exit 0; }
sleep 2
max=$(cat $cg/cpu.max) weight=$(cat $cg/cpu.weight) swap=$(cat $cg/memory.swap.max)
thr=$(sed -n 's/^nr_throttled //p' $cg/cpu.stat)
echo "cpu.max=$max cpu.weight=$weight memory.swap.max=$swap nr_throttled=$thr"
[ "$max" = "10000 100000" ] && [ "${thr:-0}" -gt 0 ] && nb_ok cpu-max || nb_fail cpu-max "cpu.max '$max', nr_throttled '$thr'"
[ "$weight" = 50 ] && nb_ok cpu-weight || nb_fail cpu-weight "cpu.weight '$weight'"
[ "$swap" = 8388608 ] && nb_ok memory-swap-max || nb_fail memory-swap-max "memory.swap.max '$swap'"
"$NB_LAUNCH" freeze cpu --state-dir "$NB_STATE"
# The kernel freezes asynchronously: cgroup.events says when it is done.
i=0; while [ $i -lt 50 ] && ! grep -qx "frozen 1" $cg/cgroup.events; do sleep 0.1; i=$((i + 1)); done
f=$(cat $cg/cgroup.freeze) e=$(grep frozen $cg/cgroup.events)
u1=$(sed -n 's/^usage_usec //p' $cg/cpu.stat); sleep 1; u2=$(sed -n 's/^usage_usec //p' $cg/cpu.stat)
echo "frozen: cgroup.freeze=$f events '$e' usage $u1 -> $u2"
[ "$f" = 1 ] && [ "$e" = "frozen 1" ] && [ "$u1" = "$u2" ] && nb_ok freezer || nb_fail freezer "freeze $f, events '$e', usage $u1 -> $u2"
"$NB_LAUNCH" thaw cpu --state-dir "$NB_STATE"
i=0; while [ $i -lt 50 ] && ! grep -qx "frozen 0" $cg/cgroup.events; do sleep 0.1; i=$((i + 1)); done
e=$(grep frozen $cg/cgroup.events)
[ "$e" = "frozen 0" ] && nb_ok thaw || nb_fail thaw "events '$e'"
nb_stop cpu
[ -d $cg ] && nb_fail cgroup-removed "$cg left behind" || nb_ok cgroup-removed
