#include "policy/format.h"

#include <gtest/gtest.h>
#include <linux/capability.h>

#include <cstring>

#include "kernel-check/features.h"
#include "manifests/manifest.h"
#include "policy/bake.h"
#include "policy/render.h"
#include "policy/wire.h"
#include "tests/policy/sample.h"

namespace nestbox::policy {
namespace {

using testing::full_policy;

std::vector<uint8_t> blob_of(const Policy& p) {
  auto b = encode(p);
  EXPECT_TRUE(b.ok()) << b.error().message;
  return b.ok() ? *b : std::vector<uint8_t>{};
}

std::string decode_error(const std::vector<uint8_t>& b) {
  auto p = decode(b);
  if (p.ok()) return "(accepted)";
  EXPECT_EQ(p.error().kind, ErrorKind::kBadInput);
  return p.error().message;
}

// Offset of the first byte of section `tag`'s payload.
size_t section_payload(const std::vector<uint8_t>& b, uint16_t tag) {
  size_t pos = sizeof(wire::Header);
  while (pos + 8 <= b.size()) {
    uint16_t t = static_cast<uint16_t>(b[pos] | b[pos + 1] << 8);
    uint32_t len = b[pos + 4] | b[pos + 5] << 8 | b[pos + 6] << 16 | uint32_t{b[pos + 7]} << 24;
    if (t == tag) return pos + 8;
    pos += 8 + len;
  }
  ADD_FAILURE() << "no section " << tag;
  return 0;
}

void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

TEST(PolicyFormat, RoundTripKeepsEveryField) {
  Policy in = full_policy();
  std::vector<uint8_t> b = blob_of(in);
  auto out = decode(b);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->name, "nas");
  EXPECT_EQ(out->arch, "mipsel");
  EXPECT_EQ(out->domainname, "home.lan");
  EXPECT_EQ(out->process.model, Model::kSystem);
  EXPECT_EQ(out->process.argv, in.process.argv);
  EXPECT_EQ(out->process.env, in.process.env);
  EXPECT_EQ(out->process.groups, in.process.groups);
  ASSERT_EQ(out->process.services.size(), 2u);
  EXPECT_EQ(out->process.services[1].name, "ntpd");
  EXPECT_EQ(out->process.services[1].argv, in.process.services[1].argv);
  EXPECT_EQ(out->rootfs, RootfsKind::kOverlay);
  EXPECT_FALSE(out->read_only_root);
  EXPECT_EQ(out->base, "base-2024");
  EXPECT_EQ(out->base_sha256, std::string(64, 'a'));
  EXPECT_FALSE(out->base_requirement.set());
  EXPECT_EQ(out->namespaces[kNsIpc].mode, NsMode::kJoin);
  EXPECT_EQ(out->namespaces[kNsIpc].join, "router");
  EXPECT_EQ(out->namespaces[kNsCgroup].mode, NsMode::kHost);
  ASSERT_EQ(out->gid_map.size(), 2u);
  EXPECT_EQ(out->gid_map[1].outside, 5000u);
  EXPECT_EQ(out->caps.keep, in.caps.keep);
  EXPECT_FALSE(out->no_new_privs);
  EXPECT_EQ(out->selinux_context, "u:r:nas:s0");
  EXPECT_EQ(out->cgroups.memory_swap_max, 64ull << 20);
  EXPECT_EQ(out->cgroups.io_weight, 300u);
  EXPECT_TRUE(out->cgroups.io_weight_best_effort);
  EXPECT_EQ(out->cgroups.cpuset_cpus, "0-1");
  EXPECT_FALSE(out->cgroups.freezer);
  EXPECT_EQ(out->sys, SysMode::kReadWrite);
  EXPECT_EQ(out->dev, DevMode::kNone);
  ASSERT_EQ(out->mounts.size(), 5u);
  EXPECT_EQ(out->mounts[2].fstype, "ext4");
  EXPECT_EQ(out->mounts[2].size, 64u << 20);
  EXPECT_EQ(out->mounts[3].source, "nasdata");
  EXPECT_EQ(out->mounts[0].mode, 01777u);
  ASSERT_EQ(out->interfaces.size(), 2u);
  EXPECT_EQ(out->interfaces[0].vlan_id, 42u);
  EXPECT_EQ(out->interfaces[0].routes[0].destination, "10.1.0.0/16");
  EXPECT_EQ(out->interfaces[1].mtu, 9000u);
  ASSERT_EQ(out->rlimits.size(), 2u);
  EXPECT_EQ(out->rlimits[0].hard, 512u);
  EXPECT_EQ(out->ipc.ubus_socket, "/var/run/ubus/ubus.sock");
  EXPECT_EQ(out->ipc.ubus_target, "/run/ubus.sock");
  EXPECT_EQ(out->required_features, 0x5u);
  // Canonical: decoding and re-encoding gives the same bytes.
  EXPECT_EQ(blob_of(*out), b);
}

// A signed policy may carry strings that are not UTF-8 (argv, env: bytes to
// the kernel); `nestbox inspect --json` replaces such bytes, never aborts.
TEST(PolicyFormat, JsonRenderingReplacesInvalidUtf8) {
  Policy p = full_policy();
  p.process.argv = {"/bin/sh", "-c", "echo \xff\xfe"};
  auto blob = encode(p);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  auto back = decode(*blob);
  ASSERT_TRUE(back.ok()) << back.error().message;
  std::string json = to_json(*back);
  EXPECT_NE(json.find("\"echo \xef\xbf\xbd\xef\xbf\xbd\""), std::string::npos) << json;
  EXPECT_NE(to_text(*back).find("echo \xef\xbf\xbd\xef\xbf\xbd"), std::string::npos);
}

TEST(PolicyFormat, HeaderIsLittleEndianAtFixedOffsets) {
  std::vector<uint8_t> b = blob_of(full_policy());
  ASSERT_GE(b.size(), 32u);
  EXPECT_EQ(std::memcmp(b.data(), "NBXP", 4), 0);
  EXPECT_EQ(b[4], 4);  // version, low byte first
  EXPECT_EQ(b[5], 0);
  EXPECT_EQ(b[6], 32);  // header size
  EXPECT_EQ(b[8] | b[9] << 8 | b[10] << 16 | b[11] << 24, static_cast<int>(b.size()));
  EXPECT_EQ(b[16], 0x5);  // required_features
  EXPECT_EQ(b[32], 1);   // first section: identity
}

TEST(PolicyFormat, EveryTruncationIsRejected) {
  std::vector<uint8_t> b = blob_of(full_policy());
  for (size_t n = 0; n < b.size(); ++n) {
    std::vector<uint8_t> cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(decode(cut).ok()) << "accepted a blob cut at " << n;
    // Also with the header's size fixed up, so the section parsers see the cut.
    if (n >= 12) {
      put32(cut, 8, static_cast<uint32_t>(n));
      auto r = decode(cut);
      ASSERT_FALSE(r.ok()) << "accepted a consistent blob cut at " << n;
      EXPECT_EQ(r.error().message.rfind("policy: offset ", 0), 0u) << r.error().message;
    }
  }
}

TEST(PolicyFormat, EveryByteFlipIsRejectedOrCanonical) {
  std::vector<uint8_t> b = blob_of(full_policy());
  size_t accepted = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    for (uint8_t x : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      std::vector<uint8_t> m = b;
      m[i] ^= x;
      auto p = decode(m);
      if (!p.ok()) continue;
      ++accepted;
      EXPECT_EQ(blob_of(*p), m) << "non-canonical blob accepted (byte " << i << ")";
    }
  }
  EXPECT_LT(accepted, 2 * b.size());  // well over a third of the flips must be caught
}

