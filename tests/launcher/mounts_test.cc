// The container's filesystem: /dev, /proc, /sys, tmpfs, binds and every kind
// of persistent storage.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include <gtest/gtest.h>

#include "util/loop_device.h"
#include "launcher/storage.h"
#include "tests/launcher/support.h"
#include "util/file_io.h"

namespace nestbox::launcher::testing {
namespace {

policy::Mount storage(policy::MountKind kind, const std::string& source, const std::string& target) {
  policy::Mount m;
  m.kind = kind;
  m.source = source;
  m.target = target;
  m.fstype = "ext4";
  m.flags = policy::kMountNosuid | policy::kMountNodev | policy::kMountNoexec;
  return m;
}

// One "0" line per information file of the host's /proc that the container sees masked.
std::string masked_zeros(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += "0\n";
  return out;
}

TEST(Mounts, MinimalDevProcAndReadOnlySys) {
  NESTBOX_NEED_IMAGES();
  int masked = 0;
  for (const char* f : {"/proc/kcore", "/proc/keys", "/proc/timer_list"}) masked += ::access(f, F_OK) == 0;
  ASSERT_GT(masked, 0);
  std::string read_only;
  for (const char* f : {"/proc/keys", "/proc/kpageflags"})
    if (::access(f, F_OK) == 0) read_only += std::string("chmod: ") + f + ": Read-only file system\n";
  Outcome r = run(full_policy("m-dev", {"/bin/sh", "-c",
                                        "ls /dev; echo x > /dev/null && echo null-ok;"
                                        " probe write /sys/kernel/x; probe write /proc/sys/kernel/hostname;"
                                        " for f in /proc/kcore /proc/keys /proc/timer_list; do [ -e $f ] && wc -c < $f; done;"
                                        // the masks are the host's /dev/null: read-only, so not even
                                        // its owner can chmod it from here
                                        " for f in /proc/keys /proc/kpageflags; do [ -e $f ] && chmod 0 $f 2>&1; done;"
                                        " true"}),
                  squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out,
            "fd\nfull\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\n"
            "null-ok\nwrite /sys/kernel/x EROFS\nwrite /proc/sys/kernel/hostname EROFS\n" +
                masked_zeros(masked) + read_only);
}

TEST(Mounts, TmpfsSizeAndFlags) {
  NESTBOX_NEED_IMAGES();
  Outcome r = run(full_policy("m-tmpfs", {"/bin/sh", "-c", "grep ' /tmp ' /proc/self/mountinfo"}),
                  squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NE(r.out.find("/tmp rw,nosuid,nodev,noexec"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" - tmpfs tmpfs rw,size=1024k"), std::string::npos) << r.out;
}

TEST(Mounts, ReadOnlyBindFromTheHost) {
  NESTBOX_NEED_IMAGES();
  std::string host = images()->dir + "/bind-src";
  ::mkdir(host.c_str(), 0755);
  ASSERT_TRUE(write_file_atomic(host + "/greeting", "hi\n").ok());
  policy::Policy p = full_policy("m-bind", {"/bin/sh", "-c", "cat /mnt/greeting; probe write /mnt/new"});
  policy::Mount m;
  m.kind = policy::MountKind::kBind;
  m.source = host;
  m.target = "/mnt";
  m.flags = policy::kMountReadOnly | policy::kMountNosuid | policy::kMountNodev;
  p.mounts.push_back(m);
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "hi\nwrite /mnt/new EROFS\n");
  EXPECT_NE(::access((host + "/new").c_str(), F_OK), 0);
}

// A bind is recursive: a mount below its source (here a tmpfs, rw, suid and
// dev on the host) comes along and must carry the bind's flags too. Before,
// only the top mount was remounted: the container (root without a user
// namespace, no capability) wrote into the "read-only" bind's submount and
// left a setuid-root copy of a shell there for the host's users.
TEST(Mounts, BindFlagsReachEveryMountBelowIt) {
  NESTBOX_NEED_IMAGES();
  std::string host = images()->dir + "/bind-rec-src";
  std::string sub = host + "/sub";
  ::mkdir(host.c_str(), 0755);
  ::mkdir(sub.c_str(), 0755);
  // Writable by everyone on the host: only the bind's read_only stands
  // between the container's process and the files.
  ASSERT_EQ(::mount("tmpfs", sub.c_str(), "tmpfs", 0, "mode=1777"), 0) << std::strerror(errno);
  struct Unmount {
    std::string at;
    ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
  } unmount{sub};
  ASSERT_TRUE(write_file_atomic(sub + "/greeting", "hi\n").ok());
  ASSERT_EQ(::chmod((sub + "/greeting").c_str(), 0666), 0);
  policy::Policy p = full_policy(
      "m-bindrec", {"/bin/sh", "-c",
                    "cat /mnt/sub/greeting; probe write /mnt/sub/new; probe write /mnt/sub/greeting pwned;"
                    " grep ' /mnt/sub ' /proc/self/mountinfo | cut -d' ' -f5,6"});
  policy::Mount m;
  m.kind = policy::MountKind::kBind;
  m.source = host;
  m.target = "/mnt";
  m.flags = policy::kMountReadOnly | policy::kMountNosuid | policy::kMountNodev | policy::kMountNoexec;
  p.mounts.push_back(m);
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out.substr(0, r.out.rfind("write")),
            "hi\nwrite /mnt/sub/new EROFS\n");
  EXPECT_NE(r.out.find("write /mnt/sub/greeting EROFS\n/mnt/sub ro,nosuid,nodev,noexec"), std::string::npos)
      << r.out;
  EXPECT_NE(::access((sub + "/new").c_str(), F_OK), 0);
  auto kept = read_file(sub + "/greeting");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, "hi\n");
}

