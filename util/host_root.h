// Whether a container's processes can be, or become, the host's uid 0 (or
// gid 0, below): the one question behind every "not for the host's root"
// rule (a writable /sys, the ubus ACL that ubusd skips for uid 0). Shared by the manifest checks
// (validate, compose) and the policy reader nestbox-launch runs on every
// signed policy, so the two cannot drift. Header only, target-safe.
#pragma once

#include <cstdint>

namespace nestbox {

// `Map` is a range of {inside, outside, count} (manifests::IdMapRange,
// policy::IdMap); `own_user_ns`: the container has a user namespace of its
// own (else its ids are the host's).
//
// Running as host uid 0 is the obvious case. A process that is not host root
// becomes it when the host's uid 0 is reachable (no user namespace of its
// own, or a uid map sending some id to host 0) and either
//  - no_new_privs is off: executing a setuid-root program (shipped in its
//    image, on a storage partition, in a bound host directory) or one with
//    file capabilities changes its uid (the bounding set stops the
//    capabilities, not the uid, and /sys or ubusd ask for the uid alone); or
//  - it keeps CAP_SETUID: setuid(0).
template <typename Map>
bool may_become_host_root(bool own_user_ns, const Map& uid_map, uint32_t uid, bool no_new_privs,
                          bool keeps_cap_setuid) {
  uint32_t host_uid = uid;
  bool zero_reachable = !own_user_ns;
  if (own_user_ns) {
    for (const auto& m : uid_map) {
      if (uid >= m.inside && uid - m.inside < m.count) host_uid = m.outside + (uid - m.inside);
      if (m.outside == 0 && m.count > 0) zero_reachable = true;
    }
  }
  if (host_uid == 0) return true;
  return zero_reachable && (!no_new_privs || keeps_cap_setuid);
}

// The group side, asked with may_become_host_root wherever the question is
// "may it write what the host's root may" (a writable /sys): /sys has files
// its root *group* may write (a PCI device's `remove` is 0220 root:root).
// True when the process's gid or one of its supplementary `groups` is host
// gid 0, or host gid 0 is reachable (no user namespace of its own, or a gid
// map sending some id to host 0) and either no_new_privs is off (a
// setgid-root program) or it keeps CAP_SETGID (setgid(0), setgroups).
// ubusd's ACL bypass asks for uid 0 alone: not asked there.
template <typename Map, typename Groups>
bool may_join_host_root_group(bool own_user_ns, const Map& gid_map, uint32_t gid, const Groups& groups,
                              bool no_new_privs, bool keeps_cap_setgid) {
  auto host_gid = [&](uint32_t id) {
    if (!own_user_ns) return static_cast<int64_t>(id);
    for (const auto& m : gid_map)
      if (id >= m.inside && id - m.inside < m.count) return static_cast<int64_t>(m.outside) + (id - m.inside);
    return int64_t{-1};  // unmapped: the overflow gid
  };
  if (host_gid(gid) == 0) return true;
  for (uint32_t g : groups)
    if (host_gid(g) == 0) return true;
  bool zero_reachable = !own_user_ns;
  for (const auto& m : gid_map)
    if (own_user_ns && m.outside == 0 && m.count > 0) zero_reachable = true;
  return zero_reachable && (!no_new_privs || keeps_cap_setgid);
}

}  // namespace nestbox
