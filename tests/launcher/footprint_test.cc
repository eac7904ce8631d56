// nestbox-launch ships on the router: it may load libc and libcrypto only.
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
    bool allowed = lib == "libc.so.6" || lib.rfind("ld-linux", 0) == 0 || lib.rfind("libcrypto.so", 0) == 0;
    EXPECT_TRUE(allowed) << "nestbox-launch needs " << lib;
  }
  std::string symbols = sh(std::string("nm -D ") + NESTBOX_LAUNCH + " | grep -ci -e seccomp_ -e toml -e archive_ -e sqfs_ -e XXH");
  EXPECT_EQ(symbols, "0\n");
}

TEST(Footprint, CommandTable) {
  std::string help = sh(std::string(NESTBOX_LAUNCH) + " --help");
  for (const char* c : {"run", "stop", "freeze", "thaw", "status", "list", "exec"})
    EXPECT_NE(help.find(std::string("  ") + c + " "), std::string::npos) << c;
  EXPECT_EQ(sh(std::string(NESTBOX_LAUNCH) + " bogus 2>&1 >/dev/null | head -1"),
            "nestbox-launch: unknown command 'bogus'\n");
  std::string bad = sh(std::string(NESTBOX_LAUNCH) + " stop x --stop-timeout 5s 2>&1; echo $?");
  EXPECT_EQ(bad.rfind("nestbox-launch: --stop-timeout needs milliseconds (digits)\nusage:", 0), 0u) << bad;
  EXPECT_EQ(bad.substr(bad.size() - 2), "2\n");
  EXPECT_EQ(sh(std::string(NESTBOX_LAUNCH) + " run 2>&1; echo $?"),
            "nestbox-launch run: usage: run IMAGE\n2\n");
}

}  // namespace
}  // namespace nestbox::launcher::testing
