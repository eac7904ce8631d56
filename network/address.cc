#include "network/address.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cctype>
#include <cstring>

namespace nestbox::network {

size_t Cidr::addr_len() const { return family == AF_INET6 ? 16 : 4; }

Status validate_ifname(const std::string& name) {
  if (name.empty()) return bad_input("interface name is empty");
  if (name.size() >= IFNAMSIZ)
    return bad_input("interface name '" + name + "' is longer than " +
                     std::to_string(IFNAMSIZ - 1) + " bytes");
  if (name == "." || name == "..") return bad_input("interface name '" + name + "' is reserved");
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == ':' || std::isspace(u) || u < 0x20 || u == 0x7f)
      return bad_input("interface name '" + name + "' contains a forbidden character");
  }
  return ok_status();
}

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<int> parse_family_addr(const std::string& text, uint8_t* out) {
  if (text.find(':') != std::string::npos) {
    if (inet_pton(AF_INET6, text.c_str(), out) == 1) return AF_INET6;
  } else if (inet_pton(AF_INET, text.c_str(), out) == 1) {
    return AF_INET;
  }
  return bad_input("'" + text + "' is not an IPv4 or IPv6 address");
}

}  // namespace

Result<Mac> parse_mac(const std::string& text) {
  Mac mac{};
  auto bad = [&] {
    return bad_input("MAC address '" + text + "': expected six hex octets like 02:00:00:00:00:01");
  };
  if (text.size() != 17) return bad();
  for (size_t i = 0; i < 6; ++i) {
    int hi = hex_digit(text[i * 3]), lo = hex_digit(text[i * 3 + 1]);
    if (hi < 0 || lo < 0) return bad();
    if (i < 5 && text[i * 3 + 2] != ':') return bad();
    mac[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  if (mac[0] & 1) return bad_input("MAC address '" + text + "' is a multicast address");
  if (mac == Mac{}) return bad_input("MAC address '" + text + "' is all zeros");
  return mac;
}

Result<Cidr> parse_cidr(const std::string& text) {
  size_t slash = text.find('/');
  if (slash == std::string::npos)
    return bad_input("address '" + text + "': expected ADDRESS/PREFIX");
  Cidr cidr;
  auto family = parse_family_addr(text.substr(0, slash), cidr.addr.data());
  if (!family) return std::move(family.error().context("address '" + text + "'"));
  cidr.family = *family;
  std::string len = text.substr(slash + 1);
  unsigned max = cidr.family == AF_INET6 ? 128 : 32;
  if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(len) > max)
    return bad_input("address '" + text + "': prefix length must be 0.." + std::to_string(max));
  cidr.prefix = static_cast<uint8_t>(std::stoul(len));
  return cidr;
}

Result<ParsedRoute> parse_route(const policy::Route& route) {
  ParsedRoute out;
  int gw_family = 0;
  if (!route.gateway.empty()) {
    auto fam = parse_family_addr(route.gateway, out.gateway.data());
    if (!fam) return std::move(fam.error().context("route gateway"));
    gw_family = *fam;
    out.has_gateway = true;
  }
  if (route.destination == "default") {
    if (!gw_family)
      return bad_input("route 'default' needs a gateway (its address family comes from it)");
    out.destination.family = gw_family;
    out.destination.prefix = 0;
  } else {
    auto dst = parse_cidr(route.destination);
    if (!dst) return std::move(dst.error().context("route destination"));
    out.destination = *dst;
    if (gw_family && gw_family != dst->family)
      return bad_input("route '" + route.destination + "' via '" + route.gateway +
                       "': destination and gateway are of different address families");
  }
  return out;
}

}  // namespace nestbox::network
