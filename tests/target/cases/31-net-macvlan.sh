# macvlan on one parent: private siblings cannot reach each other, bridge
# siblings can.
. "$NB_LIB"
nb_veth nbmv0 nbmv0p || { nb_fail macvlan "no veth pair"; exit 0; }
for mode in private bridge; do
  nb_start mv-$mode-a || { nb_fail macvlan-$mode "mv-$mode-a did not start"; continue; }
  out=$(nb_run mv-$mode-b 2>&1)
  echo "$out"
  [ $mode = private ] && want=no || want=yes
  nb_expect macvlan-$mode "$out" "reach 10.61.0.2 $want"
  nb_stop mv-$mode-a
done
ip link del nbmv0
