// Rules across manifests: names, joined namespaces, overlay bases.
#include <linux/capability.h>

#include <algorithm>
#include <map>
#include <set>

#include "manifests/manifest.h"

namespace nestbox::manifests {

Status validate_set(const std::vector<Manifest>& manifests) {
  std::map<std::string, const Manifest*> by_name;
  std::string errors;
  auto add = [&](const Manifest& m, const std::string& what) {
    errors += (errors.empty() ? "" : "\n") + m.file + ": " + what;
  };
  for (const Manifest& m : manifests) {
    auto [it, fresh] = by_name.emplace(m.name, &m);
    if (!fresh) add(m, "name: \"" + m.name + "\" is also the name of " + it->second->file + "; expected unique container names");
  }
  // Each container joins at most one other per namespace; follow the edges to
  // find missing targets and cycles (a cycle could never be started).
  const char* kinds[] = {"mount", "uts", "ipc", "pid", "net", "user", "cgroup"};
  for (const Manifest& m : manifests) {
    const Namespace* all[] = {&m.namespaces.mount, &m.namespaces.uts, &m.namespaces.ipc, &m.namespaces.pid,
                              &m.namespaces.net, &m.namespaces.user, &m.namespaces.cgroup};
    for (int k = 0; k < 7; ++k) {
      if (all[k]->mode != NsMode::kJoin) continue;
      std::set<std::string> seen{m.name};
      std::string cur = all[k]->join;
      while (true) {
        auto it = by_name.find(cur);
        if (it == by_name.end()) {
          add(m, std::string("namespaces.") + kinds[k] + ": joins \"" + cur + "\", which is not among the given manifests; expected the name of another container");
          break;
        }
        if (!seen.insert(cur).second) {
          add(m, std::string("namespaces.") + kinds[k] + ": joining \"" + all[k]->join + "\" forms a cycle; expected a container that owns its namespace");
          break;
        }
        const Namespace* next[] = {&it->second->namespaces.mount, &it->second->namespaces.uts, &it->second->namespaces.ipc,
                                   &it->second->namespaces.pid, &it->second->namespaces.net, &it->second->namespaces.user,
                                   &it->second->namespaces.cgroup};
        if (next[k]->mode != NsMode::kJoin) break;
        cur = next[k]->join;
      }
    }
  }
  // A filter inside a network namespace (a firewall on macvlan/vlan/phys
  // interfaces) holds only while nothing there has CAP_NET_ADMIN (it could
  // delete it) or CAP_NET_RAW (packet sockets pass no netfilter hook): the
  // owner is refused both (validate_firewall), and so is a container that
  // joins that namespace, whose capabilities reach it as well.
  for (const Manifest& m : manifests) {
    uint64_t net_caps = m.security.capability_mask & ((1ull << CAP_NET_ADMIN) | (1ull << CAP_NET_RAW));
    if (m.namespaces.net.mode != NsMode::kJoin || !net_caps) continue;
    const Manifest* owner = &m;
    for (std::set<std::string> seen{m.name}; owner->namespaces.net.mode == NsMode::kJoin;) {
      auto it = by_name.find(owner->namespaces.net.join);
      if (it == by_name.end() || !seen.insert(it->first).second) break;  // reported above
      owner = it->second;
    }
    bool filtered_inside = owner->network.firewall.enabled &&
                           std::any_of(owner->network.interfaces.begin(), owner->network.interfaces.end(),
                                       [](const NetInterface& i) { return i.type != InterfaceType::kVeth; });
    if (owner != &m && filtered_inside)
      add(m, "security.capabilities: keeps " + std::string(net_caps & (1ull << CAP_NET_ADMIN) ? "CAP_NET_ADMIN" : "CAP_NET_RAW") +
                 " and joins the network namespace of \"" + owner->name + "\" (" + owner->file +
                 "), whose macvlan/vlan/phys interfaces are filtered inside it: it could delete that filter or send "
                 "past it with packet sockets; expected security.capabilities without CAP_NET_ADMIN and CAP_NET_RAW");
  }
  // A base is installed like a container of its name (the store keys both by
  // name): a base named after a container, itself included, would replace
  // it. Two containers naming each other as bases is the same conflict twice.
  for (const Manifest& m : manifests) {
    if (m.rootfs.strategy != RootfsStrategy::kOverlay) continue;
    std::string base = m.rootfs.base.empty() ? kAutomaticBase : m.rootfs.base;
    auto it = by_name.find(base);
    if (it == by_name.end()) continue;
    const SourcePos& at = m.rootfs.base.empty() ? m.rootfs.pos : m.rootfs.base_pos;
    std::string where = at.line ? m.file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) : m.file;
    std::string what = m.rootfs.base.empty() ? "the automatic base \"" + base + "\"" : "\"" + base + "\"";
    errors += (errors.empty() ? "" : "\n") + where + ": rootfs.base: " + what +
              (it->second == &m ? " is this container's own name"
                                : " is also the name of the container in " + it->second->file) +
              "; a base is installed like a container of its name, expected another name";
  }
  // A named overlay base must be one arch: images built from it run on one device.
  std::map<std::string, const Manifest*> base_arch;
  for (const Manifest& m : manifests) {
    if (m.rootfs.strategy != RootfsStrategy::kOverlay || m.rootfs.base.empty()) continue;
    auto [it, fresh] = base_arch.emplace(m.rootfs.base, &m);
    if (!fresh && it->second->arch != m.arch)
      add(m, "rootfs.base: \"" + m.rootfs.base + "\" is shared with " + it->second->file + " (arch " +
                 to_string(it->second->arch) + "); expected containers of one arch per base");
  }
  if (!errors.empty()) return bad_input(errors);
  return ok_status();
}

}  // namespace nestbox::manifests
