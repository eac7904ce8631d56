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
    {"unknown_top_key", "colour = 1\n", "", "t.toml:1:1: colour: unknown key; expected one of schema, name, version, security_version, version_string, description, arch, compat, signing_key, kernel_min, process, rootfs, users, security, namespaces, cgroups, seccomp, mounts, network, rlimits"},
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
    {"bad_name", nullptr, "name = \"Big Box\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:1:8: name: \"Big Box\" is not a container name; expected 1-32 characters of a-z, 0-9, '-' or '_', starting with a letter or digit"},
    // Units.
    {"size_suffix", "", "[cgroups]\nmemory = \"512Q\"\n", "t.toml:9:10: cgroups.memory: \"512Q\" is not a size; expected a size such as \"64M\" (suffix K, M, G or T) or an integer in bytes"},
    {"size_float", "", "[cgroups]\nmemory = 1.5\n", "t.toml:9:10: cgroups.memory: got a float; expected a size such as \"64M\" (suffix K, M, G or T) or an integer in bytes"},
    {"memory_too_small", "", "[cgroups]\nmemory = \"4K\"\n", "t.toml:9:10: cgroups.memory: 4096 bytes is too small to start anything; expected at least 1M"},
    {"duration_unit", "", "[cgroups]\ncpu_quota = \"20\"\n", "t.toml:9:13: cgroups.cpu_quota: \"20\" is not a duration; expected a duration such as \"100ms\" (suffix us, ms or s)"},
    {"weight_range", "", "[cgroups]\ncpu_weight = 0\n", "t.toml:9:14: cgroups.cpu_weight: 0 is out of range; expected an integer from 1 to 10000"},
    {"mode_not_octal", "", "[[rootfs.dir]]\npath = \"/x\"\nmode = \"0789\"\n", "t.toml:10:8: rootfs.dir[0].mode: \"0789\" is not a mode; expected an octal mode such as \"0755\" or 0o755"},
    {"block_size_not_pow2", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\nblock_size = \"100K\"\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:6:14: rootfs.block_size: 102400 bytes is not allowed; expected a power of two from 4K to 1M"},
    {"cpuset_syntax", "", "[cgroups]\ncpuset_cpus = \"3-1\"\n", "t.toml:9:15: cgroups.cpuset_cpus: \"3-1\" is not a CPU/node list; expected a list such as \"0-1,3\""},
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
    {"swap_without_memory", "", "[cgroups]\nmemory_swap = \"1M\"\n", "t.toml:9:15: cgroups.memory_swap: limits swap on top of memory; expected cgroups.memory to be set too"},
    {"seccomp_allow_with_allow_default", "", "[seccomp]\ndefault_action = \"allow\"\nallow = [\"read\"]\n", "t.toml:10:9: seccomp.allow: lists allowed syscalls, which means nothing when everything is allowed; conflicts with seccomp.default_action (line 9); remove one of them"},
    {"seccomp_empty_allow", "", "[seccomp]\ndefault_action = \"kill\"\n", "t.toml:8:1: seccomp.allow: is empty while seccomp.default_action is \"kill\"; expected the syscalls the container may use"},
    {"seccomp_allow_and_deny", "", "[seccomp]\nallow = [\"mount\"]\n[[seccomp.deny]]\nsyscalls = [\"mount\"]\n", "t.toml:10:1: seccomp.deny: \"mount\" is denied here but allowed by seccomp.allow (line 9); remove one of them"},
    {"seccomp_bad_errno", "", "[seccomp]\nallow = [\"read\"]\ndefault_errno = \"EWHAT\"\n", "t.toml:10:17: seccomp.default_errno: \"EWHAT\" is not an errno; expected a name such as \"EPERM\" or a number from 1 to 4095"},
    {"seccomp_bad_action", "", "[seccomp]\nallow = [\"read\"]\ndefault_action = \"deny\"\n", "t.toml:10:18: seccomp.default_action: \"deny\" is not a valid value; expected one of \"allow\", \"errno\", \"kill\", \"log\", \"trap\""},
    {"capability_unknown", "", "[security]\ncapabilities = [\"CAP_FLY\"]\n", "t.toml:9:16: security.capabilities[0]: \"CAP_FLY\" is not a Linux capability; expected a name such as \"CAP_NET_BIND_SERVICE\""},
    {"capability_lowercase", "", "[security]\ncapabilities = [\"net_admin\"]\n", "t.toml:9:16: security.capabilities[0]: \"net_admin\" is not a Linux capability; did you mean \"CAP_NET_ADMIN\"?"},
    {"capability_typo", "", "[security]\ncapabilities = [\"CAP_NET_ADMN\"]\n", "t.toml:9:16: security.capabilities[0]: \"CAP_NET_ADMN\" is not a Linux capability; did you mean \"CAP_NET_ADMIN\"?"},
    {"mount_twice", "", "[[mounts.tmpfs]]\ntarget = \"/tmp\"\n[[mounts.bind]]\nsource = \"/x\"\ntarget = \"/tmp\"\n", "t.toml:12:10: mounts.bind[0].target: \"/tmp\" is mounted twice; expected one mount per target"},
    {"storage_image_without_size", "", "[[mounts.storage]]\nkind = \"image\"\nsource = \"/data.img\"\ntarget = \"/data\"\n", "t.toml:8:1: mounts.storage[0].size: missing; an image store needs a size such as \"16M\""},
    {"vlan_without_id", "", "[[network.interface]]\ntype = \"vlan\"\nparent = \"eth0\"\n", "t.toml:8:1: network.interface[0].vlan_id: missing; a vlan interface needs an id from 1 to 4094"},
    {"macvlan_without_parent", "", "[[network.interface]]\ntype = \"macvlan\"\n", "t.toml:8:1: network.interface[0].parent: missing; a macvlan interface needs the parent device"},
    {"bad_cidr", "", "[[network.interface]]\ntype = \"veth\"\naddresses = [\"10.0.0.300/24\"]\n", "t.toml:8:1: network.interface[0].addresses[0]: \"10.0.0.300/24\" is not an address with prefix; expected \"192.168.1.2/24\" or \"fd00::2/64\""},
    {"bad_mac", "", "[[network.interface]]\ntype = \"veth\"\nmac = \"02:00:00\"\n", "t.toml:8:1: network.interface[0].mac: \"02:00:00\" is not a MAC address; expected \"02:00:00:00:00:01\""},
    {"ifname_too_long", "", "[[network.interface]]\ntype = \"veth\"\nname = \"averyveryverylongname\"\n", "t.toml:8:1: network.interface[0].name: \"averyveryverylongname\" is not an interface name; expected at most 15 characters without '/', ':' or spaces"},
    {"bridge_on_macvlan", "", "[[network.interface]]\ntype = \"macvlan\"\nparent = \"eth0\"\nbridge = \"br-lan\"\n", "t.toml:8:1: network.interface[0].bridge: only applies to veth interfaces; this one is macvlan"},
    {"file_without_content", "", "[[rootfs.file]]\npath = \"/etc/x\"\n", "t.toml:8:1: rootfs.file[0]: expected exactly one of `source` (a host file) or `content` (literal text)"},
    {"relative_include", nullptr, "name = \"t\"\nversion = 1\n[process]\ncommand = [\"/bin/sh\"]\n[rootfs]\ninclude = [\"etc/*\"]\n[[rootfs.source]]\npath = \"s\"\n", "t.toml:6:11: rootfs.include[0]: \"etc/*\" is relative; expected an absolute path or glob inside the rootfs"},
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

TEST(MalformedTable, HasAtLeastFortyCases) { EXPECT_GE(real_cases().size(), 40u); }

}  // namespace
}  // namespace nestbox::manifests