// Without mount_setattr (Linux < 5.12) the bind is not recursive: the mount
// below the source is not shown at all (the directory under it is, read-only),
// never shown without the bind's flags.
TEST(Mounts, BindWithoutMountSetattrShowsNoMountBelowIt) {
  NESTBOX_NEED_IMAGES();
  std::string host = images()->dir + "/bind-rec-old";
  std::string sub = host + "/sub";
  ::mkdir(host.c_str(), 0755);
  ::mkdir(sub.c_str(), 01777);
  ASSERT_TRUE(write_file_atomic(sub + "/under", "under\n").ok());  // on the parent, hidden on the host
  ASSERT_EQ(::mount("tmpfs", sub.c_str(), "tmpfs", 0, "mode=1777"), 0) << std::strerror(errno);
  struct Unmount {
    std::string at;
    ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
  } unmount{sub};
  policy::Policy p = full_policy("m-bindold", {"/bin/sh", "-c",
                                               "ls /mnt/sub; probe write /mnt/sub/new;"
                                               " grep -c ' /mnt/sub ' /proc/self/mountinfo"});
  policy::Mount m;
  m.kind = policy::MountKind::kBind;
  m.source = host;
  m.target = "/mnt";
  m.flags = policy::kMountReadOnly | policy::kMountNosuid | policy::kMountNodev;
  p.mounts.push_back(m);
  Options o = test_options();
  o.force_no_mount_setattr = true;
  Outcome r = run(p, squashfs_source(), o);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "under\nwrite /mnt/sub/new EROFS\n0\n");
  EXPECT_NE(::access((sub + "/new").c_str(), F_OK), 0);
}

