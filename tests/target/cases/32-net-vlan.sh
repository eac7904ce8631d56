# 802.1Q: a container on VLAN 42 of one end of a veth pair reaches a
# container on VLAN 42 of the other end (tagged frames cross the pair); one
# on VLAN 43 does not.
. "$NB_LIB"
nb_veth nbvl-a nbvl-b || { nb_fail vlan "no veth pair"; exit 0; }
nb_start vlan-a || { nb_fail vlan "vlan-a did not start"; exit 0; }
out=$(nb_run vlan-b 2>&1); echo "$out"
nb_expect vlan-same-id "$out" "reach 10.62.0.2 yes"
out=$(nb_run vlan-c 2>&1); echo "$out"
nb_expect vlan-other-id "$out" "reach 10.62.0.2 no"
nb_stop vlan-a
ip link del nbvl-a
