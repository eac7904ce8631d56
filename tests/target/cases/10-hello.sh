# A signed image, verified in full, runs in a user namespace and prints what
# it is: the whole launch path on this kernel (pivot_root, seccomp, userns).
. "$NB_LIB"
out=$(nb_run hello 2>&1); rc=$?
echo "$out"
[ $rc = 0 ] || { nb_fail hello "exit $rc: $out"; exit 0; }
nb_expect hello-output "$out" "hello from hello uid 0"
nb_expect hello-userns "$out" "         0     100000      65536"
nb_expect hello-seccomp "$out" "Seccomp:	2"
