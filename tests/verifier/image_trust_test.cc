// Issue 14, classes 1 and 7 at the verifier: an image is opened once and must
// be a regular file (a FIFO never hangs, a symlink is refused), keyring files
// likewise; the rollback index (security_version) is signed, enforced by the
// store at install, boot, fallback and rollback, and its record is rebuilt
// from the slots when deleted, never reset to zero.
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/sysmacros.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "tests/signer/fixture.h"
#include "verifier/image_format.h"
#include "verifier/rollback_state.h"
#include "verifier/store.h"
#include "verifier/verifier.h"

namespace nestbox {
namespace {

using testing::slurp;
using testing::spit;
using testing::TempDir;
using verifier::Mode;
using verifier::Store;

// Fails the test (instead of hanging the suite) when `f` takes over 5 s.
template <typename F>
void within_seconds(F f) {
  auto start = std::chrono::steady_clock::now();
  f();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

class ImageTrust : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = testing::make_key(dir_, "k");
    ring_ = testing::make_keyring(dir_, "ring", {key_});
    // nas: version v, security version sv.
    for (auto [v, sv] : {std::pair{1, 1}, {2, 1}, {3, 2}, {4, 2}}) {
      std::string sqfs = testing::make_squashfs(dir_, "v" + std::to_string(v), static_cast<unsigned>(v), 3, 20000);
      auto s = testing::spec_for(sqfs, {key_}, "policy v" + std::to_string(v), static_cast<uint64_t>(v));
      s.name = "nas";
      s.security_version = static_cast<uint64_t>(sv);
      images_.push_back(dir_ / ("nas-" + std::to_string(v) + ".img"));
      ASSERT_TRUE(signer::build_image(s, images_.back()).ok());
    }
  }
  verifier::StoreOptions options() {
    return {dir_ / "store", verifier::Keyring{ring_, {}}, verifier::DeviceIdentity{"x86_64", "nestbox-demo-board"}};
  }
  verifier::Keyring ring() { return verifier::Keyring{ring_, {}}; }
  std::string record() { return slurp(dir_ / "store/.state/nas.security_version"); }

  TempDir dir_;
  testing::KeyPair key_;
  std::string ring_;
  std::vector<std::string> images_;  // nas v1 (sv 1), v2 (sv 1), v3 (sv 2), v4 (sv 2)
};

TEST_F(ImageTrust, SecurityVersionIsSignedMetadataShownByTheVerifier) {
  auto info = verifier::verify_image(images_[2], ring(), Mode::kFull);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->version, 3u);
  EXPECT_EQ(info->security_version, 2u);
  // It sits in the signed metadata: changing it breaks the metadata digest.
  std::string bytes = slurp(images_[2]);
  image::Trailer t;
  std::memcpy(&t, bytes.data() + bytes.size() - sizeof t, sizeof t);
  bytes[t.metadata_offset.get() + offsetof(image::Metadata, security_version)] = 0;
  spit(dir_ / "lowered.img", bytes);
  auto lowered = verifier::verify_image(dir_ / "lowered.img", ring(), Mode::kFull);
  ASSERT_FALSE(lowered.ok());
  EXPECT_EQ(lowered.error().message, "verify " + dir_ / "lowered.img" + ": metadata: sha256 mismatch");
}

TEST_F(ImageTrust, FifoSymlinkAndDirectoryAreRefusedAtOnce) {
  std::string fifo = dir_ / "fifo.img";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  within_seconds([&] {
    auto r = verifier::verify_image(fifo, ring(), Mode::kFull);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "verify " + fifo + ": not a regular file");
  });
  std::string link = dir_ / "link.img";
  ASSERT_EQ(::symlink(images_[0].c_str(), link.c_str()), 0);
  auto l = verifier::verify_image(link, ring(), Mode::kFull);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().message, "verify " + link + ": a symbolic link: refused (open it by its real path)");
  auto d = verifier::verify_image(dir_.path(), ring(), Mode::kFull);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message, "verify " + dir_.path() + ": not a regular file");
}