TEST(PolicyFormat, HeaderErrorsNameTheField) {
  std::vector<uint8_t> b = blob_of(full_policy());
  auto bad = b;
  bad[0] = 'X';
  EXPECT_EQ(decode_error(bad), "policy: offset 0: header.magic: not a nestbox policy (expected \"NBXP\")");
  bad = b;
  bad[4] = 1;  // version 1 could not tell a swap limit of 0 from none
  EXPECT_EQ(decode_error(bad), "policy: offset 4: header.version: unsupported version 1, expected 4");
  bad = b;
  bad[12] = 1;
  EXPECT_EQ(decode_error(bad), "policy: offset 12: header.flags: unknown flags 1");
  bad = b;
  bad[30] = 1;
  EXPECT_EQ(decode_error(bad), "policy: offset 30: header.reserved: reserved byte is not zero");
  bad = b;
  bad.push_back(0);
  EXPECT_EQ(decode_error(bad), "policy: offset 8: header.total_size: says " + std::to_string(b.size()) +
                                   " bytes, blob has " + std::to_string(b.size() + 1));
  put32(bad, 8, static_cast<uint32_t>(bad.size()));
  EXPECT_EQ(decode_error(bad), "policy: offset " + std::to_string(b.size()) + ": file: 1 bytes after the last section");
  EXPECT_EQ(decode_error({}), "policy: offset 0: header: truncated: needs 32 bytes, 0 left");
  std::vector<uint8_t> huge(wire::kMaxTotalSize + 1, 0);
  EXPECT_EQ(decode_error(huge), "policy: offset 0: file: size 1048577 exceeds the limit of 1048576");
}

// A kernel feature bit this build does not know (a newer compose's): refused,
// never ignored (the launcher could not probe for it and would run without).
TEST(PolicyFormat, UnknownRequiredFeatureBitsAreRefused) {
  std::vector<uint8_t> b = blob_of(full_policy());
  auto bad = b;
  bad[16 + 7] |= 0x10;  // bit 60 of header.required_features (little-endian, offset 16)
  EXPECT_EQ(decode_error(bad), "policy: offset 16: header.required_features: requires kernel feature bit 60, unknown "
                               "to this build (it knows bits 0.." + std::to_string(kernel_check::kFeatureCount - 1) +
                               "); refusing to run without it");
  bad = b;
  bad[16 + kernel_check::kFeatureCount / 8] |= static_cast<uint8_t>(1u << (kernel_check::kFeatureCount % 8));
  EXPECT_NE(decode_error(bad).find("feature bit " + std::to_string(kernel_check::kFeatureCount) + ","), std::string::npos);
  // Every known bit still decodes.
  Policy all = full_policy();
  all.required_features = (uint64_t{1} << kernel_check::kFeatureCount) - 1;
  EXPECT_EQ(decode(blob_of(all)).ok(), true);
}

TEST(PolicyFormat, SectionsMustComeInOrder) {
  std::vector<uint8_t> b = blob_of(full_policy());
  b[32] = 2;  // identity tag replaced by process
  EXPECT_EQ(decode_error(b), "policy: offset 32: section identity.tag: expected tag 1, got 2");
}

// Field-level checks, each on a policy that is otherwise fine.
struct Case {
  const char* what;
  void (*mutate)(Policy&);
  const char* expected;  // message without "policy: offset N: "
};

const Case kCases[] = {
    {"relative argv[0]", [](Policy& p) { p.process.argv[0] = "sbin/init"; },
     "process.argv[0]: path is not absolute"},
    {"NUL in argument", [](Policy& p) { p.process.argv[1] = std::string("a\0b", 3); },
     "process.argv[1]: string contains NUL"},
    {"no argv", [](Policy& p) { p.process.argv.clear(); p.process.services.clear(); },
     "process.argv: is empty; only model system with services may leave it to nestbox's init"},
    {"no argv in model process", [](Policy& p) { p.process.argv.clear(); p.process.model = Model::kProcess; },
     "process.services: services are only allowed with model system"},
    {"restart out of range", [](Policy& p) { p.process.services[1].restart = static_cast<Restart>(3); },
     "process.services[1].restart: value 3 out of range 0..2"},
    {"restart limit too high", [](Policy& p) { p.process.services[0].restart_limit = 1001; },
     "process.services[0].restart_limit: must be at most 1000"},
    {"restart delay too long", [](Policy& p) { p.process.services[0].restart_delay_ms = 60001; },
     "process.services[0].restart_delay_ms: must be at most 60000"},
    {"owner on a tmpfs", [](Policy& p) { p.mounts[0].owner_set = true; },
     "mounts[0].owner_set: only storage mounts take an owner"},
    {"uid without owner_set", [](Policy& p) { p.mounts[2].owner_set = false; p.mounts[2].uid = 33; },
     "mounts[2].uid: an owner without owner_set"},
    {"unchanged storage owner", [](Policy& p) { p.mounts[2].owner_set = true; p.mounts[2].gid = 65535; },
     "mounts[2].gid: 65535 is the kernel's \"unchanged\" id (-1): refused"},
    {"env without =", [](Policy& p) { p.process.env[1] = "TERM"; }, "process.env[1]: expected KEY=value"},
    {"dotdot cwd", [](Policy& p) { p.process.cwd = "/srv/../etc"; },
     "process.cwd: path has a '.' or '..' component"},
    {"services in process model", [](Policy& p) { p.process.model = Model::kProcess; },
     "process.services: services are only allowed with model system"},
    {"bad name", [](Policy& p) { p.name = "-x"; }, "name: name must match [A-Za-z0-9][A-Za-z0-9._-]*"},
    {"unknown arch", [](Policy& p) { p.arch = "vax"; }, "arch: unknown architecture \"vax\""},
    {"long hostname", [](Policy& p) { p.hostname = std::string(65, 'h'); },
     "hostname: string of 65 bytes exceeds the limit of 64"},
    {"join without name", [](Policy& p) { p.namespaces[kNsIpc].join.clear(); },
     "namespaces.ipc.join: mode join needs a container name"},
    {"maps without userns", [](Policy& p) { p.namespaces[kNsUser].mode = NsMode::kHost; },
     "uid_map: id maps need a new user namespace"},
    {"overflowing map", [](Policy& p) { p.uid_map[0].outside = 0xffffff00u; },
     "uid_map[0]: range overflows 32-bit ids"},
    {"unknown capability", [](Policy& p) { p.caps.keep |= 1ull << 41; },
     "security.capabilities: bits above CAP_CHECKPOINT_RESTORE (40) are set"},
    {"cpu weight", [](Policy& p) { p.cgroups.cpu_weight = 10001; },
     "cgroups.cpu_weight: must be 0 (unset) or 1..10000, got 10001"},
    {"cpuset", [](Policy& p) { p.cgroups.cpuset_cpus = "0;1"; },
     "cgroups.cpuset_cpus: cpu/node list may hold only digits, ',' and '-'"},
    {"relative mount target", [](Policy& p) { p.mounts[0].target = "tmp"; },
     "mounts[0].target: path is not absolute"},
    {"tmpfs with source", [](Policy& p) { p.mounts[0].source = "/x"; }, "mounts[0].source: tmpfs takes no source"},
    {"mount flags", [](Policy& p) { p.mounts[1].flags = 0x10; }, "mounts[1].flags: unknown mount flags"},
    {"image without fstype", [](Policy& p) { p.mounts[2].fstype.clear(); },
     "mounts[2].fstype: image and partition mounts need a filesystem type"},
    {"vlan id", [](Policy& p) { p.interfaces[0].vlan_id = 4095; }, "network.interfaces[0].vlan_id: must be 1..4094"},
    {"bad address", [](Policy& p) { p.interfaces[0].addresses[0] = "10.0.42.300/24"; },
     "network.interfaces[0].addresses[0]: expected an IPv4 or IPv6 address with /prefix"},
    {"long ifname", [](Policy& p) { p.interfaces[1].name = "a-very-long-name"; },
     "network.interfaces[1].name: string of 16 bytes exceeds the limit of 15"},
    {"interfaces without mode", [](Policy& p) { p.net = NetMode::kEmpty; },
     "network.interfaces: interfaces are only allowed with mode interfaces"},
    {"bad mac", [](Policy& p) { p.interfaces[0].mac = "02:00:00:00:00"; },
     "network.interfaces[0].mac: expected xx:xx:xx:xx:xx:xx"},
    {"rlimit resource", [](Policy& p) { p.rlimits[0].resource = 16; }, "rlimits[0].resource: unknown resource 16"},
    {"rlimit twice", [](Policy& p) { p.rlimits[1].resource = 7; }, "rlimits[1].resource: resource listed twice"},
    {"soft above hard", [](Policy& p) { p.rlimits[0].soft = 1024; },
     "rlimits[0].hard: soft limit above the hard limit"},
    {"bpf length", [](Policy& p) { p.seccomp.bpf.assign(12, 0); },
     "seccomp.length: BPF length 12 is not a multiple of 8"},
    {"bpf too long", [](Policy& p) { p.seccomp.bpf.assign(8 * 4097, 0); },
     "seccomp.length: BPF program of 4097 instructions exceeds the limit of 4096"},
    {"base digest too short", [](Policy& p) { p.base_sha256 = "abc"; },
     "rootfs.base_sha256: digest must be 64 hex digits"},
    {"base digest upper case", [](Policy& p) { p.base_sha256 = std::string(64, 'A'); },
     "rootfs.base_sha256: digest must be lowercase hex"},
    {"base digest without base", [](Policy& p) { p.base.clear(); },
     "rootfs.base_sha256: a base digest is only allowed with a base"},
    {"base key id too short", [](Policy& p) { p.base_sha256.clear(); p.base_requirement.key_id = "abc"; },
     "rootfs.base_key_id: digest must be 64 hex digits"},
    {"base pinned and required", [](Policy& p) { p.base_requirement.key_id = std::string(64, 'b'); },
     "rootfs.base_key_id: a base is either pinned (base_sha256) or required (base_key_id), not both"},
    {"base range without a key", [](Policy& p) { p.base_sha256.clear(); p.base_requirement.min_version = 2; },
     "rootfs.base_key_id: is empty, but a base version range is set; a range needs the key that must sign the base"},
    {"base range upside down",
     [](Policy& p) {
       p.base_sha256.clear();
       p.base_requirement = {std::string(64, 'b'), 5, 4};
     },
     "rootfs.base_max_version: is below rootfs.base_min_version"},
    {"base requirement without base",
     [](Policy& p) {
       p.base.clear();
       p.base_sha256.clear();
       p.base_requirement.key_id = std::string(64, 'b');
     },
     "rootfs.base_key_id: a base requirement is only allowed with a base"},
    {"io best effort without a weight", [](Policy& p) { p.cgroups.io_weight = 0; },
     "cgroups.io_weight_best_effort: set without an io_weight"},
    {"bpf garbage", [](Policy& p) { p.seccomp.bpf.assign(16, 0xff); },
     "seccomp.bpf[0]: instruction not allowed in a seccomp filter"},
    {"ubus socket relative", [](Policy& p) { p.ipc.ubus_socket = "var/run/ubus.sock"; },
     "ipc.ubus_socket: path is not absolute"},
    {"ubus target climbs", [](Policy& p) { p.ipc.ubus_target = "/run/../../etc/x"; },
     "ipc.ubus_target: path has a '.' or '..' component"},
    {"ubus socket without target", [](Policy& p) { p.ipc.ubus_target.clear(); },
     "ipc: ubus socket and target must both be set or both be empty"},
    {"ubus target without socket", [](Policy& p) { p.ipc.ubus_socket.clear(); },
     "ipc: ubus socket and target must both be set or both be empty"},
    {"ubus socket over the root", [](Policy& p) { p.ipc.ubus_target = "/"; },
     "ipc.ubus_target: the socket cannot be bound over the root"},
};