// A host source is opened without following a symlink anywhere on its way.
// Another container's writable storage directory may lie on that way, and
// that container, the host's root without a user namespace, replaced a
// directory there with a symlink to /etc: the next start of a container
// binding the directory (read-only) got the host's /etc, shadow included.
TEST(Mounts, HostSourcesAreOpenedWithoutSymlinks) {
  NESTBOX_NEED_IMAGES();
  std::string real = images()->dir + "/src-real", link = images()->dir + "/src-link";
  ::mkdir(real.c_str(), 0755);
  ::mkdir((real + "/sub").c_str(), 0755);
  ASSERT_TRUE(write_file_atomic(real + "/sub/greeting", "hi\n").ok());
  ::unlink(link.c_str());
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  struct Case {
    policy::MountKind kind;
    std::string source, error;
  } cases[] = {
      {policy::MountKind::kBind, link, "/mnt: bind source: " + link + ": is a symlink (a symlink as a host source is refused)"},
      {policy::MountKind::kBind, link + "/sub",
       "/mnt: bind source: " + link + "/sub: " + link + " is not a directory (a symlink on the way to a host source is refused)"},
      {policy::MountKind::kStorageDir, link + "/sub",
       "/mnt: " + link + "/sub: " + link + " is not a directory (a symlink on the way to a host source is refused)"},
      {policy::MountKind::kStorageOverlay, link + "/sub",
       "/mnt: " + link + "/sub/upper: " + link + " is not a directory (a symlink on the way to a host source is refused)"},
      {policy::MountKind::kStorageImage, link + "/sub/data.img",
       "/mnt: storage image: " + link + "/sub: " + link +
           " is not a directory (a symlink on the way to a host source is refused)"},
      // Missing directories below a symlink: refused before any is made
      // where the symlink points.
      {policy::MountKind::kStorageDir, link + "/made/deeper",
       "/mnt: " + link + "/made/deeper: " + link + " is not a directory (a symlink on the way to a host source is refused)"},
      {policy::MountKind::kStorageOverlay, link + "/made-ov/deeper",
       "/mnt: " + link + "/made-ov/deeper/upper: " + link +
           " is not a directory (a symlink on the way to a host source is refused)"},
      {policy::MountKind::kStorageDir, link,
       "/mnt: " + link + " is not a directory (a symlink as a host source is refused)"},
  };
  for (const Case& c : cases) {
    policy::Policy p = full_policy("m-srclink", {"/bin/sh", "-c", "cat /mnt/greeting"});
    policy::Mount m = storage(c.kind, c.source, "/mnt");
    if (c.kind != policy::MountKind::kStorageOverlay) m.flags |= policy::kMountReadOnly;
    if (c.kind == policy::MountKind::kStorageImage) m.size = 8 << 20;  // the only kind a size limits
    p.mounts.push_back(m);
    Outcome r = run(p, squashfs_source());
    EXPECT_FALSE(r.ok) << c.source << ": " << r.out;
    EXPECT_EQ(r.error, "container m-srclink: " + c.error);
    EXPECT_EQ(leftovers("m-srclink"), std::vector<std::string>{});
  }
  // Nothing created through the link.
  EXPECT_NE(::access((real + "/sub/data.img").c_str(), F_OK), 0);
  EXPECT_NE(::access((real + "/made").c_str(), F_OK), 0);
  EXPECT_NE(::access((real + "/made-ov").c_str(), F_OK), 0);
  // The real path still binds.
  policy::Policy p = full_policy("m-srcreal", {"/bin/sh", "-c", "cat /mnt/greeting"});
  policy::Mount m = storage(policy::MountKind::kBind, real + "/sub", "/mnt");
  m.flags |= policy::kMountReadOnly;
  p.mounts.push_back(m);
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "hi\n");
}

TEST(Mounts, MissingMountTargetIsRefusedWithItsName) {
  NESTBOX_NEED_IMAGES();
  policy::Policy p = full_policy("m-missing", {"/bin/true"});
  policy::Mount m;
  m.kind = policy::MountKind::kTmpfs;
  m.target = "/nonexistent/deeper";
  p.mounts.push_back(m);
  Outcome r = run(p, squashfs_source());
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error, "container m-missing: /nonexistent/deeper: mount target (must exist in the "
                     "rootfs): /nonexistent/deeper: No such file or directory");
  EXPECT_EQ(leftovers("m-missing"), std::vector<std::string>{});
}

TEST(Mounts, SymlinkTargetsResolveInsideTheRoot) {
  NESTBOX_NEED_IMAGES();
  // /etc/escape -> /../../../../tmp in a tree rootfs: the bind lands in the
  // container's /tmp, never on the host's.
  std::string tree = images()->dir + "/symlink-tree";
  ASSERT_EQ(std::system(("cp -a " + images()->tree + " " + tree +
                         " && ln -s /../../../../../tmp " + tree + "/etc/escape").c_str()), 0);
  policy::Policy p = full_policy("m-symlink", {"/bin/sh", "-c", "grep -c ' /tmp ' /proc/self/mountinfo"});
  policy::Mount m;
  m.kind = policy::MountKind::kTmpfs;
  m.target = "/etc/escape";
  p.mounts.push_back(m);
  RootfsSource src;
  src.kind = RootfsSource::Kind::kTree;
  src.tree = tree;
  Outcome r = run(p, src);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "2\n");  // the policy's /tmp and the symlinked one, both inside
}

