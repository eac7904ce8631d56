// The container store: two slots, atomic active-pointer flip, rollback, list,
// and a kill-at-every-step / truncation test that must never leave a container
// without a bootable version.
#include "verifier/store.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/signer/fixture.h"

namespace nestbox {
namespace {

using testing::slurp;
using testing::spit;
using testing::TempDir;
using verifier::Mode;
using verifier::Store;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = testing::make_key(dir_, "k");
    ring_ = testing::make_keyring(dir_, "ring", {key_});
    for (uint64_t v = 1; v <= 3; ++v) {
      std::string sqfs = testing::make_squashfs(dir_, "v" + std::to_string(v), static_cast<unsigned>(v), 3, 40000);
      auto s = testing::spec_for(sqfs, {key_}, "policy v" + std::to_string(v), v);
      s.name = "nas";
      images_.push_back(dir_ / ("nas-" + std::to_string(v) + ".img"));
      ASSERT_TRUE(signer::build_image(s, images_.back()).ok());
    }
  }
  verifier::StoreOptions options(const std::string& root) {
    return {root, verifier::Keyring{ring_, {}}, verifier::DeviceIdentity{"x86_64", "nestbox-demo-board"}};
  }
  uint64_t boot_version(const Store& s) {
    auto b = s.bootable("nas", Mode::kFull);
    EXPECT_TRUE(b.ok()) << (b.ok() ? "" : b.error().message);
    return b.ok() ? b->info.version : 0;
  }

  TempDir dir_;
  testing::KeyPair key_;
  std::string ring_;
  std::vector<std::string> images_;  // nas versions 1, 2, 3
};

// Someone who can write the store (a store on removable media) plants
// symlinks where its directories and lock belong: install, boot and the
// trial commands run as root and would create and write files where they
// point. Each is refused, and nothing is created at the target.
TEST_F(StoreTest, SymlinkedDirectoriesAndLockAreRefusedNeverFollowed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (ownership checks)";
  std::string victim = dir_ / "victim";
  ASSERT_EQ(::mkdir(victim.c_str(), 0755), 0);
  auto created = [&] {
    std::string out;
    testing::run("ls -A '" + victim + "'", &out);
    return out;
  };

  // <store>/<name>/lock -> a file elsewhere (a key in the keyring, /etc/nologin)
  ASSERT_EQ(::mkdir((dir_ / "s1").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((dir_ / "s1/nas").c_str(), 0755), 0);
  ASSERT_EQ(::symlink((victim + "/zz.pem").c_str(), (dir_ / "s1/nas/lock").c_str()), 0);
  auto r1 = Store(options(dir_ / "s1")).install(images_[0], false);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().message, dir_ / "s1/nas/lock" + ": a symbolic link: refused");
  EXPECT_FALSE(Store(options(dir_ / "s1")).live_trial("nas").ok());

  // <store>/<name> -> another directory: slots, pointer and lock would land there
  ASSERT_EQ(::mkdir((dir_ / "s2").c_str(), 0755), 0);
  ASSERT_EQ(::symlink(victim.c_str(), (dir_ / "s2/nas").c_str()), 0);
  auto r2 = Store(options(dir_ / "s2")).install(images_[0], false);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().message, dir_ / "s2/nas" + ": not a directory (a symbolic link or a file): refused");
  auto b2 = Store(options(dir_ / "s2")).bootable("nas", Mode::kFull);
  ASSERT_FALSE(b2.ok());
  EXPECT_NE(b2.error().message.find("not a directory (a symbolic link or a file): refused"), std::string::npos);
  auto l2 = Store(options(dir_ / "s2")).list();
  ASSERT_TRUE(l2.ok());
  EXPECT_TRUE(l2->empty());  // a link where a container belongs is not one

  // <store>/.state -> another directory: the anti-rollback records
  ASSERT_EQ(::mkdir((dir_ / "s3").c_str(), 0755), 0);
  ASSERT_EQ(::symlink(victim.c_str(), (dir_ / "s3/.state").c_str()), 0);
  auto r3 = Store(options(dir_ / "s3")).install(images_[0], false);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error().message, dir_ / "s3/.state" + ": not a directory (a symbolic link or a file): refused");
  EXPECT_EQ(created(), "");

  // A store directory others can write, or that root does not own
  ASSERT_EQ(::mkdir((dir_ / "s4").c_str(), 0755), 0);
  ASSERT_EQ(::chmod((dir_ / "s4").c_str(), 0777), 0);
  auto r4 = Store(options(dir_ / "s4")).install(images_[0], false);
  ASSERT_FALSE(r4.ok());
  EXPECT_EQ(r4.error().message, dir_ / "s4" + ": writable by group or others (mode 0777): refused");
  ASSERT_EQ(::chmod((dir_ / "s4").c_str(), 0755), 0);
  ASSERT_TRUE(Store(options(dir_ / "s4")).install(images_[0], false).ok());
  ASSERT_EQ(::chown((dir_ / "s4/nas").c_str(), 1000, 1000), 0);
  auto b4 = Store(options(dir_ / "s4")).bootable("nas", Mode::kFull);
  ASSERT_FALSE(b4.ok());
  EXPECT_NE(b4.error().message.find(dir_ / "s4/nas" + ": owned by uid 1000, not root: refused"), std::string::npos);

  // A symlink on the way to the store root or the rollback directory: the
  // path is walked from "/" without following one, and nothing is made.
  ASSERT_EQ(::symlink(victim.c_str(), (dir_ / "s5").c_str()), 0);
  auto r5 = Store(options(dir_ / "s5/store")).install(images_[0], false);
  ASSERT_FALSE(r5.ok());
  EXPECT_EQ(r5.error().message, dir_ / "s5" + ": not a directory (a symbolic link or a file): refused");
  verifier::StoreOptions o6 = options(dir_ / "s6");
  o6.rollback_dir = dir_ / "s5/rollback";
  auto r6 = Store(o6).install(images_[0], false);
  ASSERT_FALSE(r6.ok());
  EXPECT_EQ(r6.error().message, dir_ / "s5" + ": not a directory (a symbolic link or a file): refused");
  EXPECT_EQ(created(), "");
}

