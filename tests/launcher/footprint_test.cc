// nestbox-launch ships on the router: it may load libc and its one crypto
// library only (libcrypto, or libmbedcrypto with NESTBOX_CRYPTO_BACKEND=mbedtls;
// never both), and libmnl where no static libmnl exists.
#include <gtest/gtest.h>

#include "tests/launcher/support.h"

namespace nestbox::launcher::testing {
namespace {

TEST(Footprint, LinksOnlyLibcAndLibcrypto) {
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "sanitizer builds link the sanitizer runtimes";
#endif
  std::string needed = sh(std::string("readelf -d ") + NESTBOX_LAUNCH +
                          " | sed -n 's/.*Shared library: \\[\\(.*\\)\\]/\\1/p'");
  ASSERT_FALSE(needed.empty());
  size_t pos = 0;
  while (pos < needed.size()) {
    size_t end = needed.find('\n', pos);
    std::string lib = needed.substr(pos, end - pos);
    pos = end + 1;
    // libmnl only where no libmnl.a exists (Debian; docs/network.md, "libmnl linkage").
    const std::string crypto_lib =
        std::string(NESTBOX_CRYPTO_BACKEND_NAME) == "mbedtls" ? "libmbedcrypto.so" : "libcrypto.so";
    bool allowed = lib == "libc.so.6" || lib.rfind("ld-linux", 0) == 0 || lib.rfind(crypto_lib, 0) == 0 ||
                   lib.rfind("libmnl.so", 0) == 0;
    EXPECT_TRUE(allowed) << "nestbox-launch needs " << lib;
  }
  std::string symbols = sh(std::string("nm -D ") + NESTBOX_LAUNCH + " | grep -ci -e seccomp_ -e toml -e archive_ -e sqfs_ -e XXH");
  EXPECT_EQ(symbols, "0\n");
}

// The size rules of launcher/CMakeLists.txt hold: nothing in nestbox-launch
// throws, so neither the unwinder nor the C++ exception runtime is linked
// (together ~50 KiB of the 150 KiB budget), and relative relocations are
// packed (DT_RELR) where the linker can.
TEST(Footprint, NoExceptionRuntimeLinked) {
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "sanitizer builds link the sanitizer runtimes";
#endif
  std::string symbols = sh(std::string("nm ") + NESTBOX_LAUNCH +
                           " | grep -c -e ' _Unwind_RaiseException$' -e ' __cxa_throw$' -e ' __gxx_personality_v0$'");
  EXPECT_EQ(symbols, "0\n");
}

TEST(Footprint, CommandTable) {
  std::string help = sh(std::string(NESTBOX_LAUNCH) + " --help");
  for (const char* c : {"run", "stop", "freeze", "thaw", "status", "list", "exec", "install", "rollback", "boot", "check"})
    EXPECT_NE(help.find(std::string("  ") + c + " "), std::string::npos) << c;
  EXPECT_EQ(sh(std::string(NESTBOX_LAUNCH) + " bogus 2>&1 >/dev/null | head -1"),
            "nestbox-launch: unknown command 'bogus'\n");
  std::string bad = sh(std::string(NESTBOX_LAUNCH) + " stop x --stop-timeout 5s 2>&1; echo $?");
  EXPECT_EQ(bad.rfind("nestbox-launch: --stop-timeout needs milliseconds (digits)\nusage:", 0), 0u) << bad;
  EXPECT_EQ(bad.substr(bad.size() - 2), "2\n");
  EXPECT_EQ(sh(std::string(NESTBOX_LAUNCH) + " run 2>&1; echo $?"),
            "nestbox-launch run: usage: run IMAGE|NAME\n2\n");
}

// Options before the command as well as after it; list prints a header row.
TEST(Footprint, OptionsBeforeTheCommand) {
  std::string launch = NESTBOX_LAUNCH;
  std::string empty = sh("mktemp -d");
  empty.pop_back();
  std::string before = sh(launch + " --store " + empty + "/store --state-dir " + empty + "/run list 2>&1; echo $?");
  std::string after = sh(launch + " list --store " + empty + "/store --state-dir " + empty + "/run 2>&1; echo $?");
  EXPECT_EQ(before, after);
  EXPECT_EQ(before.rfind("NAME                 STATE    INIT_PID  SLOTS", 0), 0u) << before;
  EXPECT_EQ(before.substr(before.size() - 2), "0\n") << before;
  EXPECT_EQ(sh(launch + " --json --bogus list 2>&1 | head -1"), "nestbox-launch: unknown option '--bogus'\n");
  EXPECT_EQ(sh(launch + " --state-dir " + empty + " frobnicate 2>&1 | head -1"),
            "nestbox-launch: unknown command 'frobnicate'\n");
  sh("rm -rf " + empty);
}

// docs/cli.md is the reference: every command of nestbox-launch's table (its
// --help) has a row "`nestbox-launch NAME ...".
TEST(Footprint, ReferenceDocumentsEveryCommand) {
  std::string doc = sh(std::string("cat ") + NESTBOX_SOURCE_DIR + "/docs/cli.md");
  std::string names = sh(std::string(NESTBOX_LAUNCH) + " --help | sed -n '/^commands:/,$p' | sed -n 's/^  \\([a-z]*\\) .*/\\1/p'");
  int documented = 0;
  size_t pos = 0;
  while (pos < names.size()) {
    size_t end = names.find('\n', pos);
    std::string name = names.substr(pos, end - pos);
    pos = end + 1;
    EXPECT_NE(doc.find("| `nestbox-launch " + name), std::string::npos) << name << " is missing from docs/cli.md";
    ++documented;
  }
  EXPECT_GE(documented, 11);
}

}  // namespace
}  // namespace nestbox::launcher::testing
