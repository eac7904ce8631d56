#include <sys/resource.h>

#include <gtest/gtest.h>

#include "manifests/manifest.h"
#include "util/file_io.h"

namespace nestbox::manifests {
namespace {

std::string src(const std::string& rel) { return std::string(NESTBOX_SOURCE_DIR) + "/" + rel; }

Manifest load_ok(const std::string& path) {
  auto m = load_file(path);
  EXPECT_TRUE(m.ok()) << m.error().message;
  return m.ok() ? *m : Manifest{};
}

TEST(Loader, EveryDocumentedKeyIsParsed) {
  Manifest m = load_ok(src("tests/manifests/testdata/full.toml"));
  EXPECT_EQ(m.name, "full");
  EXPECT_EQ(m.version, 42u);
  EXPECT_EQ(m.version_string, "4.2.0-rc1");
  EXPECT_EQ(m.description, "every key");
  EXPECT_EQ(m.arch, Arch::kMipsel);
  EXPECT_EQ(m.compat, "acme-hgw-v2");
  EXPECT_EQ(m.signing_key, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(m.kernel_min.has_value());
  EXPECT_EQ(*m.kernel_min, (KernelVersion{5, 10, 3}));

  EXPECT_EQ(m.process.model, Model::kSystem);
  EXPECT_EQ(m.process.command, (std::vector<std::string>{"/sbin/init", "--quiet"}));
  EXPECT_EQ(m.process.cwd, "/srv");
  EXPECT_EQ(m.process.uid, 1000u);
  EXPECT_EQ(m.process.gid, 1001u);
  EXPECT_EQ(m.process.supplementary_gids, (std::vector<uint32_t>{20, 30}));
  EXPECT_EQ(m.process.env, (std::vector<std::string>{"LANG=C", "PATH=/bin"}));
  ASSERT_EQ(m.process.services.size(), 2u);
  EXPECT_EQ(m.process.services[0].name, "web");
  EXPECT_EQ(m.process.services[1].command, (std::vector<std::string>{"/usr/sbin/ftpd"}));

  const Rootfs& fs = m.rootfs;
  EXPECT_EQ(fs.strategy, RootfsStrategy::kOverlay);
  EXPECT_EQ(fs.base, "appbase");
  EXPECT_FALSE(fs.read_only);
  EXPECT_EQ(fs.compressor, Compressor::kZstd);
  EXPECT_EQ(fs.block_size, 256u * 1024);
  EXPECT_TRUE(fs.allow_setuid);
  EXPECT_EQ(fs.max_file_size, 32u << 20);
  EXPECT_EQ(fs.include, (std::vector<std::string>{"/etc/**"}));
  EXPECT_EQ(fs.exclude, (std::vector<std::string>{"/usr/share/doc/**"}));
  EXPECT_EQ(fs.binaries, (std::vector<std::string>{"/usr/sbin/httpd"}));
  ASSERT_EQ(fs.sources.size(), 3u);
  EXPECT_EQ(fs.sources[0].kind, SourceKind::kDirectory);
  EXPECT_EQ(fs.sources[1].kind, SourceKind::kIpk);
  EXPECT_FALSE(fs.sources[1].trusted);
  EXPECT_EQ(fs.sources[2].kind, SourceKind::kTar);  // explicit type wins over the suffix
  EXPECT_EQ(fs.sources[0].pos.line, 40);  // the [[rootfs.source]] header
  ASSERT_EQ(fs.dirs.size(), 1u);
  EXPECT_EQ(fs.dirs[0].mode, 0700u);
  EXPECT_EQ(fs.dirs[0].owner.uid, 1000u);
  EXPECT_EQ(fs.dirs[0].owner.gid, 1001u);
  ASSERT_EQ(fs.files.size(), 2u);
  EXPECT_EQ(fs.files[0].content, "hello\n");
  EXPECT_EQ(fs.files[0].mode, 0600u);
  EXPECT_EQ(fs.files[1].source, "files/app.conf");
  ASSERT_EQ(fs.symlinks.size(), 1u);
  EXPECT_EQ(fs.symlinks[0].target, "busybox");
  ASSERT_EQ(fs.devices.size(), 1u);
  EXPECT_EQ(fs.devices[0].type, DeviceType::kChar);
  EXPECT_EQ(fs.devices[0].major, 4u);
  EXPECT_EQ(fs.devices[0].minor, 64u);
  EXPECT_EQ(fs.devices[0].mode, 0620u);
  EXPECT_EQ(fs.devices[0].owner.gid, 5u);

  EXPECT_TRUE(m.users.user_namespace);
  ASSERT_EQ(m.users.uid_map.size(), 1u);
  EXPECT_EQ(m.users.uid_map[0].outside, 100000u);
  EXPECT_EQ(m.users.gid_map[0].count, 65536u);
  EXPECT_TRUE(m.users.shift_ownership);

  EXPECT_EQ(m.security.capabilities, (std::vector<std::string>{"CAP_CHOWN", "CAP_NET_RAW"}));
  EXPECT_EQ(m.security.capability_mask, (1ull << 0) | (1ull << 13));
  EXPECT_FALSE(m.security.no_new_privs);
  EXPECT_EQ(m.security.apparmor_profile, "nestbox-full");
  EXPECT_EQ(m.security.selinux_context, "system_u:system_r:container_t:s0");

  EXPECT_EQ(m.namespaces.ipc.mode, NsMode::kJoin);
  EXPECT_EQ(m.namespaces.ipc.join, "other");
  EXPECT_EQ(m.namespaces.cgroup.mode, NsMode::kHost);
  EXPECT_EQ(m.namespaces.user.mode, NsMode::kNew);
  EXPECT_EQ(m.namespaces.hostname, "full-host");
  EXPECT_EQ(m.namespaces.domainname, "example.lan");

  EXPECT_EQ(m.cgroups.memory_max, 64u << 20);
  EXPECT_EQ(m.cgroups.memory_swap_max, 16u << 20);
  EXPECT_EQ(m.cgroups.cpu_weight, 200u);
  EXPECT_EQ(m.cgroups.cpu_quota_us, 50000u);
  EXPECT_EQ(m.cgroups.cpu_period_us, 200000u);
  EXPECT_EQ(m.cgroups.pids_max, 100u);
  EXPECT_EQ(m.cgroups.io_weight, 300u);
  EXPECT_EQ(m.cgroups.cpuset_cpus, "0-1,3");
  EXPECT_EQ(m.cgroups.cpuset_mems, "0");
  EXPECT_FALSE(m.cgroups.freezer);

  EXPECT_TRUE(m.seccomp.enabled);
  EXPECT_EQ(m.seccomp.default_action, SeccompAction::kKill);
  EXPECT_EQ(m.seccomp.default_errno, 13);  // EACCES
  EXPECT_EQ(m.seccomp.allow.size(), 3u);
  ASSERT_EQ(m.seccomp.deny.size(), 2u);
  EXPECT_EQ(m.seccomp.deny[0].errno_value, 1);
  EXPECT_EQ(m.seccomp.deny[1].action, SeccompAction::kLog);

  EXPECT_TRUE(m.mounts.proc);
  EXPECT_EQ(m.mounts.sys, SysMode::kReadWrite);
  EXPECT_EQ(m.mounts.dev, DevMode::kNone);
  ASSERT_EQ(m.mounts.tmpfs.size(), 1u);
  EXPECT_EQ(m.mounts.tmpfs[0].size, 8u << 20);
  EXPECT_EQ(m.mounts.tmpfs[0].mode, 01777u);
  EXPECT_FALSE(m.mounts.tmpfs[0].noexec);
  ASSERT_EQ(m.mounts.binds.size(), 1u);
  EXPECT_TRUE(m.mounts.binds[0].read_only);
  ASSERT_EQ(m.mounts.storage.size(), 3u);
  EXPECT_EQ(m.mounts.storage[0].kind, StorageKind::kImage);
  EXPECT_EQ(m.mounts.storage[0].size, 16u << 20);
  EXPECT_EQ(m.mounts.storage[0].fstype, "ext2");
  EXPECT_EQ(m.mounts.storage[1].kind, StorageKind::kPartition);
  EXPECT_EQ(m.mounts.storage[2].kind, StorageKind::kDirectory);
  EXPECT_FALSE(m.mounts.storage[2].noexec);

  EXPECT_EQ(m.network.mode, NetworkMode::kInterfaces);
  ASSERT_EQ(m.network.interfaces.size(), 4u);
  const NetInterface& veth = m.network.interfaces[0];
  EXPECT_EQ(veth.type, InterfaceType::kVeth);
  EXPECT_EQ(veth.bridge, "br-lan");
  EXPECT_EQ(veth.host_name, "full0");
  EXPECT_EQ(veth.mac, "02:00:00:00:00:01");
  EXPECT_EQ(veth.addresses.size(), 2u);
  EXPECT_EQ(veth.mtu, 1400u);
  ASSERT_EQ(veth.routes.size(), 2u);
  EXPECT_EQ(veth.routes[1].destination, "10.0.0.0/8");
  EXPECT_EQ(veth.routes[1].gateway, "192.168.1.254");
  EXPECT_EQ(m.network.interfaces[1].macvlan_mode, MacvlanMode::kVepa);
  EXPECT_EQ(m.network.interfaces[2].vlan_id, 42u);
  EXPECT_EQ(m.network.interfaces[3].type, InterfaceType::kPhys);

  ASSERT_EQ(m.rlimits.size(), 3u);  // sorted by name
  EXPECT_EQ(m.rlimits[0].name, "core");
  EXPECT_EQ(m.rlimits[1].name, "nofile");
  EXPECT_EQ(m.rlimits[1].resource, RLIMIT_NOFILE);
  EXPECT_EQ(m.rlimits[1].soft, 1024u);
  EXPECT_EQ(m.rlimits[1].hard, 4096u);
  EXPECT_EQ(m.rlimits[2].hard, UINT64_MAX);
}

TEST(Loader, DefaultsAreFilledAndDerived) {
  auto m = load_string(
      "name = \"mini\"\nversion = 1\n[process]\ncommand = [\"/bin/true\"]\n"
      "[rootfs]\n[[rootfs.source]]\npath = \"staging.tar.xz\"\n",
      "dir/mini.toml");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->dir, "dir");
  EXPECT_EQ(m->arch, Arch::kX86_64);
  EXPECT_EQ(m->process.model, Model::kProcess);
  EXPECT_EQ(m->rootfs.strategy, RootfsStrategy::kSquashfs);
  EXPECT_EQ(m->rootfs.sources[0].kind, SourceKind::kTar);
  EXPECT_TRUE(m->rootfs.read_only);
  EXPECT_EQ(m->namespaces.hostname, "mini");           // derived from the name
  EXPECT_EQ(m->namespaces.user.mode, NsMode::kHost);   // no user namespace by default
  EXPECT_EQ(m->namespaces.net.mode, NsMode::kNew);     // network "empty" by default
  EXPECT_EQ(m->network.mode, NetworkMode::kEmpty);
  EXPECT_TRUE(m->security.no_new_privs);
  EXPECT_EQ(m->security.capability_mask, 0u);
  EXPECT_FALSE(m->seccomp.enabled);
  EXPECT_TRUE(m->mounts.proc);
  EXPECT_EQ(m->mounts.sys, SysMode::kReadOnly);
}

// A non-root user without a `group` is not put in the root group (gid 0
// writes root's group-writable files); a group written as 0 stays 0.
TEST(Loader, GroupDefaultsToTheUsersNumber) {
  auto load = [](const std::string& ids) {
    return load_string("name = \"g\"\nversion = 1\n[process]\ncommand = [\"/bin/true\"]\n" + ids +
                           "[rootfs]\n[[rootfs.source]]\npath = \"s\"\n",
                       "g.toml");
  };
  auto only_user = load("user = 1000\n");
  ASSERT_TRUE(only_user.ok()) << only_user.error().message;
  EXPECT_EQ(only_user->process.gid, 1000u);
  auto root_group = load("user = 1000\ngroup = 0\n");
  ASSERT_TRUE(root_group.ok()) << root_group.error().message;
  EXPECT_EQ(root_group->process.gid, 0u);
  auto neither = load("");
  ASSERT_TRUE(neither.ok()) << neither.error().message;
  EXPECT_EQ(neither->process.gid, 0u);
  // In a user namespace, the defaulted gid must be mapped like a written one.
  auto unmapped = load_string(
      "name = \"g\"\nversion = 1\n[process]\ncommand = [\"/bin/true\"]\nuser = 20\n[rootfs]\n[[rootfs.source]]\n"
      "path = \"s\"\n[users]\nnamespace = true\nuid_map = [{ inside = 0, outside = 100000, count = 100 }]\n"
      "gid_map = [{ inside = 0, outside = 100000, count = 10 }]\n",
      "g.toml");
  ASSERT_FALSE(unmapped.ok());
  EXPECT_NE(unmapped.error().message.find("process.group: 20 (process.user's number: no group is given) is not inside "
                                          "users.gid_map"),
            std::string::npos)
      << unmapped.error().message;
}

TEST(Loader, StagingDirectoryReplacesTheManifestsDirectoryForRelativeSources) {
  auto m = load_string(
      "name = \"s\"\nversion = 1\n[process]\ncommand = [\"/bin/true\"]\n[rootfs]\n"
      "[[rootfs.source]]\npath = \".\"\n[[rootfs.source]]\npath = \"packages/extra.ipk\"\n"
      "[[rootfs.source]]\npath = \"/opt/abs.tar\"\n",
      "vendor/s.toml");
  ASSERT_TRUE(m.ok()) << m.error().message;
  resolve_sources_in(*m, "/build/target/root-ath79/");
  EXPECT_EQ(m->rootfs.sources[0].path, "/build/target/root-ath79");
  EXPECT_EQ(m->rootfs.sources[1].path, "/build/target/root-ath79/packages/extra.ipk");
  EXPECT_EQ(m->rootfs.sources[1].kind, SourceKind::kIpk);
  EXPECT_EQ(m->rootfs.sources[2].path, "/opt/abs.tar");  // absolute paths are kept
  EXPECT_EQ(m->dir, "vendor");  // [[rootfs.file]] sources stay next to the manifest
}

TEST(Loader, NetworkNoneMeansHostNamespace) {
  auto m = load_string(
      "name = \"n\"\nversion = 1\n[process]\ncommand = [\"/bin/true\"]\n"
      "[rootfs]\n[[rootfs.source]]\npath = \"s\"\n[network]\nmode = \"none\"\n",
      "n.toml");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->namespaces.net.mode, NsMode::kHost);
}

TEST(Examples, AllValidateTogether) {
  std::vector<Manifest> all;
  for (const char* name : {"examples/nas.toml", "examples/untrusted-app.toml", "examples/dns.toml"})
    all.push_back(load_ok(src(name)));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_TRUE(validate_set(all).ok());
  // The case studies as the talk describes them.
  const Manifest& nas = all[0];
  EXPECT_EQ(nas.process.model, Model::kSystem);
  EXPECT_EQ(nas.network.interfaces.size(), 2u);
  EXPECT_EQ(nas.network.interfaces[0].bridge, "br-nas");
  EXPECT_EQ(nas.network.interfaces[1].bridge, "br-lan");
  EXPECT_FALSE(nas.network.interfaces[1].mac.empty());
  const Manifest& app = all[1];
  EXPECT_EQ(app.rootfs.strategy, RootfsStrategy::kOverlay);
  EXPECT_TRUE(app.users.user_namespace);
  EXPECT_EQ(app.security.capability_mask, 0u);
  EXPECT_TRUE(app.seccomp.enabled);
  EXPECT_EQ(app.network.interfaces[0].macvlan_mode, MacvlanMode::kPrivate);
  EXPECT_EQ(all[2].rootfs.strategy, RootfsStrategy::kHostHardlink);
}

TEST(Json, RoundTripIsLossless) {
  for (const char* name : {"tests/manifests/testdata/full.toml", "examples/nas.toml",
                           "examples/untrusted-app.toml", "examples/dns.toml"}) {
    Manifest m = load_ok(src(name));
    std::string json = to_json(m);
    auto back = from_json(json, m.file);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(to_json(*back), json) << name;
    EXPECT_EQ(to_text(*back), to_text(m)) << name;
  }
}

// Every table survives to_json/from_json: the base requirement and
// [ipc.ubus] (untrusted-app) and [[devices.hotplug]] (nas) too, not only the
// keys the JSON happens to show.
TEST(Json, BaseRequirementIpcAndHotplugRoundTrip) {
  Manifest app = load_ok(src("examples/untrusted-app.toml"));
  ASSERT_TRUE(app.ipc.ubus);
  ASSERT_FALSE(app.rootfs.base_key.empty());
  auto back = from_json(to_json(app), app.file);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->rootfs.base_key, app.rootfs.base_key);
  EXPECT_EQ(back->rootfs.base_min_version, 1u);
  EXPECT_EQ(back->rootfs.base_max_version, app.rootfs.base_max_version);
  EXPECT_TRUE(back->ipc.ubus);
  EXPECT_EQ(back->ipc.socket, "/var/run/ubus/ubus.sock");
  EXPECT_EQ(back->ipc.target, app.ipc.target);
  EXPECT_EQ(back->ipc.user, "weather-app");
  ASSERT_EQ(back->ipc.grants.size(), 2u);
  EXPECT_EQ(back->ipc.grants[1].object, "system");
  EXPECT_EQ(back->ipc.grants[1].methods, (std::vector<std::string>{"board", "info"}));
  EXPECT_NE(to_text(app).find("ipc.ubus.grants[0].object = \"network.interface.wan\"\n"), std::string::npos);