TEST(Mounts, PersistentDirectoryImageAndPartition) {
  NESTBOX_NEED_IMAGES();
  std::string dir = images()->dir + "/persist-dir";
  std::string image = images()->dir + "/persist.img";
  std::string part_img = images()->dir + "/part.img";
  std::string part_dir = images()->dir + "/by-partlabel";
  ASSERT_EQ(std::system(("truncate -s 8M " + part_img + " && mkfs.ext4 -q -F " + part_img +
                         " && mkdir -p " + part_dir).c_str()), 0);
  // The "partition": an ext4 image on a loop device, found by name.
  auto part_loop = std::make_unique<Result<LoopDevice>>(LoopDevice::attach({part_img, 0, 0, false, false}));
  ASSERT_TRUE(part_loop->ok()) << part_loop->error().message;
  ASSERT_EQ(::symlink((*part_loop)->path().c_str(), (part_dir + "/appdata").c_str()), 0);

  policy::Policy p = full_policy("m-storage", {"/bin/sh", "-c",
                                               "cat /data/count /mnt/count /var/lib/count 2>&1;"
                                               " echo 1 > /data/count; echo 2 > /mnt/count;"
                                               " echo 3 > /var/lib/count; echo done"});
  p.uid_map.clear();  // host root writes the fresh filesystems
  p.gid_map.clear();
  p.caps.keep = uint64_t(1) << 1;  // CAP_DAC_OVERRIDE
  p.mounts.push_back(storage(policy::MountKind::kStorageDir, dir, "/data"));
  p.mounts.push_back(storage(policy::MountKind::kStorageImage, image, "/mnt"));
  p.mounts.back().size = 8 << 20;
  p.mounts.push_back(storage(policy::MountKind::kStoragePartition, "appdata", "/var/lib"));
  Options o = test_options();
  o.partition_dir = part_dir;
  Outcome first = run(p, squashfs_source(), o);
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_NE(first.out.find("No such file"), std::string::npos);
  EXPECT_NE(first.out.find("done\n"), std::string::npos) << first.out;
  struct stat st;
  ASSERT_EQ(::stat(image.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 8 << 20);
  Outcome second = run(p, squashfs_source(), o);
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_EQ(second.out, "1\n2\n3\ndone\n");
  part_loop.reset();  // autoclear detaches it
  EXPECT_EQ(leftovers("m-storage"), std::vector<std::string>{});
}

// A container without a user namespace writes its storage as the host's
// root: a directory every host user can reach would let it leave them a
// setuid-root program. Refused until something above it shuts them out.
TEST(Mounts, StorageTheHostsUsersCanReachIsRefusedForTheHostsRoot) {
  NESTBOX_NEED_IMAGES();
  char open_dir[] = "/tmp/nestbox-open-XXXXXX";
  ASSERT_NE(::mkdtemp(open_dir), nullptr);
  ASSERT_EQ(::chmod(open_dir, 0755), 0);  // /tmp and / are searchable by everyone
  std::string dir = std::string(open_dir) + "/data";
  policy::Policy p = full_policy("m-storage-open", {"/bin/sh", "-c", "echo wrote > /data/f; echo done"});
  p.namespaces[policy::kNsUser] = {policy::NsMode::kHost, ""};
  p.uid_map.clear();
  p.gid_map.clear();
  p.sys = policy::SysMode::kReadOnly;
  p.mounts.push_back(storage(policy::MountKind::kStorageDir, dir, "/data"));
  Outcome refused = run(p, squashfs_source());
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find(dir + ": lies below no directory that only root can enter"), std::string::npos)
      << refused.error;
  struct stat st;
  EXPECT_NE(::stat((dir + "/f").c_str(), &st), 0);  // nothing written
  // A user namespace whose root is 100000 but which maps another id (1000)
  // to host uid 0: a setuid program of that id, or CAP_SETUID, writes the
  // storage as the host's root just the same (review 5).
  policy::Policy mapped = p;
  mapped.namespaces[policy::kNsUser] = {policy::NsMode::kNew, ""};
  mapped.uid_map = {{0, 100000, 1000}, {1000, 0, 1}};
  mapped.gid_map = {{0, 100000, 65536}};
  refused = run(mapped, squashfs_source());
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find(dir + ": lies below no directory that only root can enter"), std::string::npos)
      << refused.error;
  mapped.uid_map = {{0, 100000, 65536}};  // no id is host root: nothing to plant
  std::system(("rm -rf " + dir).c_str());  // made root's above; made anew for 100000
  Outcome mapped_ran = run(mapped, squashfs_source());
  EXPECT_TRUE(mapped_ran.ok) << mapped_ran.error;
  EXPECT_EQ(mapped_ran.out, "done\n");
  std::system(("rm -rf " + dir).c_str());
  ASSERT_EQ(::chmod(open_dir, 0700), 0);
  Outcome ran = run(p, squashfs_source());
  EXPECT_TRUE(ran.ok) << ran.error;
  EXPECT_EQ(ran.out, "done\n");
  EXPECT_EQ(leftovers("m-storage-open"), std::vector<std::string>{});
  std::system((std::string("rm -rf ") + open_dir).c_str());
}