TEST_F(ImageTrust, VerifiedFdIsTheFileThatWasCheckedNotWhatThePathNamesLater) {
  auto v = verifier::open_verified(images_[0], ring(), Mode::kFull);
  ASSERT_TRUE(v.ok()) << v.error().message;
  // Something else renamed over the path afterwards: the fd still reads the
  // verified file (this is what the loop device is given).
  spit(dir_ / "other", "not an image");
  ASSERT_EQ(::rename((dir_ / "other").c_str(), images_[0].c_str()), 0);
  auto again = verifier::verify_image_fd(v->fd.get(), ring(), Mode::kFull);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->payload_sha256_hex, v->info.payload_sha256_hex);
}

TEST_F(ImageTrust, OnlyAnImageOnlyRootCanWriteIsMountable) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown)";
  auto fd = verifier::open_image(images_[0]);
  ASSERT_TRUE(fd.ok());
  ASSERT_EQ(::fchmod(fd->get(), 0644), 0);
  EXPECT_TRUE(verifier::check_only_root_writes(fd->get()).ok());
  ASSERT_EQ(::fchmod(fd->get(), 0646), 0);
  Status st = verifier::check_only_root_writes(fd->get());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "writable by group or others (mode 0646), who could change it after verification; only an image that "
            "only root can write is mounted (or install it)");
  ASSERT_EQ(::fchmod(fd->get(), 0444), 0);
  ASSERT_EQ(::fchown(fd->get(), 1000, 0), 0);
  st = verifier::check_only_root_writes(fd->get());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "owned by uid 1000, who could change it after verification; only a root-owned image is mounted (or "
            "install it)");
}

// A FUSE server (here the real bindfs, presenting the image root-owned and
// read-only) decides what every read returns: owner and mode prove nothing.
TEST_F(ImageTrust, AnImageOnFuseIsNotMountable) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (mount)";
  if (::access("/usr/bin/bindfs", X_OK) != 0) GTEST_SKIP() << "needs bindfs (scripts/install-deps.sh installs it)";
  TempDir mnt;
  std::string cmd = "/usr/bin/bindfs -o ro,force-user=root,force-group=root,perms=0444 '" + dir_.path() + "' '" +
                    mnt.path() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt.path()};
  auto fd = verifier::open_image(mnt / std::filesystem::path(images_[0]).filename().string());
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  struct stat st;
  ASSERT_EQ(::fstat(fd->get(), &st), 0);
  ASSERT_EQ(st.st_uid, 0u);  // what the owner check alone would accept
  ASSERT_EQ(st.st_mode & 07777, 0444u);
  Status st2 = verifier::check_only_root_writes(fd->get());
  ASSERT_FALSE(st2.ok());
  EXPECT_EQ(st2.error().message,
            "on FUSE, whose contents a process or remote host serves and can change after verification; only an "
            "image on local storage is mounted (or install it)");
}

TEST_F(ImageTrust, KeyringFilesMustBeRegularFilesNotSymlinksOrFifos) {
  std::string fifo = std::string(ring_) + "/zz.pem";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  within_seconds([&] {
    auto r = verifier::verify_image(images_[0], ring(), Mode::kFull);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "verify " + images_[0] + ": keyring: " + ring_ + ": zz.pem: not a regular file");
  });
  ASSERT_EQ(::unlink(fifo.c_str()), 0);
  ASSERT_EQ(::symlink(key_.public_path.c_str(), fifo.c_str()), 0);
  auto r = verifier::verify_image(images_[0], ring(), Mode::kFull);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "verify " + images_[0] + ": keyring: " + ring_ + ": zz.pem: a symbolic link: refused");
  ASSERT_EQ(::unlink(fifo.c_str()), 0);
  std::string revoked = std::string(ring_) + "/revoked";
  ASSERT_EQ(::mkfifo(revoked.c_str(), 0644), 0);
  within_seconds([&] {
    auto f = verifier::verify_image(images_[0], ring(), Mode::kFull);
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.error().message, "verify " + images_[0] + ": keyring: " + ring_ + ": revoked: not a regular file");
  });
  ASSERT_EQ(::unlink(revoked.c_str()), 0);
  EXPECT_TRUE(verifier::verify_image(images_[0], ring(), Mode::kFull).ok());
}

