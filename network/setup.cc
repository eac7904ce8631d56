#include "network/setup.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <set>

#include "network/address.h"
#include "network/firewall.h"
#include "network/messages.h"

namespace nestbox::network {

using policy::IfType;
using policy::Interface;
using policy::NetMode;

namespace {

std::string container_ifname(const Interface& iface, size_t i) {
  return iface.name.empty() ? "eth" + std::to_string(i) : iface.name;
}

const char* type_name(IfType t) {
  switch (t) {
    case IfType::kPhys: return "phys";
    case IfType::kVlan: return "vlan";
    case IfType::kVeth: return "veth";
    case IfType::kMacvlan: return "macvlan";
  }
  return "?";
}

Status validate_interface(const policy::Policy& p, const Interface& iface, size_t i) {
  std::string name = container_ifname(iface, i);
  NESTBOX_TRY(validate_ifname(name));
  if (name == "lo") return bad_input("'lo' is the container's loopback, not an interface to add");
  bool needs_parent = iface.type != IfType::kVeth;
  if (needs_parent && iface.parent.empty())
    return bad_input(std::string(type_name(iface.type)) + " interface needs a parent (host device)");
  if (!iface.parent.empty()) NESTBOX_TRY_CTX(validate_ifname(iface.parent), "parent");
  if (iface.type == IfType::kVlan && (iface.vlan_id < 1 || iface.vlan_id > 4094))
    return bad_input("vlan id " + std::to_string(iface.vlan_id) + " is outside 1..4094");
  if (iface.type == IfType::kVeth) {
    if (!iface.bridge.empty()) NESTBOX_TRY_CTX(validate_ifname(iface.bridge), "bridge");
    std::string host = iface.host_name.empty() ? default_veth_host_name(p.name, name) : iface.host_name;
    NESTBOX_TRY_CTX(validate_ifname(host), "host_name");
  }
  if (!iface.mac.empty()) {
    auto mac = parse_mac(iface.mac);
    if (!mac) return std::move(mac.error());
  }
  if (iface.mtu != 0 && (iface.mtu < 68 || iface.mtu > 65535))
    return bad_input("mtu " + std::to_string(iface.mtu) + " is outside 68..65535");
  for (const std::string& a : iface.addresses) {
    auto cidr = parse_cidr(a);
    if (!cidr) return std::move(cidr.error());
  }
  for (const policy::Route& r : iface.routes) {
    auto route = parse_route(r);
    if (!route) return std::move(route.error());
  }
  return ok_status();
}

bool is_gone(const Error& e) { return e.sys_errno == ENODEV || e.sys_errno == ENOENT; }

}  // namespace

std::string default_veth_host_name(const std::string& container, const std::string& ifname) {
  uint32_t h = 2166136261u;  // FNV-1a over "container/ifname"
  for (char c : container + "/" + ifname) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  static const char kHex[] = "0123456789abcdef";
  std::string out = "nb";
  for (int shift = 28; shift >= 0; shift -= 4) out += kHex[(h >> shift) & 0xf];
  return out;
}

Status validate_network(const policy::Policy& p) {
  if (p.net != NetMode::kInterfaces && !p.interfaces.empty())
    return bad_input("network mode '" + std::string(p.net == NetMode::kNone ? "none" : "empty") +
                     "' cannot list interfaces");
  std::set<std::string> names, hosts;
  for (size_t i = 0; i < p.interfaces.size(); ++i) {
    const Interface& iface = p.interfaces[i];
    std::string name = container_ifname(iface, i);
    std::string where = "interface " + std::to_string(i) + " ('" + name + "')";
    NESTBOX_TRY_CTX(validate_interface(p, iface, i), where);
    if (!names.insert(name).second) return bad_input(where + ": name used twice");
    if (iface.type == IfType::kVeth) {
      std::string host = iface.host_name.empty() ? default_veth_host_name(p.name, name) : iface.host_name;
      if (!hosts.insert(host).second) return bad_input(where + ": host name '" + host + "' used twice");
    } else if (!hosts.insert(iface.parent).second &&
               (iface.type == IfType::kPhys || iface.macvlan_mode == policy::MacvlanMode::kPassthru)) {
      return bad_input(where + ": host device '" + iface.parent + "' is already used");
    }
  }
  return ok_status();
}

// Builds a NetworkSetup step by step; every step that changes the system is
// recorded first, so a failure half-way is undone by the NetworkSetup destructor.
class Builder {
 public:
  Builder(const policy::Policy& p, NetworkSetup& s) : p_(p), s_(s) {}

