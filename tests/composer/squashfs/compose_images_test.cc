// `nestbox compose` with the squashfs and overlay strategies, end to end
// through the CLI: every image is loop-mounted by the kernel (overlays as
// overlay(lowerdir = layer:base)) and compared with the container's selected
// tree; unsquashfs -lln agrees; outputs are reproducible across runs and
// thread counts; a warm cache recompresses only what changed; corrupt cache
// entries are rebuilt; faults leave previous images untouched; an overlay
// container's policy pins the SHA-256 of its padded base.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "composer/compose.h"
#include "composer/content_index.h"
#include "composer/output_layout.h"
#include "composer/squashfs/fs_tree_from_directory.h"
#include "manifests/manifest.h"
#include "tests/composer/squashfs/test_support.h"

namespace nestbox::composer::squashfs {
namespace {

using testing::diff_trees;
using testing::file_bytes;
using testing::Mount;
using testing::run;
using testing::scan;
using testing::TempDir;
using testing::write_file;
using testing::write_text;
namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kEpoch = "1700000000";

std::string nestbox() { return std::string(NESTBOX_BINARY_DIR) + "/cli/nestbox"; }

std::string manifest(const std::string& name, const std::string& rootfs,
                     const std::string& extra = "") {
  return "schema = 1\nname = \"" + name +
         "\"\nversion = 1\narch = \"x86_64\"\ncompat = \"test\"\n"
         "[process]\ncommand = [\"/bin/busybox\", \"true\"]\n"
         "[rootfs]\n" + rootfs +
         "\nbinaries = [\"/bin/busybox\"]\n[[rootfs.source]]\npath = \"staging\"\n" + extra;
}

// A small router-like staging rootfs: static busybox, config files with
// xattrs and odd owners/modes, symlinks, a multi-block file and small files.
void make_staging(const std::string& s) {
  fs::create_directories(s + "/bin");
  fs::copy_file("/usr/bin/busybox", s + "/bin/busybox");
  ::chmod((s + "/bin/busybox").c_str(), 0755);
  fs::create_symlink("busybox", s + "/bin/sh");
  write_text(s + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/srv:/bin/sh\n");
  write_text(s + "/etc/app.conf", "listen = 8080\n");
  ASSERT_EQ(::setxattr((s + "/etc/app.conf").c_str(), "user.nestbox", "conf", 4, 0), 0);
  ASSERT_EQ(::setxattr((s + "/etc/app.conf").c_str(), "security.nestbox", "sec", 3, 0), 0);
  write_text(s + "/etc/shadow", "root:*:19000::::::\n");
  ::chmod((s + "/etc/shadow").c_str(), 0600);
  ASSERT_EQ(::chown((s + "/etc/shadow").c_str(), 0, 42), 0);
  write_file(s + "/usr/share/data/big.txt", 700 * 1024, 7);
  for (int i = 0; i < 24; ++i)
    write_file(s + "/usr/share/data/small" + std::to_string(i) + ".txt", 1000 + 517 * i, 100 + i);
  fs::create_symlink("big.txt", s + "/usr/share/data/link");
  fs::create_directories(s + "/srv/app");
  write_text(s + "/srv/app/state", "idle\n");
  ASSERT_EQ(::chown((s + "/srv/app").c_str(), 1000, 1000), 0);
  ASSERT_EQ(::chown((s + "/srv/app/state").c_str(), 1000, 1000), 0);
  // A hard link: the images keep the two names one inode.
  ASSERT_EQ(::link((s + "/srv/app/state").c_str(), (s + "/srv/app/state.link").c_str()), 0);
}

// The example set in small: two standalone images (gzip, xz with extras and a
// device node), two containers over a named base (one with shifted owners)
// and one over the automatic base.
void write_manifests(const std::string& dir) {
  write_text(dir + "/hello.toml",
             manifest("hello", "strategy = \"squashfs\"\ncompressor = \"gzip\"",
                      "[[rootfs.dir]]\npath = \"/proc\"\n[[rootfs.dir]]\npath = \"/tmp\"\n"
                      "[users]\nnamespace = true\n"
                      "uid_map = [{ inside = 0, outside = 100000, count = 65536 }]\n"
                      "gid_map = [{ inside = 0, outside = 100000, count = 65536 }]\n"
                      "shift_ownership = true\n"));
  write_text(dir + "/nas.toml",
             manifest("nas",
                      "strategy = \"squashfs\"\ncompressor = \"xz\"\n"
                      "include = [\"/etc/**\", \"/usr/share/**\", \"/bin/sh\", \"/srv/**\"]",
                      "[[rootfs.file]]\npath = \"/etc/rsyncd.conf\"\ncontent = \"[share]\\n\"\n"
                      "[[rootfs.symlink]]\npath = \"/etc/localtime\"\ntarget = \"/usr/share/data/link\"\n"
                      "[[rootfs.device]]\npath = \"/dev/null\"\ntype = \"char\"\nmajor = 1\nminor = 3\n"
                      "mode = 0o666\n"));
  write_text(dir + "/app1.toml",
             manifest("app1",
                      "strategy = \"overlay\"\nbase = \"appbase\"\ncompressor = \"xz\"\n"
                      "include = [\"/usr/share/**\", \"/etc/passwd\"]",
                      "[[rootfs.file]]\npath = \"/www/index.html\"\ncontent = \"one\\n\"\n"));
  write_text(dir + "/app2.toml",
             manifest("app2",
                      "strategy = \"overlay\"\nbase = \"appbase\"\ncompressor = \"xz\"\n"
                      "include = [\"/usr/share/data/big.txt\", \"/etc/app.conf\"]",
                      "[[rootfs.file]]\npath = \"/www/index.html\"\ncontent = \"two\\n\"\n"));
  write_text(dir + "/solo.toml",
             manifest("solo", "strategy = \"overlay\"\ncompressor = \"gzip\"\ninclude = [\"/etc/**\"]",
                      "[[rootfs.dir]]\npath = \"/opt\"\n[[rootfs.file]]\npath = \"/opt/solo\"\n"
                      "content = \"solo\\n\"\n"));
}

const char* kAll = "hello.toml nas.toml app1.toml app2.toml solo.toml";

class ComposeImagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("SOURCE_DATE_EPOCH", kEpoch, 1);
    make_staging(tmp_ / "staging");
    write_manifests(tmp_.path());
  }

