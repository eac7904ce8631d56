// The network of a container run by nestbox-launch: the launcher's
// Options::network_setup / network_teardown hooks for NetMode::kInterfaces,
// backed by the network component (rtnetlink). The setup lives here, not in
// the hook, so it outlives the hook call: it is kept for the container's
// lifetime and torn down once its processes are gone, before run_container()
// releases the state directory — whether the container exited, was stopped
// (SIGTERM, `stop`) or the launch failed after the network was set up. The
// container's namespace stays open (held by the setup) until then, so a
// physical interface is handed back to the launcher's namespace, not lost to
// the init namespace.
#pragma once

#include <optional>

#include "launcher/launcher.h"
#include "network/firewall.h"
#include "network/setup.h"
#include "util/result.h"

namespace nestbox::launcher {

class ContainerNetwork {
 public:
  ContainerNetwork() = default;
  ContainerNetwork(const ContainerNetwork&) = delete;
  ContainerNetwork& operator=(const ContainerNetwork&) = delete;
  ~ContainerNetwork() { (void)teardown(); }

  // Sets o.network_setup to a hook that sets up the policy's interfaces and
  // its firewall (network/firewall.h) and keeps them in this object (which
  // must outlive the run). A firewall that cannot be installed refuses the
  // start and undoes the interfaces.
  void attach(Options& o);
  // Removes what was created and returns moved-in interfaces; idempotent:
  // returns the first teardown error seen (also one from the hook).
  Status teardown();

 private:
  std::optional<network::NetworkSetup> setup_;
  std::optional<network::Firewall> firewall_;  // policy firewall, host namespace
  Status result_;
};

}  // namespace nestbox::launcher