// A store directory swapped for a symlink AFTER the store opened and checked
// it (someone who can write the store's disk: a container running as root
// with a writable bind of it, a USB store): the store keeps using the
// directory it checked, held by fd. Nothing lands where the link points;
// every write goes to the directory that was checked (renamed aside here).
TEST_F(StoreTest, ContainerDirectorySwappedForASymlinkMidInstallRedirectsNothing) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (ownership checks)";
  std::vector<std::string> steps;
  {
    Store dry(options(dir_ / "dry"));
    ASSERT_TRUE(dry.install(images_[0], false).ok());
    ASSERT_TRUE(dry.install(images_[1], false, [&](const char* s) {
                      if (std::find(steps.begin(), steps.end(), s) == steps.end()) steps.push_back(s);
                    }, nullptr, 5).ok());
  }
  ASSERT_FALSE(steps.empty());
  for (size_t i = 0; i < steps.size(); ++i) {
    for (uint32_t trial : {0u, 5u}) {
      std::string tag = std::to_string(i) + "-" + std::to_string(trial);
      std::string root = dir_ / ("swap-" + tag), victim = dir_ / ("victim-" + tag);
      ASSERT_EQ(::mkdir(victim.c_str(), 0755), 0);
      Store store(options(root));
      ASSERT_TRUE(store.install(images_[0], false).ok());
      bool swapped = false;
      auto r = store.install(images_[1], false, [&](const char* s) {
        if (swapped || steps[i] != s) return;
        swapped = true;
        ASSERT_EQ(::rename((root + "/nas").c_str(), (root + "/nas.checked").c_str()), 0);
        ASSERT_EQ(::symlink(victim.c_str(), (root + "/nas").c_str()), 0);
      }, nullptr, trial);
      if (!swapped) continue;  // a step of the other variant only
      ASSERT_TRUE(r.ok()) << "swap at " << steps[i] << ": " << r.error().message;
      std::string out;
      testing::run("ls -A '" + victim + "'", &out);
      EXPECT_EQ(out, "") << "swap at " << steps[i] << " (trial " << trial << "): written through the link";
      EXPECT_EQ(slurp(root + "/nas.checked/active"), "b\n") << steps[i];
      EXPECT_TRUE(slurp(root + "/nas.checked/slot-b.img") == slurp(images_[1])) << steps[i];
      if (trial) {
        EXPECT_EQ(slurp(root + "/nas.checked/trial"), "slot=b\nversion=2\nseconds=5\nstate=pending\n") << steps[i];
      }
    }
  }
}