// Issue 14, class 1: a storage image is opened once, O_NOFOLLOW|O_NONBLOCK,
// must be a regular file, and the loop device gets that fd. A symlink planted
// at the image's path (to another filesystem image, or a disk) is refused,
// never followed; a FIFO is refused at once.
TEST(Mounts, StorageImageIsARegularFileNeverASymlinkOrFifo) {
  NESTBOX_NEED_IMAGES();
  std::string target = images()->dir + "/storage-target.img";
  std::string link = images()->dir + "/storage-link.img";
  std::string fifo = images()->dir + "/storage-fifo.img";
  ::unlink(link.c_str());
  ::unlink(fifo.c_str());
  auto images_dir = open_host_source(images()->dir);
  ASSERT_TRUE(images_dir.ok()) << images_dir.error().message;
  ASSERT_TRUE(ensure_image_file(images_dir->get(), target, 8 << 20, "ext4").ok());
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  policy::Policy p = full_policy("m-storage-link", {"/bin/sh", "-c", "echo mounted"});
  p.uid_map.clear();
  p.gid_map.clear();
  p.mounts.push_back(storage(policy::MountKind::kStorageImage, link, "/mnt"));
  Outcome r = run(p, squashfs_source());
  EXPECT_FALSE(r.ok) << r.out;
  EXPECT_NE(r.error.find("storage image: open " + link + ": a symbolic link: refused"), std::string::npos) << r.error;
  EXPECT_EQ(r.out.find("mounted"), std::string::npos);
  EXPECT_EQ(leftovers("m-storage-link"), std::vector<std::string>{});

  p.mounts.back().source = fifo;
  auto start = std::chrono::steady_clock::now();
  r = run(p, squashfs_source());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_FALSE(r.ok) << r.out;
  EXPECT_NE(r.error.find("storage image: " + fifo + ": not a regular file"), std::string::npos) << r.error;
  EXPECT_EQ(leftovers("m-storage-link"), std::vector<std::string>{});
}

// A new storage image is made in the directory opened without symlinks, not
// wherever its path leads by then: another container's storage on the way
// can swap a directory for a symlink between the two.
TEST(Mounts, StorageImageIsMadeInTheDirectoryHeldNotThePath) {
  NESTBOX_NEED_IMAGES();
  std::string held = images()->dir + "/img-held", moved = held + ".moved", elsewhere = images()->dir + "/img-elsewhere";
  std::system(("rm -rf " + held + " " + moved + " " + elsewhere).c_str());
  ASSERT_EQ(::mkdir(held.c_str(), 0700), 0);
  ASSERT_EQ(::mkdir(elsewhere.c_str(), 0700), 0);
  auto dir = open_host_source(held);
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  ASSERT_EQ(::rename(held.c_str(), moved.c_str()), 0);
  ASSERT_EQ(::symlink(elsewhere.c_str(), held.c_str()), 0);
  auto made = ensure_image_file(dir->get(), held + "/data.img", 8 << 20, "ext4");
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_TRUE(*made);
  EXPECT_NE(::access((elsewhere + "/data.img").c_str(), F_OK), 0) << "made through the symlink";
  EXPECT_NE(::access((elsewhere + "/data.img.tmp").c_str(), F_OK), 0) << "made through the symlink";
  struct stat st;
  ASSERT_EQ(::lstat((moved + "/data.img").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 8 << 20);
  auto image = read_file(moved + "/data.img");
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->substr(1080, 2), std::string("\x53\xef", 2)) << "no ext4 superblock: mkfs did not run on the file";
  EXPECT_NE(::access((moved + "/data.img.tmp").c_str(), F_OK), 0);
  // A file there is kept as it is.
  auto again = ensure_image_file(dir->get(), held + "/data.img", 8 << 20, "ext4");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(*again);
  std::system(("rm -rf " + held + " " + moved + " " + elsewhere).c_str());
}