  Manifest nas = load_ok(src("examples/nas.toml"));
  ASSERT_FALSE(nas.devices.hotplug.empty());
  auto nas_back = from_json(to_json(nas), nas.file);
  ASSERT_TRUE(nas_back.ok()) << nas_back.error().message;
  ASSERT_EQ(nas_back->devices.hotplug.size(), nas.devices.hotplug.size());
  const HotplugRule& h = nas_back->devices.hotplug[0];
  EXPECT_EQ(h.name, "sd*");
  EXPECT_EQ(h.parent, "usb");
  EXPECT_FALSE(h.read_only);
  EXPECT_EQ(h.mode, 0660u);
  EXPECT_EQ(h.owner.gid, 33u);
  EXPECT_EQ(h.dir, nas.devices.hotplug[0].dir);
  EXPECT_EQ(h.devtype, nas.devices.hotplug[0].devtype);
  EXPECT_EQ(h.properties, nas.devices.hotplug[0].properties);
}

TEST(Json, HealthCheckRoundTrips) {
  auto text = read_file(src("examples/dns.toml"));
  ASSERT_TRUE(text.ok());
  auto m = load_string(*text + "\n[health]\ncommand = [\"/usr/sbin/dnsmasq\", \"--test\"]\ntimeout = \"2s\"\n", "dns.toml");
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto back = from_json(to_json(*m), m->file);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->health.command, (std::vector<std::string>{"/usr/sbin/dnsmasq", "--test"}));
  EXPECT_EQ(back->health.timeout_us, 2000000u);
}

TEST(Json, MalformedJsonIsBadInput) {
  auto r = from_json("{\"name\": 3}", "x.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kBadInput);
  EXPECT_EQ(r.error().message.rfind("x.json: ", 0), 0u);
}

TEST(Text, ShowsResolvedValues) {
  Manifest m = load_ok(src("examples/dns.toml"));
  std::string text = to_text(m);
  EXPECT_NE(text.find("name = \"dns\"\n"), std::string::npos);
  EXPECT_NE(text.find("namespaces.hostname = \"dns\"\n"), std::string::npos);
  EXPECT_NE(text.find("cgroups.memory = 16777216\n"), std::string::npos);
  EXPECT_NE(text.find("network.interfaces[0].host_name = \"nb-dns\"\n"), std::string::npos);
}

}  // namespace
}  // namespace nestbox::manifests