// Version 4's sections 12..15 come after seccomp, in order, each exactly once.
TEST(PolicyFormat, Version4SectionsComeAfterSeccompInOrder) {
  std::vector<uint8_t> b = blob_of(full_policy());
  size_t previous = section_payload(b, wire::kTagSeccomp);
  for (uint16_t tag : {wire::kTagFirewall, wire::kTagHotplug, wire::kTagHealth, wire::kTagIpc}) {
    size_t at = section_payload(b, tag);
    EXPECT_GT(at, previous) << "section " << tag;
    previous = at;
  }
  // The health section's header (8 bytes before its payload) says ipc instead.
  size_t health = section_payload(b, wire::kTagHealth) - 8;
  std::vector<uint8_t> swapped = b;
  swapped[health] = 15;
  EXPECT_EQ(decode_error(swapped), "policy: offset " + std::to_string(health) +
                                       ": section health.tag: expected tag 14, got 15");
}

// [health]: empty when there is no check (earlier policies keep their
// bytes), else the check's argv and timeout, both checked on reading.
TEST(PolicyFormat, HealthCheckRoundTripsAndIsChecked) {
  Policy p = testing::full_policy();
  std::vector<uint8_t> without = blob_of(p);
  EXPECT_EQ(section_payload(without, wire::kTagIpc) - section_payload(without, wire::kTagHealth), 8u);
  p.health = {{"/bin/busybox", "pidof", "httpd"}, 2500};
  auto blob = encode(p);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  auto out = decode(*blob);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->health.argv, p.health.argv);
  EXPECT_EQ(out->health.timeout_ms, 2500u);
  auto refusal = [&](Health h) {
    p.health = std::move(h);
    auto b = encode(p);
    return b.ok() ? std::string("(accepted)") : b.error().message.substr(b.error().message.find("health"));
  };
  EXPECT_EQ(refusal({{"/bin/true"}, 0}), "health.timeout_ms: must be 1..300000");
  EXPECT_EQ(refusal({{"/bin/true"}, 300001}), "health.timeout_ms: must be 1..300000");
  EXPECT_EQ(refusal({{"bin/true"}, 10}), "health.argv[0]: path is not absolute");
}

TEST(PolicyFormat, BaseRequirementRoundTrips) {
  Policy p = testing::full_policy();
  p.base_sha256.clear();
  p.base_requirement = {std::string(64, 'c'), 2, 7};
  auto blob = encode(p);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  auto out = decode(*blob);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->base_requirement.key_id, std::string(64, 'c'));
  EXPECT_EQ(out->base_requirement.min_version, 2u);
  EXPECT_EQ(out->base_requirement.max_version, 7u);
  EXPECT_EQ(out->base_sha256, "");
}

TEST(PolicyFormat, FieldErrorsNameTheFieldAndOffset) {
  for (const Case& c : kCases) {
    Policy p = full_policy();
    c.mutate(p);
    auto r = encode(p);  // the writer refuses what the reader would refuse
    ASSERT_FALSE(r.ok()) << c.what;
    const std::string& msg = r.error().message;
    EXPECT_EQ(msg.rfind("encode: policy: offset ", 0), 0u) << c.what << ": " << msg;
    size_t colon = msg.find(": ", std::strlen("encode: policy: offset "));
    ASSERT_NE(colon, std::string::npos) << msg;
    EXPECT_EQ(msg.substr(colon + 2), c.expected) << c.what;
  }
}

TEST(PolicyFormat, ReservedAndBooleanBytesMustBeCanonical) {
  Policy p = full_policy();
  std::vector<uint8_t> b = blob_of(p);
  size_t rootfs = section_payload(b, wire::kTagRootfs);
  auto bad = b;
  bad[rootfs + 1] = 2;  // read_only boolean
  EXPECT_EQ(decode_error(bad),
            "policy: offset " + std::to_string(rootfs + 1) + ": rootfs.read_only: boolean must be 0 or 1, got 2");
  bad = b;
  bad[rootfs] = 4;  // rootfs kind
  EXPECT_EQ(decode_error(bad),
            "policy: offset " + std::to_string(rootfs) + ": rootfs.kind: value 4 out of range 0..3");
  size_t cg = section_payload(b, wire::kTagCgroups);
  bad = b;
  bad[cg + offsetof(wire::CgroupsRecord, reserved)] = 7;
  EXPECT_EQ(decode_error(bad), "policy: offset " + std::to_string(cg + offsetof(wire::CgroupsRecord, reserved)) +
                                   ": cgroups.reserved: reserved byte is not zero");
  size_t sec = section_payload(b, wire::kTagSecurity);
  bad = b;
  put32(bad, sec - 4, 0xfffff);  // security section length past the end
  EXPECT_NE(decode_error(bad).find("section security.length: section of 1048575 bytes runs past the end"),
            std::string::npos);
}

