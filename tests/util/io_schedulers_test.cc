#include "util/io_schedulers.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace nestbox {
namespace {

namespace fs = std::filesystem;

// A fake /sys/block: disks with a device link and a scheduler file.
class FakeSysBlock {
 public:
  FakeSysBlock() {
    char tmpl[] = "/tmp/nestbox-sysblock-XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  ~FakeSysBlock() { fs::remove_all(root_); }
  void disk(const std::string& name, const std::string& scheduler_line, bool backed = true) {
    fs::create_directories(root_ + "/" + name + "/queue");
    if (backed) fs::create_directories(root_ + "/" + name + "/device");
    std::ofstream(root_ + "/" + name + "/queue/scheduler") << scheduler_line << "\n";
  }
  const std::string& path() const { return root_; }

 private:
  std::string root_;
};

TEST(IoSchedulers, ReadsTheActiveSchedulerOfEachBackedDisk) {
  FakeSysBlock sys;
  sys.disk("vda", "none [mq-deadline] kyber");
  sys.disk("sda", "mq-deadline kyber [bfq] none");
  sys.disk("loop0", "[none] mq-deadline", /*backed=*/false);  // passes I/O on: not counted
  sys.disk("nvme0n1", "none");                                 // single scheduler, no brackets
  std::vector<DiskScheduler> disks = disk_schedulers(sys.path());
  EXPECT_EQ(describe(disks), "nvme0n1: none, sda: bfq, vda: mq-deadline");
  EXPECT_TRUE(any_disk_uses(disks, "bfq"));
  EXPECT_FALSE(any_disk_uses(disks, "kyber"));
  EXPECT_TRUE(any_disk_offers(disks, "kyber"));
  EXPECT_TRUE(any_disk_offers(disks, "bfq"));
  EXPECT_FALSE(any_disk_offers(disks, "cfq"));
  EXPECT_FALSE(any_disk_offers(disks, "mq"));
}

TEST(IoSchedulers, NoDisksIsSaid) {
  FakeSysBlock sys;
  EXPECT_EQ(describe(disk_schedulers(sys.path())), "no disks in /sys/block");
  EXPECT_EQ(describe(disk_schedulers(sys.path() + "/absent")), "no disks in /sys/block");
}

// This host: every disk reported has a scheduler name without brackets.
TEST(IoSchedulers, ThisHost) {
  for (const DiskScheduler& d : disk_schedulers()) {
    EXPECT_FALSE(d.active.empty()) << d.disk;
    EXPECT_EQ(d.active.find_first_of("[] \n"), std::string::npos) << d.disk << ": " << d.active;
  }
}

}  // namespace
}  // namespace nestbox