// Review 8: a storage image found in place is used with its declared size as
// the bound: a longer file (an earlier, larger size; someone else's) would
// give the container more of the host's flash, and a second name (a hard
// link) lets whoever reaches it write the filesystem under the host kernel's
// mount. Both are refused; the file as declared mounts.
TEST(Mounts, StorageImageLongerThanDeclaredOrLinkedElsewhereIsRefused) {
  NESTBOX_NEED_IMAGES();
  std::string image = images()->dir + "/grown.img", alias = images()->dir + "/grown-alias.img";
  ::unlink(image.c_str());
  ::unlink(alias.c_str());
  auto images_dir = open_host_source(images()->dir);
  ASSERT_TRUE(images_dir.ok()) << images_dir.error().message;
  ASSERT_TRUE(ensure_image_file(images_dir->get(), image, 16 << 20, "ext4").ok());
  policy::Policy p = full_policy("m-grown", {"/bin/sh", "-c", "echo mounted"});
  p.mounts.push_back(storage(policy::MountKind::kStorageImage, image, "/mnt"));
  p.mounts.back().size = 8 << 20;
  Outcome r = run(p, squashfs_source());
  EXPECT_FALSE(r.ok) << r.out;
  EXPECT_EQ(r.error, "container m-grown: /mnt: storage image " + image +
                         ": is 16777216 bytes, more than its declared size of 8388608; expected at most that (remove "
                         "or shrink the image to start with this policy)");
  EXPECT_EQ(leftovers("m-grown"), std::vector<std::string>{});

  p.mounts.back().size = 16 << 20;
  ASSERT_EQ(::link(image.c_str(), alias.c_str()), 0);
  r = run(p, squashfs_source());
  EXPECT_FALSE(r.ok) << r.out;
  EXPECT_EQ(r.error, "container m-grown: /mnt: storage image " + image +
                         ": has 2 names (hard links); expected a file only this store names");
  EXPECT_EQ(leftovers("m-grown"), std::vector<std::string>{});

  ASSERT_EQ(::unlink(alias.c_str()), 0);
  r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "mounted\n");
  ::unlink(image.c_str());
}

// Review 8: a size on a directory, overlay or partition storage was a limit
// nothing applied; the launcher refuses it rather than start without it.
TEST(Mounts, ASizeOnStorageWithoutALimitRefusesTheStart) {
  NESTBOX_NEED_IMAGES();
  std::string dir = images()->dir + "/sized-dir";
  policy::Policy p = full_policy("m-sized", {"/bin/sh", "-c", "echo started"});
  p.mounts.push_back(storage(policy::MountKind::kStorageDir, dir, "/data"));
  p.mounts.back().size = 8 << 20;
  Outcome r = run(p, squashfs_source());
  EXPECT_FALSE(r.ok) << "started without the size limit: " << r.out;
  EXPECT_EQ(r.error, "container m-sized: /data: a size (8388608 bytes) is enforced only on a tmpfs or an image "
                     "storage; this mount has no size limit: expected no size, or an image storage");
  EXPECT_EQ(r.out.find("started"), std::string::npos);
  EXPECT_EQ(leftovers("m-sized"), std::vector<std::string>{});
}

