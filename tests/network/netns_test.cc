// Reachability per network mode, only inside network namespaces this test
// creates: a "router host" namespace R (bridges, veth "LAN"/"WAN" parents) and
// container namespaces beside it. setup_network runs on a thread that has
// setns()ed into R, as nestbox-launch would run on the router. The real host's
// interfaces, routes and firewall are never touched.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "network/setup.h"

namespace nestbox::network {
namespace {

using policy::IfType;
using policy::Interface;
using policy::MacvlanMode;

int sh(const std::string& cmd) {
  int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

std::string out(const std::string& cmd) {
  std::string text;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  pclose(p);
  return text;
}

const std::string kPrefix = "nbt" + std::to_string(getpid()) + "-";

// Deletes namespaces left by earlier runs of this test that died (their pid is gone).
void sweep_stale() {
  DIR* d = opendir("/run/netns");
  if (!d) return;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind("nbt", 0) != 0) continue;
    long pid = std::strtol(name.c_str() + 3, nullptr, 10);
    if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      sh("ip netns del " + name);
  }
  closedir(d);
}

// A named network namespace owned by the test: deleted in the destructor,
// also when an assertion fails.
class Netns {
 public:
  explicit Netns(const std::string& suffix) : name_(kPrefix + suffix) {
    if (sh("ip netns add " + name_) == 0) fd_ = UniqueFd(::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC));
  }
  ~Netns() {
    fd_.reset();
    sh("ip netns del " + name_);
  }
  bool ok() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  const std::string& name() const { return name_; }
  int ip(const std::string& args) const { return sh("ip -n " + name_ + " " + args); }
  std::string ip_out(const std::string& args) const { return out("ip -n " + name_ + " " + args + " 2>&1"); }
  bool ping(const std::string& addr) const {
    return sh("ip netns exec " + name_ + " busybox ping -c 1 -W 1 " + addr) == 0;
  }
  // Link names in this namespace ("veth0@if3" -> "veth0").
  std::set<std::string> links() const {
    std::set<std::string> names;
    std::string text = ip_out("-o link show");
    size_t pos = 0;
    while ((pos = text.find(": ", pos)) != std::string::npos) {
      size_t end = text.find_first_of("@:", pos + 2);
      names.insert(text.substr(pos + 2, end - pos - 2));
      pos = text.find('\n', pos);
      if (pos == std::string::npos) break;
    }
    return names;
  }

 private:
  std::string name_;
  UniqueFd fd_;
};

// Runs f on a thread that lives in namespace `fd` (the router host).
template <typename F>
auto in_netns(int fd, F f) -> decltype(f()) {
  std::unique_ptr<decltype(f())> result;
  std::thread t([&] {
    if (::setns(fd, CLONE_NEWNET) != 0) std::abort();  // cannot happen for a namespace we own
    result = std::make_unique<decltype(f())>(f());
  });
  t.join();
  return std::move(*result);
}

Interface make(IfType type, std::string name) {
  Interface i;
  i.type = type;
  i.name = std::move(name);
  return i;
}

policy::Policy container(std::string name, std::vector<Interface> ifaces) {
  policy::Policy p;
  p.name = std::move(name);
  p.net = policy::NetMode::kInterfaces;
  p.interfaces = std::move(ifaces);
  return p;
}

class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces";
    if (sh("command -v ip") != 0) GTEST_SKIP() << "needs iproute2 (scripts/install-deps.sh)";
    if (sh("command -v busybox") != 0) GTEST_SKIP() << "needs busybox for ping (scripts/install-deps.sh)";
    sweep_stale();
    router_ = std::make_unique<Netns>("r");
    ASSERT_TRUE(router_->ok()) << "ip netns add failed";
    ASSERT_EQ(router_->ip("link set lo up"), 0);
  }

  std::unique_ptr<Netns> add_container(const std::string& suffix) {
    auto ns = std::make_unique<Netns>(suffix);
    EXPECT_TRUE(ns->ok());
    return ns;
  }

  // A bridge in R with an address (nodad for IPv6: usable at once).
  void bridge(const std::string& name, const std::string& v4, const std::string& v6 = "") {
    ASSERT_EQ(router_->ip("link add " + name + " type bridge"), 0);
    ASSERT_EQ(router_->ip("link set " + name + " up"), 0);
    ASSERT_EQ(router_->ip("addr add " + v4 + " dev " + name), 0);
    if (!v6.empty()) {
      ASSERT_EQ(router_->ip("addr add " + v6 + " dev " + name + " nodad"), 0);
    }
  }

  // A veth pair in R standing for a physical port: `port` is the device given
  // to containers; `wire` is its other end, enslaved to `bridge`.
  void port(const std::string& port, const std::string& wire, const std::string& br) {
    ASSERT_EQ(router_->ip("link add " + port + " type veth peer name " + wire), 0);
    ASSERT_EQ(router_->ip("link set " + wire + " master " + br + " up"), 0);
    ASSERT_EQ(router_->ip("link set " + port + " up"), 0);
  }

  Result<NetworkSetup> setup(const policy::Policy& p, const Netns& c) {
    return in_netns(router_->fd(), [&] { return setup_network(p, c.fd()); });
  }
  Status teardown(NetworkSetup& s) {
    return in_netns(router_->fd(), [&] { return s.teardown(); });
  }

  std::unique_ptr<Netns> router_;
};

