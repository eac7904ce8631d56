// Container networking from a baked policy, through rtnetlink (libmnl; no `ip`).
//
// Call order (the launcher):
//   1. start the container's init in a new network namespace (CLONE_NEWNET),
//      stopped before it execs;
//   2. fd = open_netns_of(pid); setup = setup_network(policy, fd.get());
//      host-side work (veth host ends, bridges, parents) happens in the
//      calling thread's network namespace, container-side work inside the
//      container's namespace through a socket opened there;
//   3. let the container run; keep `setup` alive until it has stopped;
//   4. setup.teardown() (or let the destructor do it): everything created is
//      removed and moved-in host interfaces (phys) are given back under their
//      old names.
// A setup that fails half-way undoes what it did before returning the error.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "network/netlink.h"
#include "policy/policy.h"
#include "util/fd.h"
#include "util/result.h"

namespace nestbox::network {

class NetworkSetup {
 public:
  NetworkSetup() = default;
  NetworkSetup(NetworkSetup&&) noexcept = default;
  NetworkSetup& operator=(NetworkSetup&& other) noexcept;
  NetworkSetup(const NetworkSetup&) = delete;
  NetworkSetup& operator=(const NetworkSetup&) = delete;
  ~NetworkSetup();

  // Undoes everything, newest first. Continues past errors and returns the
  // first one. Idempotent.
  Status teardown();

  // Host-side names of what this setup created or borrowed (for logs/tests).
  std::vector<std::string> host_links() const;

 private:
  friend class Builder;
  enum class Undo { kDeleteHostLink, kDeleteContainerLink, kReturnPhys };
  struct Step {
    Undo undo;
    int index;              // ifindex in the namespace the undo acts in
    std::string host_name;  // phys: name to give back; veth: host end
  };
  std::unique_ptr<NetlinkSocket> host_, container_;
  UniqueFd host_netns_, container_netns_;
  std::vector<Step> steps_;
};

// Checks the policy's network section without touching the system:
// names, MACs, addresses, routes, and that each type has what it needs.
Status validate_network(const policy::Policy& policy);

// Sets up the policy's network for the container whose network namespace is
// `netns_fd` (ignored for NetMode::kNone). The caller's thread's namespace is
// the host side; it must differ from the container's.
Result<NetworkSetup> setup_network(const policy::Policy& policy, int netns_fd);
// Same, for the network namespace of process `pid`.
Result<NetworkSetup> setup_network_for_pid(const policy::Policy& policy, pid_t pid);

// The host-side name of a veth when the policy gives none: "nb" + 8 hex
// digits of a hash of container and interface name (deterministic, 10 bytes).
std::string default_veth_host_name(const std::string& container, const std::string& ifname);

}  // namespace nestbox::network