// A swap limit of 0 ("no swap") is not the same as no swap limit at all.
TEST(PolicyFormat, SwapLimitOfZeroIsNotUnset) {
  Policy p = full_policy();
  p.cgroups.memory_swap_max.reset();
  auto unset = decode(blob_of(p));
  ASSERT_TRUE(unset.ok()) << unset.error().message;
  EXPECT_FALSE(unset->cgroups.memory_swap_max.has_value());
  p.cgroups.memory_swap_max = 0;
  std::vector<uint8_t> b = blob_of(p);
  auto zero = decode(b);
  ASSERT_TRUE(zero.ok()) << zero.error().message;
  ASSERT_TRUE(zero->cgroups.memory_swap_max.has_value());
  EXPECT_EQ(*zero->cgroups.memory_swap_max, 0u);
  size_t cg = section_payload(b, wire::kTagCgroups);
  auto bad = b;
  bad[cg + offsetof(wire::CgroupsRecord, memory_swap_set)] = 0;
  bad[cg + offsetof(wire::CgroupsRecord, memory_swap_max)] = 1;  // a value without the flag
  EXPECT_EQ(decode_error(bad), "policy: offset " + std::to_string(cg + 45) +
                                   ": cgroups.memory_swap_set: a swap limit of 1 without memory_swap_set");
  p.cgroups.memory_max = 0;
  EXPECT_FALSE(encode(p).ok());  // a swap limit (even 0) needs memory_max
}

// CAP_SYS_PTRACE without a user namespace reaches nestbox's init, which
// holds the launcher's capabilities: neither written nor read.
TEST(PolicyFormat, PtraceWithoutAUserNamespaceIsRefused) {
  auto refusal = [](Policy p) {
    auto b = encode(p);
    if (b.ok()) return std::string("(accepted)");
    size_t at = b.error().message.find("security.capabilities");
    return at == std::string::npos ? b.error().message : b.error().message.substr(at);
  };
  Policy p = full_policy();
  p.caps.keep = 1ull << CAP_SYS_PTRACE;
  EXPECT_EQ(refusal(p), "(accepted)");  // its own user namespace
  p.namespaces[kNsUser] = {NsMode::kHost, ""};
  p.uid_map.clear();
  p.gid_map.clear();
  p.sys = SysMode::kReadOnly;  // the host's root may not write /sys either
  EXPECT_EQ(refusal(p), "security.capabilities: CAP_SYS_PTRACE without a user namespace of its own");
  p.caps.keep = 1ull << CAP_NET_BIND_SERVICE;
  EXPECT_EQ(refusal(p), "(accepted)");
}

// CAP_DAC_READ_SEARCH opens the host's files by handle past the container's
// root (open_by_handle_at) unless the container has a user namespace.
TEST(PolicyFormat, DacReadSearchWithoutAUserNamespaceIsRefused) {
  auto refusal = [](Policy p) {
    auto b = encode(p);
    if (b.ok()) return std::string("(accepted)");
    size_t at = b.error().message.find("security.capabilities");
    return at == std::string::npos ? b.error().message : b.error().message.substr(at);
  };
  Policy p = full_policy();
  p.caps.keep = 1ull << CAP_DAC_READ_SEARCH;
  EXPECT_EQ(refusal(p), "(accepted)");  // its own user namespace
  p.namespaces[kNsUser] = {NsMode::kHost, ""};
  p.uid_map.clear();
  p.gid_map.clear();
  p.sys = SysMode::kReadOnly;
  EXPECT_EQ(refusal(p), "security.capabilities: CAP_DAC_READ_SEARCH without a user namespace of its own");
  p.caps.keep = 1ull << CAP_DAC_OVERRIDE;
  EXPECT_EQ(refusal(p), "(accepted)");
}

// A policy a writable /sys is allowed for: host ids 1000 (no user
// namespace), no supplementary groups, no_new_privs, no capabilities.
Policy host_ids_with_writable_sys() {
  Policy p = full_policy();
  p.namespaces[kNsUser] = {NsMode::kHost, ""};
  p.uid_map.clear();
  p.gid_map.clear();
  p.process.uid = p.process.gid = 1000;
  p.process.groups = {};
  p.sys = SysMode::kReadWrite;
  p.no_new_privs = true;
  p.caps.keep = 0;
  return p;
}

// encode's refusal from "rootfs.sys" on, or "(accepted)".
std::string sys_refusal(const Policy& p) {
  auto b = encode(p);
  return b.ok() ? std::string("(accepted)") : b.error().message.substr(b.error().message.find("rootfs.sys"));
}

// A writable /sys for a process that is the host's root lets it write every
// 0644 root-owned knob without a capability: neither written nor read.
TEST(PolicyFormat, WritableSysIsRefusedForTheHostsRoot) {
  const std::string refused =
      "rootfs.sys: rw for a process that is the host's root; expected ro, or a user namespace mapping it elsewhere";
  Policy p = full_policy();
  p.no_new_privs = true;  // else uid 1000 below could become uid 0 (the next test)
  p.sys = SysMode::kReadWrite;
  p.process.uid = 0;
  EXPECT_EQ(sys_refusal(p), "(accepted)");  // uid 0 is 100000 on the host
  p.uid_map = {{0, 0, 1}, {1, 100001, 65535}};
  EXPECT_EQ(sys_refusal(p), refused);
  p.namespaces[kNsUser] = {NsMode::kHost, ""};
  p.uid_map.clear();
  p.gid_map.clear();
  EXPECT_EQ(sys_refusal(p), refused);
  p.process.uid = p.process.gid = 1000;  // gid 0 would be refused too (the next tests)
  EXPECT_EQ(sys_refusal(p), "(accepted)");
  p.process.uid = 0;
  p.sys = SysMode::kReadOnly;
  EXPECT_EQ(sys_refusal(p), "(accepted)");
}

// A process that is host uid 1000 becomes host uid 0 through a setuid-root
// program (no_new_privs off: from the image, a storage partition, a bind) or
// with CAP_SETUID, where no user namespace maps uid 0 elsewhere: it gets no
// writable /sys. (The ubus socket, by the same rule: validate, the ACL
// writer and nestbox-launch's check_policy; tests/launcher.)
TEST(PolicyFormat, AProcessThatCanBecomeTheHostsRootGetsNoWritableSys) {
  const std::string sys =
      "rootfs.sys: rw for a process that can become the host's root (no_new_privs off, or CAP_SETUID, where host uid "
      "0 is reachable: a setuid-root program changes its uid); expected ro, no_new_privs and no CAP_SETUID, or a user "
      "namespace mapping uid 0 elsewhere";
  Policy p = host_ids_with_writable_sys();
  EXPECT_EQ(sys_refusal(p), "(accepted)");
  p.no_new_privs = false;
  EXPECT_EQ(sys_refusal(p), sys);
  p.no_new_privs = true;
  p.caps.keep = uint64_t{1} << CAP_SETUID;
  EXPECT_EQ(sys_refusal(p), sys);
  // A user namespace whose map reaches host uid 0 through another id.
  p.caps.keep = 0;
  p.no_new_privs = false;
  p.namespaces[kNsUser] = {NsMode::kNew, ""};
  p.uid_map = {{0, 0, 1}, {1, 100001, 65535}};
  p.gid_map = {{0, 100000, 65536}};
  EXPECT_EQ(sys_refusal(p), sys);
  p.uid_map = {{0, 100000, 65536}};  // uid 0 inside is 100000 outside: a setuid bit reaches no host root
  EXPECT_EQ(sys_refusal(p), "(accepted)");
}

