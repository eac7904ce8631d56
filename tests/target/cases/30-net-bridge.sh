# veth + bridge: two containers on the guest's bridge nbbr0 reach the bridge
# and each other.
. "$NB_LIB"
ip link add nbbr0 type bridge && ip addr add 10.60.0.1/24 dev nbbr0 && ip link set nbbr0 up
nb_start br-a || { nb_fail bridge "br-a did not start"; exit 0; }
out=$(nb_run br-b 2>&1)
echo "$out"
nb_expect bridge-host "$out" "reach 10.60.0.1 yes"
nb_expect bridge-container "$out" "reach 10.60.0.2 yes"
nb_stop br-a
ip link show nbt-br-a >/dev/null 2>&1 && nb_fail bridge-teardown "nbt-br-a left behind" || nb_ok bridge-teardown
ip link del nbbr0