// The same for a directory on the way to the records: the store root (its
// .state) and the parent of a rollback directory of its own, swapped for a
// symlink to a look-alike tree once install has opened them. The records
// land in the directories that were checked, never in the look-alike.
TEST_F(StoreTest, RecordDirectorySwappedForASymlinkMidInstallRedirectsNothing) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (ownership checks)";
  for (bool own_rollback_dir : {false, true}) {
    std::string tag = own_rollback_dir ? "rb" : "state";
    std::string top = dir_ / ("top-" + tag), evil = dir_ / ("evil-" + tag);
    ASSERT_EQ(::mkdir(top.c_str(), 0755), 0);
    // The look-alike: the same layout, so a by-path open still finds its way.
    ASSERT_EQ(testing::run("mkdir -p '" + evil + "/store/.state' '" + evil + "/store/nas' '" + evil + "/rollback'"), 0);
    verifier::StoreOptions o = options(top + "/store");
    if (own_rollback_dir) o.rollback_dir = top + "/rollback";
    Store store(o);
    ASSERT_TRUE(store.install(images_[0], false).ok());
    auto r = store.install(images_[1], false, [&](const char* s) {
      if (std::string(s) != "pointer-synced") return;
      ASSERT_EQ(::rename(top.c_str(), (top + ".checked").c_str()), 0);
      ASSERT_EQ(::symlink(evil.c_str(), top.c_str()), 0);
    });
    ASSERT_TRUE(r.ok()) << r.error().message;
    std::string out;
    testing::run("find '" + evil + "' -type f", &out);
    EXPECT_EQ(out, "") << tag << ": records written through the link";
    std::string records = top + ".checked" + (own_rollback_dir ? "/rollback" : "/store/.state");
    EXPECT_EQ(slurp(records + "/nas.version"), "2\n") << tag;
  }
}

// rollback flips the pointer in the directory it checked; boot reads both
// slots from it: the other slot is never taken from where a link swapped in
// meanwhile points (a look-alike holding a slot of its own).
TEST_F(StoreTest, ContainerDirectorySwappedForASymlinkMidRollbackOrBootRedirectsNothing) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (ownership checks)";
  std::string root = dir_ / "store", victim = dir_ / "victim";
  ASSERT_EQ(::mkdir(victim.c_str(), 0755), 0);
  Store store(options(root));
  ASSERT_TRUE(store.install(images_[0], false).ok());
  ASSERT_TRUE(store.install(images_[1], false).ok());
  auto swap = [&] {
    ASSERT_EQ(::rename((root + "/nas").c_str(), (root + "/nas.checked").c_str()), 0);
    ASSERT_EQ(::symlink(victim.c_str(), (root + "/nas").c_str()), 0);
  };
  auto unswap = [&] {
    ASSERT_EQ(::unlink((root + "/nas").c_str()), 0);
    ASSERT_EQ(::rename((root + "/nas.checked").c_str(), (root + "/nas").c_str()), 0);
  };
  auto back = store.rollback("nas", [&](const char* s) {
    if (std::string(s) == "other-verified") swap();
  });
  ASSERT_TRUE(back.ok()) << back.error().message;
  std::string out;
  testing::run("ls -A '" + victim + "'", &out);
  EXPECT_EQ(out, "") << "rollback wrote through the link";
  EXPECT_EQ(slurp(root + "/nas.checked/active"), "a\n");
  unswap();
  ASSERT_TRUE(store.install(images_[1], false).ok());  // b (2) active again

  // Boot: the active slot (b) is passed over (`accept` refuses it) after the
  // swap; the fallback must be the checked directory's slot a (1), not the
  // look-alike's slot a (3).
  spit(victim + "/slot-a.img", slurp(images_[2]));
  spit(victim + "/active", "a\n");
  bool swapped = false;
  auto boot = store.bootable("nas", Mode::kFull, [&](const verifier::ImageInfo& i) -> Status {
    if (!swapped) {
      swapped = true;
      swap();
      return failure("refused by the test (version " + std::to_string(i.version) + ")");
    }
    return ok_status();
  });
  ASSERT_TRUE(boot.ok()) << boot.error().message;
  EXPECT_EQ(boot->slot, 'a');
  EXPECT_EQ(boot->info.version, 1u) << "booted the slot the link points to";
  EXPECT_TRUE(boot->fell_back);
}