// Review 8: one image file under two loop devices is one ext4 mounted twice
// by the host's kernel, each mount's metadata changed under the other by the
// container's writes through the other (a filesystem crafted under a mount).
// The image is locked while a loop device holds it: a second mount of it, in
// the same policy or another container's, is refused; the lock goes with
// the container.
TEST(Mounts, StorageImageIsMountedOnceAtATime) {
  NESTBOX_NEED_IMAGES();
  std::string image = images()->dir + "/shared.img";
  ::unlink(image.c_str());
  policy::Policy p = full_policy("m-twice", {"/bin/sh", "-c", "echo mounted"});
  p.mounts.push_back(storage(policy::MountKind::kStorageImage, image, "/mnt"));
  p.mounts.back().size = 8 << 20;
  p.mounts.push_back(p.mounts.back());
  p.mounts.back().target = "/data";
  Outcome r = run(p, squashfs_source());
  EXPECT_FALSE(r.ok) << "mounted twice: " << r.out;
  EXPECT_EQ(r.error, "container m-twice: /data: storage image " + image +
                         ": in use by another mount (a container's storage); expected one mount of it at a time");
  EXPECT_EQ(leftovers("m-twice"), std::vector<std::string>{});
  p.mounts.pop_back();
  for (int i = 0; i < 2; ++i) {  // released with the container: the next start takes it
    r = run(p, squashfs_source());
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.out, "mounted\n");
  }
  ::unlink(image.c_str());
}

// Review 8: a storage keeps what the container left in it, a symlink too. A
// mount whose target lay below a storage's target went, at the next start,
// where that symlink pointed (resolved inside the root): over the verified
// /etc here, over "/" for a container that had filled the storage with its
// own programs. Such a policy is refused before anything is mounted.
TEST(Mounts, AMountTargetBelowAStorageIsRefusedNotMovedByItsSymlink) {
  NESTBOX_NEED_IMAGES();
  std::string data = images()->dir + "/moved-data", inner = images()->dir + "/moved-inner";
  std::system(("rm -rf " + data + " " + inner).c_str());
  policy::Policy plant = full_policy("m-moved", {"/bin/sh", "-c", "ln -s /etc /data/inner && echo planted"});
  plant.mounts.push_back(storage(policy::MountKind::kStorageDir, data, "/data"));
  Outcome first = run(plant, squashfs_source());
  ASSERT_TRUE(first.ok) << first.error;
  ASSERT_EQ(first.out, "planted\n");

  policy::Policy p = full_policy("m-moved", {"/bin/sh", "-c", "echo started; grep -c ' /etc ' /proc/self/mountinfo"});
  p.mounts = plant.mounts;
  p.mounts.push_back(storage(policy::MountKind::kStorageDir, inner, "/data/inner"));
  Outcome r = run(p, squashfs_source());
  EXPECT_FALSE(r.ok) << "the inner storage was mounted where the planted symlink points: " << r.out;
  EXPECT_EQ(r.error, "container m-moved: /data/inner: mount target lies below /data, whose contents the container "
                     "keeps (a symlink it left there would move this mount); expected mount targets outside storage");
  EXPECT_EQ(r.out.find("started"), std::string::npos);
  EXPECT_EQ(leftovers("m-moved"), std::vector<std::string>{});
  std::system(("rm -rf " + data + " " + inner).c_str());
}

// The loop device reads the file it was given as an fd, not what the path
// names by the time it is attached.
TEST(Mounts, LoopDeviceAttachesTheGivenFdNotThePath) {
  NESTBOX_NEED_IMAGES();
  std::string path = images()->dir + "/by-fd.img";
  auto images_dir = open_host_source(images()->dir);
  ASSERT_TRUE(images_dir.ok()) << images_dir.error().message;
  ASSERT_TRUE(ensure_image_file(images_dir->get(), path, 8 << 20, "ext4").ok());
  auto fd = open_backing_file(path, true);
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ASSERT_TRUE(write_file_atomic(path, "not a filesystem", 0644).ok());
  struct stat want;
  ASSERT_EQ(::fstat(fd->get(), &want), 0);
  auto loop = LoopDevice::attach({path, 0, 0, true, false, fd->get()});
  ASSERT_TRUE(loop.ok()) << loop.error().message;
  auto sectors = read_file("/sys/block/" + loop->path().substr(5) + "/size");
  ASSERT_TRUE(sectors.ok()) << sectors.error().message;
  EXPECT_EQ(std::stoull(*sectors) * 512, static_cast<unsigned long long>(want.st_size))
      << "the loop device is backed by the file now at the path, not the fd";
  ::unlink(path.c_str());
}