  Status open(int netns_fd) {
    auto host = open_current_netns();
    if (!host) return std::move(host.error());
    auto same = same_namespace(host->get(), netns_fd);
    if (!same) return std::move(same.error());
    if (*same) return failure("the container's network namespace is the host's own");
    s_.host_netns_ = std::move(*host);
    s_.container_netns_ = UniqueFd(::fcntl(netns_fd, F_DUPFD_CLOEXEC, 3));
    if (!s_.container_netns_) return sys_error("dup container netns fd");
    auto hs = NetlinkSocket::open();
    if (!hs) return std::move(hs.error().context("host netns"));
    s_.host_ = std::make_unique<NetlinkSocket>(std::move(*hs));
    auto cs = NetlinkSocket::open_in(s_.container_netns_.get());
    if (!cs) return std::move(cs.error().context("container netns"));
    s_.container_ = std::make_unique<NetlinkSocket>(std::move(*cs));
    return ok_status();
  }

  Status loopback_up() {
    auto lo = s_.container_->link_index("lo");
    if (!lo) return std::move(lo.error());
    LinkChange up{.index = *lo, .up = true};
    Message m = set_link(up);
    return s_.container_->request(m, "bring up lo");
  }

  // Creates or moves the interface into the container; returns its index there.
  Result<int> attach(const Interface& iface, const std::string& name) {
    switch (iface.type) {
      case IfType::kVeth: return attach_veth(iface, name);
      case IfType::kMacvlan:
      case IfType::kVlan: return attach_on_parent(iface, name);
      case IfType::kPhys: return attach_phys(iface, name);
    }
    return bad_input("unknown interface type");
  }

  Status configure(const Interface& iface, int index, const std::string& name) {
    // A restarted container's interface has a new MAC (macvlan, veth) while
    // its neighbours still hold the old one for its address and would not
    // reach it for up to a minute. So the addresses are set while the link is
    // down and arp_notify is on: bringing it up announces them in gratuitous
    // ARP, which replaces those stale entries at once.
    LinkChange change{.index = index, .arp_notify = true};
    if (!iface.mac.empty()) change.mac = *parse_mac(iface.mac);
    if (iface.mtu) change.mtu = iface.mtu;
    Message m = set_link(change);
    NESTBOX_TRY(s_.container_->request(m, "set MAC/MTU/arp_notify of " + name));
    if (filtered_on_host(p_, iface)) NESTBOX_TRY(pin_link_local(iface, index, name));
    for (const std::string& a : iface.addresses) {
      Message am = new_address(index, *parse_cidr(a));
      NESTBOX_TRY(s_.container_->request(am, "add address " + a + " to " + name));
    }
    LinkChange up{.index = index, .up = true};
    Message um = set_link(up);
    NESTBOX_TRY(s_.container_->request(um, "bring up " + name));
    return ok_status();
  }