  // Runs nestbox compose in the manifest directory; returns the JSON report.
  json compose(const std::string& args, int want_status = 0, std::string* output = nullptr) {
    auto r = run("cd " + tmp_.path() + " && SOURCE_DATE_EPOCH=" + kEpoch + " " + nestbox() +
                 " compose --json " + args + " 2>&1");
    if (output) *output = r.output;
    EXPECT_EQ(r.status, want_status) << r.output;
    if (r.status != 0) return {};
    try {
      return json::parse(r.output);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "bad JSON: " << r.output;
      return {};
    }
  }

  // The container's selected tree, as the composer decides it.
  FsTree expected(const std::string& name) {
    auto m = manifests::load_file(tmp_ / (name + ".toml"));
    EXPECT_TRUE(m.ok()) << m.error().message;
    manifests_.push_back(std::make_unique<manifests::Manifest>(std::move(*m)));
    std::vector<std::string> notes;
    auto c = prepare_container(*manifests_.back(), tmp_ / ("scratch-" + name), 1700000000, &notes);
    EXPECT_TRUE(c.ok()) << c.error().message;
    std::vector<FsTree*> trees{&c->tree};
    auto idx = ContentIndex::build(trees, 1);
    EXPECT_TRUE(idx.ok());
    // The index reads only sizes that repeat; the comparison with the
    // mounted image wants every file's bytes.
    for (auto& e : c->tree.entries)
      if (e.type == EntryType::kRegular && e.hash == ContentHash{} && e.size > 0) {
        auto h = composer::hash_file(e.source_path, nullptr);
        EXPECT_TRUE(h.ok());
        if (h.ok()) e.hash = *h;
      }
    return std::move(c->tree);
  }

