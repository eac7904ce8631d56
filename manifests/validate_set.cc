// Rules across manifests: names, joined namespaces, overlay bases.
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
