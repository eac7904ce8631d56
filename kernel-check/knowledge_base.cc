#include "kernel-check/knowledge_base.h"

#include <vector>

namespace nestbox::kernel_check {

namespace {

// Rows no policy requires: what lxc-checkconfig (lxc 5.0) and moby's
// contrib/check-config.sh check beyond kFeatures, plus nf_tables. `until`
// marks options that later kernels merged or removed.
constexpr Facility kInformational[] = {
    {-1, "namespaces", "Namespaces (CONFIG_NAMESPACES)", Category::kNamespaces, kAlways, {}, "NAMESPACES", kFromLxc | kFromMoby},
    {-1, "time_ns", "Time namespace", Category::kNamespaces, {5, 6, 0}, {}, "TIME_NS", kFromNestbox},
    {-1, "devpts_multiple_instances", "Multiple /dev/pts instances", Category::kFilesystem, kAlways, {4, 7, 0}, "DEVPTS_MULTIPLE_INSTANCES", kFromLxc | kFromMoby},
    {-1, "cgroup_sched", "Cgroup sched", Category::kCgroups, kAlways, {}, "CGROUP_SCHED", kFromLxc | kFromMoby},
    {-1, "cgroup_cpuacct", "Cgroup cpu account", Category::kCgroups, kAlways, {}, "CGROUP_CPUACCT", kFromLxc | kFromMoby},
    {-1, "cgroup_device_v1", "Cgroup v1 device controller", Category::kCgroups, kAlways, {}, "CGROUP_DEVICE", kFromLxc | kFromMoby},
    {-1, "cgroup_freezer_v1", "Cgroup v1 freezer controller", Category::kCgroups, kAlways, {}, "CGROUP_FREEZER", kFromMoby},
    {-1, "cgroup_hugetlb", "Cgroup hugetlb controller", Category::kCgroups, kAlways, {}, "CGROUP_HUGETLB", kFromMoby},
    {-1, "cgroup_perf", "Cgroup perf_event controller", Category::kCgroups, kAlways, {}, "CGROUP_PERF", kFromMoby},
    {-1, "blk_cgroup", "Block io controller", Category::kCgroups, kAlways, {}, "BLK_CGROUP", kFromMoby},
    {-1, "blk_dev_throttling", "Block io throttling", Category::kCgroups, kAlways, {}, "BLK_DEV_THROTTLING", kFromMoby},
    {-1, "iosched_cfq", "CFQ io scheduler", Category::kCgroups, kAlways, {5, 0, 0}, "IOSCHED_CFQ", kFromMoby},
    {-1, "cfq_group_iosched", "CFQ group scheduling", Category::kCgroups, kAlways, {5, 0, 0}, "CFQ_GROUP_IOSCHED", kFromMoby},
    {-1, "net_cls_cgroup", "Cgroup net_cls controller", Category::kCgroups, kAlways, {}, "NET_CLS_CGROUP", kFromMoby},
    {-1, "cgroup_net_prio", "Cgroup net_prio controller", Category::kCgroups, {3, 14, 0}, {}, "CGROUP_NET_PRIO", kFromMoby},
    {-1, "netprio_cgroup", "Cgroup net_prio controller (old name)", Category::kCgroups, kAlways, {3, 14, 0}, "NETPRIO_CGROUP", kFromMoby},
    {-1, "fair_group_sched", "Fair group scheduling", Category::kCgroups, kAlways, {}, "FAIR_GROUP_SCHED", kFromMoby},
    {-1, "cfs_bandwidth", "CFS bandwidth control", Category::kCgroups, kAlways, {}, "CFS_BANDWIDTH", kFromMoby},
    {-1, "memcg_swap_enabled", "Memory swap accounting on by default", Category::kCgroups, kAlways, {5, 9, 0}, "MEMCG_SWAP_ENABLED", kFromMoby},
    {-1, "memcg_kmem", "Memory controller kernel memory", Category::kCgroups, kAlways, {4, 6, 0}, "MEMCG_KMEM", kFromMoby},
    {-1, "resource_counters", "Resource counters", Category::kCgroups, kAlways, {3, 19, 0}, "RESOURCE_COUNTERS", kFromMoby},
    {-1, "file_capabilities", "File capabilities", Category::kCapabilities, kAlways, {}, "SECURITY_FILE_CAPABILITIES|>=2.6.33", kFromLxc},
    {-1, "keys", "Kernel keyring", Category::kOther, kAlways, {}, "KEYS", kFromMoby},
    {-1, "netfilter_advanced", "Advanced netfilter", Category::kNetwork, kAlways, {}, "NETFILTER_ADVANCED", kFromLxc},
    {-1, "bridge_netfilter", "Bridge netfilter", Category::kNetwork, kAlways, {}, "BRIDGE_NETFILTER", kFromMoby},
    {-1, "bridge_vlan_filtering", "Bridge VLAN filtering", Category::kNetwork, kAlways, {}, "BRIDGE_VLAN_FILTERING", kFromMoby},
    {-1, "ip_nf_filter", "iptables filter", Category::kNetwork, kAlways, {}, "IP_NF_FILTER", kFromMoby},
    {-1, "ip_nf_mangle", "iptables mangle", Category::kNetwork, kAlways, {}, "IP_NF_MANGLE", kFromMoby},
    {-1, "ip_nf_raw", "iptables raw", Category::kNetwork, kAlways, {}, "IP_NF_RAW", kFromMoby},
    {-1, "ip_nf_nat", "iptables NAT", Category::kNetwork, kAlways, {}, "IP_NF_NAT", kFromMoby},
    {-1, "ip_nf_target_masquerade", "iptables MASQUERADE", Category::kNetwork, kAlways, {}, "IP_NF_TARGET_MASQUERADE", kFromLxc | kFromMoby},
    {-1, "ip_nf_target_redirect", "iptables REDIRECT", Category::kNetwork, kAlways, {}, "IP_NF_TARGET_REDIRECT", kFromMoby},
    {-1, "ip6_nf_filter", "ip6tables filter", Category::kNetwork, kAlways, {}, "IP6_NF_FILTER", kFromMoby},
    {-1, "ip6_nf_mangle", "ip6tables mangle", Category::kNetwork, kAlways, {}, "IP6_NF_MANGLE", kFromMoby},
    {-1, "ip6_nf_raw", "ip6tables raw", Category::kNetwork, kAlways, {}, "IP6_NF_RAW", kFromMoby},
    {-1, "ip6_nf_nat", "ip6tables NAT", Category::kNetwork, kAlways, {}, "IP6_NF_NAT", kFromMoby},
    {-1, "ip6_nf_target_masquerade", "ip6tables MASQUERADE", Category::kNetwork, kAlways, {}, "IP6_NF_TARGET_MASQUERADE", kFromLxc | kFromMoby},
    {-1, "nf_nat", "Netfilter NAT", Category::kNetwork, kAlways, {}, "NF_NAT", kFromMoby},
    {-1, "nf_nat_ipv4", "Netfilter IPv4 NAT", Category::kNetwork, kAlways, {5, 1, 0}, "NF_NAT_IPV4", kFromLxc | kFromMoby},
    {-1, "nf_nat_ipv6", "Netfilter IPv6 NAT", Category::kNetwork, kAlways, {5, 1, 0}, "NF_NAT_IPV6", kFromLxc},
    {-1, "nf_nat_needed", "Netfilter NAT core", Category::kNetwork, kAlways, {5, 3, 0}, "NF_NAT_NEEDED", kFromMoby},
    {-1, "nf_tables", "nf_tables", Category::kNetwork, {3, 13, 0}, {}, "NF_TABLES", kFromNestbox},
    {-1, "nft_nat", "nf_tables NAT", Category::kNetwork, {3, 13, 0}, {}, "NFT_NAT", kFromNestbox},
    {-1, "nft_masq", "nf_tables masquerade", Category::kNetwork, {3, 18, 0}, {}, "NFT_MASQ", kFromNestbox},
    // The firewall's link-local source check on macvlan/vlan/phys (docs/network.md).
    {-1, "nft_fib_inet", "nf_tables fib match", Category::kNetwork, {4, 10, 0}, {}, "NFT_FIB_INET", kFromNestbox},
    {-1, "masquerade", "Masquerade (iptables or nf_tables)", Category::kNetwork, kAlways, {}, "IP_NF_TARGET_MASQUERADE|NFT_MASQ", kFromNestbox},
    {-1, "netfilter_xt_match_addrtype", "xt addrtype match", Category::kNetwork, kAlways, {}, "NETFILTER_XT_MATCH_ADDRTYPE", kFromMoby},
    {-1, "netfilter_xt_match_conntrack", "xt conntrack match", Category::kNetwork, kAlways, {}, "NETFILTER_XT_MATCH_CONNTRACK", kFromMoby},
    {-1, "netfilter_xt_match_ipvs", "xt ipvs match", Category::kNetwork, kAlways, {}, "NETFILTER_XT_MATCH_IPVS", kFromMoby},
    {-1, "netfilter_xt_mark", "xt mark", Category::kNetwork, kAlways, {}, "NETFILTER_XT_MARK", kFromMoby},
    {-1, "netfilter_xt_target_checksum", "xt CHECKSUM target", Category::kNetwork, kAlways, {}, "NETFILTER_XT_TARGET_CHECKSUM", kFromLxc},
    {-1, "netfilter_xt_match_comment", "xt comment match", Category::kNetwork, kAlways, {}, "NETFILTER_XT_MATCH_COMMENT", kFromLxc},
    {-1, "netfilter_xt_match_bpf", "xt bpf match", Category::kNetwork, kAlways, {}, "NETFILTER_XT_MATCH_BPF", kFromMoby},
    {-1, "ip_vs", "IPVS", Category::kNetwork, kAlways, {}, "IP_VS", kFromMoby},
    {-1, "ip_vs_nfct", "IPVS conntrack", Category::kNetwork, kAlways, {}, "IP_VS_NFCT", kFromMoby},
    {-1, "ip_vs_proto_tcp", "IPVS TCP", Category::kNetwork, kAlways, {}, "IP_VS_PROTO_TCP", kFromMoby},
    {-1, "ip_vs_proto_udp", "IPVS UDP", Category::kNetwork, kAlways, {}, "IP_VS_PROTO_UDP", kFromMoby},
    {-1, "ip_vs_rr", "IPVS round robin", Category::kNetwork, kAlways, {}, "IP_VS_RR", kFromMoby},
    {-1, "vxlan", "VXLAN", Category::kNetwork, kAlways, {}, "VXLAN", kFromMoby},
    {-1, "ipvlan", "IPVLAN", Category::kNetwork, {3, 19, 0}, {}, "IPVLAN", kFromMoby},
    {-1, "dummy", "Dummy interface", Category::kNetwork, kAlways, {}, "DUMMY", kFromMoby},
    {-1, "crypto", "Crypto API", Category::kNetwork, kAlways, {}, "CRYPTO", kFromMoby},
    {-1, "crypto_aead", "Crypto AEAD", Category::kNetwork, kAlways, {}, "CRYPTO_AEAD", kFromMoby},
    {-1, "crypto_gcm", "Crypto GCM", Category::kNetwork, kAlways, {}, "CRYPTO_GCM", kFromMoby},
    {-1, "crypto_seqiv", "Crypto SEQIV", Category::kNetwork, kAlways, {}, "CRYPTO_SEQIV", kFromMoby},
    {-1, "crypto_ghash", "Crypto GHASH", Category::kNetwork, kAlways, {}, "CRYPTO_GHASH", kFromMoby},
    {-1, "xfrm", "XFRM", Category::kNetwork, kAlways, {}, "XFRM", kFromMoby},
    {-1, "xfrm_user", "XFRM user", Category::kNetwork, kAlways, {}, "XFRM_USER", kFromMoby},
    {-1, "xfrm_algo", "XFRM algorithms", Category::kNetwork, kAlways, {}, "XFRM_ALGO", kFromMoby},
    {-1, "inet_esp", "IPsec ESP", Category::kNetwork, kAlways, {}, "INET_ESP", kFromMoby},
    {-1, "inet_xfrm_mode_transport", "IPsec transport mode", Category::kNetwork, kAlways, {5, 4, 0}, "INET_XFRM_MODE_TRANSPORT", kFromMoby},
    {-1, "nf_nat_ftp", "NAT FTP helper", Category::kNetwork, kAlways, {}, "NF_NAT_FTP", kFromMoby},
    {-1, "nf_conntrack_ftp", "Conntrack FTP helper", Category::kNetwork, kAlways, {}, "NF_CONNTRACK_FTP", kFromMoby},
    {-1, "nf_nat_tftp", "NAT TFTP helper", Category::kNetwork, kAlways, {}, "NF_NAT_TFTP", kFromMoby},
    {-1, "nf_conntrack_tftp", "Conntrack TFTP helper", Category::kNetwork, kAlways, {}, "NF_CONNTRACK_TFTP", kFromMoby},
    {-1, "fuse_fs", "FUSE (for lxcfs)", Category::kFilesystem, kAlways, {}, "FUSE_FS", kFromLxc},
    {-1, "ext3_fs", "ext3", Category::kFilesystem, kAlways, {}, "EXT3_FS", kFromMoby},
    {-1, "ext3_fs_xattr", "ext3 xattr", Category::kFilesystem, kAlways, {}, "EXT3_FS_XATTR", kFromMoby},
    {-1, "ext3_fs_posix_acl", "ext3 POSIX ACL", Category::kFilesystem, kAlways, {}, "EXT3_FS_POSIX_ACL", kFromMoby},
    {-1, "ext3_fs_security", "ext3 security labels", Category::kFilesystem, kAlways, {}, "EXT3_FS_SECURITY", kFromMoby},
    {-1, "ext4_fs_posix_acl", "ext4 POSIX ACL", Category::kFilesystem, kAlways, {}, "EXT4_FS_POSIX_ACL", kFromMoby},
    {-1, "ext4_fs_security", "ext4 security labels", Category::kFilesystem, kAlways, {}, "EXT4_FS_SECURITY", kFromMoby},
    {-1, "btrfs_fs", "btrfs", Category::kFilesystem, kAlways, {}, "BTRFS_FS", kFromMoby},
    {-1, "btrfs_fs_posix_acl", "btrfs POSIX ACL", Category::kFilesystem, kAlways, {}, "BTRFS_FS_POSIX_ACL", kFromMoby},
    {-1, "checkpoint_restore", "Checkpoint/restore", Category::kOther, kAlways, {}, "CHECKPOINT_RESTORE", kFromLxc},
    {-1, "fhandle", "File handles", Category::kOther, kAlways, {}, "FHANDLE", kFromLxc},
    {-1, "eventfd", "eventfd", Category::kOther, kAlways, {}, "EVENTFD", kFromLxc},
    {-1, "epoll", "epoll", Category::kOther, kAlways, {}, "EPOLL", kFromLxc},
    {-1, "unix_diag", "UNIX socket diag", Category::kOther, kAlways, {}, "UNIX_DIAG", kFromLxc},
    {-1, "inet_diag", "INET socket diag", Category::kOther, kAlways, {}, "INET_DIAG", kFromLxc},
    {-1, "packet_diag", "Packet socket diag", Category::kOther, kAlways, {}, "PACKET_DIAG", kFromLxc},
    {-1, "netlink_diag", "Netlink socket diag", Category::kOther, kAlways, {}, "NETLINK_DIAG", kFromLxc},
};

std::vector<Facility> build() {
  std::vector<Facility> all(kFeatures.begin(), kFeatures.end());
  all.insert(all.end(), std::begin(kInformational), std::end(kInformational));
  return all;
}

}  // namespace

std::span<const Facility> knowledge_base() {
  static const std::vector<Facility> all = build();
  return all;
}

const Facility* find_facility(std::string_view name) {
  for (const Facility& f : knowledge_base())
    if (name == f.name) return &f;
  return nullptr;
}

}  // namespace nestbox::kernel_check