  TempDir tmp_;
  std::vector<std::unique_ptr<manifests::Manifest>> manifests_;
};

json image(const json& report, const std::string& name, const std::string& kind) {
  for (const auto& i : report["images"])
    if (i["name"] == name && i["kind"] == kind) return i;
  ADD_FAILURE() << "no " << kind << " image " << name;
  return {};
}

// unsquashfs -lln, parsed: path -> "perms uid/gid [size] [-> target]".
std::map<std::string, std::string> unsquashfs_listing(const std::string& img) {
  auto r = run("unsquashfs -lln -d /ROOT " + img + " 2>&1");
  EXPECT_EQ(r.status, 0) << r.output;
  std::map<std::string, std::string> out;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    std::istringstream l(line);
    std::string perms, owner, size, date, time;
    if (!(l >> perms >> owner) || perms.size() != 10) continue;
    if (perms[0] == 'c' || perms[0] == 'b') {
      std::string minor;
      l >> size >> minor;  // "1," "3"
      size += minor;
    } else {
      l >> size;
    }
    l >> date >> time;
    std::string rest;
    std::getline(l, rest);
    rest = rest.substr(1);
    std::string path = rest, target;
    if (auto arrow = rest.find(" -> "); arrow != std::string::npos) {
      path = rest.substr(0, arrow);
      target = rest.substr(arrow + 4);
    }
    path = path.substr(5);  // "/ROOT"
    if (path.empty()) path = "/";
    if (perms[0] == 'd') size = "";  // directory sizes differ in meaning
    out[path] = perms + " " + owner + " " + size + (target.empty() ? "" : " -> " + target);
  }
  return out;
}

// The same listing from a tree (what the image should hold).
std::map<std::string, std::string> listing_of(const FsTree& t) {
  std::map<std::string, std::string> out;
  for (const auto& e : t.entries) {
    char type = '-';
    switch (e.type) {
      case EntryType::kDirectory: type = 'd'; break;
      case EntryType::kSymlink: type = 'l'; break;
      case EntryType::kCharDevice: type = 'c'; break;
      case EntryType::kBlockDevice: type = 'b'; break;
      case EntryType::kFifo: type = 'p'; break;
      case EntryType::kSocket: type = 's'; break;
      default: break;
    }
    std::string p(1, type);
    const char* rwx = "rwxrwxrwx";
    for (int b = 8; b >= 0; --b) p += (e.mode >> b) & 1 ? rwx[8 - b] : '-';
    if (e.mode & 04000) p[3] = (e.mode & 0100) ? 's' : 'S';
    if (e.mode & 02000) p[6] = (e.mode & 010) ? 's' : 'S';
    if (e.mode & 01000) p[9] = (e.mode & 01) ? 't' : 'T';
    std::string size;
    if (e.type == EntryType::kRegular) size = std::to_string(e.size);
    if (e.type == EntryType::kSymlink) size = std::to_string(e.link_target.size());
    if (e.type == EntryType::kCharDevice || e.type == EntryType::kBlockDevice)
      size = std::to_string(e.rdev_major) + "," + std::to_string(e.rdev_minor);
    out[e.path] = p + " " + std::to_string(e.uid) + "/" + std::to_string(e.gid) + " " + size +
                  (e.type == EntryType::kSymlink ? " -> " + e.link_target : "");
  }
  return out;
}

void expect_image_holds(const std::string& img, const FsTree& want, const std::string& mnt) {
  fs::create_directories(mnt);
  Mount m("squashfs", img, mnt, "loop,ro");
  ASSERT_TRUE(m.ok()) << m.error();
  FsTree got = scan(mnt);
  EXPECT_EQ(diff_trees(want, got), "") << img;
  EXPECT_EQ(testing::diff_links(want, got), "") << img;
  EXPECT_EQ(unsquashfs_listing(img), listing_of(want)) << img;
}