TEST_F(NetnsTest, EmptyHasOnlyLoopbackUp) {
  auto c = add_container("c");
  policy::Policy p;
  p.name = "empty";
  p.net = policy::NetMode::kEmpty;
  auto before = router_->links();
  auto s = setup(p, *c);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(c->links(), std::set<std::string>{"lo"});
  EXPECT_NE(c->ip_out("link show lo").find(",UP"), std::string::npos);
  EXPECT_TRUE(c->ping("127.0.0.1"));
  EXPECT_EQ(router_->links(), before);
  ASSERT_TRUE(teardown(*s).ok());
}

// A child process in its own network namespace, as the launcher's container
// init would be; killed and reaped by PID in the destructor.
class ContainerProcess {
 public:
  ContainerProcess() {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      char ok = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
      (void)!write(fds[1], &ok, 1);
      for (;;) pause();
    }
    close(fds[1]);
    char ok = 'n';
    ready_ = read(fds[0], &ok, 1) == 1 && ok == 'y';
    close(fds[0]);
  }
  ~ContainerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool ready() const { return ready_; }
  pid_t pid() const { return pid_; }
  std::string ip_out(const std::string& args) const {
    return out("nsenter -t " + std::to_string(pid_) + " -n ip " + args + " 2>&1");
  }

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

TEST_F(NetnsTest, SetupByPidOfTheContainerProcess) {
  bridge("br0", "10.9.0.1/24");
  auto before = router_->links();
  ContainerProcess c;
  ASSERT_TRUE(c.ready());
  Interface i = make(IfType::kVeth, "eth0");
  i.bridge = "br0";
  i.addresses = {"10.9.0.2/24"};
  auto s = in_netns(router_->fd(), [&] { return setup_network_for_pid(container("p", {i}), c.pid()); });
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_NE(c.ip_out("-o addr show eth0").find("inet 10.9.0.2/24"), std::string::npos);
  EXPECT_EQ(sh("nsenter -t " + std::to_string(c.pid()) + " -n busybox ping -c 1 -W 1 10.9.0.1"), 0);
  ASSERT_TRUE(teardown(*s).ok());
  EXPECT_EQ(router_->links(), before);
  EXPECT_EQ(c.ip_out("-o link show").find("eth0"), std::string::npos);
}

TEST_F(NetnsTest, NoneTouchesNothing) {
  policy::Policy p;
  p.name = "hostnet";
  p.net = policy::NetMode::kNone;
  auto before = router_->links();
  auto s = in_netns(router_->fd(), [&] { return setup_network(p, -1); });
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->host_links().empty());
  EXPECT_EQ(router_->links(), before);
}

TEST_F(NetnsTest, RefusesTheHostNamespaceAsContainer) {
  policy::Policy p;
  p.name = "confused";
  p.net = policy::NetMode::kEmpty;
  auto s = setup(p, *router_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "network of confused: the container's network namespace is the host's own");
}