// On the device the keyring is the trust anchor: whoever could write it could
// add a key or unrevoke one. nestbox-launch asks for only_root_writes.
TEST_F(ImageTrust, DeviceKeyringMustBeRootsAlone) {
  verifier::Keyring device = ring();
  device.only_root_writes = true;
  ASSERT_TRUE(verifier::verify_image(images_[0], device, Mode::kFull).ok());
  std::string key = std::string(ring_) + "/zz.pem", revoked = std::string(ring_) + "/revoked";
  spit(key, slurp(key_.public_path));
  ASSERT_EQ(::chmod(key.c_str(), 0664), 0);
  auto r = verifier::verify_image(images_[0], device, Mode::kFull);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "verify " + images_[0] + ": keyring: " + key +
                                   ": owned by uid 0, mode 0664; the device's keys must be root's and writable by root only");
  EXPECT_TRUE(verifier::verify_image(images_[0], ring(), Mode::kFull).ok());  // the host's verify reads any
  ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
  ASSERT_EQ(::chown(key.c_str(), 1000, 1000), 0);
  EXPECT_FALSE(verifier::verify_image(images_[0], device, Mode::kFull).ok());
  ASSERT_EQ(::unlink(key.c_str()), 0);
  spit(revoked, "# nothing revoked\n");
  ASSERT_EQ(::chown(revoked.c_str(), 1000, 1000), 0);
  EXPECT_FALSE(verifier::verify_image(images_[0], device, Mode::kFull).ok());
  ASSERT_EQ(::unlink(revoked.c_str()), 0);
  ASSERT_EQ(::chmod(ring_.c_str(), 0777), 0);
  r = verifier::verify_image(images_[0], device, Mode::kFull);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("mode 0777"), std::string::npos) << r.error().message;
  ASSERT_EQ(::chmod(ring_.c_str(), 0755), 0);
  EXPECT_TRUE(verifier::verify_image(images_[0], device, Mode::kFull).ok());
}

TEST_F(ImageTrust, FifoSlotIsAProblemNeverAHang) {
  Store store(options());
  ASSERT_TRUE(store.install(images_[0], false).ok());
  std::string b = dir_ / "store/nas/slot-b.img";
  ASSERT_EQ(::mkfifo(b.c_str(), 0644), 0);
  spit(dir_ / "store/nas/active", "b\n");
  within_seconds([&] {
    auto boot = store.bootable("nas", Mode::kFull);
    ASSERT_TRUE(boot.ok()) << boot.error().message;
    EXPECT_EQ(boot->slot, 'a');
    EXPECT_EQ(boot->active_problem, "slot b: verify " + b + ": not a regular file");
    auto list = store.list();
    ASSERT_TRUE(list.ok());
    EXPECT_EQ((*list)[0].slots[1].problem, "not a regular file");
  });
  ::unlink(b.c_str());
  ASSERT_EQ(::mkfifo(b.c_str(), 0644), 0);
  ::unlink((dir_ / "store/nas/slot-a.img").c_str());
  ASSERT_EQ(::mkfifo((dir_ / "store/nas/slot-a.img").c_str(), 0644), 0);
  within_seconds([&] { EXPECT_FALSE(store.bootable("nas", Mode::kFull).ok()); });
}