TEST_F(ComposeImagesTest, EveryImageMountsAndMatchesItsSelectedTree) {
  json r = compose("--out out " + std::string(kAll));
  ASSERT_FALSE(r.is_null());
  ASSERT_EQ(r["images"].size(), 7u);  // hello, nas, appbase + 2 layers, auto-base + 1 layer
  for (const char* name : {"hello", "nas"}) {
    SCOPED_TRACE(name);
    std::string img = OutputLayout(tmp_ / "out").squashfs(name);
    EXPECT_EQ(image(r, name, "squashfs")["path"], "out/" + std::string(name) + ".sqfs");
    EXPECT_EQ(fs::file_size(img) % 4096, 0u);
    expect_image_holds(img, expected(name), tmp_ / ("mnt-" + std::string(name)));
    // The staging's hard link is one inode in the image, also for unsquashfs
    // (nas selects /srv/**; hello only busybox's closure).
    if (std::string(name) != "nas") continue;
    std::string x = tmp_ / ("x-" + std::string(name));
    auto un = run("unsquashfs -no-progress -d " + x + " " + img + " 2>&1");
    ASSERT_EQ(un.status, 0) << un.output;
    struct stat a {}, b {};
    ASSERT_EQ(::lstat((x + "/srv/app/state").c_str(), &a), 0);
    ASSERT_EQ(::lstat((x + "/srv/app/state.link").c_str(), &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino);
    EXPECT_EQ(a.st_nlink, 2u);
  }
  EXPECT_EQ(image(r, "hello", "squashfs")["compressor"], "gzip");
  EXPECT_EQ(image(r, "nas", "squashfs")["compressor"], "xz");
  auto sb = run("unsquashfs -s " + (tmp_ / "out/hello.sqfs") + " 2>&1");
  EXPECT_NE(sb.output.find("Compression gzip"), std::string::npos) << sb.output;

  // Overlays: overlay(lowerdir = layer:base) is the container's whole tree.
  json appbase = image(r, "appbase", "base");
  EXPECT_EQ(appbase["containers"], json::array({"app1", "app2"}));
  EXPECT_EQ(image(r, "auto-base", "base")["containers"], json::array({"solo"}));
  const OutputLayout out(tmp_ / "out");
  for (auto [name, base] : {std::pair{"app1", "appbase"}, {"app2", "appbase"}, {"solo", "auto-base"}}) {
    SCOPED_TRACE(name);
    std::string layer = out.layer(name);
    std::string base_img = out.base(base);
    EXPECT_EQ(image(r, name, "layer")["base"], base);
    std::string lm = tmp_ / ("lm-" + std::string(name)), bm = tmp_ / ("bm-" + std::string(name)),
                om = tmp_ / ("om-" + std::string(name));
    for (const auto& d : {lm, bm, om}) fs::create_directories(d);
    Mount l("squashfs", layer, lm, "loop,ro");
    Mount b("squashfs", base_img, bm, "loop,ro");
    ASSERT_TRUE(l.ok() && b.ok()) << l.error() << b.error();
    // Each image agrees with unsquashfs.
    EXPECT_EQ(unsquashfs_listing(layer), listing_of(scan(lm)));
    EXPECT_EQ(unsquashfs_listing(base_img), listing_of(scan(bm)));
    Mount o("overlay", "overlay", om, "ro,lowerdir=" + lm + ":" + bm);
    ASSERT_TRUE(o.ok()) << o.error();
    FsTree want = expected(name);
    EXPECT_EQ(diff_trees(want, scan(om)), "");
  }
  // The base holds what is shared; a layer only the container's own.
  auto base = unsquashfs_listing(out.base("appbase"));
  auto app1 = unsquashfs_listing(out.layer("app1"));
  auto app2 = unsquashfs_listing(out.layer("app2"));
  EXPECT_TRUE(base.count("/bin/busybox"));
  EXPECT_FALSE(app1.count("/bin/busybox"));
  EXPECT_TRUE(app1.count("/www/index.html"));
  EXPECT_FALSE(app2.count("/bin/busybox"));
  EXPECT_TRUE(base.count("/usr/share/data/big.txt"));  // in both
  EXPECT_FALSE(base.count("/etc/app.conf"));           // app2's only
  EXPECT_TRUE(app2.count("/etc/app.conf"));
  auto hello = unsquashfs_listing(out.squashfs("hello"));
  EXPECT_EQ(hello["/bin/busybox"].substr(11, 13), "100000/100000");  // shifted owners
  auto solo_base = unsquashfs_listing(out.base("auto-base"));
  EXPECT_TRUE(solo_base.count("/etc/app.conf"));
  EXPECT_FALSE(solo_base.count("/opt/solo"));  // manifest extras stay in the layer
}

std::string padded_sha256_sh(const std::string& file) {
  auto r = run("f=" + file + "; n=$(stat -c %s $f); pad=$(( (4096 - n % 4096) % 4096 )); "
               "{ cat $f; head -c $pad /dev/zero; } | sha256sum | cut -d' ' -f1");
  return r.output.substr(0, 64);
}

std::string policy_base_sha(const std::string& policy) {
  auto r = run(nestbox() + " inspect " + policy + " 2>&1");
  auto at = r.output.find("rootfs.base_sha256 = \"");
  if (at == std::string::npos) return "(none) " + r.output;
  return r.output.substr(at + 22, 64);
}

TEST_F(ComposeImagesTest, OverlayPolicyPinsThePaddedBaseDigest) {
  for (const char* pad : {"", "--no-pad"}) {
    SCOPED_TRACE(pad);
    std::string out = std::string("out") + pad;
    json r = compose("--out " + out + " " + pad + " app1.toml app2.toml solo.toml");
    ASSERT_FALSE(r.is_null());
    const OutputLayout layout(tmp_ / out);
    std::string base = layout.base("appbase");
    if (*pad) {
      EXPECT_NE(fs::file_size(base) % 4096, 0u) << "unpadded base happens to be aligned";
    }
    std::string want = padded_sha256_sh(base);
    EXPECT_EQ(image(r, "appbase", "base")["payload_sha256"], want);
    EXPECT_EQ(policy_base_sha(layout.policy("app1")), want);
    EXPECT_EQ(policy_base_sha(layout.policy("app2")), want);
    std::string solo = padded_sha256_sh(layout.base("auto-base"));
    EXPECT_EQ(policy_base_sha(layout.policy("solo")), solo);
    auto ins = run(nestbox() + " inspect " + layout.policy("solo"));
    EXPECT_NE(ins.output.find("rootfs.base = \"auto-base\""), std::string::npos) << ins.output;
  }
}

// sha256 of every file under `dir` (images and runtime forms), by relative path.
std::map<std::string, std::string> digests(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() != "lxc.conf")  // lxc.conf names its own dir
      out[fs::relative(e.path(), dir).string()] =
          run("sha256sum " + e.path().string() + " | cut -d' ' -f1").output;
  return out;
}