// Review 6: whoever supplies the image to install can grow it after it was
// verified (append, or truncate it up to a huge sparse size): the copy into
// the slot takes exactly the verified size, never what the file grew to (it
// read to EOF: a sparse terabyte would have filled the device's flash). A
// source shrunk after verification ends the install, naming it.
TEST_F(StoreTest, SourceGrownOrShrunkAfterVerificationCopiesOnlyTheVerifiedBytes) {
  std::string src = dir_ / "src.img";
  spit(src, slurp(images_[0]));
  const off_t size = static_cast<off_t>(slurp(src).size());
  Store store(options(dir_ / "store"));
  auto grow = [&](const char* s) {
    if (std::string(s) == "source-verified") {
      ASSERT_EQ(::truncate(src.c_str(), size + (off_t{256} << 20)), 0);
    }
  };
  auto r = store.install(src, false, grow);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(slurp(dir_ / "store/nas/slot-a.img"), slurp(images_[0]));
  spit(src, slurp(images_[1]));
  const off_t size2 = static_cast<off_t>(slurp(src).size());
  auto shrink = [&](const char* s) {
    if (std::string(s) == "source-verified") {
      ASSERT_EQ(::truncate(src.c_str(), size2 / 2), 0);
    }
  };
  auto cut = store.install(src, false, shrink);
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.error().message.find("of the " + std::to_string(size2) + " bytes verified (truncated since)"),
            std::string::npos)
      << cut.error().message;
  EXPECT_EQ(boot_version(store), 1u);
  struct stat st;
  EXPECT_NE(::lstat((dir_ / "store/nas/slot-b.img.tmp").c_str(), &st), 0) << "the temp copy is removed";
}

// Review 6: the last trial's result is parsed as strictly as the trial record:
// a field this launcher does not know is a problem, never skipped.
TEST_F(StoreTest, TrialResultWithAnUnknownFieldIsAProblem) {
  Store store(options(dir_ / "store"));
  ASSERT_TRUE(store.install(images_[0], false).ok());
  spit(dir_ / "store/nas/trial-result", "outcome=committed\nversion=1\nreason=\n");
  auto list = store.list();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)[0].trial_problem, "");
  ASSERT_TRUE((*list)[0].last_trial.has_value());
  spit(dir_ / "store/nas/trial-result", "outcome=committed\nversion=1\nreason=\nfloor=0\n");
  list = store.list();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)[0].trial_problem, dir_ / "store/nas/trial-result" + ": unknown field");
}