// Review 6: /sys has files the root group may write (a PCI device's
// `remove`, 0220 root:root). A process in host gid 0 (its gid, a
// supplementary group) or able to join it (a setgid-root program without
// no_new_privs, CAP_SETGID) gets no writable /sys either.
TEST(PolicyFormat, TheHostsRootGroupGetsNoWritableSys) {
  const std::string sys =
      "rootfs.sys: rw for a process that is or can become a member of the host's gid 0 (its gid or a supplementary "
      "group; or no_new_privs off, or CAP_SETGID, where host gid 0 is reachable); expected ro, or a user namespace "
      "mapping gid 0 elsewhere";
  Policy p = host_ids_with_writable_sys();
  EXPECT_EQ(sys_refusal(p), "(accepted)");
  p.process.gid = 0;
  EXPECT_EQ(sys_refusal(p), sys);
  p.process.gid = 1000;
  p.process.groups = {20, 0};
  EXPECT_EQ(sys_refusal(p), sys);
  p.process.groups = {};
  p.caps.keep = uint64_t{1} << CAP_SETGID;
  EXPECT_EQ(sys_refusal(p), sys);
  // A user namespace whose uid map avoids host 0 but whose gid map reaches
  // it: a setgid-root program (no_new_privs off) gives egid host 0.
  p.caps.keep = 0;
  p.namespaces[kNsUser] = {NsMode::kNew, ""};
  p.uid_map = {{0, 100000, 65536}};
  p.gid_map = {{0, 0, 1}, {1, 100001, 65535}};
  p.process.uid = p.process.gid = 1000;
  p.no_new_privs = false;
  EXPECT_EQ(sys_refusal(p), sys);
  p.gid_map = {{0, 100000, 65536}};
  EXPECT_EQ(sys_refusal(p), "(accepted)");
}

// A host source below one the container can write: the container swaps it for
// a symlink and the next start mounts what the symlink names.
TEST(PolicyFormat, HostSourcesBelowAWritableOneAreRefused) {
  auto refusal = [](std::vector<Mount> mounts, std::string ubus = "") {
    Policy p = full_policy();
    p.mounts = std::move(mounts);
    p.ipc.ubus_socket = ubus;
    p.ipc.ubus_target = ubus.empty() ? "" : "/var/run/ubus/ubus.sock";
    auto b = encode(p);
    return b.ok() ? std::string("(accepted)") : b.error().message.substr(b.error().message.find("mounts:"));
  };
  auto below = [](const std::string& inner, const std::string& outer) {
    return "mounts: \"" + inner + "\" lies below \"" + outer +
           "\", which the container can write (it could be replaced by a symlink); expected host sources apart";
  };
  Mount rw_bind{MountKind::kBind, "/srv/app", "/app", "", 0, 0, 0};
  Mount ro_bind{MountKind::kBind, "/srv/app", "/app", "", 0, 0, kMountReadOnly};
  Mount dir{MountKind::kStorageDir, "/srv/app/cache", "/cache", "", 0, 0, 0};
  Mount image{MountKind::kStorageImage, "/srv/app/data.img", "/data", "ext4", 1 << 20, 0, 0};
  Mount overlay{MountKind::kStorageOverlay, "/srv/app/cache", "/var", "", 0, 0, 0};
  EXPECT_EQ(refusal({rw_bind, dir}), below("/srv/app/cache", "/srv/app"));
  EXPECT_EQ(refusal({dir, rw_bind}), below("/srv/app/cache", "/srv/app"));
  EXPECT_EQ(refusal({rw_bind, image}), below("/srv/app/data.img", "/srv/app"));
  EXPECT_EQ(refusal({ro_bind, dir, image}), "(accepted)");
  EXPECT_EQ(refusal({dir, overlay}), below("/srv/app/cache/upper", "/srv/app/cache"));
  EXPECT_EQ(refusal({dir, dir}), "(accepted)");  // a mount's own root cannot be replaced
  EXPECT_EQ(refusal({Mount{MountKind::kBind, "/", "/host", "", 0, 0, 0}, ro_bind}), below("/srv/app", "/"));
  EXPECT_EQ(refusal({Mount{MountKind::kStorageDir, "/var/run", "/run", "", 0, 0, 0}}, "/var/run/ubus/ubus.sock"),
            below("/var/run/ubus/ubus.sock", "/var/run"));
  EXPECT_EQ(refusal({Mount{MountKind::kStorageDir, "/var/run-app", "/run", "", 0, 0, 0}}, "/var/run/ubus/ubus.sock"),
            "(accepted)");
}

// Review 8: a mount target below a storage's target goes, at the next start,
// wherever a symlink the container left in that storage points (over "/",
// "/etc"): refused for every kind of storage and a writable bind, and for the
// ubus socket's target; a tmpfs and a read-only bind start empty or as the
// host has them, and an overlay over "/" holds every other mount by design.
TEST(PolicyFormat, MountTargetsBelowAStoragesTargetAreRefused) {
  auto refusal = [](std::vector<Mount> mounts, std::string ubus_target = "") {
    Policy p = full_policy();
    p.mounts = std::move(mounts);
    p.ipc.ubus_socket = ubus_target.empty() ? "" : "/var/run/ubus/ubus.sock";
    p.ipc.ubus_target = ubus_target;
    auto b = encode(p);
    return b.ok() ? std::string("(accepted)") : b.error().message.substr(b.error().message.find("mounts:"));
  };
  auto below = [](const std::string& inner, const std::string& outer) {
    return "mounts: target \"" + inner + "\" lies below \"" + outer +
           "\", whose contents the container keeps (a symlink it left there would move this mount at the next "
           "start); expected mount targets outside storage";
  };
  Mount tmpfs{MountKind::kTmpfs, "", "/data/cache", "", 0, 0, 0};
  Mount inner{MountKind::kStorageDir, "/srv/b", "/data/cache", "", 0, 0, 0};
  for (Mount outer : {Mount{MountKind::kStorageDir, "/srv/a", "/data", "", 0, 0, 0},
                      Mount{MountKind::kStorageImage, "/srv/a.img", "/data", "ext4", 1 << 20, 0, 0},
                      Mount{MountKind::kStoragePartition, "appdata", "/data", "ext4", 0, 0, 0},
                      Mount{MountKind::kStorageOverlay, "/srv/a", "/data", "", 0, 0, 0},
                      Mount{MountKind::kBind, "/srv/a", "/data", "", 0, 0, 0}}) {
    EXPECT_EQ(refusal({outer, tmpfs}), below("/data/cache", "/data")) << static_cast<int>(outer.kind);
    EXPECT_EQ(refusal({inner, outer}), below("/data/cache", "/data")) << static_cast<int>(outer.kind);
    EXPECT_EQ(refusal({outer}, "/data/ubus.sock"), below("/data/ubus.sock", "/data")) << static_cast<int>(outer.kind);
    Mount beside = inner;
    beside.target = "/database";  // a prefix, not below
    EXPECT_EQ(refusal({outer, beside}), "(accepted)");
  }
  EXPECT_EQ(refusal({Mount{MountKind::kBind, "/srv/a", "/data", "", 0, 0, kMountReadOnly}, inner}), "(accepted)");
  EXPECT_EQ(refusal({Mount{MountKind::kTmpfs, "", "/data", "", 0, 0, 0}, inner}), "(accepted)");
  EXPECT_EQ(refusal({Mount{MountKind::kStorageOverlay, "/srv/root", "/", "", 0, 0, 0}, inner}), "(accepted)");
}