TEST_F(ComposeImagesTest, ReproducibleAcrossRunsAndThreadCounts) {
  compose("--out a --threads 1 " + std::string(kAll));
  compose("--out b --threads 2 " + std::string(kAll));
  compose("--out c --threads 2 --cache cache " + std::string(kAll));
  compose("--out d --threads 1 --cache cache " + std::string(kAll));  // warm
  auto a = digests(tmp_ / "a");
  // 7 images; policy.bin and config.json per container, and lxc.seccomp for
  // the four in the host's user namespace (the keyring guard is a filter,
  // manifests/effective_seccomp.h).
  EXPECT_EQ(a.size(), 7u + 5 * 2u + 4u) << "7 images, policy.bin and config.json per container, 4 lxc.seccomp";
  EXPECT_EQ(a, digests(tmp_ / "b"));
  EXPECT_EQ(a, digests(tmp_ / "c"));
  EXPECT_EQ(a, digests(tmp_ / "d"));
}

// A manifest set without host binaries, so its images are the same on every
// machine with this libsquashfs/zlib: a golden hash.
TEST_F(ComposeImagesTest, GoldenHash) {
  write_text(tmp_ / "g/staging/etc/motd", "golden\n");
  write_file(tmp_ / "g/staging/usr/share/blob", 300000, 3);
  write_text(tmp_ / "g/g.toml",
             "schema = 1\nname = \"g\"\nversion = 1\narch = \"x86_64\"\ncompat = \"t\"\n"
             "[process]\ncommand = [\"/bin/true\"]\n[rootfs]\nstrategy = \"squashfs\"\n"
             "compressor = \"gzip\"\n[[rootfs.source]]\npath = \"staging\"\n");
  ::chmod((tmp_ / "g/staging/usr/share/blob").c_str(), 0644);
  for (const char* threads : {"1", "2"}) {
    auto r = run("cd " + (tmp_ / "g") + " && SOURCE_DATE_EPOCH=1700000000 " + nestbox() +
                 " compose --out out" + threads + " --threads " + threads + " g.toml 2>&1");
    ASSERT_EQ(r.status, 0) << r.output;
    auto h = run("sha256sum " + (tmp_ / "g/out") + threads + "/g.sqfs | cut -d' ' -f1");
    EXPECT_EQ(h.output, "2a7b6f1fa67a664bc6f0a20fbb0e562b79384318f4e7f12923de34ce6ba55480\n") << "threads " << threads;
  }
}

std::string per_image(const json& report) {
  std::string s;
  for (const auto& i : report["images"])
    s += i["name"].get<std::string>() + "/" + i["kind"].get<std::string>() + ": " +
         std::to_string(i["blocks_compressed"].get<uint64_t>()) + " compressed, " +
         std::to_string(i["fragment_blocks"].get<uint64_t>() -
                        i["fragment_blocks_from_cache"].get<uint64_t>()) +
         " fragment blocks compressed\n";
  return s;
}