// Review 6: a record, the pointer or a keyring file planted huge (sparse: a
// few bytes on disk, gigabytes to read) by someone who writes the store (a
// USB store) or a file where a record belongs: each is refused by its size,
// never read into memory. The bound is checked here through the message
// (a 64 MiB file is read whole, then misparsed, without the bound).
TEST_F(ImageTrust, HugeSparseRecordsPointerAndKeyringFilesAreRefusedNotRead) {
  Store store(options());
  ASSERT_TRUE(store.install(images_[0], false).ok());  // a: v1 sv 1
  ASSERT_TRUE(store.install(images_[2], false).ok());  // b: v3 sv 2
  const off_t huge = off_t{64} << 20;
  std::string active = dir_ / "store/nas/active";
  ASSERT_EQ(::truncate(active.c_str(), huge), 0);
  auto boot = store.bootable("nas", Mode::kFull);
  ASSERT_TRUE(boot.ok()) << boot.error().message;  // the higher version, without a pointer
  EXPECT_EQ(boot->slot, 'b');
  EXPECT_EQ(boot->active_problem, "active pointer: " + active + ": larger than 1048576 bytes: refused");
  spit(active, "b\n");
  std::string record = dir_ / "store/.state/nas.security_version";
  ASSERT_EQ(::truncate(record.c_str(), huge), 0);
  auto v3 = verifier::verify_image(images_[2], ring(), Mode::kFull);
  ASSERT_TRUE(v3.ok());
  Status st = store.admit(*v3);
  ASSERT_FALSE(st.ok()) << "a record that cannot be read is a refusal";
  EXPECT_EQ(st.error().message, record + ": larger than 1048576 bytes: refused");
  spit(record, "2\n");
  std::string revoked = std::string(ring_) + "/revoked";
  spit(revoked, "");
  ASSERT_EQ(::truncate(revoked.c_str(), huge), 0);
  auto r = verifier::verify_image(images_[0], ring(), Mode::kFull);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "verify " + images_[0] + ": keyring: " + ring_ + ": revoked: larger than 1048576 bytes: refused");
}

// Review 6: a descriptor opened for writing while the file was still the
// user's (or group-writable) survives the chown/chmod an operator does to
// satisfy the owner check, and writes after verification: the loop device
// would read what was never verified. Refused while anyone holds it open for
// writing, checked before the first byte is hashed.
TEST_F(ImageTrust, AnImageSomeoneHoldsOpenForWritingIsNotMountable) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (root-owned image, leases)";
  ASSERT_EQ(::chmod(images_[0].c_str(), 0644), 0);
  int writer = ::open(images_[0].c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(writer, 0);
  auto v = verifier::open_verified_to_mount(images_[0], ring(), Mode::kFull);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message, images_[0] + ": open for writing by a process, which could change it after "
                                            "verification; only an image nobody holds open for writing is mounted "
                                            "(or install it)");
  auto fd = verifier::open_image(images_[0]);
  ASSERT_TRUE(fd.ok());
  EXPECT_FALSE(verifier::check_only_root_writes(fd->get()).ok());
  ::close(writer);
  EXPECT_TRUE(verifier::check_only_root_writes(fd->get()).ok());
  auto ok = verifier::open_verified_to_mount(images_[0], ring(), Mode::kFull);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_TRUE(verifier::check_only_root_writes(ok->fd.get()).ok()) << "the probe's lease is not kept";
}