// Review 8: only a tmpfs's and a storage image's size is enforced; a size on
// a directory, overlay or partition store (or a bind) would be a limit that
// nothing applies, and an image without one has no bound.
TEST(PolicyFormat, ASizeIsTakenOnlyWhereItIsEnforced) {
  auto refusal = [](Mount m) {
    Policy p = full_policy();
    p.mounts = {m};
    auto b = encode(p);
    return b.ok() ? std::string("(accepted)") : b.error().message.substr(b.error().message.find("mounts[0].size"));
  };
  const std::string unenforced =
      "mounts[0].size: only tmpfs and image storage take a size (a directory, overlay or partition is not limited by one)";
  EXPECT_EQ(refusal({MountKind::kStorageDir, "/srv/a", "/data", "", 1 << 20, 0, 0}), unenforced);
  EXPECT_EQ(refusal({MountKind::kStorageOverlay, "/srv/a", "/data", "", 1 << 20, 0, 0}), unenforced);
  EXPECT_EQ(refusal({MountKind::kStoragePartition, "appdata", "/data", "ext4", 1 << 20, 0, 0}), unenforced);
  EXPECT_EQ(refusal({MountKind::kBind, "/srv/a", "/data", "", 1 << 20, 0, kMountReadOnly}), unenforced);
  EXPECT_EQ(refusal({MountKind::kStorageImage, "/srv/a.img", "/data", "ext4", 0, 0, 0}),
            "mounts[0].size: an image store needs its size (the most of the host's storage it may take)");
  EXPECT_EQ(refusal({MountKind::kStorageImage, "/srv/a.img", "/data", "ext4", 1 << 20, 0, 0}), "(accepted)");
  EXPECT_EQ(refusal({MountKind::kTmpfs, "", "/data", "", 1 << 20, 0, 0}), "(accepted)");
  EXPECT_EQ(refusal({MountKind::kStorageDir, "/srv/a", "/data", "", 0, 0, 0}), "(accepted)");
}

// A signed policy made by anything but `nestbox compose` (which refuses these
// ids) must not run the process as the launcher's root: setresuid(-1) means
// "unchanged" (issue 14, class 5). Every id field, both -1s, patched in place.
TEST(PolicyFormat, UnchangedIdsAreRefusedInEveryIdField) {
  Policy p = full_policy();
  p.process.uid = 0x7e7e0001;
  p.process.gid = 0x7e7e0002;
  p.process.groups = {0x7e7e0003};
  p.devices = {{DeviceType::kChar, 4, 64, 0620, 0x7e7e0004, 0x7e7e0005, "/dev/ttyS0"}};
  std::vector<uint8_t> b = blob_of(p);
  const char* fields[] = {"process.uid", "process.gid", "process.groups[0]", "rootfs.devices[0].uid",
                          "rootfs.devices[0].gid"};
  for (uint32_t k = 1; k <= 5; ++k) {
    uint32_t sentinel = 0x7e7e0000 + k;
    size_t at = 0;
    for (size_t i = 0; i + 4 <= b.size(); ++i)
      if (b[i] == (sentinel & 0xff) && b[i + 1] == 0 && b[i + 2] == 0x7e && b[i + 3] == 0x7e) at = i;
    ASSERT_NE(at, 0u) << fields[k - 1];
    for (uint32_t bad : {0xffffffffu, 0xffffu}) {
      auto patched = b;
      put32(patched, at, bad);
      EXPECT_EQ(decode_error(patched), "policy: offset " + std::to_string(at) + ": " + fields[k - 1] + ": " +
                                           std::to_string(bad) + " is the kernel's \"unchanged\" id (-1): refused");
    }
    auto fine = b;
    put32(fine, at, 65534);  // nobody stays a valid id
    EXPECT_TRUE(decode(fine).ok()) << fields[k - 1];
  }
}

// Version 3: each service's restart settings after its argv, each mount's
// owner after its fstype; an empty argv leaves pid 1 to nestbox's init.
TEST(PolicyFormat, ServiceRestartAndStorageOwnerRoundTrip) {
  Policy p = full_policy();
  p.process.argv.clear();
  p.process.services[0].restart = Restart::kAlways;
  p.process.services[0].restart_limit = 7;
  p.process.services[0].restart_delay_ms = 250;
  p.process.services[1].restart = Restart::kNever;
  p.mounts[2].owner_set = true;
  p.mounts[2].uid = 33;
  p.mounts[2].gid = 34;
  p.mounts[2].mode = 0770;
  std::vector<uint8_t> b = blob_of(p);
  auto out = decode(b);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_TRUE(out->process.argv.empty());
  EXPECT_EQ(out->process.services[0].restart, Restart::kAlways);
  EXPECT_EQ(out->process.services[0].restart_limit, 7u);
  EXPECT_EQ(out->process.services[0].restart_delay_ms, 250u);
  EXPECT_EQ(out->process.services[1].restart, Restart::kNever);
  EXPECT_TRUE(out->mounts[2].owner_set);
  EXPECT_EQ(out->mounts[2].uid, 33u);
  EXPECT_EQ(out->mounts[2].gid, 34u);
  EXPECT_EQ(out->mounts[2].mode, 0770u);
  EXPECT_FALSE(out->mounts[0].owner_set);
  EXPECT_EQ(encode(*out).value(), b);
}

TEST(PolicyFormat, DeclaredDevicesRoundTrip) {
  Policy p = full_policy();
  p.devices = {{DeviceType::kChar, 4, 64, 0620, 0, 5, "/dev/ttyS0"}, {DeviceType::kBlock, 8, 0, 0660, 0, 6, "/dev/sda"}};
  std::vector<uint8_t> b = blob_of(p);
  auto out = decode(b);
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->devices.size(), 2u);
  EXPECT_EQ(out->devices[0].type, DeviceType::kChar);
  EXPECT_EQ(out->devices[0].minor, 64u);
  EXPECT_EQ(out->devices[1].type, DeviceType::kBlock);
  EXPECT_EQ(out->devices[1].major, 8u);
  EXPECT_EQ(out->devices[1].path, "/dev/sda");
  EXPECT_EQ(out->devices[1].mode, 0660u);
  EXPECT_EQ(out->devices[0].gid, 5u);
  p.devices[0].path = "/dev/../etc/x";
  EXPECT_FALSE(encode(p).ok());
  EXPECT_EQ(encode(*out).value(), b);
}

// The manifest's [[rootfs.device]] char/block nodes are the allow-list's
// additions; a FIFO needs none. memory_swap unset stays unset.
TEST(PolicyFormat, BakeCarriesDeclaredDevicesAndUnsetSwap) {
  manifests::Manifest m = testing::full_manifest();
  m.rootfs.devices.clear();
  m.rootfs.devices.push_back({"/dev/ttyS0", manifests::DeviceType::kChar, 4, 64});
  m.rootfs.devices.push_back({"/run/fifo", manifests::DeviceType::kFifo, 0, 0});
  m.rootfs.devices.push_back({"/dev/sda", manifests::DeviceType::kBlock, 8, 0});
  m.cgroups.memory_swap_max.reset();
  auto p = bake(m);
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->devices.size(), 2u);
  EXPECT_EQ(p->devices[0].type, DeviceType::kChar);
  EXPECT_EQ(p->devices[1].type, DeviceType::kBlock);
  EXPECT_FALSE(p->cgroups.memory_swap_max.has_value());
  m.cgroups.memory_swap_max = 0;
  p = bake(m);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->cgroups.memory_swap_max, std::optional<uint64_t>(0));
}

