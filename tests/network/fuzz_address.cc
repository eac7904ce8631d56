// libFuzzer target for the policy's textual network values: whatever bytes,
// the parsers return a value or a bad_input error, never crash or overrun.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "network/address.h"
#include "network/setup.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  using namespace nestbox;
  (void)network::validate_ifname(text);
  (void)network::parse_mac(text);
  auto cidr = network::parse_cidr(text);
  if (cidr.ok() && cidr->prefix > (cidr->family == AF_INET6 ? 128 : 32)) __builtin_trap();
  size_t cut = text.find('|');
  policy::Route route{text.substr(0, cut), cut == std::string::npos ? "" : text.substr(cut + 1)};
  (void)network::parse_route(route);
  policy::Policy p;
  p.name = text;
  p.net = policy::NetMode::kInterfaces;
  policy::Interface iface;
  iface.name = route.destination;
  iface.parent = route.gateway;
  iface.host_name = text.substr(0, 15);
  iface.mac = text;
  iface.addresses = {text};
  iface.routes = {route};
  p.interfaces = {iface, iface};
  (void)network::validate_network(p);
  return 0;
}