  // A veth the host-side firewall judges gets the one IPv6 link-local
  // address that firewall lets through from it (pinned_link_local), and none
  // of the kernel's making: the host cannot learn which one the container's
  // namespace made (its MAC is random, its addr_gen_mode its namespace's), and
  // "any fe80::/10" let the container send as the router's own link-local
  // address or any neighbour's. Done while the link is down, before the
  // kernel would make its own.
  Status pin_link_local(const Interface& iface, int index, const std::string& name) {
    LinkChange off{.index = index, .no_ipv6_link_local = true};
    Message m = set_link(off);
    Status st = s_.container_->request(m, "turn off the kernel's IPv6 link-local address of " + name);
    // A kernel without IPv6 has no link-local address to pin, nor any IPv6
    // traffic to judge.
    if (!st && st.error().sys_errno == EAFNOSUPPORT) return ok_status();
    if (!st) return st;
    auto ll = pinned_link_local(p_, iface);
    if (!ll) return ok_status();  // it declares its own
    Message am = new_address(index, *ll);
    return s_.container_->request(am, "add its link-local address to " + name);
  }

  Status add_routes(const Interface& iface, int index, const std::string& name) {
    for (const policy::Route& r : iface.routes) {
      Message m = new_route(index, *parse_route(r));
      std::string what = "add route " + r.destination +
                         (r.gateway.empty() ? "" : " via " + r.gateway) + " dev " + name;
      NESTBOX_TRY(s_.container_->request(m, what));
    }
    return ok_status();
  }

 private:
  Result<int> attach_veth(const Interface& iface, const std::string& name) {
    std::string host = iface.host_name.empty() ? default_veth_host_name(p_.name, name) : iface.host_name;
    int bridge = 0;
    if (!iface.bridge.empty()) {
      // The manifest says "bridge", and what follows counts on it: the host
      // end becomes a port of it, the firewall judges the container by its
      // name, and its other ports share the container's segment. A bond,
      // VRF, veth or physical device of that name would take the host end
      // as something else entirely: refused, not taken on the name's word.
      auto b = s_.host_->link_info(iface.bridge);
      if (!b) return std::move(b.error().context("bridge"));
      if (b->kind != "bridge")
        return failure("bridge: '" + iface.bridge + "' is " +
                       (b->kind.empty() ? std::string("a device without a link kind (physical)")
                                        : "of kind '" + b->kind + "'") +
                       ", not a bridge");
      bridge = b->index;
    }
    Message m = new_veth(host, name, s_.container_netns_.get());
    NESTBOX_TRY(s_.host_->request(m, "create veth " + host + " <-> " + name));
    auto hidx = s_.host_->link_index(host);
    if (!hidx) return std::move(hidx.error());
    s_.steps_.push_back({NetworkSetup::Undo::kDeleteHostLink, *hidx, host});
    LinkChange hc{.index = *hidx, .up = true};
    if (iface.mtu) hc.mtu = iface.mtu;
    if (bridge) hc.master = bridge;
    Message hm = set_link(hc);
    NESTBOX_TRY(s_.host_->request(hm, "attach " + host + (bridge ? " to bridge " + iface.bridge : "")));
    return s_.container_->link_index(name);
  }

  Result<int> attach_on_parent(const Interface& iface, const std::string& name) {
    auto parent = s_.host_->link_index(iface.parent);
    if (!parent) return std::move(parent.error().context("parent"));
    int ns = s_.container_netns_.get();
    bool vlan = iface.type == IfType::kVlan;
    Message m = vlan ? new_vlan(name, *parent, static_cast<uint16_t>(iface.vlan_id), ns)
                     : new_macvlan(name, *parent, iface.macvlan_mode, ns);
    NESTBOX_TRY(s_.host_->request(m, std::string("create ") + (vlan ? "vlan " : "macvlan ") +
                                         name + " on " + iface.parent));
    auto idx = s_.container_->link_index(name);
    if (!idx) return std::move(idx.error());
    s_.steps_.push_back({NetworkSetup::Undo::kDeleteContainerLink, *idx, ""});
    return idx;
  }