TEST_F(StoreTest, InstallFlipsSlotsRollbackAndList) {
  Store store(options(dir_ / "store"));
  EXPECT_EQ(store.bootable("nas", Mode::kFull).error().message.rfind("no bootable image for nas", 0), 0u);
  ASSERT_TRUE(store.install(images_[0], false).ok());
  EXPECT_EQ(slurp(dir_ / "store/nas/active"), "a\n");
  EXPECT_EQ(boot_version(store), 1u);
  auto v2 = store.install(images_[1], false);
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  EXPECT_EQ(slurp(dir_ / "store/nas/active"), "b\n");
  EXPECT_EQ(boot_version(store), 2u);
  auto list = store.list();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "nas");
  EXPECT_EQ((*list)[0].slots[0].version, 1u);
  EXPECT_FALSE((*list)[0].slots[0].active);
  EXPECT_EQ((*list)[0].slots[1].version, 2u);
  EXPECT_TRUE((*list)[0].slots[1].active);
  EXPECT_EQ((*list)[0].slots[1].version_string, "1.2.2");

  auto back = store.rollback("nas");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->version, 1u);
  EXPECT_EQ(boot_version(store), 1u);
  // The next install replaces the inactive slot (b, v2), never the booting one.
  ASSERT_TRUE(store.install(images_[2], false).ok());
  EXPECT_EQ(slurp(dir_ / "store/nas/active"), "b\n");
  EXPECT_EQ(boot_version(store), 3u);
  ASSERT_TRUE(store.rollback("nas").ok());
  EXPECT_EQ(boot_version(store), 1u);
  EXPECT_FALSE(Store(options(dir_ / "store")).rollback("web").ok());
}

// install --if-newer (first boot after a flash): only a newer image is
// installed; the same or an older one is verified and leaves the store as it
// was (both slots and the pointer), a damaged one is still refused.
TEST_F(StoreTest, IfNewerInstallsOnlyANewerImage) {
  Store store(options(dir_ / "store"));
  bool up_to_date = true;
  ASSERT_TRUE(store.install(images_[0], false, {}, &up_to_date).ok());  // empty store
  EXPECT_FALSE(up_to_date);
  auto v2 = store.install(images_[1], false, {}, &up_to_date);
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  EXPECT_FALSE(up_to_date);
  EXPECT_EQ(boot_version(store), 2u);
  std::string slot_a = slurp(dir_ / "store/nas/slot-a.img"), slot_b = slurp(dir_ / "store/nas/slot-b.img");
  for (int i : {1, 0}) {  // the same version, then an older one
    auto same = store.install(images_[i], false, {}, &up_to_date);
    ASSERT_TRUE(same.ok()) << same.error().message;
    EXPECT_TRUE(up_to_date);
    EXPECT_EQ(same->version, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(slurp(dir_ / "store/nas/active"), "b\n");
    EXPECT_EQ(slurp(dir_ / "store/nas/slot-a.img"), slot_a);
    EXPECT_EQ(slurp(dir_ / "store/nas/slot-b.img"), slot_b);
  }
  EXPECT_EQ(slurp(dir_ / "store/.state/nas.version"), "2\n");
  std::string bad = slurp(images_[1]);
  bad[bad.size() / 2] ^= 1;
  spit(dir_ / "bad.img", bad);
  EXPECT_FALSE(store.install(dir_ / "bad.img", false, {}, &up_to_date).ok());
  ASSERT_TRUE(store.install(images_[2], false, {}, &up_to_date).ok());
  EXPECT_FALSE(up_to_date);
  EXPECT_EQ(boot_version(store), 3u);
}

TEST_F(StoreTest, RefusesRollbackForeignAndTamperedImagesWithoutTouchingTheStore) {
  Store store(options(dir_ / "store"));
  ASSERT_TRUE(store.install(images_[1], false).ok());
  auto old = store.install(images_[0], false);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().message, "install " + images_[0] +
                                     ": rollback refused: image nas version 1 (1.2.1) is lower than the installed "
                                     "version 2 (use --allow-downgrade)");
  EXPECT_EQ(slurp(dir_ / "store/nas/active"), "a\n");
  Store other_board({dir_ / "store", verifier::Keyring{ring_, {}}, {"x86_64", "other-board"}});
  EXPECT_FALSE(other_board.install(images_[2], false).ok());
  std::string bad = slurp(images_[2]);
  bad[100] ^= 4;
  spit(dir_ / "bad.img", bad);
  auto tampered = store.install(dir_ / "bad.img", false);
  ASSERT_FALSE(tampered.ok());
  EXPECT_EQ(tampered.error().message, "install: verify " + dir_ / "bad.img" + ": squashfs: sha256 mismatch");
  EXPECT_FALSE(testing::run("test -e '" + dir_ / "store/nas/slot-b.img" + "'") == 0);
  EXPECT_EQ(boot_version(store), 2u);
  ASSERT_TRUE(store.install(images_[0], true).ok());
  EXPECT_EQ(boot_version(store), 1u);
}

