#include "launcher/container_network.h"

#include <utility>

namespace nestbox::launcher {

void ContainerNetwork::attach(Options& o) {
  o.network_setup = [this](const policy::Policy& p, int pid) -> Status {
    (void)teardown();  // one container per run; never two setups at once
    auto s = network::setup_network_for_pid(p, pid);
    if (!s.ok()) return std::move(s).error();  // a half-done setup undid itself
    setup_.emplace(std::move(*s));
    // The firewall goes in before the container continues: it never runs
    // without it. Installed in this (the host's) namespace, out of reach of
    // the container even with CAP_NET_ADMIN in its own.
    if (p.firewall.enabled) {
      auto fw = network::install_firewall(p);
      if (!fw.ok()) {
        (void)teardown();  // fail closed: no network either
        return std::move(fw).error();
      }
      firewall_.emplace(std::move(*fw));
      // macvlan/vlan/phys interfaces: a table in the container's namespace
      // (it goes with the namespace; the policy reader refused a container
      // that keeps CAP_NET_ADMIN, which could remove it).
      Status in_container = [&]() -> Status {
        if (!network::has_side(p, network::FirewallSide::kContainer)) return ok_status();
        auto netns = network::open_netns_of(pid);
        if (!netns.ok()) return std::move(netns).error();
        return network::install_container_firewall(p, netns->get());
      }();
      if (!in_container.ok()) {
        (void)teardown();
        return in_container;
      }
    }
    return ok_status();
  };
  // run_container() calls this once the container is gone, before it
  // releases the state directory (so `stop` returns after the teardown).
  o.network_teardown = [this] { (void)teardown(); };
  o.network_join_check = [](const policy::Policy& p, int netns_fd) -> Status {
    auto held = network::holds_container_firewall(netns_fd);
    if (!held.ok()) return std::move(held.error().context("policy " + p.name));
    if (*held)
      return bad_input("policy " + p.name + ": joins the network namespace of '" +
                       p.namespaces[policy::kNsNet].join +
                       "', whose macvlan/vlan/phys interfaces are filtered inside it, keeping CAP_NET_ADMIN or "
                       "CAP_NET_RAW (it could delete that filter, or send past it with packet sockets); expected "
                       "security.capabilities without them");
    return ok_status();
  };
}

Status ContainerNetwork::teardown() {
  if (setup_) {
    Status s = setup_->teardown();
    setup_.reset();
    if (!s.ok() && result_.ok()) result_ = std::move(s);
  }
  // After the links: the container's traffic is gone before its rules are.
  if (firewall_) {
    Status s = firewall_->remove();
    firewall_.reset();
    if (!s.ok() && result_.ok()) result_ = std::move(s);
  }
  return result_;
}

}  // namespace nestbox::launcher
