// Hot-plugged devices: the uevent parsers (exact messages), the matcher, a
// forged uevent from user space refused by the real socket, the device
// program with access bits loaded by the real kernel.
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "launcher/devices.h"
#include "launcher/hotplug.h"
#include "launcher/uevent.h"
#include "launcher/uevent_socket.h"

namespace nestbox::launcher {
namespace {

// Captured from this kernel: `losetup /dev/loop0 file`.
const char kLoopChange[] =
    "change@/devices/virtual/block/loop0\0ACTION=change\0DEVPATH=/devices/virtual/block/loop0\0"
    "SUBSYSTEM=block\0MAJOR=7\0MINOR=0\0DEVNAME=loop0\0DEVTYPE=disk\0DISKSEQ=26977\0SEQNUM=103644";

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// "a|b|" -> "a\0b\0": the kernel's separators, readable.
std::string nul(std::string s) {
  for (char& c : s)
    if (c == '|') c = '\0';
  return s;
}

std::string error_of(const std::string& msg) {
  auto e = parse_uevent(bytes(msg));
  return e.ok() ? "(accepted)" : e.error().message;
}

TEST(Uevent, ParsesTheKernelsMessage) {
  std::string msg(kLoopChange, sizeof kLoopChange);  // with the final NUL
  auto ev = parse_uevent(bytes(msg));
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->action, "change");
  EXPECT_EQ(ev->devpath, "/devices/virtual/block/loop0");
  EXPECT_EQ(ev->subsystem, "block");
  ASSERT_EQ(ev->vars.size(), 9u);
  EXPECT_EQ(*uevent_var(ev->vars, "DEVNAME"), "loop0");
  EXPECT_EQ(uevent_var(ev->vars, "ID_BUS"), nullptr);
}

TEST(Uevent, RefusesEveryMalformedMessageNamingWhy) {
  using S = std::string;
  S ok(kLoopChange, sizeof kLoopChange);
  EXPECT_EQ(error_of(""), "uevent: empty message");
  EXPECT_EQ(error_of(ok.substr(0, ok.size() - 1)), "uevent: last record not NUL-terminated");
  EXPECT_EQ(error_of(nul("libudev|\xfe\xed|")), "uevent: header is not ACTION@DEVPATH");
  EXPECT_EQ(error_of(nul("explode@/devices/x|ACTION=explode|DEVPATH=/devices/x|SUBSYSTEM=block|")),
            "uevent: unknown action in the header");
  EXPECT_EQ(error_of(nul("add@/devices/../etc|ACTION=add|DEVPATH=/devices/../etc|SUBSYSTEM=block|")),
            "uevent: header DEVPATH is not a clean sysfs path");
  EXPECT_EQ(error_of(nul("add@/devices/x|ACTION=remove|DEVPATH=/devices/x|SUBSYSTEM=block|")),
            "uevent: ACTION missing or not the header's");
  EXPECT_EQ(error_of(nul("add@/devices/x|ACTION=add|DEVPATH=/devices/y|SUBSYSTEM=block|")),
            "uevent: DEVPATH missing or not the header's");
  EXPECT_EQ(error_of(nul("add@/devices/x|ACTION=add|DEVPATH=/devices/x|")), "uevent: SUBSYSTEM missing");
  EXPECT_EQ(error_of(nul("add@/devices/x|ACTION=add|ACTION=add|")), "uevent record 2: key ACTION repeated");
  EXPECT_EQ(error_of(nul("add@/devices/x|ACTION=add||SUBSYSTEM=block|")), "uevent record 2: empty");
  EXPECT_EQ(error_of(nul("add@/devices/x|ACTION=add|dev=1|")),
            "uevent record 2: key holds a byte outside [A-Z0-9_]");
  EXPECT_EQ(error_of(nul("add@/devices/x|ACTION=add|NOVALUE|")), "uevent record 2: no '='");
  EXPECT_EQ(error_of(nul("add@/devices/x|ACTION=add|DEVNAME=a\nb|")),
            "uevent record 2: value holds a control byte");
  S many = "add@/devices/x";
  many.push_back('\0');
  for (int i = 0; i < 65; ++i) many += "K" + std::to_string(i) + "=v" + S(1, '\0');
  EXPECT_EQ(error_of(many), "uevent: more than 64 variables");
  EXPECT_EQ(error_of(S(9000, 'a')), "uevent: longer than 8192 bytes");
}

TEST(Uevent, SysfsFileLines) {
  auto vars = parse_uevent_file("MAJOR=7\nMINOR=0\nDEVNAME=loop0\nDEVTYPE=disk\n");
  ASSERT_TRUE(vars.ok()) << vars.error().message;
  EXPECT_EQ(*uevent_var(*vars, "MINOR"), "0");
  EXPECT_EQ(parse_uevent_file("MAJOR=7").error().message, "uevent file: last line not terminated");
  EXPECT_EQ(parse_uevent_file("MAJOR=7\nMAJOR=8\n").error().message, "uevent record 1: key MAJOR repeated");
  EXPECT_TRUE(parse_uevent_file("").ok());
}

TEST(HotplugMatch, NameDevtypePropertiesAndParent) {
  policy::HotplugRule r;
  r.name = "sd*";
  BlockDevice usb{"sdb1", {{"DEVTYPE", "partition"}, {"PARTN", "1"}, {"SUBSYSTEM", "block"}}, {"scsi", "usb", "pci"}};
  EXPECT_TRUE(hotplug_matches(r, usb));
  r.devtype = policy::HotplugDevtype::kDisk;
  EXPECT_FALSE(hotplug_matches(r, usb));
  r.devtype = policy::HotplugDevtype::kPartition;
  r.parent = "usb";
  EXPECT_TRUE(hotplug_matches(r, usb));
  BlockDevice sata = usb;
  sata.parents = {"scsi", "pci"};
  EXPECT_FALSE(hotplug_matches(r, sata));
  r.properties = {{"PARTN", "[12]"}};
  EXPECT_TRUE(hotplug_matches(r, usb));
  r.properties = {{"PARTN", "2"}};
  EXPECT_FALSE(hotplug_matches(r, usb));
  r.properties = {{"PARTNAME", "*"}};
  EXPECT_FALSE(hotplug_matches(r, usb));  // absent: no match
  r = {};
  r.name = "loop24[0-9]";
  EXPECT_TRUE(hotplug_matches(r, {"loop247", {}, {}}));
  EXPECT_FALSE(hotplug_matches(r, {"loop250", {}, {}}));
  EXPECT_FALSE(hotplug_matches(r, {"loop2470", {}, {}}));
}

// Root may send to the uevent group: the launcher's socket must refuse it.
TEST(UeventSocket, RefusesAMessageFromUserSpace) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  auto sock = UeventSocket::open();
  ASSERT_TRUE(sock.ok()) << sock.error().message;
  int s = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
  ASSERT_GE(s, 0);
  sockaddr_nl to;
  std::memset(&to, 0, sizeof to);
  to.nl_family = AF_NETLINK;
  to.nl_groups = 1;
  std::string forged =
      nul("add@/devices/virtual/block/loop7|ACTION=add|DEVPATH=/devices/virtual/block/loop7|SUBSYSTEM=block|DEVNAME=loop7|");
  ASSERT_EQ(::sendto(s, forged.data(), forged.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(forged.size()));
  ::close(s);
  // Other messages (the kernel's, other tests' loop devices) may come first.
  bool refused = false;
  for (int i = 0; i < 200 && !refused; ++i) {
    UeventSocket::Message m = sock->receive();
    if (m.got == UeventSocket::Got::kDropped) {
      EXPECT_EQ(m.why.rfind("not sent by the kernel (sender port ", 0), 0u) << m.why;
      refused = true;
    }
    ASSERT_FALSE(m.got == UeventSocket::Got::kEvent && *uevent_var(m.event.vars, "DEVPATH") ==
                                                          "/devices/virtual/block/loop7" &&
                 uevent_var(m.event.vars, "SEQNUM") == nullptr)
        << "the forged message was accepted";
    if (m.got == UeventSocket::Got::kNone) ::usleep(10000);
  }
  EXPECT_TRUE(refused);
}

TEST(DeviceProgram, AccessBitsInV1LinesAndTheKernelsVerifier) {
  std::vector<DeviceRule> rules = {{'c', 1, 3, kDevAll}, {'b', 7, 247, kDevRead}, {'b', 8, -1, kDevRead | kDevWrite}};
  EXPECT_EQ(v1_allow_lines(rules), (std::vector<std::string>{"c 1:3 rwm", "b 7:247 r", "b 8:* rw"}));
  if (::geteuid() != 0) GTEST_SKIP() << "BPF_PROG_LOAD needs root";
  auto fd = load_device_program(rules);
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  ::close(*fd);
}

}  // namespace
}  // namespace nestbox::launcher
