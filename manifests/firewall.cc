// [network.firewall]: reading (types, unknown keys) and the rules that relate
// it to the interfaces (docs/manifest.md, docs/network.md "Firewall").
#include <linux/capability.h>

#include <algorithm>
#include <set>
#include <utility>

#include "manifests/validate.h"
#include "policy/names.h"

namespace nestbox::manifests::detail {
namespace {

const char* const kZones[] = {"host", "lan", "wan"};

bool known_zone(const std::string& z) { return std::find(std::begin(kZones), std::end(kZones), z) != std::end(kZones); }

// An array of integers 1..65535; each remembered as path[i] for messages.
void read_ports(TableView& t, Diagnostics& d, std::vector<uint32_t>& out) {
  const toml::node* n = t.raw("ports");
  if (!n) return;
  std::string path = t.path_of("ports");
  if (!n->is_array()) {
    d.error(n->source(), path, std::string("got ") + type_name(*n) + "; expected an array of port numbers");
    return;
  }
  const toml::array& arr = *n->as_array();
  for (size_t i = 0; i < arr.size(); ++i) {
    auto v = arr[i].value<int64_t>();
    if (!arr[i].is_integer() || !v || *v < 1 || *v > 65535) {
      d.error(arr[i].source(), path + "[" + std::to_string(i) + "]", "expected a port number from 1 to 65535");
      continue;
    }
    out.push_back(static_cast<uint32_t>(*v));
  }
}

void check_zones(Diagnostics& d, const std::string& path, const std::vector<std::string>& zones) {
  std::set<std::string> seen;
  for (size_t i = 0; i < zones.size(); ++i) {
    std::string key = path + "[" + std::to_string(i) + "]";
    if (!known_zone(zones[i]))
      d.error(d.pos(key), key, in_quotes(zones[i]) + " is not a zone; expected \"host\", \"lan\" or \"wan\"");
    else if (!seen.insert(zones[i]).second)
      d.error(d.pos(key), key, in_quotes(zones[i]) + " is listed twice");
  }
}

void check_devices(Diagnostics& d, const std::string& path, const std::vector<std::string>& devs) {
  for (size_t i = 0; i < devs.size(); ++i) {
    const std::string& n = devs[i];
    std::string key = path + "[" + std::to_string(i) + "]";
    if (n.empty() || n.size() > 15 || n.find_first_of("/ :") != std::string::npos || n == "." || n == "..")
      d.error(d.pos(key), key, in_quotes(n) + " is not an interface name; expected at most 15 characters without '/', ':' or spaces");
  }
  if (devs.size() > 16) d.error(d.pos(path), path, "lists " + std::to_string(devs.size()) + " devices; expected at most 16");
}

}  // namespace

void read_firewall(TableView& network, Manifest& m) {
  const toml::table* t = network.table("firewall");
  if (!t) return;
  Diagnostics& d = network.diag();
  Firewall& fw = m.network.firewall;
  fw.enabled = true;
  fw.pos = d.to_pos(t->source());
  TableView f(d, *t, network.path_of("firewall"));
  f.get_strings("lan", fw.lan);
  f.get_strings("wan", fw.wan);
  f.get_strings("allow_out", fw.allow_out);
  f.get("masquerade", fw.masquerade);
  const toml::array* arr = f.array_of_tables("allow_in");
  for (size_t i = 0; arr && i < arr->size(); ++i) {
    const toml::table* rt = (*arr)[i].as_table();
    if (!rt) continue;
    TableView r(d, *rt, f.path_of("allow_in") + "[" + std::to_string(i) + "]");
    FirewallAllowIn rule;
    rule.pos = d.to_pos(rt->source());
    r.require("interface", "the name of a container interface, e.g. \"eth0\"");
    r.get("interface", rule.interface);
    r.get_enum("protocol", rule.protocol,
               {{"tcp", FwProtocol::kTcp}, {"udp", FwProtocol::kUdp}, {"icmp", FwProtocol::kIcmp}});
    read_ports(r, d, rule.ports);
    r.get_strings("from", rule.from);
    r.finish();
    fw.allow_in.push_back(std::move(rule));
  }
  f.finish();
}

void validate_firewall(Manifest& m, Diagnostics& d) {
  Firewall& fw = m.network.firewall;
  if (!fw.enabled) return;
  const std::string p = "network.firewall";
  if (m.network.mode != NetworkMode::kInterfaces || m.network.interfaces.empty()) {
    d.error(fw.pos, p, "filters the container's interfaces, but it has none; expected [[network.interface]] entries");
    return;
  }
  // macvlan/vlan/phys traffic never crosses the host's IP stack: the launcher
  // filters it inside the container's own network namespace, in the zone of
  // the segment its parent device is on (docs/network.md, "Firewall").
  auto in = [](const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); };
  bool any_veth = false;
  for (size_t i = 0; i < m.network.interfaces.size(); ++i) {
    const NetInterface& itf = m.network.interfaces[i];
    if (itf.type == InterfaceType::kVeth) {
      any_veth = true;
      continue;
    }
    if (!in(fw.lan, itf.parent) && !in(fw.wan, itf.parent))
      d.error(itf.pos, "network.interface[" + std::to_string(i) + "].parent",
              in_quotes(itf.parent) + " is in no zone of " + p + ", so the " + to_string(itf.type) +
                  " interface's segment is unknown; expected it in " + p + ".lan or " + p + ".wan");
  }
  // A table in the container's own namespace holds only while the container
  // cannot change it: CAP_NET_ADMIN there would let it delete the table.
  bool any_on_link = false;
  for (const NetInterface& itf : m.network.interfaces) any_on_link = any_on_link || itf.type != InterfaceType::kVeth;
  // CAP_NET_ADMIN could delete the table; CAP_NET_RAW opens AF_PACKET
  // sockets, whose frames pass no netfilter hook at all.
  for (auto [cap, why] : {std::pair{CAP_NET_ADMIN, "with which it could remove that filter"},
                          std::pair{CAP_NET_RAW, "whose packet sockets bypass that filter"}})
    if (any_on_link && (m.security.capability_mask & (1ull << cap)))
      d.error(fw.pos, p, std::string("filters the macvlan/vlan/phys interfaces inside the container's network namespace, but the "
                                     "container keeps ") + policy::capability_name(cap) + ", " + why +
                             "; expected security.capabilities without it");
  if (fw.masquerade && !any_veth)
    d.error(d.pos(p + ".masquerade"), p + ".masquerade",
            "NATs routed traffic, but the container has no veth interface (its others are on the LAN/WAN segment itself); expected none");
  check_devices(d, p + ".lan", fw.lan);
  check_devices(d, p + ".wan", fw.wan);
  check_zones(d, p + ".allow_out", fw.allow_out);
  auto has = [](const std::vector<std::string>& v, const char* z) { return std::find(v.begin(), v.end(), z) != v.end(); };
  if (has(fw.allow_out, "lan") && fw.lan.empty())
    d.error(d.pos(p + ".allow_out"), p + ".allow_out", "allows \"lan\", but no LAN devices are named; expected " + p + ".lan");
  if (has(fw.allow_out, "wan") && fw.wan.empty())
    d.error(d.pos(p + ".allow_out"), p + ".allow_out", "allows \"wan\", but no WAN devices are named; expected " + p + ".wan");
  if (fw.masquerade && fw.wan.empty())
    d.error(d.pos(p + ".masquerade"), p + ".masquerade", "needs the WAN devices to masquerade behind; expected " + p + ".wan");
  if (fw.masquerade && !has(fw.allow_out, "wan"))
    d.error(d.pos(p + ".masquerade"), p + ".masquerade", "NATs traffic the firewall drops; expected \"wan\" in " + p + ".allow_out");
  if (fw.allow_in.size() > 64)
    d.error(fw.pos, p + ".allow_in", "has " + std::to_string(fw.allow_in.size()) + " entries; expected at most 64");
  for (size_t i = 0; i < fw.allow_in.size(); ++i) {
    FirewallAllowIn& r = fw.allow_in[i];
    std::string key = p + ".allow_in[" + std::to_string(i) + "]";
    bool found = false;
    for (const NetInterface& itf : m.network.interfaces) found = found || itf.name == r.interface;
    if (!found && !r.interface.empty())
      d.error(d.pos(key + ".interface"), key + ".interface",
              in_quotes(r.interface) + " is not one of the container's interfaces");
    // An interface bridged straight into a LAN/WAN bridge is a member of that
    // segment: its traffic is bridged, never routed through the host's hooks.
    for (const NetInterface& itf : m.network.interfaces)
      for (const auto* zone : {&fw.lan, &fw.wan})
        if (itf.name == r.interface && !itf.bridge.empty() &&
            std::find(zone->begin(), zone->end(), itf.bridge) != zone->end())
          d.error(d.pos(key + ".interface"), key + ".interface",
                  in_quotes(r.interface) + " is bridged into " + in_quotes(itf.bridge) +
                      ", a LAN/WAN device: its traffic never crosses the host's firewall; expected an interface in a private bridge");
    if (r.protocol == FwProtocol::kIcmp && !r.ports.empty())
      d.error(d.pos(key + ".ports"), key + ".ports", "icmp has no ports; expected none");
    if (r.protocol != FwProtocol::kIcmp && r.ports.empty())
      d.error(r.pos, key + ".ports", "has no ports; tcp and udp need the ports to open, e.g. [80, 443]");
    if (r.ports.size() > 64)
      d.error(d.pos(key + ".ports"), key + ".ports", "lists " + std::to_string(r.ports.size()) + " ports; expected at most 64");
    check_zones(d, key + ".from", r.from);
    if (has(r.from, "lan") && fw.lan.empty())
      d.error(d.pos(key + ".from"), key + ".from", "names \"lan\", but no LAN devices are named; expected " + p + ".lan");
    if (has(r.from, "wan") && fw.wan.empty())
      d.error(d.pos(key + ".from"), key + ".from", "names \"wan\", but no WAN devices are named; expected " + p + ".wan");
    // On a macvlan/vlan/phys interface a connection can only come from the
    // segment it is on.
    for (const NetInterface& itf : m.network.interfaces) {
      if (itf.name != r.interface || itf.type == InterfaceType::kVeth) continue;
      const char* zone = in(fw.lan, itf.parent) ? "lan" : in(fw.wan, itf.parent) ? "wan" : nullptr;
      if (zone && !r.from.empty() && !has(r.from, zone))
        d.error(d.pos(key + ".from"), key + ".from",
                "never matches: " + in_quotes(r.interface) + " is on the " + zone + " segment (its parent " +
                    in_quotes(itf.parent) + "); expected \"" + zone + "\" among the zones");
    }
  }
}

}  // namespace nestbox::manifests::detail