TEST_F(StoreTest, BootFallsBackWhenTheActiveSlotOrThePointerIsDamaged) {
  Store store(options(dir_ / "store"));
  ASSERT_TRUE(store.install(images_[0], false).ok());
  ASSERT_TRUE(store.install(images_[1], false).ok());
  std::string b = dir_ / "store/nas/slot-b.img";
  std::string good = slurp(b);
  ASSERT_EQ(::truncate(b.c_str(), 5000), 0);
  auto boot = store.bootable("nas", Mode::kFull);
  ASSERT_TRUE(boot.ok()) << boot.error().message;
  EXPECT_EQ(boot->info.version, 1u);
  EXPECT_TRUE(boot->fell_back);
  EXPECT_NE(boot->active_problem.find("slot b: verify " + b + ": trailer"), std::string::npos) << boot->active_problem;
  spit(b, good);
  spit(dir_ / "store/nas/active", "zz");
  boot = store.bootable("nas", Mode::kFull);
  ASSERT_TRUE(boot.ok());
  EXPECT_EQ(boot->info.version, 2u) << "without a pointer, the higher verified version boots";
  // Installing now must not overwrite the slot that boots (b).
  ASSERT_TRUE(store.install(images_[2], false).ok());
  EXPECT_EQ(slurp(dir_ / "store/nas/active"), "a\n");
  EXPECT_TRUE(slurp(b) == good);
}

// Kill the installer at every step it reports (and again with the files it was
// writing truncated, and with the pointer truncated): the container always
// boots at the old or the new version, and a later install completes.
TEST_F(StoreTest, KillAtEveryStepNeverLeavesTheContainerUnbootable) {
  std::vector<std::string> steps;
  {
    Store dry(options(dir_ / "dry"));
    ASSERT_TRUE(dry.install(images_[0], false).ok());
    ASSERT_TRUE(dry.install(images_[1], false, [&](const char* s) {
                      if (std::find(steps.begin(), steps.end(), s) == steps.end()) steps.push_back(s);
                    }).ok());
  }
  // The copy is verified through its own fd before it is renamed into the
  // slot: a slot only ever holds bytes that verified.
  ASSERT_EQ(steps, (std::vector<std::string>{"source-verified", "copy", "slot-synced", "slot-verified",
                                             "slot-renamed", "slot-dir-synced", "pointer-written",
                                             "pointer-renamed", "pointer-synced", "state-recorded"}));
  int cases = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    for (int variant = 0; variant < 3; ++variant) {
      std::string root = dir_ / ("kill-" + std::to_string(i) + "-" + std::to_string(variant));
      Store store(options(root));
      ASSERT_TRUE(store.install(images_[0], false).ok());
      pid_t pid = ::fork();
      if (pid == 0) {
        const std::string& kill_at = steps[i];
        (void)store.install(images_[1], false, [&](const char* s) {
          if (kill_at == s) ::raise(SIGKILL);
        });
        ::_exit(0);
      }
      int st = 0;
      ASSERT_EQ(::waitpid(pid, &st, 0), pid);
      ASSERT_TRUE(WIFSIGNALED(st)) << "not killed at " << steps[i];
      std::string dir = root + "/nas";
      if (variant == 1) {  // the data being written never reached the flash
        for (const char* f : {"slot-b.img.tmp", "slot-b.img", "active.tmp"}) {
          std::string p = dir + "/" + f;
          std::string data = slurp(p);
          if (!data.empty()) {
            ASSERT_EQ(::truncate(p.c_str(), static_cast<off_t>(data.size() / 2)), 0);
          }
        }
      } else if (variant == 2) {  // the pointer itself lost
        ASSERT_EQ(::truncate((dir + "/active").c_str(), 0), 0);
      }
      auto boot = store.bootable("nas", Mode::kFull);
      ASSERT_TRUE(boot.ok()) << "unbootable after a kill at " << steps[i] << " (variant " << variant
                             << "): " << boot.error().message;
      bool flipped = i >= 7;  // pointer-renamed and later
      uint64_t expect = (flipped && variant != 1) || (variant == 2 && i >= 4) ? 2 : 1;  // 4: slot-renamed
      EXPECT_EQ(boot->info.version, expect) << "kill at " << steps[i] << " variant " << variant;
      auto again = store.install(images_[1], false);
      ASSERT_TRUE(again.ok()) << "re-install after a kill at " << steps[i] << ": " << again.error().message;
      EXPECT_EQ(boot_version(store), 2u);
      ++cases;
    }
  }
  EXPECT_EQ(cases, 30);
}