TEST_F(ComposeImagesTest, WarmCacheRecompressesOnlyTheTouchedFile) {
  json cold = compose("--out out --cache cache " + std::string(kAll));
  ASSERT_FALSE(cold.is_null());
  // Touch one multi-block file (700 KiB: 5 full 128 KiB blocks + a tail).
  std::string big = tmp_ / "staging/usr/share/data/big.txt";
  std::string bytes = file_bytes(big);
  bytes[300000] ^= 1;
  write_text(big, bytes);
  json warm = compose("--out out --cache cache " + std::string(kAll));
  ASSERT_FALSE(warm.is_null());
  // Every build with --cache keeps it within --cache-max-size (default 1G).
  EXPECT_EQ(warm["block_cache_gc"]["max_bytes"], 1ull << 30);
  EXPECT_EQ(warm["block_cache_gc"]["evicted_entries"], 0);
  uint64_t compressed = 0, fragments = 0;
  for (const auto& i : warm["images"]) {
    compressed += i["blocks_compressed"].get<uint64_t>();
    fragments += i["fragment_blocks"].get<uint64_t>() - i["fragment_blocks_from_cache"].get<uint64_t>();
    EXPECT_EQ(i["cache_corrupt"], 0);
  }
  // big.txt is in nas and in app1/app2's shared base (xz, 128 KiB): its 5
  // full blocks are compressed once (the store is keyed by file content) and
  // reused in the other image; its tail (unchanged) and every other file come
  // from the cache.
  EXPECT_EQ(compressed, 700u * 1024 / (128 * 1024)) << per_image(warm);
  EXPECT_LE(fragments, 1u) << per_image(warm);
  uint64_t cold_compressed = 0;
  for (const auto& i : cold["images"]) cold_compressed += i["blocks_compressed"].get<uint64_t>();
  EXPECT_GT(cold_compressed, 20u);
  // The warm images are the images a cold build of the new content gives.
  json fresh = compose("--out fresh " + std::string(kAll));
  EXPECT_EQ(digests(tmp_ / "out"), digests(tmp_ / "fresh"));
}

TEST_F(ComposeImagesTest, CorruptCacheEntryIsDetectedAndRebuilt) {
  compose("--out out --cache cache hello.toml nas.toml");
  std::vector<std::string> entries;
  for (const auto& e : fs::recursive_directory_iterator(tmp_ / "cache"))
    if (e.is_regular_file()) entries.push_back(e.path());
  ASSERT_FALSE(entries.empty());
  std::sort(entries.begin(), entries.end());
  for (size_t i = 0; i < entries.size(); i += 3) {  // every third entry
    std::string b = file_bytes(entries[i]);
    b[b.size() / 2] ^= 0x55;
    write_text(entries[i], b);
  }
  json r = compose("--out again --cache cache hello.toml nas.toml");
  ASSERT_FALSE(r.is_null());
  uint64_t corrupt = 0;
  for (const auto& i : r["images"]) corrupt += i["cache_corrupt"].get<uint64_t>();
  EXPECT_GE(corrupt, 1u);
  EXPECT_GE(r["block_store"]["corrupt"].get<uint64_t>(), 1u);
  EXPECT_EQ(digests(tmp_ / "out"), digests(tmp_ / "again"));
  // Rebuilt: a third run finds no corrupt entry.
  json third = compose("--out third --cache cache hello.toml nas.toml");
  EXPECT_EQ(third["block_store"]["corrupt"], 0);
}

TEST_F(ComposeImagesTest, CompressorTheKernelLacksIsRefused) {
  compose("--out out hello.toml nas.toml");
  std::string before = file_bytes(tmp_ / "out/nas.sqfs");
  write_text(tmp_ / "kconfig", "# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_SQUASHFS=y\n"
                               "CONFIG_SQUASHFS_ZLIB=y\n# CONFIG_SQUASHFS_XZ is not set\n");
  std::string out;
  compose("--out out --kernel-config kconfig hello.toml nas.toml", 2, &out);
  EXPECT_NE(out.find("xz"), std::string::npos) << out;
  EXPECT_NE(out.find("CONFIG_SQUASHFS_XZ"), std::string::npos) << out;
  EXPECT_EQ(file_bytes(tmp_ / "out/nas.sqfs"), before);
  // With a config that has it, the same run succeeds.
  write_text(tmp_ / "kconfig2", "CONFIG_SQUASHFS=y\nCONFIG_SQUASHFS_ZLIB=y\nCONFIG_SQUASHFS_XZ=m\n");
  compose("--out out --kernel-config kconfig2 hello.toml nas.toml");
  // Without squashfs at all.
  write_text(tmp_ / "kconfig3", "# CONFIG_SQUASHFS is not set\n");
  compose("--out out --kernel-config kconfig3 hello.toml", 2, &out);
  EXPECT_NE(out.find("CONFIG_SQUASHFS is not set"), std::string::npos) << out;
}

