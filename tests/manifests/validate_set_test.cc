#include <gtest/gtest.h>

#include "manifests/manifest.h"

namespace nestbox::manifests {
namespace {

Manifest make(const std::string& name, const std::string& extra = "") {
  auto m = load_string("name = \"" + name + "\"\nversion = 1\n" + extra +
                           "[process]\ncommand = [\"/bin/true\"]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n",
                       name + ".toml");
  EXPECT_TRUE(m.ok()) << m.error().message;
  return m.ok() ? *m : Manifest{};
}

const char kJoinNet[] = "[network]\n";  // placeholder so the helper stays readable

TEST(ValidateSet, DuplicateNames) {
  Status st = validate_set({make("a"), make("a")});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "a.toml: name: \"a\" is also the name of a.toml; expected unique container names");
}

TEST(ValidateSet, JoinMustNameAnotherContainer) {
  (void)kJoinNet;
  auto joiner = load_string(
      "name = \"b\"\nversion = 1\n[process]\ncommand = [\"/bin/true\"]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n"
      "[namespaces]\nipc = \"container:ghost\"\n", "b.toml");
  ASSERT_TRUE(joiner.ok()) << joiner.error().message;
  Status st = validate_set({make("a"), *joiner});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "b.toml: namespaces.ipc: joins \"ghost\", which is not among the given manifests; "
            "expected the name of another container");
  auto target = load_string(
      "name = \"ghost\"\nversion = 1\n[process]\ncommand = [\"/bin/true\"]\n[rootfs]\n[[rootfs.source]]\npath = \"s\"\n",
      "ghost.toml");
  EXPECT_TRUE(validate_set({*target, *joiner}).ok());
}

TEST(ValidateSet, JoinCycleIsRefused) {
  auto body = [](const char* name, const char* other) {
    return load_string(std::string("name = \"") + name + "\"\nversion = 1\n[process]\ncommand = [\"/bin/true\"]\n"
                       "[rootfs]\n[[rootfs.source]]\npath = \"s\"\n[namespaces]\nipc = \"container:" + other + "\"\n",
                       std::string(name) + ".toml");
  };
  auto a = body("a", "b"), b = body("b", "a");
  ASSERT_TRUE(a.ok() && b.ok());
  Status st = validate_set({*a, *b});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("a.toml: namespaces.ipc: joining \"b\" forms a cycle"), std::string::npos);
}

}  // namespace
}  // namespace nestbox::manifests

namespace nestbox::manifests {
namespace {

// Issue 14, class 8: overlay bases that name each other (or a container, or
// the automatic base's name) were refused only by compose, without a place.
Manifest overlay(const std::string& name, const std::string& base) {
  auto m = load_string("name = \"" + name + "\"\nversion = 1\n[process]\ncommand = [\"/bin/true\"]\n"
                       "[rootfs]\nstrategy = \"overlay\"\n" + (base.empty() ? "" : "base = \"" + base + "\"\n") +
                       "[[rootfs.source]]\npath = \"s\"\n", name + ".toml");
  EXPECT_TRUE(m.ok()) << m.error().message;
  return m.ok() ? *m : Manifest{};
}

TEST(ValidateSet, OverlayBasesNamingEachOtherAreRefused) {
  Status st = validate_set({overlay("a", "b"), overlay("b", "a")});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "a.toml:7:8: rootfs.base: \"b\" is also the name of the container in b.toml; a base is installed like a "
            "container of its name, expected another name\n"
            "b.toml:7:8: rootfs.base: \"a\" is also the name of the container in a.toml; a base is installed like a "
            "container of its name, expected another name");
  EXPECT_TRUE(validate_set({overlay("a", "shared"), overlay("b", "shared")}).ok());
}

TEST(ValidateSet, ContainerNamedLikeTheAutomaticBaseIsRefused) {
  Status st = validate_set({overlay("auto-base", "")});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "auto-base.toml:5:1: rootfs.base: the automatic base \"auto-base\" is this container's own name; a base is "
            "installed like a container of its name, expected another name");
}

}  // namespace
}  // namespace nestbox::manifests

namespace nestbox::manifests {
namespace {

// A container that joins another's network namespace has its capabilities
// there: one keeping CAP_NET_RAW or CAP_NET_ADMIN would send past (packet
// sockets) or delete the filter installed inside it for the owner's
// macvlan/vlan/phys interfaces, which the owner itself may not keep them for.
TEST(ValidateSet, JoinerOfAnInsideFilteredNetworkKeepsNoNetCaps) {
  auto load = [](const std::string& name, const std::string& extra) {
    auto m = load_string("name = \"" + name + "\"\nversion = 1\n[process]\ncommand = [\"/bin/true\"]\n"
                         "[rootfs]\n[[rootfs.source]]\npath = \"s\"\n" + extra, name + ".toml");
    EXPECT_TRUE(m.ok()) << m.error().message;
    return m.ok() ? *m : Manifest{};
  };
  const std::string fw = "[network.firewall]\nlan = [\"br-lan\"]\n";
  Manifest app = load("app", "[[network.interface]]\ntype = \"macvlan\"\nparent = \"br-lan\"\n" + fw);
  Manifest routed = load("app", "[[network.interface]]\ntype = \"veth\"\nbridge = \"br-app\"\n" + fw);
  auto joiner = [&](const std::string& name, const std::string& target, const std::string& caps) {
    return load(name, "[security]\ncapabilities = [" + caps + "]\n[namespaces]\nnet = \"container:" + target + "\"\n");
  };
  Status st = validate_set({app, joiner("side", "app", "\"CAP_NET_RAW\"")});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "side.toml: security.capabilities: keeps CAP_NET_RAW and joins the network namespace of \"app\" (app.toml), "
            "whose macvlan/vlan/phys interfaces are filtered inside it: it could delete that filter or send past it "
            "with packet sockets; expected security.capabilities without CAP_NET_ADMIN and CAP_NET_RAW");
  // Through another joiner: the namespace is still the app's.
  st = validate_set({app, joiner("mid", "app", ""), joiner("side", "mid", "\"CAP_NET_ADMIN\"")});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("side.toml: security.capabilities: keeps CAP_NET_ADMIN and joins the network "
                                    "namespace of \"app\""),
            std::string::npos)
      << st.error().message;
  // Without them, or where the filter is the host's (a veth): accepted.
  EXPECT_TRUE(validate_set({app, joiner("side", "app", "\"CAP_NET_BIND_SERVICE\"")}).ok());
  st = validate_set({routed, joiner("side", "app", "\"CAP_NET_RAW\"")});
  EXPECT_TRUE(st.ok()) << st.error().message;
}

}  // namespace
}  // namespace nestbox::manifests