// Review 6: a device node where a slot, the pointer, the lock, a record or a
// key belongs (a store on removable media; a key dir is root's, but the same
// opener serves both) is refused WITHOUT being opened: open(2) of a device
// runs its driver's open (a watchdog arms). inotify's IN_OPEN tells whether
// anything opened it (an O_PATH lookup does not count).
TEST_F(ImageTrust, DeviceNodesWhereFilesBelongAreNeverOpened) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (mknod)";
  Store store(options());
  ASSERT_TRUE(store.install(images_[0], false).ok());  // a: v1
  ASSERT_TRUE(store.install(images_[1], false).ok());  // b: v2
  std::vector<std::string> planted = {dir_ / "store/nas/slot-a.img", dir_ / "store/nas/active",
                                      dir_ / "store/nas/lock", dir_ / "store/.state/nas.version",
                                      std::string(ring_) + "/zz.pem", dir_ / "plain.img"};
  int in = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ASSERT_GE(in, 0);
  for (const std::string& p : planted) {
    ::unlink(p.c_str());
    if (::mknod(p.c_str(), S_IFCHR | 0644, makedev(1, 3)) != 0) GTEST_SKIP() << "mknod: " << std::strerror(errno);
    ASSERT_GE(::inotify_add_watch(in, p.c_str(), IN_OPEN), 0) << p;
  }
  // Which planted node (if any) was opened since the last look.
  auto opened = [&] {
    std::string which;
    alignas(struct inotify_event) char events[4096];
    ssize_t n = ::read(in, events, sizeof events);
    for (ssize_t off = 0; off < n;) {
      auto* e = reinterpret_cast<struct inotify_event*>(events + off);
      if (e->mask & IN_OPEN) which += planted[static_cast<size_t>(e->wd - 1)] + " ";  // not IN_IGNORED
      off += static_cast<ssize_t>(sizeof *e + e->len);
    }
    return which;
  };
  EXPECT_FALSE(verifier::verify_image(dir_ / "plain.img", verifier::Keyring{dir_ / "nokeys", {}}, Mode::kFull).ok());
  EXPECT_EQ(opened(), "");
  EXPECT_FALSE(store.bootable("nas", Mode::kFull).ok());  // the keyring (zz.pem) fails closed
  EXPECT_EQ(opened(), "");
  EXPECT_TRUE(store.list().ok());
  EXPECT_EQ(opened(), "");
  EXPECT_FALSE(store.install(images_[2], false).ok());
  EXPECT_FALSE(store.rollback("nas").ok());
  EXPECT_FALSE(store.live_trial("nas").ok());
  EXPECT_EQ(opened(), "");
  ASSERT_EQ(::unlink((std::string(ring_) + "/zz.pem").c_str()), 0);
  auto r = store.install(images_[2], false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, dir_ / "store/nas/lock" + ": not a regular file: refused");
  EXPECT_EQ(opened(), "") << "a planted device node was opened";
  ::close(in);
}

TEST_F(ImageTrust, InstallRefusesALowerSecurityVersionEvenWithAllowDowngrade) {
  Store store(options());
  ASSERT_TRUE(store.install(images_[2], false).ok());  // v3, sv 2
  EXPECT_EQ(record(), "2\n");
  auto old = store.install(images_[1], true);  // v2, sv 1
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().message, "install " + images_[1] +
                                     ": rollback refused: image nas has security version 1, lower than this "
                                     "device's 2 (the rollback index is never lowered, not even with "
                                     "--allow-downgrade)");
  // A version downgrade within the same rollback index is what
  // --allow-downgrade allows.
  ASSERT_TRUE(store.install(images_[3], false).ok());  // v4, sv 2
  EXPECT_FALSE(store.install(images_[2], false).ok());
  auto same = store.install(images_[2], true);
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_EQ(record(), "2\n");
}

TEST_F(ImageTrust, DamagedActiveSlotNeverFallsBackBelowTheIndex) {
  Store store(options());
  ASSERT_TRUE(store.install(images_[1], false).ok());  // a: v2 sv 1
  ASSERT_TRUE(store.install(images_[2], false).ok());  // b: v3 sv 2
  std::string b = dir_ / "store/nas/slot-b.img";
  std::string bytes = slurp(b);
  bytes[5000] ^= 1;
  spit(b, bytes);
  auto boot = store.bootable("nas", Mode::kFull);
  ASSERT_FALSE(boot.ok());
  EXPECT_EQ(boot.error().message,
            "no bootable image for nas (slot b: verify " + b + ": squashfs: sha256 mismatch; slot a: rollback refused: "
            "image nas has security version 1, lower than this device's 2 (the rollback index is never lowered, not "
            "even with --allow-downgrade))");
  auto back = store.rollback("nas");
  EXPECT_FALSE(back.ok());
}

