#include <gtest/gtest.h>

#include "network/setup.h"

namespace nestbox::network {
namespace {

using policy::IfType;
using policy::Interface;

policy::Policy with(std::vector<Interface> ifaces) {
  policy::Policy p;
  p.name = "nas";
  p.net = policy::NetMode::kInterfaces;
  p.interfaces = std::move(ifaces);
  return p;
}

Interface veth(std::string name, std::string bridge) {
  Interface i;
  i.type = IfType::kVeth;
  i.name = std::move(name);
  i.bridge = std::move(bridge);
  return i;
}

TEST(ValidateNetworkTest, AcceptsTheNasCase) {
  auto p = with({veth("eth0", "br-lan"), veth("eth1", "br-guest")});
  p.interfaces[0].addresses = {"192.168.1.20/24", "fd00::20/64"};
  p.interfaces[0].routes = {{"default", "192.168.1.1"}};
  p.interfaces[0].mac = "02:00:00:00:00:20";
  p.interfaces[1].mtu = 1400;
  Status st = validate_network(p);
  EXPECT_TRUE(st.ok()) << st.error().message;
}

TEST(ValidateNetworkTest, NamesTheInterfaceAndTheProblem) {
  auto p = with({veth("eth0", "br-lan"), veth("eth1", "br-lan")});
  p.interfaces[1].addresses = {"10.0.0.1"};
  Status st = validate_network(p);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(st.error().message, "interface 1 ('eth1'): address '10.0.0.1': expected ADDRESS/PREFIX");
}

TEST(ValidateNetworkTest, DefaultNamesAreEthN) {
  auto p = with({veth("", "br0"), veth("eth0", "br1")});
  EXPECT_EQ(validate_network(p).error().message, "interface 1 ('eth0'): name used twice");
}

TEST(ValidateNetworkTest, ParentRequiredVlanIdInRange) {
  Interface mv;
  mv.type = IfType::kMacvlan;
  EXPECT_EQ(validate_network(with({mv})).error().message,
            "interface 0 ('eth0'): macvlan interface needs a parent (host device)");
  Interface vl;
  vl.type = IfType::kVlan;
  vl.parent = "eth0";
  vl.vlan_id = 4095;
  EXPECT_EQ(validate_network(with({vl})).error().message,
            "interface 0 ('eth0'): vlan id 4095 is outside 1..4094");
}

TEST(ValidateNetworkTest, PhysDeviceUsedOnce) {
  Interface a, b;
  a.type = b.type = IfType::kPhys;
  a.parent = b.parent = "lan1";
  a.name = "eth0";
  b.name = "eth1";
  EXPECT_EQ(validate_network(with({a, b})).error().message,
            "interface 1 ('eth1'): host device 'lan1' is already used");
}

TEST(ValidateNetworkTest, ModesWithoutInterfacesListNone) {
  auto p = with({veth("eth0", "br0")});
  p.net = policy::NetMode::kEmpty;
  EXPECT_EQ(validate_network(p).error().message, "network mode 'empty' cannot list interfaces");
}

TEST(ValidateNetworkTest, RejectsLoopbackMtuAndLongHostName) {
  EXPECT_EQ(validate_network(with({veth("lo", "")})).error().message,
            "interface 0 ('lo'): 'lo' is the container's loopback, not an interface to add");
  auto p = with({veth("eth0", "")});
  p.interfaces[0].mtu = 10;
  EXPECT_EQ(validate_network(p).error().message, "interface 0 ('eth0'): mtu 10 is outside 68..65535");
  p.interfaces[0].mtu = 0;
  p.interfaces[0].host_name = "a-very-long-host-name";
  EXPECT_EQ(validate_network(p).error().message,
            "interface 0 ('eth0'): host_name: interface name 'a-very-long-host-name' is longer "
            "than 15 bytes");
}

TEST(ValidateNetworkTest, DefaultHostNameIsStableAndShort) {
  std::string a = default_veth_host_name("nas", "eth0");
  EXPECT_EQ(a, default_veth_host_name("nas", "eth0"));
  EXPECT_NE(a, default_veth_host_name("nas", "eth1"));
  EXPECT_NE(a, default_veth_host_name("nas2", "eth0"));
  EXPECT_EQ(a.size(), 10u);
  EXPECT_EQ(a.substr(0, 2), "nb");
  // FNV-1a of "nas/eth0", computed independently: a change renames deployed host ends.
  EXPECT_EQ(a, "nb099cfaf3");
}

}  // namespace
}  // namespace nestbox::network