TEST(PolicyFormat, HotplugRulesRoundTripAndAreChecked) {
  Policy p = full_policy();
  p.dev = DevMode::kMinimal;
  p.namespaces[kNsMount] = {NsMode::kNew, ""};
  p.namespaces[kNsUser].mode = NsMode::kHost;
  p.uid_map.clear();
  p.gid_map.clear();
  p.sys = SysMode::kReadOnly;  // the host's root may not have a writable /sys
  HotplugRule r;
  r.name = "sd*";
  r.devtype = HotplugDevtype::kPartition;
  r.properties = {{"PARTN", "1"}};
  r.parent = "usb";
  r.access = kHotplugRead;
  r.dir = "/dev/usb";
  r.mode = 0440;
  r.gid = 33;
  p.hotplug = {r};
  std::vector<uint8_t> b = blob_of(p);
  auto out = decode(b);
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->hotplug.size(), 1u);
  const HotplugRule& h = out->hotplug[0];
  EXPECT_EQ(h.name, "sd*");
  EXPECT_EQ(h.devtype, HotplugDevtype::kPartition);
  ASSERT_EQ(h.properties.size(), 1u);
  EXPECT_EQ(h.properties[0].key, "PARTN");
  EXPECT_EQ(h.properties[0].value, "1");
  EXPECT_EQ(h.parent, "usb");
  EXPECT_EQ(h.access, kHotplugRead);
  EXPECT_EQ(h.dir, "/dev/usb");
  EXPECT_EQ(h.mode, 0440u);
  EXPECT_EQ(h.gid, 33u);
  EXPECT_EQ(encode(*out).value(), b);

  EXPECT_GT(section_payload(b, wire::kTagHotplug), 0u);
  auto refused = [&](void (*mutate)(Policy&)) {
    Policy q = p;
    mutate(q);
    auto e = encode(q);
    return e.ok() ? std::string("(accepted)") : e.error().message;
  };
  EXPECT_NE(refused([](Policy& q) { q.hotplug[0].properties[0].key = "ID_BUS"; })
                .find("hotplug[0].properties[0].key: ID_* properties come from udev, not the kernel"),
            std::string::npos);
  EXPECT_NE(refused([](Policy& q) { q.hotplug[0].dir = "/dev/../etc"; }).find("hotplug[0].dir: directory has an empty, '.' or '..' component"), std::string::npos);
  EXPECT_NE(refused([](Policy& q) { q.hotplug[0].dir = "/etc"; }).find("hotplug[0].dir: hot-plugged nodes must appear in /dev"), std::string::npos);
  EXPECT_NE(refused([](Policy& q) { q.hotplug[0].name = "a/b"; }).find("hotplug[0].name: device name pattern may hold only"), std::string::npos);
  EXPECT_NE(refused([](Policy& q) { q.hotplug[0].access = kHotplugWrite; }).find("hotplug[0].access: must be 1 (read) or 3 (read and write)"), std::string::npos);
  EXPECT_NE(refused([](Policy& q) { q.hotplug[0].mode = 04755; }).find("hotplug[0].mode: not a permission mode (0777 at most)"), std::string::npos);
  EXPECT_NE(refused([](Policy& q) { q.hotplug[0].uid = 0xffffffffu; }).find("hotplug[0].uid: 4294967295 is the kernel's \"unchanged\" id"), std::string::npos);
  EXPECT_NE(refused([](Policy& q) { q.dev = DevMode::kNone; }).find("hotplug: hot-plugged devices need dev \"minimal\" in a mount namespace of the container's own"), std::string::npos);
  EXPECT_NE(refused([](Policy& q) { q.namespaces[kNsMount].mode = NsMode::kHost; }).find("hotplug: hot-plugged devices need dev"), std::string::npos);
  EXPECT_NE(refused([](Policy& q) {
              q.namespaces[kNsUser].mode = NsMode::kNew;
              q.uid_map = {{0, 100000, 1000}};
              q.gid_map = {{0, 100000, 1000}};
            }).find(": hotplug: hot-plugged devices need the host's user namespace (device nodes never open on a "
                    "filesystem mounted in another)"),
            std::string::npos);
}

TEST(PolicyFormat, EmptySeccompMeansNoFilter) {
  Policy p = full_policy();
  auto out = decode(blob_of(p));
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->seccomp.bpf.empty());
}

}  // namespace
}  // namespace nestbox::policy

namespace nestbox::policy {
namespace {

// Writes the fuzzer's seed corpus (tests/policy/corpus/policy_reader/):
//   policy_tests --gtest_also_run_disabled_tests --gtest_filter='*WriteSeedCorpus'
TEST(PolicyFormat, DISABLED_WriteSeedCorpus) {
  std::string dir = std::string(NESTBOX_SOURCE_DIR) + "/tests/policy/corpus/policy_reader/";
  auto write = [&](const std::string& name, const std::vector<uint8_t>& b) {
    FILE* f = fopen((dir + name).c_str(), "wb");
    ASSERT_NE(f, nullptr) << dir + name;
    fwrite(b.data(), 1, b.size(), f);
    fclose(f);
  };
  Policy minimal;
  minimal.name = "min";
  minimal.arch = "x86_64";
  minimal.process.argv = {"/bin/sh"};
  minimal.namespaces[kNsUser].mode = NsMode::kHost;
  write("minimal.bin", blob_of(minimal));
  write("full.bin", blob_of(testing::full_policy()));
  auto baked = bake_binary(testing::full_manifest());
  ASSERT_TRUE(baked.ok()) << baked.error().message;
  write("seccomp.bin", *baked);
  for (const char* example : {"dns", "nas", "untrusted-app"}) {
    auto m = manifests::load_file(std::string(NESTBOX_SOURCE_DIR) + "/examples/" + example + ".toml");
    ASSERT_TRUE(m.ok()) << m.error().message;
    auto b = bake_binary(*m);
    ASSERT_TRUE(b.ok()) << b.error().message;
    write(std::string("example-") + example + ".bin", *b);
  }
  // Sections no example fills: a health check and a base requirement, over
  // the NAS example's firewall and hot-plug rules.
  auto nas = manifests::load_file(std::string(NESTBOX_SOURCE_DIR) + "/examples/nas.toml");
  ASSERT_TRUE(nas.ok()) << nas.error().message;
  auto baked_nas = bake_binary(*nas);
  ASSERT_TRUE(baked_nas.ok()) << baked_nas.error().message;
  auto decoded = decode(*baked_nas);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_FALSE(decoded->firewall.allow_in.empty());
  ASSERT_FALSE(decoded->hotplug.empty());
  decoded->health = {{"/bin/busybox", "pidof", "lighttpd"}, 2500};
  write("health-firewall-hotplug.bin", blob_of(*decoded));
  Policy required = testing::full_policy();
  required.base_sha256.clear();
  required.base_requirement = {std::string(64, 'c'), 2, 7};
  write("base-requirement.bin", blob_of(required));
}

}  // namespace
}  // namespace nestbox::policy

namespace nestbox::policy {
namespace {

// Hand-made programs for the structural BPF check (x86_64, little-endian).
std::vector<uint8_t> program(std::initializer_list<wire::BpfInsn> insns) {
  std::vector<uint8_t> out;
  for (const wire::BpfInsn& in : insns) {
    uint8_t b[8] = {uint8_t(in.code), uint8_t(in.code >> 8), in.jt, in.jf,
                    uint8_t(in.k), uint8_t(in.k >> 8), uint8_t(in.k >> 16), uint8_t(in.k >> 24)};
    out.insert(out.end(), b, b + 8);
  }
  return out;
}

std::string bpf_error(const std::vector<uint8_t>& bpf) {
  Policy p = testing::full_policy();
  p.arch = "x86_64";
  p.seccomp.bpf = bpf;
  auto r = encode(p);
  if (r.ok()) return "(accepted)";
  std::string m = r.error().message;
  return m.substr(m.find("seccomp"));
}

TEST(PolicyFormat, SeccompProgramIsCheckedLikeTheKernelWould) {
  constexpr uint32_t kArch = 0xc000003e;  // AUDIT_ARCH_X86_64
  const wire::BpfInsn ld_arch{0x20, 0, 0, 4}, jeq_arch{0x15, 1, 0, kArch}, kill{0x06, 0, 0, 0x80000000u},
      allow{0x06, 0, 0, 0x7fff0000u};
  EXPECT_EQ(bpf_error(program({ld_arch, jeq_arch, kill, allow})), "(accepted)");
  EXPECT_EQ(bpf_error(program({ld_arch, {0x15, 1, 0, 0x40000028}, kill, allow})),
            "seccomp.bpf[1]: program does not check the policy's architecture first");
  EXPECT_EQ(bpf_error(program({{0x20, 0, 0, 0}, jeq_arch, kill, allow})),
            "seccomp.bpf[0]: program does not start by loading seccomp_data.arch");
  EXPECT_EQ(bpf_error(program({ld_arch, {0x15, 5, 0, kArch}, kill, allow})),
            "seccomp.bpf[1]: jump beyond the program");
  EXPECT_EQ(bpf_error(program({ld_arch, jeq_arch, kill, {0x20, 0, 0, 64}, allow})),
            "seccomp.bpf[3]: load outside struct seccomp_data");
  EXPECT_EQ(bpf_error(program({ld_arch, jeq_arch, kill, {0x94, 0, 0, 3}, allow})),  // BPF_ALU|BPF_MOD|BPF_K
            "seccomp.bpf[3]: instruction not allowed in a seccomp filter");
  EXPECT_EQ(bpf_error(program({ld_arch, jeq_arch, allow, {0x20, 0, 0, 0}})),
            "seccomp.bpf[3]: program does not end with a return");
  EXPECT_EQ(bpf_error(program({ld_arch, jeq_arch, {0x02, 0, 0, 16}, allow})),  // BPF_ST to M[16]
            "seccomp.bpf[2]: scratch memory index out of range");
}

}  // namespace
}  // namespace nestbox::policy