TEST_F(NetnsTest, VethReachesBridgeAndPeers) {
  bridge("br0", "10.9.0.1/24", "fd09::1/64");
  auto before = router_->links();
  auto a = add_container("a"), b = add_container("b");
  Interface ia = make(IfType::kVeth, "eth0");
  ia.bridge = "br0";
  ia.host_name = "vhost-a";
  ia.mac = "02:00:00:00:0a:01";
  ia.mtu = 1400;
  ia.addresses = {"10.9.0.2/24", "fd09::2/64"};
  ia.routes = {{"default", "10.9.0.1"}};
  Interface ib = make(IfType::kVeth, "");  // defaults: eth0, generated host name
  ib.bridge = "br0";
  ib.addresses = {"10.9.0.3/24", "fd09::3/64"};
  auto sa = setup(container("a", {ia}), *a);
  ASSERT_TRUE(sa.ok()) << sa.error().message;
  auto sb = setup(container("b", {ib}), *b);
  ASSERT_TRUE(sb.ok()) << sb.error().message;

  EXPECT_TRUE(a->ping("10.9.0.1"));   // the bridge
  EXPECT_TRUE(a->ping("10.9.0.3"));   // a peer on the bridge
  EXPECT_TRUE(b->ping("10.9.0.2"));
  EXPECT_TRUE(a->ping("fd09::3"));
  EXPECT_TRUE(router_->ping("10.9.0.2"));
  std::string link = a->ip_out("link show eth0");
  EXPECT_NE(link.find("02:00:00:00:0a:01"), std::string::npos) << link;
  EXPECT_NE(link.find("mtu 1400"), std::string::npos) << link;
  EXPECT_NE(a->ip_out("route show").find("default via 10.9.0.1 dev eth0"), std::string::npos);
  EXPECT_NE(router_->ip_out("link show vhost-a").find("master br0"), std::string::npos);
  std::string bhost = default_veth_host_name("b", "eth0");
  EXPECT_NE(router_->ip_out("link show " + bhost).find("master br0"), std::string::npos);
  EXPECT_EQ(sb->host_links(), std::vector<std::string>{bhost});

  ASSERT_TRUE(teardown(*sa).ok());
  ASSERT_TRUE(teardown(*sb).ok());
  EXPECT_EQ(router_->links(), before);
  EXPECT_EQ(a->links(), std::set<std::string>{"lo"});
  EXPECT_EQ(b->links(), std::set<std::string>{"lo"});
}

TEST_F(NetnsTest, TwoVethsInTwoBridges) {
  bridge("br-lan", "10.9.0.1/24");
  bridge("br-guest", "10.8.0.1/24");
  auto before = router_->links();
  auto nas = add_container("nas");
  Interface lan = make(IfType::kVeth, "eth0");
  lan.bridge = "br-lan";
  lan.addresses = {"10.9.0.2/24"};
  Interface guest = make(IfType::kVeth, "eth1");
  guest.bridge = "br-guest";
  guest.addresses = {"10.8.0.2/24"};
  guest.routes = {{"192.0.2.0/24", "10.8.0.1"}};
  {
    auto s = setup(container("nas", {lan, guest}), *nas);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(nas->links(), (std::set<std::string>{"lo", "eth0", "eth1"}));
    EXPECT_TRUE(nas->ping("10.9.0.1"));
    EXPECT_TRUE(nas->ping("10.8.0.1"));
    EXPECT_NE(nas->ip_out("route show").find("192.0.2.0/24 via 10.8.0.1 dev eth1"), std::string::npos);
  }  // the destructor tears down: runs here on the main thread, sockets are bound to R
  EXPECT_EQ(router_->links(), before);
  EXPECT_EQ(nas->links(), std::set<std::string>{"lo"});
}

class MacvlanTest : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    bridge("brlan", "10.7.0.1/24");
    port("lan0", "lanp", "brlan");
  }
  // Two containers with macvlans in `mode` on lan0; whether A reaches B and the bridge.
  void siblings(MacvlanMode mode, bool hairpin, bool expect_sibling) {
    if (hairpin) {
      ASSERT_EQ(router_->ip("link set lanp type bridge_slave hairpin on"), 0);
    }
    auto before = router_->links();
    auto a = add_container("a"), b = add_container("b");
    Interface ia = make(IfType::kMacvlan, "eth0");
    ia.parent = "lan0";
    ia.macvlan_mode = mode;
    ia.addresses = {"10.7.0.2/24"};
    Interface ib = ia;
    ib.addresses = {"10.7.0.3/24"};
    auto sa = setup(container("a", {ia}), *a);
    ASSERT_TRUE(sa.ok()) << sa.error().message;
    auto sb = setup(container("b", {ib}), *b);
    ASSERT_TRUE(sb.ok()) << sb.error().message;
    EXPECT_NE(a->ip_out("-d link show eth0").find("macvlan mode"), std::string::npos);
    EXPECT_TRUE(a->ping("10.7.0.1")) << "macvlan cannot reach the LAN bridge";
    EXPECT_EQ(a->ping("10.7.0.3"), expect_sibling);
    ASSERT_TRUE(teardown(*sa).ok());
    ASSERT_TRUE(teardown(*sb).ok());
    EXPECT_EQ(router_->links(), before);
    EXPECT_EQ(a->links(), std::set<std::string>{"lo"});
  }
};