TEST(Mounts, NewStorageBelongsToTheContainersRoot) {
  NESTBOX_NEED_IMAGES();
  std::string dir = images()->dir + "/userns-dir";
  std::string image = images()->dir + "/userns.img";
  policy::Policy p = full_policy("m-userns-storage", {"/bin/sh", "-c", "probe write /data/a; probe write /mnt/b"});
  p.mounts.push_back(storage(policy::MountKind::kStorageDir, dir, "/data"));
  p.mounts.push_back(storage(policy::MountKind::kStorageImage, image, "/mnt"));
  p.mounts.back().size = 8 << 20;
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "write /data/a ok\nwrite /mnt/b ok\n");
  struct stat st;
  ASSERT_EQ(::stat((dir + "/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 100000u);  // root inside, 100000 on the host
  EXPECT_EQ(leftovers("m-userns-storage"), std::vector<std::string>{});
}

// Issue 16/17: storage of any kind can be given to the container's process
// user; the ids are mapped through the user namespace, at every start (an
// existing filesystem owned by someone else included), with the declared mode.
TEST(Mounts, StorageOwnedByTheProcessUserThroughTheUserNamespace) {
  NESTBOX_NEED_IMAGES();
  std::string dir = images()->dir + "/owned-dir";
  std::string image = images()->dir + "/owned.img";
  policy::Policy p = full_policy("m-owned-storage", {"/bin/sh", "-c", "probe write /data/a; probe write /mnt/b"});
  p.process.uid = 1000;
  p.process.gid = 1000;
  p.mounts.push_back(storage(policy::MountKind::kStorageDir, dir, "/data"));
  p.mounts.push_back(storage(policy::MountKind::kStorageImage, image, "/mnt"));
  p.mounts.back().size = 8 << 20;
  // Without an owner the process user cannot write either (root's, 0700 / 0755).
  Outcome before = run(p, squashfs_source());
  ASSERT_TRUE(before.ok) << before.error;
  EXPECT_EQ(before.out.find("write /data/a ok"), std::string::npos) << before.out;
  EXPECT_EQ(before.out.find("write /mnt/b ok"), std::string::npos) << before.out;
  for (policy::Mount& m : p.mounts) {
    if (m.kind != policy::MountKind::kStorageDir && m.kind != policy::MountKind::kStorageImage) continue;
    m.owner_set = true;
    m.uid = 1000;
    m.gid = 1000;
    m.mode = 0750;
  }
  Outcome r = run(p, squashfs_source());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.out, "write /data/a ok\nwrite /mnt/b ok\n");
  struct stat st;
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 101000u);  // uid 1000 inside, 101000 on the host
  EXPECT_EQ(st.st_gid, 101000u);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  ASSERT_EQ(::stat((dir + "/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 101000u);
  // An owner the user namespace does not map refuses the start.
  p.mounts.back().uid = 70000;
  Outcome refused = run(p, squashfs_source());
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find("storage owner uid 70000 is not mapped by the user namespace"), std::string::npos)
      << refused.error;
  EXPECT_EQ(leftovers("m-owned-storage"), std::vector<std::string>{});
}

TEST(Mounts, PersistentOverlayOverTheRootAndADirectory) {
  NESTBOX_NEED_IMAGES();
  std::string upper = images()->dir + "/persist-overlay";
  std::string etc_upper = images()->dir + "/persist-etc";
  policy::Policy p = full_policy("m-overlay", {"/bin/sh", "-c",
                                               "cat /bin/added /etc/added 2>&1; echo a > /bin/added;"
                                               " echo b > /etc/added; echo done"});
  p.uid_map.clear();
  p.gid_map.clear();
  p.read_only_root = false;
  p.caps.keep = uint64_t(1) << 1;
  p.mounts.push_back(storage(policy::MountKind::kStorageOverlay, upper, "/"));
  p.mounts.push_back(storage(policy::MountKind::kStorageOverlay, etc_upper, "/etc"));
  Outcome first = run(p, squashfs_source());
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_NE(first.out.find("done\n"), std::string::npos) << first.out;
  Outcome second = run(p, squashfs_source());
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_EQ(second.out, "a\nb\ndone\n");
  EXPECT_EQ(::access((upper + "/upper/bin/added").c_str(), F_OK), 0);
  EXPECT_EQ(::access((etc_upper + "/upper/added").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace nestbox::launcher::testing
