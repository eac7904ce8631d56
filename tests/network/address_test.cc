#include "network/address.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace nestbox::network {
namespace {

TEST(IfnameTest, AcceptsKernelNames) {
  EXPECT_TRUE(validate_ifname("eth0").ok());
  EXPECT_TRUE(validate_ifname("br-lan.100").ok());
  EXPECT_TRUE(validate_ifname("123456789012345").ok());  // 15 bytes
}

TEST(IfnameTest, RejectsWithReason) {
  EXPECT_EQ(validate_ifname("").error().message, "interface name is empty");
  EXPECT_EQ(validate_ifname("1234567890123456").error().message,
            "interface name '1234567890123456' is longer than 15 bytes");
  EXPECT_EQ(validate_ifname("a/b").error().message,
            "interface name 'a/b' contains a forbidden character");
  EXPECT_EQ(validate_ifname("a b").error().kind, ErrorKind::kBadInput);
  EXPECT_FALSE(validate_ifname("eth0:1").ok());
  EXPECT_FALSE(validate_ifname("..").ok());
}

TEST(MacTest, ParsesHexOctets) {
  auto mac = parse_mac("02:aB:00:10:ff:01");
  ASSERT_TRUE(mac.ok()) << mac.error().message;
  EXPECT_EQ(*mac, (Mac{0x02, 0xab, 0x00, 0x10, 0xff, 0x01}));
}

TEST(MacTest, RejectsMalformedMulticastAndZero) {
  EXPECT_EQ(parse_mac("02:00:00:00:00").error().message,
            "MAC address '02:00:00:00:00': expected six hex octets like 02:00:00:00:00:01");
  EXPECT_FALSE(parse_mac("02-00-00-00-00-01").ok());
  EXPECT_FALSE(parse_mac("0g:00:00:00:00:01").ok());
  EXPECT_EQ(parse_mac("01:00:5e:00:00:01").error().message,
            "MAC address '01:00:5e:00:00:01' is a multicast address");
  EXPECT_EQ(parse_mac("00:00:00:00:00:00").error().message,
            "MAC address '00:00:00:00:00:00' is all zeros");
}

TEST(CidrTest, ParsesIpv4) {
  auto c = parse_cidr("10.1.2.3/24");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->family, AF_INET);
  EXPECT_EQ(c->prefix, 24);
  EXPECT_EQ(c->addr_len(), 4u);
  EXPECT_EQ(c->addr[0], 10);
  EXPECT_EQ(c->addr[3], 3);
}

TEST(CidrTest, ParsesIpv6) {
  auto c = parse_cidr("fd00:1::2/64");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->family, AF_INET6);
  EXPECT_EQ(c->prefix, 64);
  EXPECT_EQ(c->addr_len(), 16u);
  EXPECT_EQ(c->addr[0], 0xfd);
  EXPECT_EQ(c->addr[3], 0x01);
  EXPECT_EQ(c->addr[15], 0x02);
}

TEST(CidrTest, RejectsWithReason) {
  EXPECT_EQ(parse_cidr("10.0.0.1").error().message, "address '10.0.0.1': expected ADDRESS/PREFIX");
  EXPECT_EQ(parse_cidr("10.0.0.1/33").error().message,
            "address '10.0.0.1/33': prefix length must be 0..32");
  EXPECT_EQ(parse_cidr("fd00::1/129").error().message,
            "address 'fd00::1/129': prefix length must be 0..128");
  EXPECT_EQ(parse_cidr("10.0.0.256/8").error().message,
            "address '10.0.0.256/8': '10.0.0.256' is not an IPv4 or IPv6 address");
  EXPECT_FALSE(parse_cidr("10.0.0.1/").ok());
  EXPECT_FALSE(parse_cidr("10.0.0.1/-1").ok());
  EXPECT_FALSE(parse_cidr("10.0.0.1/99999999999999999999").ok());
}

TEST(RouteTest, DefaultTakesFamilyFromGateway) {
  auto r4 = parse_route({"default", "10.0.0.1"});
  ASSERT_TRUE(r4.ok()) << r4.error().message;
  EXPECT_EQ(r4->destination.family, AF_INET);
  EXPECT_EQ(r4->destination.prefix, 0);
  EXPECT_TRUE(r4->has_gateway);
  EXPECT_EQ(r4->gateway[3], 1);
  auto r6 = parse_route({"default", "fd00::1"});
  ASSERT_TRUE(r6.ok());
  EXPECT_EQ(r6->destination.family, AF_INET6);
}

TEST(RouteTest, CidrWithoutGatewayIsOnLink) {
  auto r = parse_route({"192.168.7.0/24", ""});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->has_gateway);
  EXPECT_EQ(r->destination.prefix, 24);
}

TEST(RouteTest, RejectsWithReason) {
  EXPECT_EQ(parse_route({"default", ""}).error().message,
            "route 'default' needs a gateway (its address family comes from it)");
  EXPECT_EQ(parse_route({"10.0.0.0/8", "fd00::1"}).error().message,
            "route '10.0.0.0/8' via 'fd00::1': destination and gateway are of different address "
            "families");
  EXPECT_EQ(parse_route({"default", "nowhere"}).error().message,
            "route gateway: 'nowhere' is not an IPv4 or IPv6 address");
}

}  // namespace
}  // namespace nestbox::network
