// A table of malformed manifests, each with the exact message it must produce.
// The document is `head` + a minimal valid base + `tail`; the base occupies
// lines 1-7 when `head` is empty, so `tail` starts at line 8.
#include <gtest/gtest.h>

#include "manifests/manifest.h"

namespace nestbox::manifests {
namespace {

constexpr const char* kBase =
    "name = \"t\"\n"          // 1
    "version = 1\n"           // 2
    "[process]\n"             // 3
    "command = [\"/bin/sh\"]\n"  // 4
    "[rootfs]\n"              // 5
    "[[rootfs.source]]\n"     // 6
    "path = \"s\"\n";         // 7

struct Case {
  const char* name;
  const char* head;
  const char* tail;
  const char* expected;
};

const Case kCases[] = {
    // Syntax and types.
    {"syntax_error", "", "[cgroups\n", "t.toml:8:9: syntax error: Error while parsing table header: expected ']', saw '\\n'"},
    {"duplicate_key", "", "[cgroups]\npids_max = 1\npids_max = 2\n", "t.toml:10:12: syntax error: Error while parsing key-value pair: cannot redefine existing integer 'pids_max'"},
    {"unknown_top_key", "colour = 1\n", "", "t.toml:1:1: colour: unknown key; expected one of schema, name, version, security_version, version_string, description, arch, compat, signing_key, kernel_min, process, rootfs, users, security, namespaces, cgroups, seccomp, mounts, network, rlimits, devices, ipc, health"},
    {"typo_top_key", "descripton = \"x\"\n", "", "t.toml:1:1: descripton: unknown key; did you mean \"description\"?"},
    {"typo_nested_key", "", "[cgroups]\nmemroy = \"1M\"\n", "t.toml:9:1: cgroups.memroy: unknown key; did you mean \"memory\"?"},
    {"typo_in_array_table", "", "[[rootfs.dir]]\npath = \"/x\"\nmdoe = \"0755\"\n", "t.toml:10:1: rootfs.dir[0].mdoe: unknown key; did you mean \"mode\"?"},
    {"name_wrong_type", nullptr, "name = 5\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:1:8: name: got an integer; expected a string"},
    {"version_string_type", "version_string = 2\n", "", "t.toml:1:18: version_string: got an integer; expected a string"},
    {"version_negative", nullptr, "name = \"t\"\nversion = -3\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:2:11: version: -3 is out of range; expected an integer from 0 to 9223372036854775807"},
    {"schema_unsupported", "schema = 2\n", "", "t.toml:1:10: schema: unsupported schema version 2; expected 1"},
    {"arch_unknown", "arch = \"sparc\"\n", "", "t.toml:1:8: arch: \"sparc\" is not a valid value; expected one of \"x86_64\", \"aarch64\", \"arm\", \"mips\", \"mipsel\", \"powerpc\", \"riscv64\", \"i386\""},
    {"kernel_min_bad", "kernel_min = \"five\"\n", "", "t.toml:1:14: kernel_min: \"five\" is not a kernel version; expected \"MAJOR.MINOR[.PATCH]\""},
    {"signing_key_bad", "signing_key = \"ABC\"\n", "", "t.toml:1:15: signing_key: expected a key id: 64 lowercase hex digits (SHA-256 of the public key), as `nestbox keygen` prints"},
    {"reserved_name", nullptr, "name = \"nestbox-launch\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:1:8: name: \"nestbox-launch\" starts with \"nestbox\", which is the launcher's own (its log lines, which a container's quoted output \"NAME: ...\" must not imitate); expected another name"},
    {"reserved_base_name", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\nstrategy = \"overlay\"\nbase = \"nestbox-base\"\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:7:8: rootfs.base: \"nestbox-base\" starts with \"nestbox\", which is the launcher's own; expected another name"},
    {"bad_name", nullptr, "name = \"Big Box\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:1:8: name: \"Big Box\" is not a container name; expected 1-32 characters of a-z, 0-9, '-' or '_', starting with a letter or digit"},
    // Units.
    {"size_suffix", "", "[cgroups]\nmemory = \"512Q\"\n", "t.toml:9:10: cgroups.memory: \"512Q\" is not a size; expected a size such as \"64M\" (suffix K, M, G or T) or an integer in bytes"},
    {"size_float", "", "[cgroups]\nmemory = 1.5\n", "t.toml:9:10: cgroups.memory: got a float; expected a size such as \"64M\" (suffix K, M, G or T) or an integer in bytes"},
    {"memory_too_small", "", "[cgroups]\nmemory = \"4K\"\n", "t.toml:9:10: cgroups.memory: 4096 bytes is too small to start anything; expected at least 1M"},
    {"duration_unit", "", "[cgroups]\ncpu_quota = \"20\"\n", "t.toml:9:13: cgroups.cpu_quota: \"20\" is not a duration; expected a duration such as \"100ms\" (suffix us, ms or s)"},
    {"weight_range", "", "[cgroups]\ncpu_weight = 0\n", "t.toml:9:14: cgroups.cpu_weight: 0 is out of range; expected an integer from 1 to 10000"},
    {"mode_not_octal", "", "[[rootfs.dir]]\npath = \"/x\"\nmode = \"0789\"\n", "t.toml:10:8: rootfs.dir[0].mode: \"0789\" is not a mode; expected an octal mode such as \"0755\" or 0o755"},
    {"block_size_not_pow2", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\nblock_size = \"100K\"\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:6:14: rootfs.block_size: 102400 bytes is not allowed; expected a power of two from 4K to 1M"},
    {"cpuset_syntax", "", "[cgroups]\ncpuset_cpus = \"3-1\"\n", "t.toml:9:15: cgroups.cpuset_cpus: \"3-1\" is not a CPU/node list; expected a list such as \"0-1,3\" of numbers up to 4095"},
    // A range end that overflowed std::stoul aborted validate (uncaught out_of_range).
    {"cpuset_range_overflow", "", "[cgroups]\ncpuset_cpus = \"0-99999999999999999999\"\n", "t.toml:9:15: cgroups.cpuset_cpus: \"0-99999999999999999999\" is not a CPU/node list; expected a list such as \"0-1,3\" of numbers up to 4095"},
    {"cpuset_number_too_big", "", "[cgroups]\ncpuset_mems = \"99999999999999999999\"\n", "t.toml:9:15: cgroups.cpuset_mems: \"99999999999999999999\" is not a CPU/node list; expected a list such as \"0-1,3\" of numbers up to 4095"},
    {"cpuset_above_bound", "", "[cgroups]\ncpuset_cpus = \"0,4096\"\n", "t.toml:9:15: cgroups.cpuset_cpus: \"0,4096\" is not a CPU/node list; expected a list such as \"0-1,3\" of numbers up to 4095"},
    {"rlimit_unknown", "", "[rlimits]\nnofiles = 10\n", "t.toml:9:1: rlimits.nofiles: unknown resource limit; did you mean \"nofile\"?"},
    {"rlimit_soft_gt_hard", "", "[rlimits]\nnofile = [100, 10]\n", "t.toml:9:10: rlimits.nofile: soft limit exceeds hard limit; expected soft <= hard"},
    {"rlimit_bad_value", "", "[rlimits]\ncore = \"lots\"\n", "t.toml:9:8: rlimits.core: got a string; expected a non-negative integer, \"unlimited\", or [soft, hard]"},
    // Missing required keys.
    {"missing_process", nullptr, "name = \"t\"\nversion = 1\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:1:1: process: missing; expected a [process] table with at least `command`"},
    {"missing_command", nullptr, "name = \"t\"\nversion = 1\n[process]\ncwd = \"/\"\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:3:1: process.command: missing; expected an array of strings: the program and its arguments"},
    {"missing_version", nullptr, "name = \"t\"\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:1:1: version: missing; expected a monotonic integer version (for anti-rollback)"},
    {"missing_source", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\nstrategy = \"tree\"\n", "t.toml:5:1: rootfs.source: missing; expected at least one [[rootfs.source]] with a `path`"},
    {"relative_command", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"sh\"]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:4:11: process.command: \"sh\" is not a clean absolute path; expected \"/dir/name\" without \".\", \"..\" or \"//\""},
    {"command_wrong_element", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\", 3]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:4:23: process.command[1]: got an integer; expected a string"},
    {"cwd_dotdot", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\ncwd = \"/a/../b\"\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:5:7: process.cwd: \"/a/../b\" is not a clean absolute path; expected \"/dir/name\" without \".\", \"..\" or \"//\""},
    // Conflicts name both keys.
    {"services_need_system", "", "[[process.service]]\nname = \"a\"\ncommand = [\"/x\"]\n", "t.toml:8:1: process.service: lists services, which need model = \"system\"; conflicts with process.model (default \"process\"); set process.model explicitly"},
    {"base_needs_overlay", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\nbase = \"b\"\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:6:8: rootfs.base: names a shared base, which needs strategy = \"overlay\"; conflicts with rootfs.strategy (default \"squashfs\"); set rootfs.strategy explicitly"},
    {"uid_map_without_userns", "", "[users]\nuid_map = [{ inside = 0, outside = 100000, count = 65536 }]\n", "t.toml:9:11: users.uid_map: needs a new user namespace; conflicts with users.namespace (default false); set users.namespace explicitly"},
    {"userns_without_maps", "", "[users]\nnamespace = true\n", "t.toml:8:1: users.uid_map: missing; a new user namespace needs a uid map, e.g. [{ inside = 0, outside = 100000, count = 65536 }]\nt.toml:8:1: users.gid_map: missing; a new user namespace needs a gid map, e.g. [{ inside = 0, outside = 100000, count = 65536 }]"},
    {"userns_disagrees", "", "[users]\nnamespace = false\n[namespaces]\nuser = \"new\"\n", "t.toml:11:8: namespaces.user: disagrees with users.namespace (line 9); remove one of them"},
    {"overlapping_maps", "", "[users]\nnamespace = true\nuid_map = [{ inside = 0, outside = 100000, count = 100 }, { inside = 50, outside = 200000, count = 10 }]\ngid_map = [{ inside = 0, outside = 100000, count = 100 }]\n", "t.toml:10:11: users.uid_map[1]: overlaps users.uid_map[0]; expected disjoint ranges"},
    {"unmapped_process_user", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\nuser = 5\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n[users]\nnamespace = true\nuid_map = [{ inside = 1000, outside = 100000, count = 10 }]\ngid_map = [{ inside = 0, outside = 100000, count = 10 }]\n", "t.toml:5:8: process.user: 5 is not inside users.uid_map; expected a mapped uid"},
    {"none_network_with_veth", "", "[network]\nmode = \"none\"\n[[network.interface]]\ntype = \"veth\"\n", "t.toml:10:1: network.interface: adds interfaces, but the container shares the host network; conflicts with network.mode (line 9); remove one of them"},
    {"host_netns_with_veth", "", "[namespaces]\nnet = \"host\"\n[[network.interface]]\ntype = \"veth\"\n", "t.toml:9:7: namespaces.net: shares the host network; conflicts with network.interface (line 10); remove one of them"},
    {"hostname_needs_uts", "", "[namespaces]\nuts = \"host\"\nhostname = \"box\"\n", "t.toml:10:12: namespaces.hostname: needs its own UTS namespace; conflicts with namespaces.uts (line 9); remove one of them"},
    {"host_mount_ns", "", "[namespaces]\nmount = \"host\"\n", "t.toml:9:9: namespaces.mount: \"host\" would expose the host's mounts and rootfs; expected \"new\" or \"container:NAME\""},
    {"ns_mode_bad", "", "[namespaces]\npid = \"shared\"\n", "t.toml:9:7: namespaces.pid: \"shared\" is not a namespace mode; expected \"new\", \"host\" or \"container:NAME\""},
    {"join_self", "", "[namespaces]\nipc = \"container:t\"\n", "t.toml:9:7: namespaces.ipc: joins its own container; expected another container's name"},
    {"io_best_effort_without_weight", "", "[cgroups]\nio_weight_best_effort = true\n", "t.toml:9:25: cgroups.io_weight_best_effort: says how to apply io_weight, which is not set; expected cgroups.io_weight too"},
    // Past INT64_MAX memory + swap wrapped into a swap limit below the memory limit.
    {"memory_above_int64", "", "[cgroups]\nmemory = \"9999999999999999999\"\n", "t.toml:9:10: cgroups.memory: 9999999999999999999 bytes is more than the kernel takes; expected at most 9223372036854775807"},
    {"memory_plus_swap_above_int64", "", "[cgroups]\nmemory = \"1M\"\nmemory_swap = \"9223372036854775807\"\n", "t.toml:10:15: cgroups.memory_swap: 9223372036854775807 bytes on top of cgroups.memory makes more than the kernel takes; expected memory + swap at most 9223372036854775807"},
    {"swap_without_memory", "", "[cgroups]\nmemory_swap = \"1M\"\n", "t.toml:9:15: cgroups.memory_swap: limits swap on top of memory; expected cgroups.memory to be set too"},
    {"seccomp_allow_with_allow_default", "", "[seccomp]\ndefault_action = \"allow\"\nallow = [\"read\"]\n", "t.toml:10:9: seccomp.allow: lists allowed syscalls, which means nothing when everything is allowed; conflicts with seccomp.default_action (line 9); remove one of them"},
    {"seccomp_empty_allow", "", "[seccomp]\ndefault_action = \"kill\"\n", "t.toml:8:1: seccomp.allow: is empty while seccomp.default_action is \"kill\"; expected the syscalls the container may use"},
    {"seccomp_allow_and_deny", "", "[seccomp]\nallow = [\"mount\"]\n[[seccomp.deny]]\nsyscalls = [\"mount\"]\n", "t.toml:10:1: seccomp.deny: \"mount\" is denied here but allowed by seccomp.allow (line 9); remove one of them"},
    {"seccomp_bad_errno", "", "[seccomp]\nallow = [\"read\"]\ndefault_errno = \"EWHAT\"\n", "t.toml:10:17: seccomp.default_errno: \"EWHAT\" is not an errno; expected a name such as \"EPERM\" or a number from 1 to 4095"},
    {"seccomp_bad_action", "", "[seccomp]\nallow = [\"read\"]\ndefault_action = \"deny\"\n", "t.toml:10:18: seccomp.default_action: \"deny\" is not a valid value; expected one of \"allow\", \"errno\", \"kill\", \"log\", \"trap\""},
    {"capability_unknown", "", "[security]\ncapabilities = [\"CAP_FLY\"]\n", "t.toml:9:16: security.capabilities[0]: \"CAP_FLY\" is not a Linux capability; expected a name such as \"CAP_NET_BIND_SERVICE\""},
    {"capability_lowercase", "", "[security]\ncapabilities = [\"net_admin\"]\n", "t.toml:9:16: security.capabilities[0]: \"net_admin\" is not a Linux capability; did you mean \"CAP_NET_ADMIN\"?"},
    {"capability_typo", "", "[security]\ncapabilities = [\"CAP_NET_ADMN\"]\n", "t.toml:9:16: security.capabilities[0]: \"CAP_NET_ADMN\" is not a Linux capability; did you mean \"CAP_NET_ADMIN\"?"},
    // It would reach nestbox's init, which holds the launcher's capabilities.
    {"capability_ptrace_without_userns", "", "[security]\ncapabilities = [\"CAP_SYS_PTRACE\"]\n", "t.toml:9:16: security.capabilities: CAP_SYS_PTRACE without a user namespace would let the container take over nestbox's init, which holds the host's capabilities; expected a user namespace (users.namespace = true) or no CAP_SYS_PTRACE"},
    // open_by_handle_at would open the host's files by handle, past the container's root.
    {"capability_dac_read_search_without_userns", "", "[security]\ncapabilities = [\"CAP_DAC_READ_SEARCH\"]\n", "t.toml:9:16: security.capabilities: CAP_DAC_READ_SEARCH without a user namespace would let the container open the host's files by handle (open_by_handle_at) past its root; expected a user namespace (users.namespace = true) or no CAP_DAC_READ_SEARCH"},
    {"mount_twice", "", "[[mounts.tmpfs]]\ntarget = \"/tmp\"\n[[mounts.bind]]\nsource = \"/x\"\ntarget = \"/tmp\"\n", "t.toml:12:10: mounts.bind[0].target: \"/tmp\" is mounted twice; expected one mount per target"},
    // An LXC mount entry is split at whitespace: this source read as a read-write bind of /etc.
    {"bind_source_space", "", "[[mounts.bind]]\nsource = \"/etc /srv none rbind,rw\"\ntarget = \"/srv\"\nread_only = true\n", "t.toml:9:10: mounts.bind[0].source: \"/etc /srv none rbind,rw\" holds whitespace or a backslash, which an LXC mount entry cannot carry; expected a path without them"},
    {"bind_target_tab", "", "[[mounts.bind]]\nsource = \"/srv\"\ntarget = \"/a\\tb\"\n", "t.toml:10:10: mounts.bind[0].target: \"/a\\x09b\" holds whitespace or a backslash, which an LXC mount entry cannot carry; expected a path without them"},
    {"tmpfs_target_backslash", "", "[[mounts.tmpfs]]\ntarget = \"/a\\\\040b\"\n", "t.toml:9:10: mounts.tmpfs[0].target: \"/a\\040b\" holds whitespace or a backslash, which an LXC mount entry cannot carry; expected a path without them"},
    {"storage_source_space", "", "[[mounts.storage]]\nkind = \"directory\"\nsource = \"/data x\"\ntarget = \"/data\"\n", "t.toml:10:10: mounts.storage[0].source: \"/data x\" holds whitespace or a backslash, which an LXC mount entry cannot carry; expected a path without them"},
    {"storage_image_without_size", "", "[[mounts.storage]]\nkind = \"image\"\nsource = \"/data.img\"\ntarget = \"/data\"\n", "t.toml:8:1: mounts.storage[0].size: missing; an image store needs a size such as \"16M\""},
    {"vlan_without_id", "", "[[network.interface]]\ntype = \"vlan\"\nparent = \"eth0\"\n", "t.toml:8:1: network.interface[0].vlan_id: missing; a vlan interface needs an id from 1 to 4094"},
    {"macvlan_without_parent", "", "[[network.interface]]\ntype = \"macvlan\"\n", "t.toml:8:1: network.interface[0].parent: missing; a macvlan interface needs the parent device"},
    {"bad_cidr", "", "[[network.interface]]\ntype = \"veth\"\naddresses = [\"10.0.0.300/24\"]\n", "t.toml:8:1: network.interface[0].addresses[0]: \"10.0.0.300/24\" is not an address with prefix; expected \"192.168.1.2/24\" or \"fd00::2/64\""},
    {"bad_mac", "", "[[network.interface]]\ntype = \"veth\"\nmac = \"02:00:00\"\n", "t.toml:8:1: network.interface[0].mac: \"02:00:00\" is not a MAC address; expected \"02:00:00:00:00:01\""},
    {"ifname_too_long", "", "[[network.interface]]\ntype = \"veth\"\nname = \"averyveryverylongname\"\n", "t.toml:8:1: network.interface[0].name: \"averyveryverylongname\" is not an interface name; expected at most 15 characters without '/', ':' or spaces"},
    // [network.firewall] (lines 8-10: a veth in br-c)
    {"fw_without_interfaces", "", "[network.firewall]\n", "t.toml:8:1: network.firewall: filters the container's interfaces, but it has none; expected [[network.interface]] entries"},
    {"fw_macvlan_parent_in_no_zone", "", "[[network.interface]]\ntype = \"macvlan\"\nparent = \"eth0\"\n[network.firewall]\n", "t.toml:8:1: network.interface[0].parent: \"eth0\" is in no zone of network.firewall, so the macvlan interface's segment is unknown; expected it in network.firewall.lan or network.firewall.wan"},
    {"fw_macvlan_with_net_admin", "", "[security]\ncapabilities = [\"CAP_NET_ADMIN\"]\n[[network.interface]]\ntype = \"macvlan\"\nparent = \"br-lan\"\n[network.firewall]\nlan = [\"br-lan\"]\n", "t.toml:13:1: network.firewall: filters the macvlan/vlan/phys interfaces inside the container's network namespace, but the container keeps CAP_NET_ADMIN, with which it could remove that filter; expected security.capabilities without it"},
    {"fw_macvlan_with_net_raw", "", "[security]\ncapabilities = [\"CAP_NET_RAW\"]\n[[network.interface]]\ntype = \"macvlan\"\nparent = \"br-lan\"\n[network.firewall]\nlan = [\"br-lan\"]\n", "t.toml:13:1: network.firewall: filters the macvlan/vlan/phys interfaces inside the container's network namespace, but the container keeps CAP_NET_RAW, whose packet sockets bypass that filter; expected security.capabilities without it"},
    {"fw_macvlan_masquerade", "", "[[network.interface]]\ntype = \"macvlan\"\nparent = \"br-lan\"\n[network.firewall]\nlan = [\"br-lan\"]\nwan = [\"eth1\"]\nallow_out = [\"wan\"]\nmasquerade = true\n", "t.toml:15:14: network.firewall.masquerade: NATs routed traffic, but the container has no veth interface (its others are on the LAN/WAN segment itself); expected none"},
    {"fw_macvlan_from_other_zone", "", "[[network.interface]]\ntype = \"macvlan\"\nparent = \"br-lan\"\n[network.firewall]\nlan = [\"br-lan\"]\nwan = [\"eth1\"]\n[[network.firewall.allow_in]]\ninterface = \"eth0\"\nports = [80]\nfrom = [\"wan\"]\n", "t.toml:17:8: network.firewall.allow_in[0].from: never matches: \"eth0\" is on the lan segment (its parent \"br-lan\"); expected \"lan\" among the zones"},
    {"fw_bad_zone", "", "[[network.interface]]\ntype = \"veth\"\nbridge = \"br-c\"\n[network.firewall]\nallow_out = [\"internet\"]\n", "t.toml:12:14: network.firewall.allow_out[0]: \"internet\" is not a zone; expected \"host\", \"lan\" or \"wan\""},
    {"fw_port_zero", "", "[[network.interface]]\ntype = \"veth\"\nbridge = \"br-c\"\n[[network.firewall.allow_in]]\ninterface = \"eth0\"\nports = [0]\n", "t.toml:13:10: network.firewall.allow_in[0].ports[0]: expected a port number from 1 to 65535"},
    {"fw_unknown_interface", "", "[[network.interface]]\ntype = \"veth\"\nbridge = \"br-c\"\n[[network.firewall.allow_in]]\ninterface = \"eth7\"\nports = [80]\n", "t.toml:12:13: network.firewall.allow_in[0].interface: \"eth7\" is not one of the container's interfaces"},
    {"fw_icmp_ports", "", "[[network.interface]]\ntype = \"veth\"\nbridge = \"br-c\"\n[[network.firewall.allow_in]]\ninterface = \"eth0\"\nprotocol = \"icmp\"\nports = [80]\n", "t.toml:14:9: network.firewall.allow_in[0].ports: icmp has no ports; expected none"},
    {"fw_masquerade_without_wan", "", "[[network.interface]]\ntype = \"veth\"\nbridge = \"br-c\"\n[network.firewall]\nmasquerade = true\nallow_out = [\"host\"]\n", "t.toml:12:14: network.firewall.masquerade: needs the WAN devices to masquerade behind; expected network.firewall.wan\nt.toml:12:14: network.firewall.masquerade: NATs traffic the firewall drops; expected \"wan\" in network.firewall.allow_out"},
    {"fw_lan_bridged_interface", "", "[[network.interface]]\ntype = \"veth\"\nbridge = \"br-c\"\n[network.firewall]\nlan = [\"br-c\"]\n[[network.firewall.allow_in]]\ninterface = \"eth0\"\nports = [80]\n", "t.toml:14:13: network.firewall.allow_in[0].interface: \"eth0\" is bridged into \"br-c\", a LAN/WAN device: its traffic never crosses the host's firewall; expected an interface in a private bridge"},
    {"fw_unknown_key", "", "[[network.interface]]\ntype = \"veth\"\nbridge = \"br-c\"\n[network.firewall]\nallow_inn = []\n", "t.toml:12:1: network.firewall.allow_inn: unknown key; did you mean \"allow_in\"?"},
    {"bridge_on_macvlan", "", "[[network.interface]]\ntype = \"macvlan\"\nparent = \"eth0\"\nbridge = \"br-lan\"\n", "t.toml:8:1: network.interface[0].bridge: only applies to veth interfaces; this one is macvlan"},
    {"file_without_content", "", "[[rootfs.file]]\npath = \"/etc/x\"\n", "t.toml:8:1: rootfs.file[0]: expected exactly one of `source` (a host file) or `content` (literal text)"},
    // allow_setuid = false (the default) promises no setuid or setgid file in the image.
    {"file_setuid_without_allow_setuid", "", "[[rootfs.file]]\npath = \"/bin/x\"\ncontent = \"\"\nmode = \"4755\"\n[[rootfs.file]]\npath = \"/bin/y\"\ncontent = \"\"\nmode = 0o2711\n", "t.toml:11:8: rootfs.file[0].mode: 04755 sets the setuid or setgid bit; expected neither (rootfs.allow_setuid = false)\nt.toml:15:8: rootfs.file[1].mode: 02711 sets the setuid or setgid bit; expected neither (rootfs.allow_setuid = false)"},
    // compose refused it (no staging rootfs to link into); validate passed it.
    {"host_hardlink_without_directory", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\nstrategy = \"host-hardlink\"\n[[rootfs.source]]\npath = \"s.tar\"\n", "t.toml:6:12: rootfs.strategy: \"host-hardlink\" links files of the host staging rootfs, but no [[rootfs.source]] is a directory; expected a directory source"},
    {"relative_include", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\ninclude = [\"etc/*\"]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:6:11: rootfs.include[0]: \"etc/*\" is relative; expected an absolute path or glob inside the rootfs"},
    // Issue 14, class 5: ids the kernel reads as "unchanged", unmapped groups.
    {"user_minus_one", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\nuser = 4294967295\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:5:8: process.user: 4294967295 is -1, which the kernel reads as \"unchanged\"; expected a real id"},
    {"group_minus_one", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\ngroup = 4294967295\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:5:9: process.group: 4294967295 is -1, which the kernel reads as \"unchanged\"; expected a real id"},
    {"user_16bit_minus_one", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\nuser = 65535\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:5:8: process.user: 65535 is the 16-bit -1, which the kernel reads as \"unchanged\"; expected a real id"},
    {"group_16bit_minus_one", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\ngroup = 65535\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:5:9: process.group: 65535 is the 16-bit -1, which the kernel reads as \"unchanged\"; expected a real id"},
    {"groups_minus_one", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\ngroups = [10, 4294967295]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:5:15: process.groups[1]: 4294967295 is -1, which the kernel reads as \"unchanged\"; expected a real id"},
    {"groups_outside_gid_map", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\ngroups = [5000]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n[users]\nnamespace = true\nuid_map = [{ inside = 0, outside = 100000, count = 1000 }]\ngid_map = [{ inside = 0, outside = 100000, count = 1000 }]\n", "t.toml:5:11: process.groups[0]: 5000 is not inside users.gid_map; expected a mapped gid"},
    {"dir_owner_minus_one", "", "[[rootfs.dir]]\npath = \"/x\"\nuid = 4294967295\n", "t.toml:10:7: rootfs.dir[0].uid: 4294967295 is -1, which the kernel reads as \"unchanged\"; expected a real id"},
    {"file_owner_16bit", "", "[[rootfs.file]]\npath = \"/x\"\ncontent = \"\"\ngid = 65535\n", "t.toml:11:7: rootfs.file[0].gid: 65535 is the 16-bit -1, which the kernel reads as \"unchanged\"; expected a real id"},
    {"device_owner_minus_one", "", "[[rootfs.device]]\npath = \"/dev/x\"\ntype = \"char\"\nmajor = 1\nminor = 3\nuid = 4294967295\n", "t.toml:13:7: rootfs.device[0].uid: 4294967295 is -1, which the kernel reads as \"unchanged\"; expected a real id"},
    {"map_outside_16bit", "", "[users]\nnamespace = true\nuid_map = [{ inside = 0, outside = 65535, count = 1 }]\ngid_map = [{ inside = 0, outside = 100000, count = 1 }]\n", "t.toml:10:36: users.uid_map[0].outside: 65535 is the 16-bit -1, which the kernel reads as \"unchanged\"; expected a real id"},
    {"map_reaches_minus_one", "", "[users]\nnamespace = true\nuid_map = [{ inside = 0, outside = 4294967294, count = 2 }]\ngid_map = [{ inside = 0, outside = 100000, count = 1 }]\n", "t.toml:10:11: users.uid_map[0]: range reaches 4294967295; expected a smaller count"},
    // Issue 14, class 8: everything compose refuses is refused here, with its place.
    {"env_key_with_equals", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[process.env]\n\"A=B\" = \"x\"\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:6:1: process.env.A=B: is not a variable name; expected a non-empty name without '=', NUL or control characters"},
    {"env_key_empty", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[process.env]\n\"\" = \"x\"\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:6:1: process.env.: is not a variable name; expected a non-empty name without '=', NUL or control characters"},
    {"env_value_nul", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[process.env]\nA = \"x\\u0000y\"\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:6:5: process.env.A: holds a NUL byte; expected text without \\u0000"},
    {"env_value_newline", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[process.env]\nA = \"x\\nlxc.cap.keep = sys_admin\"\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:6:5: process.env.A: holds a line break or control character; expected one line of text"},
    {"argv_nul", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\", \"a\\u0000b\"]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:4:23: process.command[1]: holds a NUL byte; expected text without \\u0000"},
    {"argv_both_quotes", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\", \"it's \\\"x\\\"\"]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:4:23: process.command[1]: holds both ' and \", which LXC's command line cannot quote; expected at most one kind of quote"},
    {"cwd_nul", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\ncwd = \"/a\\u0000b\"\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:5:7: process.cwd: holds a NUL byte; expected text without \\u0000"},
    {"apparmor_newline", "", "[security]\napparmor_profile = \"a\\nb\"\n", "t.toml:9:20: security.apparmor_profile: holds a line break or control character; expected one line of text"},
    {"file_at_root", "", "[[rootfs.file]]\npath = \"/\"\ncontent = \"x\"\n", "t.toml:9:8: rootfs.file[0].path: \"/\" is the root directory; expected a path below it"},
    {"symlink_at_root", "", "[[rootfs.symlink]]\npath = \"/\"\ntarget = \"x\"\n", "t.toml:9:8: rootfs.symlink[0].path: \"/\" is the root directory; expected a path below it"},
    {"file_beneath_file", "", "[[rootfs.file]]\npath = \"/a\"\ncontent = \"x\"\n[[rootfs.file]]\npath = \"/a/b\"\ncontent = \"y\"\n", "t.toml:12:8: rootfs.file[1].path: \"/a/b\" lies beneath \"/a\" (rootfs.file[0].path), which is not a directory; expected a path under a directory"},
    // A relative path once hung validate (fuzz_manifest found it): its parents were walked by '/'.
    {"file_path_relative", "", "[[rootfs.file]]\npath = \"ab\"\ncontent = \"x\"\n[[rootfs.dir]]\npath = \"cd\"\n", "t.toml:9:8: rootfs.file[0].path: \"ab\" is not a clean absolute path; expected \"/dir/name\" without \".\", \"..\" or \"//\"" "\nt.toml:12:8: rootfs.dir[0].path: \"cd\" is not a clean absolute path; expected \"/dir/name\" without \".\", \"..\" or \"//\""},
    {"symlink_climbs", "", "[[rootfs.symlink]]\npath = \"/a/l\"\ntarget = \"../../x\"\n", "t.toml:10:10: rootfs.symlink[0].target: \"../../x\" climbs above the root; expected a target inside the rootfs"},
    {"sys_rw_for_host_root", "", "[mounts]\nsys = \"rw\"\n", "t.toml:9:7: mounts.sys: \"rw\" for a process that is the host's root (uid 0, no user namespace mapping it elsewhere) would let it write every root-owned /sys file without capabilities; expected \"ro\", or a process.user or users.uid_map that is not the host's root"},
    {"sys_rw_setuid_without_nnp", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\nuser = 1000\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n[security]\nno_new_privs = false\n[mounts]\nsys = \"rw\"\n", "t.toml:12:7: mounts.sys: \"rw\" for a process that can become the host's root (security.no_new_privs = false or CAP_SETUID, without a user namespace mapping uid 0 elsewhere: a setuid-root program changes its uid) would let it write every root-owned /sys file; expected \"ro\", no_new_privs = true and no CAP_SETUID, or a user namespace"},
    {"sys_rw_root_group", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\nuser = 1000\ngroup = 0\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n[mounts]\nsys = \"rw\"\n", "t.toml:11:7: mounts.sys: \"rw\" for a process that is or can become a member of the host's gid 0 (process.group or process.groups, or security.no_new_privs = false or CAP_SETGID, without a user namespace mapping gid 0 elsewhere) would let it write the /sys files of the root group (a PCI device's remove); expected \"ro\", or another group and no_new_privs = true and no CAP_SETGID, or a user namespace"},
    {"sys_rw_cap_setuid", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\nuser = 1000\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n[security]\ncapabilities = [\"CAP_SETUID\"]\n[mounts]\nsys = \"rw\"\n", "t.toml:12:7: mounts.sys: \"rw\" for a process that can become the host's root (security.no_new_privs = false or CAP_SETUID, without a user namespace mapping uid 0 elsewhere: a setuid-root program changes its uid) would let it write every root-owned /sys file; expected \"ro\", no_new_privs = true and no CAP_SETUID, or a user namespace"},
    {"tmpfs_on_root", "", "[[mounts.tmpfs]]\ntarget = \"/\"\n", "t.toml:9:10: mounts.tmpfs[0].target: \"/\" would cover the verified rootfs; expected a directory below \"/\""},
    {"bind_on_root", "", "[[mounts.bind]]\nsource = \"/srv\"\ntarget = \"/\"\n", "t.toml:10:10: mounts.bind[0].target: \"/\" would cover the verified rootfs; expected a directory below \"/\""},
    {"storage_dir_on_root", "", "[[mounts.storage]]\nkind = \"directory\"\nsource = \"/srv\"\ntarget = \"/\"\n", "t.toml:11:10: mounts.storage[0].target: \"/\" would cover the verified rootfs; expected a directory below \"/\""},
    {"partition_name_bad", "", "[[mounts.storage]]\nkind = \"partition\"\nsource = \"../mtd\"\ntarget = \"/data\"\n", "t.toml:10:10: mounts.storage[0].source: \"../mtd\" is not a partition name; expected 1-64 characters of letters, digits, '.', '_' or '-'"},
    {"seccomp_empty_deny", "", "[seccomp]\nallow = [\"read\"]\n[[seccomp.deny]]\nsyscalls = []\n", "t.toml:11:12: seccomp.deny[0].syscalls: is empty; expected the syscalls this rule denies"},
    {"seccomp_open_on_aarch64", "arch = \"aarch64\"\n", "[seccomp]\nallow = [\"read\", \"open\"]\n", "t.toml:10:18: seccomp.allow[1]: \"open\" does not exist on aarch64; expected a system call of the manifest's arch"},
    {"seccomp_deny_open_on_aarch64", "arch = \"aarch64\"\n", "[seccomp]\ndefault_action = \"allow\"\n[[seccomp.deny]]\nsyscalls = [\"openat\", \"open\"]\naction = \"kill\"\n", "t.toml:12:23: seccomp.deny[0].syscalls[1]: \"open\" does not exist on aarch64; expected a system call of the manifest's arch"},
    {"seccomp_unknown_syscall", "", "[seccomp]\nallow = [\"read\", \"no_such_call\"]\n", "t.toml:9:18: seccomp.allow[1]: \"no_such_call\" is not a system call known to libseccomp"},
    {"seccomp_denied_twice", "", "[seccomp]\ndefault_action = \"allow\"\n[[seccomp.deny]]\nsyscalls = [\"mount\"]\n[[seccomp.deny]]\nsyscalls = [\"mount\"]\naction = \"kill\"\n", "t.toml:13:13: seccomp.deny[1].syscalls[0]: \"mount\" is also denied by seccomp.deny[0]; expected one rule per syscall"},
    {"base_key_not_an_id", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\nstrategy = \"overlay\"\nbase = \"b\"\nbase_key = \"xyz\"\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:8:12: rootfs.base_key: expected a key id: 64 lowercase hex digits (SHA-256 of the public key), as `nestbox keygen` prints"},
    {"base_range_without_key", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\nstrategy = \"overlay\"\nbase = \"b\"\nbase_min_version = 2\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:8:20: rootfs.base_min_version: needs rootfs.base_key, the key that must sign the base; expected it beside the version range (a range alone would admit a base signed by any trusted key)"},
    {"base_range_upside_down", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\nstrategy = \"overlay\"\nbase = \"b\"\nbase_key = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\nbase_min_version = 5\nbase_max_version = 4\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:10:20: rootfs.base_max_version: 4 is below rootfs.base_min_version 5; expected an upper bound at or above it"},
    {"base_key_without_base", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\nstrategy = \"overlay\"\nbase_key = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:7:12: rootfs.base_key: requires a named shared base; expected strategy = \"overlay\" and rootfs.base"},
    {"base_own_name", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\nstrategy = \"overlay\"\nbase = \"t\"\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:7:8: rootfs.base: \"t\" is the container's own name; a base is installed like a container of its name, expected another name"},
    {"base_not_a_name", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\nstrategy = \"overlay\"\nbase = \"../etc\"\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:7:8: rootfs.base: \"../etc\" is not a base name; expected 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit"},
    {"service_restart_bad", nullptr, "name = \"t\"\nversion = 1\n[process]\nmodel = \"system\"\n[[process.service]]\nname = \"a\"\ncommand = [\"/x\"]\nrestart = \"sometimes\"\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:8:11: process.service[0].restart: \"sometimes\" is not a valid value; expected one of \"on-failure\", \"always\", \"never\""},
    {"service_restart_limit_range", nullptr, "name = \"t\"\nversion = 1\n[process]\nmodel = \"system\"\n[[process.service]]\nname = \"a\"\ncommand = [\"/x\"]\nrestart_limit = 1001\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:8:17: process.service[0].restart_limit: 1001 is out of range; expected an integer from 0 to 1000"},
    {"service_restart_delay_long", nullptr, "name = \"t\"\nversion = 1\n[process]\nmodel = \"system\"\n[[process.service]]\nname = \"a\"\ncommand = [\"/x\"]\nrestart_delay = \"61s\"\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:8:17: process.service[0].restart_delay: is longer than 60s; expected at most \"60s\""},
    {"system_without_command_or_services", nullptr, "name = \"t\"\nversion = 1\n[process]\nmodel = \"system\"\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:3:1: process.command: missing; expected an array of strings: the program and its arguments, or [[process.service]] entries for nestbox's init"},
    {"storage_owner_bad", "", "[[mounts.storage]]\nkind = \"directory\"\nsource = \"/srv/d\"\ntarget = \"/data\"\nowner = \"www-data\"\n", "t.toml:12:9: mounts.storage[0].owner: \"www-data\" is not an owner; expected \"process\" (or uid/gid)"},
    {"storage_owner_and_uid", "", "[[mounts.storage]]\nkind = \"directory\"\nsource = \"/srv/d\"\ntarget = \"/data\"\nowner = \"process\"\nuid = 33\n", "t.toml:13:7: mounts.storage[0].uid: conflicts with owner = \"process\"; expected one of them"},
    {"storage_mode_zero", "", "[[mounts.storage]]\nkind = \"directory\"\nsource = \"/srv/d\"\ntarget = \"/data\"\nmode = \"0000\"\n", "t.toml:12:8: mounts.storage[0].mode: \"0000\" leaves the storage to nobody; expected a mode such as \"0770\""},
    {"storage_uid_unchanged", "", "[[mounts.storage]]\nkind = \"directory\"\nsource = \"/srv/d\"\ntarget = \"/data\"\nuid = 65535\n", "t.toml:12:7: mounts.storage[0].uid: 65535 is the 16-bit -1, which the kernel reads as \"unchanged\"; expected a real id"},
    {"storage_uid_unmapped", "", "[users]\nnamespace = true\nuid_map = [{ inside = 0, outside = 100000, count = 1000 }]\ngid_map = [{ inside = 0, outside = 100000, count = 1000 }]\n[[mounts.storage]]\nkind = \"directory\"\nsource = \"/srv/d\"\ntarget = \"/data\"\nuid = 1000\ngid = 5\n", "t.toml:16:7: mounts.storage[0].uid: 1000 is not inside users.uid_map; expected a mapped uid"},
    {"storage_owner_overlay_root", "", "[[mounts.storage]]\nkind = \"overlay\"\nsource = \"/srv/up\"\ntarget = \"/\"\nowner = \"process\"\n", "t.toml:12:9: mounts.storage[0].owner: is not taken by an overlay over \"/\" (the root's owner and mode come from the rootfs); expected a storage at another target"},
    {"service_name_bad", nullptr, "name = \"t\"\nversion = 1\n[process]\nmodel = \"system\"\ncommand = [\"/sbin/init\"]\n[[process.service]]\nname = \"a b\"\ncommand = [\"/x\"]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:7:8: process.service[0].name: \"a b\" is not a service name; expected 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit"},
    {"hotplug_udev_key", "", "[[devices.hotplug]]\nname = \"sd*\"\nproperties = { ID_BUS = \"usb\" }\n", "t.toml:10:16: devices.hotplug[0].properties.ID_BUS: ID_* properties come from udev, not the kernel: match the kernel's keys (DEVTYPE, MAJOR, ...) or `parent` (a bus in the device's sysfs path, e.g. \"usb\")"},
    {"hotplug_dir_outside_dev", "", "[[devices.hotplug]]\nname = \"sd*\"\ndir = \"/etc\"\n", "t.toml:10:7: devices.hotplug[0].dir: hot-plugged nodes must appear in /dev or a directory below it"},
    {"hotplug_name_slash", "", "[[devices.hotplug]]\nname = \"../sda\"\n", "t.toml:9:8: devices.hotplug[0].name: device name pattern may hold only letters, digits, '._+:!-' and the globs '*?[]'"},
    {"hotplug_access_bad", "", "[[devices.hotplug]]\nname = \"sd*\"\naccess = \"rwm\"\n", "t.toml:10:10: devices.hotplug[0].access: \"rwm\" is not a valid value; expected \"rw\" or \"ro\""},
    {"hotplug_subsystem_net", "", "[[devices.hotplug]]\nsubsystem = \"net\"\nname = \"eth*\"\n", "t.toml:9:13: devices.hotplug[0].subsystem: \"net\" is not supported; expected \"block\" (hot-plugged storage)"},
    {"hotplug_user_namespace", "", "[users]\nnamespace = true\nuid_map = [{ inside = 0, outside = 100000, count = 1000 }]\ngid_map = [{ inside = 0, outside = 100000, count = 1000 }]\n[[devices.hotplug]]\nname = \"sd*\"\n", "t.toml:12:1: devices.hotplug: hot-plugged devices need the host's user namespace: device nodes on a filesystem mounted in a user namespace never open"},
    // A host source below one the container can write could be swapped for a symlink.
    {"storage_below_writable_bind", "", "[[mounts.bind]]\nsource = \"/srv/app\"\ntarget = \"/app\"\nread_only = false\n[[mounts.storage]]\nkind = \"directory\"\nsource = \"/srv/app/cache\"\ntarget = \"/cache\"\n", "t.toml:14:10: mounts.storage[0].source: \"/srv/app/cache\" lies below \"/srv/app\" (mounts.bind[0].source), which the container can write and could replace with a symlink; expected host sources that do not nest in a writable one"},
    {"bind_below_storage_overlay", "", "[[mounts.bind]]\nsource = \"/srv/o/upper/etc\"\ntarget = \"/hostetc\"\n[[mounts.storage]]\nkind = \"overlay\"\nsource = \"/srv/o\"\ntarget = \"/var\"\n", "t.toml:9:10: mounts.bind[0].source: \"/srv/o/upper/etc\" lies below \"/srv/o/upper\" (mounts.storage[0].source), which the container can write and could replace with a symlink; expected host sources that do not nest in a writable one"},
    // Review 8: a size nothing enforces; a mount target a symlink in storage could move.
    {"storage_size_on_directory", "", "[[mounts.storage]]\nkind = \"directory\"\nsource = \"/srv/d\"\ntarget = \"/data\"\nsize = \"16M\"\n", "t.toml:12:8: mounts.storage[0].size: is not enforced on directory storage (it has no size limit); expected kind = \"image\" for a store of limited size, or no size"},
    {"storage_size_on_overlay", "", "[[mounts.storage]]\nkind = \"overlay\"\nsource = \"/srv/o\"\ntarget = \"/var\"\nsize = \"16M\"\n", "t.toml:12:8: mounts.storage[0].size: is not enforced on overlay storage (it has no size limit); expected kind = \"image\" for a store of limited size, or no size"},
    {"target_below_storage", "", "[[mounts.storage]]\nkind = \"directory\"\nsource = \"/srv/d\"\ntarget = \"/data\"\n[[mounts.tmpfs]]\ntarget = \"/data/cache\"\n", "t.toml:13:10: mounts.tmpfs[0].target: \"/data/cache\" lies below \"/data\" (mounts.storage[0].target), whose contents the container keeps: a symlink it left there would move this mount at the next start; expected mount targets outside storage"},
    {"health_without_command", "", "[health]\ntimeout = \"5s\"\n", "t.toml:8:1: health.command: missing; expected an array of strings: the check run inside the container, exit 0 when healthy"},
    {"health_relative", "", "[health]\ncommand = [\"pidof\", \"httpd\"]\n", "t.toml:9:11: health.command: \"pidof\" is not a clean absolute path; expected \"/dir/name\" without \".\", \"..\" or \"//\""},
    {"health_timeout_long", "", "[health]\ncommand = [\"/bin/true\"]\ntimeout = \"301s\"\n", "t.toml:10:11: health.timeout: is outside 1ms..300s; expected a duration such as \"10s\""},
    {"interface_not_table", "", "[network]\ninterface = \"veth\"\n", "t.toml:9:13: network.interface: got a string; expected an array of tables ([[network.interface]])"},
};

class Malformed : public ::testing::TestWithParam<Case> {};

TEST_P(Malformed, ExactMessageWithPlace) {
  const Case& c = GetParam();
  std::string doc = c.head ? std::string(c.head) + kBase + c.tail : std::string(c.tail);
  auto m = load_string(doc, "t.toml");
  ASSERT_FALSE(m.ok()) << c.name << " was accepted:\n" << doc;
  EXPECT_EQ(m.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(m.error().message, c.expected) << doc;
}

std::vector<Case> real_cases() {
  std::vector<Case> out;
  for (const Case& c : kCases)
    if (c.expected) out.push_back(c);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Table, Malformed, ::testing::ValuesIn(real_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// What the baked policy cannot carry (policy/wire.h limits) is refused here
// with its place, not by compose.
TEST(MalformedLimits, OverlongStringsAndTooManyEntries) {
  std::string doc = std::string(kBase) + "[cgroups]\ncpuset_cpus = \"" + std::string(300, '1') + "\"\n";
  auto m = load_string(doc, "t.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, "t.toml:9:15: cgroups.cpuset_cpus: is longer than 256 bytes");
  doc = std::string(kBase) + "[security]\napparmor_profile = \"" + std::string(4097, 'p') + "\"\n";
  m = load_string(doc, "t.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, "t.toml:9:20: security.apparmor_profile: is longer than 4096 bytes");
  std::string args;
  for (int i = 0; i < 257; ++i) args += ", \"a\"";
  doc = "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"" + args +
        "]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n";
  m = load_string(doc, "t.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, "t.toml:4:11: process.command: 258 entries exceed the limit of 256");
}

TEST(MalformedTable, HasAtLeastFortyCases) { EXPECT_GE(real_cases().size(), 40u); }

}  // namespace
}  // namespace nestbox::manifests