// Trials (install --trial): the anti-rollback records move only on commit; a
// failed trial goes back; never below a committed version.
TEST_F(StoreTest, TrialIsCommittedOrRolledBackNeverBelowTheCommittedVersion) {
  std::string root = dir_ / "store", dir = root + "/nas";
  Store store(options(root));
  auto no_fallback = store.install(images_[0], false, {}, nullptr, 5);
  ASSERT_FALSE(no_fallback.ok());
  EXPECT_EQ(no_fallback.error().message.rfind("install --trial nas: no bootable committed version to fall back to", 0),
            0u);
  ASSERT_TRUE(store.install(images_[0], false).ok());
  EXPECT_EQ(store.install(images_[1], true, {}, nullptr, 5).error().message,
            "install: --trial and --allow-downgrade: choose one");
  ASSERT_TRUE(store.install(images_[1], false, {}, nullptr, 5).ok());
  EXPECT_EQ(slurp(dir + "/trial"), "slot=b\nversion=2\nseconds=5\nstate=pending\n");
  EXPECT_EQ(slurp(dir + "/active"), "b\n");
  EXPECT_EQ(slurp(root + "/.state/nas.version"), "1\n");  // not before commit
  EXPECT_EQ(store.install(images_[2], false).error().message,
            "install nas: version 2 in slot b is on trial: boot it (committed or rolled back) or roll it back first");
  ASSERT_TRUE(store.start_trial("nas").ok());
  EXPECT_EQ(slurp(dir + "/trial"), "slot=b\nversion=2\nseconds=5\nstate=started\n");
  EXPECT_EQ(store.start_trial("nas").error().message, "nas: the trial was started before and never judged");
  auto back = store.abandon_trial("nas", "exited 1\nforged=line");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->version, 1u);
  EXPECT_EQ(slurp(dir + "/active"), "a\n");
  EXPECT_EQ(slurp(dir + "/trial-result"), "outcome=rolled-back\nversion=2\nreason=exited 1 forged=line\n");
  EXPECT_FALSE(::access((dir + "/trial").c_str(), F_OK) == 0);
  EXPECT_EQ(slurp(root + "/.state/nas.version"), "1\n");

  // Committed: the record moves forward; no trial left to roll back.
  ASSERT_TRUE(store.install(images_[1], false, {}, nullptr, 5).ok());
  ASSERT_TRUE(store.start_trial("nas").ok());
  ASSERT_TRUE(store.commit_trial("nas").ok());
  EXPECT_EQ(slurp(root + "/.state/nas.version"), "2\n");
  EXPECT_EQ(slurp(dir + "/trial-result"), "outcome=committed\nversion=2\nreason=\n");
  EXPECT_EQ(store.abandon_trial("nas", "x").error().message, "nas: no trial to roll back");

  // A started record planted on the committed slot (b, 2) with older 1 in a:
  // never a way back below 2.
  spit(dir + "/trial", "slot=b\nversion=3\nseconds=1\nstate=started\n");
  EXPECT_EQ(store.abandon_trial("nas", "x").error().message,
            "trial rollback of nas to slot a refused: its version 1 is below the committed version 2");
  EXPECT_EQ(slurp(dir + "/active"), "b\n");
  // A commit cut after its version was recorded: finished, not undone.
  spit(dir + "/trial", "slot=b\nversion=2\nseconds=1\nstate=started\n");
  EXPECT_EQ(store.abandon_trial("nas", "x").error().message,
            "trial rollback of nas to slot a refused: version 2 was committed already");
  EXPECT_FALSE(::access((dir + "/trial").c_str(), F_OK) == 0);
  EXPECT_EQ(slurp(dir + "/active"), "b\n");

  // A record naming the slot the pointer does not select is stale: removed.
  spit(dir + "/trial", "slot=a\nversion=1\nseconds=1\nstate=started\n");
  auto live = store.live_trial("nas");
  ASSERT_TRUE(live.ok());
  EXPECT_FALSE(*live);
  EXPECT_FALSE(::access((dir + "/trial").c_str(), F_OK) == 0);
  // A record that does not read is an error, never "no trial".
  for (const char* bad : {"slot=b\nversion=2\nseconds=0\nstate=started\n", "slot=b\nversion=2\nseconds=1\n",
                          "slot=b\nversion=2\nseconds=1\nstate=started\nextra=1\n", "slot=c\n", "garbage"}) {
    spit(dir + "/trial", bad);
    EXPECT_FALSE(store.live_trial("nas").ok()) << bad;
    EXPECT_FALSE(store.install(images_[2], false).ok()) << bad;
  }
  ::unlink((dir + "/trial").c_str());
  ASSERT_EQ(::mkfifo((dir + "/trial").c_str(), 0600), 0);  // never a hang
  EXPECT_FALSE(store.live_trial("nas").ok());
}