TEST_F(ImageTrust, SameIndexFallbackAndRollbackStayPossible) {
  Store store(options());
  ASSERT_TRUE(store.install(images_[2], false).ok());  // a: v3 sv 2
  ASSERT_TRUE(store.install(images_[3], false).ok());  // b: v4 sv 2
  std::string b = dir_ / "store/nas/slot-b.img";
  ASSERT_EQ(::truncate(b.c_str(), 5000), 0);
  auto boot = store.bootable("nas", Mode::kFull);
  ASSERT_TRUE(boot.ok()) << boot.error().message;
  EXPECT_EQ(boot->info.version, 3u);
  EXPECT_TRUE(boot->fell_back);
  ASSERT_TRUE(store.install(images_[3], false).ok());
  auto back = store.rollback("nas");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->version, 3u);
}

TEST_F(ImageTrust, DeletedRecordIsRebuiltFromTheSlotsNotResetToZero) {
  Store store(options());
  ASSERT_TRUE(store.install(images_[1], false).ok());  // a: v2 sv 1
  ASSERT_TRUE(store.install(images_[2], false).ok());  // b: v3 sv 2
  ASSERT_EQ(::unlink((dir_ / "store/.state/nas.security_version").c_str()), 0);
  ASSERT_EQ(::unlink((dir_ / "store/.state/nas.version").c_str()), 0);
  // Even with the higher slot's payload damaged: its signed metadata proves
  // the device had index 2 installed.
  std::string b = dir_ / "store/nas/slot-b.img";
  std::string bytes = slurp(b);
  bytes[5000] ^= 1;
  spit(b, bytes);
  auto f = store.floor("nas");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->security_version, 2u);
  EXPECT_EQ(f->version, 3u);
  EXPECT_EQ(record(), "2\n");
  EXPECT_EQ(slurp(dir_ / "store/.state/nas.version"), "3\n");
  EXPECT_FALSE(store.bootable("nas", Mode::kFull).ok());
  EXPECT_FALSE(store.install(images_[0], true).ok());
  // admit(): what `run IMAGE` asks.
  auto v1 = verifier::verify_image(images_[0], ring(), Mode::kFull);
  ASSERT_TRUE(v1.ok());
  Status st = store.admit(*v1);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "rollback refused: image nas has security version 1, lower than this device's 2 (the rollback index is "
            "never lowered, not even with --allow-downgrade)");
}

// A store on media others can write (a USB disk): whoever writes it can put
// an old, validly signed image in both slots and delete the records, which
// rebuilds the floor from the slots at the old index. With the records on
// the device's own flash (rollback_dir) that lowers nothing.
TEST_F(ImageTrust, RecordsOutsideTheStoreSurviveAStoreWriter) {
  verifier::StoreOptions o = options();
  o.rollback_dir = dir_ / "flash/rollback";
  Store store(o);
  ASSERT_TRUE(store.install(images_[1], false).ok());  // a: v2 sv 1
  ASSERT_TRUE(store.install(images_[2], false).ok());  // b: v3 sv 2
  EXPECT_EQ(slurp(dir_ / "flash/rollback/nas.security_version"), "2\n");
  EXPECT_EQ(slurp(dir_ / "flash/rollback/nas.version"), "3\n");
  struct stat st;
  EXPECT_NE(::lstat((dir_ / "store/.state/nas.security_version").c_str(), &st), 0);  // nothing in the store
  // The store writer: both slots hold v1 (sv 1), any in-store records gone.
  spit(dir_ / "store/nas/slot-a.img", slurp(images_[0]));
  spit(dir_ / "store/nas/slot-b.img", slurp(images_[0]));
  testing::run("rm -rf '" + dir_ / "store/.state" + "'");
  auto boot = store.bootable("nas", Mode::kFull);
  ASSERT_FALSE(boot.ok());
  EXPECT_NE(boot.error().message.find("security version 1, lower than this device's 2"), std::string::npos)
      << boot.error().message;
  EXPECT_EQ(slurp(dir_ / "flash/rollback/nas.security_version"), "2\n");
  // The same store without a rollback directory of its own falls to 1: the
  // records are only as safe as the store they live in.
  Store in_store(options());
  auto lowered = in_store.bootable("nas", Mode::kFull);
  ASSERT_TRUE(lowered.ok()) << lowered.error().message;
  EXPECT_EQ(lowered->info.security_version, 1u);
}

