// Namespaces: which to create (clone flags), which to join (another
// container's, recorded at <state_root>/<name>/ns/<type>), the UTS names, the
// user namespace id maps and the loopback of an empty network namespace.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "policy/names.h"
#include "policy/policy.h"
#include "util/fd.h"
#include "util/result.h"

namespace nestbox::launcher {

// "mnt", "uts", ... by index (policy/names.h holds the names).
inline const char* ns_name(int index) {
  return policy::namespace_proc_name(static_cast<policy::NsIndex>(index));
}
int ns_clone_flag(int index);  // CLONE_NEW*

bool ns_new(const policy::Policy& p, int index);
// CLONE_NEW* flags for the namespaces created at clone time (all but user,
// which the container enters after its mounts are done).
int clone_flags(const policy::Policy& p);

// Opens the namespace files of every kJoin namespace (fds[index], invalid if none).
Result<std::vector<UniqueFd>> open_joins(const policy::Policy& p, const std::string& state_root);
// setns() into the opened namespaces except user (joined last).
Status join_namespaces(std::vector<UniqueFd>& fds);
Status join_user(std::vector<UniqueFd>& fds);

Status set_uts(const policy::Policy& p);
Status loopback_up();  // netlo.cc

// idmap.cc: /proc/<pid>/uid_map and gid_map from the policy, by the launcher.
Status write_id_maps(pid_t pid, const policy::Policy& p);
std::string format_id_map(const std::vector<policy::IdMap>& map);

}  // namespace nestbox::launcher