  Result<int> attach_phys(const Interface& iface, const std::string& name) {
    auto parent = s_.host_->link_index(iface.parent);
    if (!parent) return std::move(parent.error().context("phys"));
    LinkChange move{.index = *parent, .name = name, .netns_fd = s_.container_netns_.get()};
    Message m = set_link(move);
    NESTBOX_TRY(s_.host_->request(m, "move " + iface.parent + " into the container as " + name));
    auto idx = s_.container_->link_index(name);
    if (!idx) return std::move(idx.error());
    s_.steps_.push_back({NetworkSetup::Undo::kReturnPhys, *idx, iface.parent});
    return idx;
  }

  const policy::Policy& p_;
  NetworkSetup& s_;
};

NetworkSetup& NetworkSetup::operator=(NetworkSetup&& other) noexcept {
  if (this != &other) {
    (void)teardown();
    host_ = std::move(other.host_);
    container_ = std::move(other.container_);
    host_netns_ = std::move(other.host_netns_);
    container_netns_ = std::move(other.container_netns_);
    steps_ = std::move(other.steps_);
    other.steps_.clear();
  }
  return *this;
}

NetworkSetup::~NetworkSetup() { (void)teardown(); }

Status NetworkSetup::teardown() {
  Status first;
  auto note = [&first](Status st) {
    if (!st && !is_gone(st.error()) && first.ok()) first = std::move(st);
  };
  while (!steps_.empty()) {
    Step step = std::move(steps_.back());
    steps_.pop_back();
    switch (step.undo) {
      case Undo::kDeleteHostLink: {
        Message m = del_link(step.index);
        note(host_->request(m, "delete " + step.host_name));
        break;
      }
      case Undo::kDeleteContainerLink: {
        Message m = del_link(step.index);
        note(container_->request(m, "delete container interface " + std::to_string(step.index)));
        break;
      }
      case Undo::kReturnPhys: {
        LinkChange back{.index = step.index, .name = step.host_name, .netns_fd = host_netns_.get()};
        Message m = set_link(back);
        note(container_->request(m, "give " + step.host_name + " back to the host"));
        break;
      }
    }
  }
  container_.reset();
  host_.reset();
  container_netns_.reset();
  host_netns_.reset();
  return first;
}

std::vector<std::string> NetworkSetup::host_links() const {
  std::vector<std::string> out;
  for (const Step& s : steps_)
    if (!s.host_name.empty()) out.push_back(s.host_name);
  return out;
}

Result<NetworkSetup> setup_network(const policy::Policy& p, int netns_fd) {
  NESTBOX_TRY_CTX(validate_network(p), "network of " + p.name);
  NetworkSetup setup;
  if (p.net == NetMode::kNone) return setup;
  Builder b(p, setup);
  NESTBOX_TRY_CTX(b.open(netns_fd), "network of " + p.name);
  NESTBOX_TRY_CTX(b.loopback_up(), "network of " + p.name);
  std::vector<int> indexes;
  for (size_t i = 0; i < p.interfaces.size(); ++i) {
    const Interface& iface = p.interfaces[i];
    std::string name = container_ifname(iface, i);
    std::string ctx = "network of " + p.name + ": " + type_name(iface.type) + " " + name;
    auto idx = b.attach(iface, name);
    if (!idx) return std::move(idx.error().context(ctx));  // setup's destructor undoes
    NESTBOX_TRY_CTX(b.configure(iface, *idx, name), ctx);
    indexes.push_back(*idx);
  }
  for (size_t i = 0; i < p.interfaces.size(); ++i) {
    std::string name = container_ifname(p.interfaces[i], i);
    NESTBOX_TRY_CTX(b.add_routes(p.interfaces[i], indexes[i], name), "network of " + p.name);
  }
  return setup;
}

Result<NetworkSetup> setup_network_for_pid(const policy::Policy& p, pid_t pid) {
  if (p.net == NetMode::kNone) return setup_network(p, -1);
  auto fd = open_netns_of(pid);
  if (!fd) return std::move(fd.error().context("network of " + p.name));
  return setup_network(p, fd->get());
}

}  // namespace nestbox::network
