// Parsing of the textual network values a baked policy carries (interface
// names, MAC addresses, CIDR addresses, routes) into the binary forms netlink
// wants. Pure functions, no system calls: unit-tested on every target arch.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "policy/policy.h"
#include "util/result.h"

namespace nestbox::network {

using Mac = std::array<uint8_t, 6>;

// An IPv4 or IPv6 address with a prefix length ("10.0.0.2/24", "fd00::2/64").
struct Cidr {
  int family = 0;                  // AF_INET or AF_INET6
  std::array<uint8_t, 16> addr{};  // network byte order; first 4 bytes for IPv4
  uint8_t prefix = 0;
  size_t addr_len() const;         // 4 or 16
};

// A route ready for RTM_NEWROUTE: destination (prefix 0 for "default") and an
// optional gateway of the same family.
struct ParsedRoute {
  Cidr destination;
  bool has_gateway = false;
  std::array<uint8_t, 16> gateway{};
};

// 1..15 bytes, no '/', ':' or whitespace, not "." or "..": what the kernel accepts.
Status validate_ifname(const std::string& name);

// "02:00:00:00:00:01" (case-insensitive hex, colon separated, six octets).
Result<Mac> parse_mac(const std::string& text);

// "a.b.c.d/n" or "x:y::z/n". A missing prefix is an error: a policy says what it means.
Result<Cidr> parse_cidr(const std::string& text);

// "default" (family taken from the gateway) or a CIDR; gateway may be empty.
Result<ParsedRoute> parse_route(const policy::Route& route);

}  // namespace nestbox::network