namespace nestbox::policy {
namespace {

// Version 4, section 12: the firewall (docs/policy-format.md, "Firewall section").
Policy firewalled() {
  Policy p = full_policy();
  Interface veth;
  veth.type = IfType::kVeth;
  veth.name = "eth0";
  veth.bridge = "br-nas";
  veth.addresses = {"10.10.0.2/24"};
  p.interfaces = {veth};
  p.firewall.enabled = true;
  p.firewall.masquerade = true;
  p.firewall.allow_out = kZoneHost | kZoneWan;
  p.firewall.lan = {"br-lan"};
  p.firewall.wan = {"eth1", "pppoe-wan"};
  p.firewall.allow_in = {{"eth0", FwProtocol::kTcp, kZoneLan | kZoneHost, {80, 873}},
                         {"eth0", FwProtocol::kIcmp, kZoneHost, {}}};
  return p;
}

TEST(PolicyFormat, FirewallRoundTrip) {
  Policy p = firewalled();
  std::vector<uint8_t> b = blob_of(p);
  auto out = decode(b);
  ASSERT_TRUE(out.ok()) << out.error().message;
  const Firewall& f = out->firewall;
  EXPECT_TRUE(f.enabled);
  EXPECT_TRUE(f.masquerade);
  EXPECT_EQ(f.allow_out, kZoneHost | kZoneWan);
  EXPECT_EQ(f.lan, (std::vector<std::string>{"br-lan"}));
  EXPECT_EQ(f.wan, (std::vector<std::string>{"eth1", "pppoe-wan"}));
  ASSERT_EQ(f.allow_in.size(), 2u);
  EXPECT_EQ(f.allow_in[0].interface, "eth0");
  EXPECT_EQ(f.allow_in[0].protocol, FwProtocol::kTcp);
  EXPECT_EQ(f.allow_in[0].from, kZoneLan | kZoneHost);
  EXPECT_EQ(f.allow_in[0].ports, (std::vector<uint16_t>{80, 873}));
  EXPECT_EQ(f.allow_in[1].protocol, FwProtocol::kIcmp);
  EXPECT_TRUE(f.allow_in[1].ports.empty());
  EXPECT_EQ(encode(*out).value(), b);
  // Without a firewall the section is 6 bytes of zeros (empty lists).
  EXPECT_FALSE(decode(blob_of(full_policy()))->firewall.enabled);
}

TEST(PolicyFormat, FirewallRefusals) {
  struct Case {
    const char* name;
    void (*mutate)(Policy&);
    const char* error;
  } cases[] = {
      {"macvlan on a parent in no zone", [](Policy& p) {
         p.interfaces[0].type = IfType::kMacvlan; p.interfaces[0].parent = "eth0"; p.interfaces[0].bridge.clear();
         p.caps.keep &= ~(1ull << 12); },
       "firewall.lan: the parent 'eth0' of interface 'eth0' is in no zone"},
      {"macvlan with CAP_NET_ADMIN", [](Policy& p) {
         p.interfaces[0].type = IfType::kMacvlan; p.interfaces[0].parent = "br-lan"; p.interfaces[0].bridge.clear();
         p.caps.keep |= 1ull << 12; },
       "firewall.enabled: a macvlan/vlan/phys interface is filtered in the container's namespace, which CAP_NET_ADMIN (kept) could undo"},
      {"macvlan with CAP_NET_RAW", [](Policy& p) {
         p.interfaces[0].type = IfType::kMacvlan; p.interfaces[0].parent = "br-lan"; p.interfaces[0].bridge.clear();
         p.caps.keep &= ~(1ull << 12); p.caps.keep |= 1ull << 13; },
       "firewall.enabled: a macvlan/vlan/phys interface is filtered in the container's namespace, which CAP_NET_RAW (kept: packet sockets) bypasses"},
      {"masquerade of a macvlan", [](Policy& p) {
         p.interfaces[0].type = IfType::kMacvlan; p.interfaces[0].parent = "br-lan"; p.interfaces[0].bridge.clear();
         p.caps.keep &= ~(1ull << 12); },
       "firewall.masquerade: set without a veth interface to NAT"},
      {"macvlan from a zone it is not on", [](Policy& p) {
         p.interfaces[0].type = IfType::kMacvlan; p.interfaces[0].parent = "br-lan"; p.interfaces[0].bridge.clear();
         p.caps.keep &= ~(1ull << 12); p.firewall.masquerade = false; p.firewall.allow_in[0].from = kZoneWan; },
       "firewall.allow_in[0].from: never matches: 'eth0' is on a segment of a zone it does not name"},
      {"masquerade without wan", [](Policy& p) { p.firewall.wan.clear(); p.firewall.allow_out = kZoneHost; },
       "firewall.wan: masquerade and allow_out wan need wan devices"},
      {"unknown interface", [](Policy& p) { p.firewall.allow_in[0].interface = "eth9"; },
       "firewall.allow_in[0].interface: no interface 'eth9' in the network section"},
      {"bridged into the lan", [](Policy& p) { p.firewall.lan = {"br-nas"}; },
       "firewall.allow_in[0].interface: 'eth0' is bridged into the zone device 'br-nas': its traffic is not routed by the host"},
      {"icmp with ports", [](Policy& p) { p.firewall.allow_in[1].ports = {1}; }, "firewall.allow_in[1].ports: icmp takes no ports"},
      {"tcp without ports", [](Policy& p) { p.firewall.allow_in[0].ports.clear(); }, "firewall.allow_in[0].ports: tcp and udp need ports"},
      {"port 0", [](Policy& p) { p.firewall.allow_in[0].ports[1] = 0; }, "firewall.allow_in[0].ports[1]: port 0"},
      {"no zone", [](Policy& p) { p.firewall.allow_in[0].from = 0; }, "firewall.allow_in[0].from: must name 1..3 known zones"},
      {"unknown zone bit", [](Policy& p) { p.firewall.allow_out = 8; }, "firewall.allow_out: unknown zone bits"},
      {"rules without a firewall", [](Policy& p) { p.firewall.enabled = false; p.firewall.masquerade = false; },
       "firewall.allow_out: set without a firewall"},
  };
  for (const Case& c : cases) {
    Policy p = firewalled();
    c.mutate(p);
    auto blob = encode(p);
    ASSERT_FALSE(blob.ok()) << c.name;
    EXPECT_NE(blob.error().message.find(c.error), std::string::npos) << c.name << ": " << blob.error().message;
  }
}

}  // namespace
}  // namespace nestbox::policy