// A container restarted with the same address comes back with a new MAC. Its
// neighbours must learn that at once (gratuitous ARP when the link comes up),
// not after their stale entry times out 20-50 s later: until then a LAN client
// keeps sending to the old MAC and the app is unreachable.
TEST_F(MacvlanTest, ARestartAnnouncesTheNewMacToNeighbours) {
  auto mac_of = [](const Netns& ns) {
    std::string s = ns.ip_out("-o link show eth0");
    size_t at = s.find("link/ether ");
    return at == std::string::npos ? std::string() : s.substr(at + 11, 17);
  };
  auto neighbour = [&] {
    std::string s = router_->ip_out("neigh show 10.7.0.2 dev brlan");
    size_t at = s.find("lladdr ");
    return at == std::string::npos ? std::string() : s.substr(at + 7, 17);
  };
  Interface i = make(IfType::kMacvlan, "eth0");
  i.parent = "lan0";
  i.macvlan_mode = MacvlanMode::kPrivate;
  i.addresses = {"10.7.0.2/24"};
  auto a = add_container("a");
  std::string first_mac;
  {
    auto s = setup(container("a", {i}), *a);
    ASSERT_TRUE(s.ok()) << s.error().message;
    first_mac = mac_of(*a);
    ASSERT_TRUE(a->ping("10.7.0.1"));
    ASSERT_EQ(neighbour(), first_mac) << router_->ip_out("neigh");
    ASSERT_TRUE(teardown(*s).ok());
  }
  auto s = setup(container("a", {i}), *a);
  ASSERT_TRUE(s.ok()) << s.error().message;
  std::string second_mac = mac_of(*a);
  ASSERT_NE(second_mac, first_mac);
  // No traffic from the container: only its announcement can update the entry.
  for (int tries = 0; tries < 20 && neighbour() != second_mac; ++tries) ::usleep(50 * 1000);
  EXPECT_EQ(neighbour(), second_mac) << router_->ip_out("neigh");
  ASSERT_TRUE(teardown(*s).ok());
}

TEST_F(MacvlanTest, BridgeReachesSiblings) { siblings(MacvlanMode::kBridge, false, true); }
TEST_F(MacvlanTest, PrivateCannotReachSiblings) { siblings(MacvlanMode::kPrivate, false, false); }
TEST_F(MacvlanTest, PrivateCannotReachSiblingsEvenWithHairpin) {
  siblings(MacvlanMode::kPrivate, true, false);
}
TEST_F(MacvlanTest, VepaWithoutReflectionCannotReachSiblings) {
  siblings(MacvlanMode::kVepa, false, false);
}
TEST_F(MacvlanTest, VepaReachesSiblingsThroughHairpinPeer) {
  siblings(MacvlanMode::kVepa, true, true);
}

TEST_F(MacvlanTest, PassthruTakesTheWholeDevice) {
  auto before = router_->links();
  auto a = add_container("a");
  Interface i = make(IfType::kMacvlan, "eth0");
  i.parent = "lan0";
  i.macvlan_mode = MacvlanMode::kPassthru;
  i.addresses = {"10.7.0.2/24"};
  auto s = setup(container("a", {i}), *a);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_NE(a->ip_out("-d link show eth0").find("macvlan mode passthru"), std::string::npos);
  EXPECT_TRUE(a->ping("10.7.0.1"));
  ASSERT_TRUE(teardown(*s).ok());
  EXPECT_EQ(router_->links(), before);
}

TEST_F(NetnsTest, PhysIsMovedInAndGivenBack) {
  bridge("brwan", "10.6.0.1/24");
  port("wan0", "wanp", "brwan");
  auto before = router_->links();
  auto c = add_container("c");
  Interface i = make(IfType::kPhys, "eth0");
  i.parent = "wan0";
  i.addresses = {"10.6.0.2/24"};
  i.routes = {{"default", "10.6.0.1"}};
  auto s = setup(container("c", {i}), *c);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(router_->links().count("wan0"), 0u);
  EXPECT_EQ(c->links(), (std::set<std::string>{"lo", "eth0"}));
  EXPECT_TRUE(c->ping("10.6.0.1"));
  EXPECT_EQ(s->host_links(), std::vector<std::string>{"wan0"});
  ASSERT_TRUE(teardown(*s).ok());
  EXPECT_EQ(router_->links(), before);  // wan0 is back under its own name
  EXPECT_EQ(c->links(), std::set<std::string>{"lo"});
}