// A device whose records were in the store's own .state (the default store
// before the OpenWrt glue passed --rollback-dir for every store) keeps its
// floor when they move: the old records raise the new ones, never lower them,
// and a store writer's lower record there changes nothing.
TEST_F(ImageTrust, RecordsMovedToARollbackDirKeepTheStoresOwnFloor) {
  Store in_store(options());
  ASSERT_TRUE(in_store.install(images_[0], false).ok());  // a: v1 sv 1
  ASSERT_TRUE(in_store.install(images_[2], false).ok());  // b: v3 sv 2
  // Slot b damaged since, and only v1 left to rebuild from: the store's own
  // record (2) is the only witness of the index the device reached.
  spit(dir_ / "store/nas/slot-b.img", "gone");
  verifier::StoreOptions o = options();
  o.rollback_dir = dir_ / "flash/rollback";
  Store moved(o);
  auto boot = moved.bootable("nas", Mode::kFull);
  ASSERT_FALSE(boot.ok()) << "v1 (sv 1) booted below the floor 2 the store's own record holds";
  EXPECT_NE(boot.error().message.find("security version 1, lower than this device's 2"), std::string::npos)
      << boot.error().message;
  EXPECT_EQ(slurp(dir_ / "flash/rollback/nas.security_version"), "2\n");
  EXPECT_EQ(slurp(dir_ / "flash/rollback/nas.version"), "3\n");
  // Lowered in the store afterwards: the moved records stand.
  spit(dir_ / "store/.state/nas.security_version", "0\n");
  spit(dir_ / "store/.state/nas.version", "0\n");
  EXPECT_FALSE(moved.bootable("nas", Mode::kFull).ok());
  EXPECT_EQ(slurp(dir_ / "flash/rollback/nas.security_version"), "2\n");
}

TEST_F(ImageTrust, AdmitRaisesTheIndexAndAGarbageRecordFailsClosed) {
  Store store(options());
  auto v3 = verifier::verify_image(images_[2], ring(), Mode::kFull);
  auto v1 = verifier::verify_image(images_[0], ring(), Mode::kFull);
  ASSERT_TRUE(v3.ok() && v1.ok());
  ASSERT_TRUE(store.admit(*v1).ok());
  EXPECT_EQ(record(), "1\n");
  ASSERT_TRUE(store.admit(*v3).ok());
  EXPECT_EQ(record(), "2\n");
  EXPECT_FALSE(store.admit(*v1).ok());
  EXPECT_EQ(record(), "2\n") << "never lowered";
  spit(dir_ / "store/.state/nas.security_version", "zero\n");
  Status st = store.admit(*v3);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, (dir_ / "store/.state/nas.security_version") +
                                    ": expected a decimal security version and a newline");
  ASSERT_EQ(::unlink((dir_ / "store/.state/nas.security_version").c_str()), 0);
  ASSERT_EQ(::mkfifo((dir_ / "store/.state/nas.security_version").c_str(), 0644), 0);
  within_seconds([&] { EXPECT_FALSE(store.admit(*v3).ok()); });
}

}  // namespace
}  // namespace nestbox