TEST_F(ComposeImagesTest, NoSpaceLeavesThePreviousImagesUntouched) {
  std::string out = tmp_ / "small";
  fs::create_directories(out);
  Mount m("tmpfs", "tmpfs", out, "size=3m");
  ASSERT_TRUE(m.ok()) << m.error();
  compose("--out small hello.toml");
  std::string before = file_bytes(out + "/hello.sqfs");
  ASSERT_FALSE(before.empty());
  // Incompressible bytes that no longer fit.
  run("head -c 2500000 /dev/urandom > " + (tmp_ / "staging/bin/noise"));
  write_text(tmp_ / "hello.toml",
             manifest("hello", "strategy = \"squashfs\"\ncompressor = \"gzip\"\n"
                               "include = [\"/bin/noise\"]"));
  std::string msg;
  compose("--out small hello.toml", 1, &msg);
  EXPECT_NE(msg.find("No space left on device"), std::string::npos) << msg;
  EXPECT_NE(msg.find("hello.sqfs"), std::string::npos) << msg;
  EXPECT_EQ(file_bytes(out + "/hello.sqfs"), before);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(out)) left.push_back(e.path().filename());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"hello.sqfs", "runtime"}));
}

}  // namespace
}  // namespace nestbox::composer::squashfs

namespace nestbox::composer::squashfs {
namespace {

// plan --measure reports the flash of exactly the images compose writes.
TEST_F(ComposeImagesTest, PlanMeasuresTheImagesComposeWrites) {
  json overlay = compose("--out ov app1.toml app2.toml");
  json standalone = compose("--out sq --strategy squashfs app1.toml app2.toml");
  uint64_t ov = 0, sq = 0;
  for (const auto& i : overlay["images"]) ov += i["image_size"].get<uint64_t>();
  for (const auto& i : standalone["images"]) sq += i["image_size"].get<uint64_t>();
  auto r = run("cd " + tmp_.path() + " && " + nestbox() + " plan --measure --json app1.toml app2.toml");
  ASSERT_EQ(r.status, 0) << r.output;
  json p = json::parse(r.output);
  EXPECT_EQ(p["measured_overlay_bytes"], ov);
  EXPECT_EQ(p["measured_squashfs_bytes"], sq);
  EXPECT_EQ(p["overlay_saving_bytes"].get<int64_t>(), static_cast<int64_t>(sq) - static_cast<int64_t>(ov));
  EXPECT_TRUE(p["overlay_saving_measured"].get<bool>());
  EXPECT_GT(sq, ov);  // busybox and big.txt stored once
  auto text = run("cd " + tmp_.path() + " && " + nestbox() + " plan app1.toml app2.toml");
  EXPECT_NE(text.output.find("overlay vs standalone squashfs: saves"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("estimate"), std::string::npos) << text.output;
}

// plan --measure also runs the containers' reads through each real layout:
// the overlay base mounted once and the hardlinked tree are shared in the
// page cache, standalone images are not; every container has a cold read
// time; manageability counts the images compose writes and signs.
TEST_F(ComposeImagesTest, PlanMeasuresSharedMemoryColdReadsAndUpgrades) {
  json overlay = compose("--out ov app1.toml app2.toml");
  json standalone = compose("--out sq --strategy squashfs app1.toml app2.toml");
  std::map<std::string, uint64_t> layer_bytes, image_bytes;
  for (const auto& i : overlay["images"])
    if (i["kind"] == "layer") layer_bytes[i["name"]] = i["image_size"];
  for (const auto& i : standalone["images"]) image_bytes[i["name"]] = i["image_size"];
  ASSERT_EQ(layer_bytes.size(), 2u) << overlay.dump();
  auto r = run("cd " + tmp_.path() + " && " + nestbox() + " plan --measure --json app1.toml app2.toml");
  ASSERT_EQ(r.status, 0) << r.output;
  json p = json::parse(r.output);
  std::map<std::string, json> row;
  for (const auto& s : p["strategies"]) row[s["strategy"]] = s;
  const uint64_t busybox = fs::file_size("/usr/bin/busybox");

  for (const char* name : {"squashfs", "overlay", "host-hardlink", "tree"}) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(row[name].contains("runtime")) << row[name].dump();
    const json& rt = row[name]["runtime"];
    // Both containers read busybox at least.
    EXPECT_GE(rt["bytes_read"].get<uint64_t>(), 2 * busybox);
    EXPECT_GT(rt["file_cache_bytes"].get<uint64_t>(), busybox);
    EXPECT_EQ(rt["shared_bytes"].get<uint64_t>() + rt["file_cache_bytes"].get<uint64_t>(),
              rt["bytes_read"].get<uint64_t>());
    for (const char* c : {"app1", "app2"}) EXPECT_GT(rt["cold_read_ns"][c].get<uint64_t>(), 0u) << c;
  }
  // Standalone images share nothing; each file was cached once per image.
  EXPECT_LT(row["squashfs"]["runtime"]["shared_bytes"].get<uint64_t>(), busybox / 10);
  EXPECT_GT(row["squashfs"]["runtime"]["image_cache_bytes"].get<uint64_t>(), 0u);
  // One base mount serves both overlays: busybox's pages are there once.
  EXPECT_GE(row["overlay"]["runtime"]["shared_bytes"].get<uint64_t>(), busybox);
  EXPECT_GT(row["overlay"]["runtime"]["image_cache_bytes"].get<uint64_t>(), 0u);
  // Identical files are one inode in the tree and the host's own file with host-hardlink.
  EXPECT_GE(row["tree"]["runtime"]["shared_bytes"].get<uint64_t>(), busybox);
  EXPECT_GE(row["host-hardlink"]["runtime"]["shared_bytes"].get<uint64_t>(), busybox);
  EXPECT_EQ(row["tree"]["runtime"]["image_cache_bytes"], 0u);

  // Manageability: what a release signs and an upgrade of one container takes.
  const json& sq = row["squashfs"]["manageability"];
  EXPECT_EQ(sq["signed_images"], 2u);
  EXPECT_EQ(sq["upgrade_images"], 1u);
  EXPECT_EQ(sq["upgrade_images_shared_file"], 1u);
  EXPECT_FALSE(sq["upgrade_needs_firmware"].get<bool>());
  const json& ov = row["overlay"]["manageability"];
  EXPECT_EQ(ov["signed_images"], 3u);
  EXPECT_EQ(ov["upgrade_images"], 1u);
  EXPECT_EQ(ov["upgrade_images_shared_file"], 3u);  // the base and both layers
  for (const char* c : {"app1", "app2"}) {
    EXPECT_EQ(sq["upgrade_download_bytes"][c], image_bytes[c]) << c;  // the images compose writes
    EXPECT_EQ(ov["upgrade_download_bytes"][c], layer_bytes[c]) << c;
  }
  for (const char* name : {"host-hardlink", "tree"}) {
    EXPECT_TRUE(row[name]["manageability"]["upgrade_needs_firmware"].get<bool>()) << name;
    EXPECT_TRUE(row[name]["manageability"]["upgrade_download_bytes"].empty()) << name;
  }
  // Nothing is left mounted or attached.
  EXPECT_EQ(run("grep -c nestbox-plan- /proc/self/mountinfo").output, "0\n");
  EXPECT_EQ(run("losetup -a | grep -c nestbox-plan-").output, "0\n");

  // Without the privileges for mounts (a user namespace: no loop devices),
  // the flash is still measured and the plan says why the rest is not.
  auto unprivileged = run("cd " + tmp_.path() + " && unshare -U " + nestbox() +
                          " plan --measure --json app1.toml app2.toml");
  ASSERT_EQ(unprivileged.status, 0) << unprivileged.output;
  json u = json::parse(unprivileged.output);
  EXPECT_EQ(u["measured_squashfs_bytes"], p["measured_squashfs_bytes"]);
  EXPECT_NE(u.value("runtime_unmeasured", ""), "") << unprivileged.output;
  for (const auto& s : u["strategies"]) EXPECT_FALSE(s.contains("runtime")) << s.dump();

  auto text = run("cd " + tmp_.path() + " && " + nestbox() + " plan --measure app1.toml app2.toml");
  ASSERT_EQ(text.status, 0) << text.output;
  EXPECT_NE(text.output.find("cold read ms (app1, app2)"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("firmware + 1 tree manifest"), std::string::npos) << text.output;
  std::cout << text.output;
}

}  // namespace
}  // namespace nestbox::composer::squashfs
