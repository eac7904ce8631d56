#include "launcher/namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher/running_init.h"

namespace nestbox::launcher {


int ns_clone_flag(int index) {
  static const int flags[policy::kNsCount] = {CLONE_NEWNS,  CLONE_NEWUTS,  CLONE_NEWIPC,
                                              CLONE_NEWPID, CLONE_NEWNET,  CLONE_NEWUSER,
                                              CLONE_NEWCGROUP};
  return flags[index];
}

bool ns_new(const policy::Policy& p, int index) {
  if (index == policy::kNsNet && p.net == policy::NetMode::kNone) return false;
  if (index == policy::kNsUser && p.uid_map.empty()) return false;
  return p.namespaces[index].mode == policy::NsMode::kNew;
}

int clone_flags(const policy::Policy& p) {
  // The mount namespace is always private to the launch (mounts are assembled in it),
  // unless another container's is joined.
  int flags = p.namespaces[policy::kNsMount].mode == policy::NsMode::kJoin ? 0 : CLONE_NEWNS;
  for (int i : {policy::kNsUts, policy::kNsIpc, policy::kNsPid, policy::kNsNet})
    if (ns_new(p, i)) flags |= ns_clone_flag(i);
  return flags;  // cgroup: unshared after joining the cgroup; user: after the mounts
}

Result<std::vector<UniqueFd>> open_joins(const policy::Policy& p, const std::string& state_root) {
  std::vector<UniqueFd> fds(policy::kNsCount);
  for (int i = 0; i < policy::kNsCount; ++i) {
    const policy::Namespace& ns = p.namespaces[i];
    if (ns.mode != policy::NsMode::kJoin) continue;
    bool wanted[policy::kNsCount] = {};
    wanted[i] = true;
    auto opened = open_running_namespaces(state_root, ns.join, wanted);
    if (!opened.ok()) return std::move(opened.error().context(std::string("join ") + ns_name(i) + " namespace"));
    fds[i] = std::move((*opened)[i]);
    // A container in the host's pid namespace (pid = "host") passes on that
    // namespace to whoever joins it: the joiner is then in the host's pid
    // namespace too, and check_policy's rule for pid = "host" holds for it
    // (a new user namespace mapping no id to host uid 0), or a uid-0
    // container without one would name and kill every root process.
    struct stat theirs, ours;
    if (i == policy::kNsPid && ::fstat(fds[i].get(), &theirs) == 0 && ::stat("/proc/self/ns/pid", &ours) == 0 &&
        theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino) {
      bool host_root = !ns_new(p, policy::kNsUser);
      for (const policy::IdMap& m : p.uid_map)
        if (m.outside == 0 && m.count > 0) host_root = true;
      if (host_root)
        return bad_input("policy " + p.name + ": joins the pid namespace of '" + ns.join +
                         "', which is the host's: that needs a new user namespace that does not map host uid 0 "
                         "(the container could signal the launcher and other containers)");
    }
  }
  return fds;
}

Status join_namespaces(std::vector<UniqueFd>& fds) {
  for (int i = 0; i < policy::kNsCount; ++i) {
    if (i == policy::kNsUser || !fds[i]) continue;
    if (::setns(fds[i].get(), ns_clone_flag(i)) != 0)
      return sys_error(std::string("setns ") + ns_name(i));
    fds[i].reset();
  }
  return {};
}

Status join_user(std::vector<UniqueFd>& fds) {
  if (!fds[policy::kNsUser]) return {};
  if (::setns(fds[policy::kNsUser].get(), CLONE_NEWUSER) != 0) return sys_error("setns user");
  fds[policy::kNsUser].reset();
  return {};
}

Status set_uts(const policy::Policy& p) {
  const std::string& host = p.hostname.empty() ? p.name : p.hostname;
  if (::sethostname(host.data(), host.size()) != 0) return sys_error("sethostname " + host);
  if (!p.domainname.empty() && ::setdomainname(p.domainname.data(), p.domainname.size()) != 0)
    return sys_error("setdomainname " + p.domainname);
  return {};
}

}  // namespace nestbox::launcher
