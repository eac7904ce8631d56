// A container's firewall and NAT (policy::Firewall) as one nftables table of
// its own in the host's network namespace (its veth interfaces) and one in
// its own namespace (its macvlan/vlan/phys interfaces), through raw nf_tables
// netlink (libmnl; no libnftnl, no `nft`). docs/network.md, "Firewall".
//
// Call order (the launcher, after setup_network(), before the container runs):
//   auto fw = install_firewall(policy);   // removes a stale table of an earlier
//                                         // run, then creates the new one in a
//                                         // single batch (all or nothing)
//   ... container runs ...
//   fw->remove();                         // or let the destructor do it
// Only the table named firewall_table_name(policy.name) is ever created or
// deleted; no other table (OpenWrt's `inet fw4`) is flushed or touched.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "network/address.h"
#include "policy/policy.h"
#include "util/result.h"

namespace nestbox::network {

// "nestbox-<container>": the table's name (family inet).
std::string firewall_table_name(const std::string& container);

// The nf_tables messages of one batch, ready to send: BATCH_BEGIN, the
// messages, BATCH_END. Kept as bytes so the encoding is unit-tested by parsing
// it back with libmnl.
struct Batch {
  std::vector<uint64_t> storage;  // 8-byte aligned
  size_t length = 0;              // bytes used
  std::vector<uint32_t> acked;    // seq numbers of the messages that carry NLM_F_ACK
  const void* data() const { return storage.data(); }
};

// Where a table goes: the host's namespace filters the veth interfaces (their
// traffic is routed by the host); the container's own namespace filters its
// macvlan/vlan/phys interfaces (policy::filtered_in_container), whose traffic
// never crosses the host's IP stack.
enum class FirewallSide { kHost, kContainer };
// Whether the policy has interfaces that side filters.
bool has_side(const policy::Policy& policy, FirewallSide side);

// The batch that creates that side's table with every chain and rule
// (NLM_F_EXCL: an existing table of that name fails it, so nothing stale is
// merged in).
Result<Batch> build_firewall_batch(const policy::Policy& policy, FirewallSide side = FirewallSide::kHost);
// Whether the host-side table judges interface `itf`: a veth of a policy with
// a firewall, whose host-side device (bridge or host end) is no zone's.
bool filtered_on_host(const policy::Policy& policy, const policy::Interface& itf);

// The IPv6 link-local address of such an interface, the only link-local
// source the host-side table lets through from it. The host cannot ask the
// container's namespace which one it has (the container may change it), so
// setup_network() turns the kernel's own off there (addr_gen_mode none) and
// gives it this one: fe80:: and 64 bits of a hash of container and interface
// name, the same at every start. nullopt when `itf` is not filtered on the
// host, or declares a link-local address itself (then the declared ones are
// its link-local sources).
std::optional<Cidr> pinned_link_local(const policy::Policy& policy, const policy::Interface& itf);

// The batch that deletes the table (and everything in it).
Batch build_delete_batch(const std::string& container);

class Firewall {
 public:
  Firewall() = default;
  explicit Firewall(std::string container) : container_(std::move(container)) {}
  Firewall(Firewall&& o) noexcept : container_(std::move(o.container_)) { o.container_.clear(); }
  Firewall& operator=(Firewall&& o) noexcept;
  Firewall(const Firewall&) = delete;
  Firewall& operator=(const Firewall&) = delete;
  ~Firewall() { (void)remove(); }

  // Deletes the table; a table already gone is not an error. Idempotent.
  Status remove();

 private:
  std::string container_;  // empty: nothing installed
};

// Installs the policy's host-side firewall in the calling thread's network
// namespace (nothing when it has no veth interface). A table of the same name
// left by an earlier run (nestbox-launch killed) is deleted first. On any
// error nothing of this container's table is left.
Result<Firewall> install_firewall(const policy::Policy& policy);

// Installs the container-side table in the container's new network namespace
// `netns_fd`, before its process runs (nothing without such interfaces). It
// needs no removal: it goes with the namespace. It holds because the
// container cannot change it: the policy reader refuses such a firewall for
// a container that keeps CAP_NET_ADMIN.
Status install_container_firewall(const policy::Policy& policy, int netns_fd);

// Whether network namespace `netns_fd` holds a container-side table (an
// `inet nestbox-*` table: install_container_firewall's). Such a table holds
// only while nothing in that namespace has CAP_NET_ADMIN (it could delete the
// table) or CAP_NET_RAW (packet sockets pass no netfilter hook) over it: the
// launcher refuses a container that would join it keeping either.
Result<bool> holds_container_firewall(int netns_fd);
// Sends a batch in the calling thread's network namespace (or `netns_fd`'s)
// and checks the kernel's answer to every acked message.
Status send_batch(const Batch& batch, const std::string& what, int netns_fd = -1);

}  // namespace nestbox::network