TEST_F(NetnsTest, FailureHalfWayUndoesEverything) {
  bridge("br0", "10.9.0.1/24");
  bridge("brwan", "10.6.0.1/24");
  port("wan0", "wanp", "brwan");
  auto before = router_->links();
  auto c = add_container("c");
  Interface ok_veth = make(IfType::kVeth, "eth0");
  ok_veth.bridge = "br0";
  ok_veth.addresses = {"10.9.0.2/24"};
  Interface phys = make(IfType::kPhys, "eth1");
  phys.parent = "wan0";
  Interface missing = make(IfType::kMacvlan, "eth2");
  missing.parent = "nosuchdev";
  auto s = setup(container("c", {ok_veth, phys, missing}), *c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "network of c: macvlan eth2: parent: find interface 'nosuchdev': No such device");
  EXPECT_EQ(router_->links(), before);  // veth removed, wan0 given back
  EXPECT_EQ(c->links(), std::set<std::string>{"lo"});
}

TEST_F(NetnsTest, BridgeMustExist) {
  auto c = add_container("c");
  Interface i = make(IfType::kVeth, "eth0");
  i.bridge = "br-missing";
  auto before = router_->links();
  auto s = setup(container("c", {i}), *c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "network of c: veth eth0: bridge: find interface 'br-missing': No such device");
  EXPECT_EQ(router_->links(), before);
}

// `bridge` must name a bridge: a link of another kind under that name (here a
// veth standing for the router's LAN port; a bond or a VRF alike) is refused
// with its kind, before anything is created, and the named link is not made
// anyone's port.
TEST_F(NetnsTest, BridgeMustBeABridge) {
  ASSERT_EQ(router_->ip("link add lan0 type veth peer name lan0w"), 0);
  auto c = add_container("c");
  Interface i = make(IfType::kVeth, "eth0");
  i.bridge = "lan0";
  i.host_name = "nbv-c";
  auto before = router_->links();
  auto s = setup(container("c", {i}), *c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "network of c: veth eth0: bridge: 'lan0' is of kind 'veth', not a bridge");
  EXPECT_EQ(router_->links(), before);
  EXPECT_EQ(c->links(), std::set<std::string>{"lo"});
  EXPECT_EQ(router_->ip_out("-o link show master lan0"), "");
  // A real bridge of that name is taken.
  ASSERT_EQ(router_->ip("link del lan0"), 0);
  bridge("lan0", "10.9.0.1/24");
  auto ok = setup(container("c", {i}), *c);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_NE(router_->ip_out("-o link show master lan0").find("nbv-c"), std::string::npos);
  ASSERT_TRUE(teardown(*ok).ok());
}

class VlanTest : public MacvlanTest {
 protected:
  // Whether this kernel can create 802.1Q devices (CONFIG_VLAN_8021Q).
  bool kernel_has_vlan() {
    bool has = router_->ip("link add link lanp name probe.9 type vlan id 9") == 0;
    if (has) router_->ip("link del probe.9");
    return has;
  }
  Interface vlan() {
    Interface i = make(IfType::kVlan, "eth0");
    i.parent = "lan0";
    i.vlan_id = 5;
    i.addresses = {"10.5.0.2/24"};
    return i;
  }
};

TEST_F(VlanTest, TaggedTrafficReachesTheVlanOnTheOtherSide) {
  if (!kernel_has_vlan()) GTEST_SKIP() << "kernel without CONFIG_VLAN_8021Q: see UnsupportedVlanFailsCleanly";
  ASSERT_EQ(router_->ip("link add link lanp name lanp.5 type vlan id 5"), 0);
  ASSERT_EQ(router_->ip("addr add 10.5.0.1/24 dev lanp.5"), 0);
  ASSERT_EQ(router_->ip("link set lanp.5 up"), 0);
  auto before = router_->links();
  auto c = add_container("c");
  auto s = setup(container("c", {vlan()}), *c);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_NE(c->ip_out("-d link show eth0").find("vlan protocol 802.1Q id 5"), std::string::npos);
  EXPECT_TRUE(c->ping("10.5.0.1"));
  ASSERT_TRUE(teardown(*s).ok());
  EXPECT_EQ(router_->links(), before);
  EXPECT_EQ(c->links(), std::set<std::string>{"lo"});
}

TEST_F(VlanTest, UnsupportedVlanFailsCleanly) {
  if (kernel_has_vlan()) GTEST_SKIP() << "kernel has CONFIG_VLAN_8021Q: see TaggedTraffic...";
  auto before = router_->links();
  auto c = add_container("c");
  auto s = setup(container("c", {vlan()}), *c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message.rfind("network of c: vlan eth0: create vlan eth0 on lan0: ", 0), 0u)
      << s.error().message;
  EXPECT_EQ(router_->links(), before);
  EXPECT_EQ(c->links(), std::set<std::string>{"lo"});
}

}  // namespace
}  // namespace nestbox::network