// Killed at every step of install --trial, start and rollback: the next boot
// (live trial started -> roll back) boots 1 or the pending trial 2, and the
// version record never says 2.
TEST_F(StoreTest, KillAtEveryTrialStepNeverCommitsIt) {
  auto sequence = [&](Store& store, const verifier::StepHook& hook) {
    (void)store.install(images_[1], false, hook, nullptr, 5);
    (void)store.start_trial("nas", hook);
    (void)store.abandon_trial("nas", "crashed", hook);
  };
  int total = 0;
  {
    Store dry(options(dir_ / "dry"));
    ASSERT_TRUE(dry.install(images_[0], false).ok());
    sequence(dry, [&](const char*) { ++total; });
    EXPECT_EQ(boot_version(dry), 1u);
  }
  ASSERT_GT(total, 12);
  for (int k = 1; k <= total; ++k) {
    std::string root = dir_ / ("tkill-" + std::to_string(k));
    Store store(options(root));
    ASSERT_TRUE(store.install(images_[0], false).ok());
    pid_t pid = ::fork();
    if (pid == 0) {
      int n = 0;
      sequence(store, [&](const char*) {
        if (++n == k) ::raise(SIGKILL);
      });
      ::_exit(0);
    }
    int st = 0;
    ASSERT_EQ(::waitpid(pid, &st, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(st)) << "not killed at step " << k;
    // What the next boot does first.
    auto live = store.live_trial("nas");
    ASSERT_TRUE(live.ok()) << "step " << k << ": " << live.error().message;
    if (*live && (*live)->started) {
      ASSERT_TRUE(store.abandon_trial("nas", "interrupted").ok()) << "step " << k;
    }
    uint64_t v = boot_version(store);
    EXPECT_TRUE(v == 1 || (v == 2 && *live && !(*live)->started)) << "step " << k << " boots " << v;
    EXPECT_EQ(slurp(root + "/.state/nas.version"), "1\n") << "step " << k;
  }
}

}  // namespace
}  // namespace nestbox
