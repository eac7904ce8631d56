// Constant memory: full verification of a large image must not grow the
// process's resident set by more than 1 MiB, and no more than for a tiny image.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>

#include "tests/signer/fixture.h"
#include "verifier/verifier.h"

namespace nestbox {
namespace {

using testing::TempDir;

long status_kib(const char* field) {
  std::string s = testing::slurp("/proc/self/status");
  size_t p = s.find(field);
  if (p == std::string::npos) return -1;
  return std::strtol(s.c_str() + p + std::strlen(field) + 1, nullptr, 10);
}

// Peak RSS growth (KiB) of verifying `img` in a forked child, after one warm-up
// verification of `warm` (so libcrypto's code pages are already resident and
// only data counts); -1 on failure.
long peak_growth_kib(const std::string& warm, const std::string& img, const std::string& ring) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipefd[0]);
    long growth = -1;
    (void)verifier::verify_image(warm, verifier::Keyring{ring, {}}, verifier::Mode::kFull);
    int fd = ::open("/proc/self/clear_refs", O_WRONLY);
    if (fd >= 0 && ::write(fd, "5", 1) == 1) {  // resets VmHWM to the current RSS
      long before = status_kib("VmRSS:");
      auto info = verifier::verify_image(img, verifier::Keyring{ring, {}}, verifier::Mode::kFull);
      long peak = status_kib("VmHWM:");
      if (info.ok()) growth = peak - before;
    }
    (void)!::write(pipefd[1], &growth, sizeof growth);
    ::_exit(0);
  }
  ::close(pipefd[1]);
  long growth = -1;
  if (::read(pipefd[0], &growth, sizeof growth) != sizeof growth) growth = -1;
  ::close(pipefd[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  return growth;
}

TEST(Memory, FullVerificationUsesConstantMemory) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "RSS is meaningless under AddressSanitizer (shadow memory, quarantine)";
#endif
  TempDir dir;
  auto k = testing::make_key(dir, "k");
  std::string big = testing::make_squashfs(dir, "big", 1, 48, 1 << 20);
  std::string small = testing::make_squashfs(dir, "small", 2, 1, 1000);
  ASSERT_TRUE(signer::build_image(testing::spec_for(big, {k}), dir / "big.img").ok());
  ASSERT_TRUE(signer::build_image(testing::spec_for(small, {k}), dir / "small.img").ok());
  std::string ring = testing::make_keyring(dir, "ring", {k});
  long g_small = peak_growth_kib(dir / "small.img", dir / "small.img", ring);
  long g_big = peak_growth_kib(dir / "small.img", dir / "big.img", ring);
  ASSERT_GE(g_small, 0);
  ASSERT_GE(g_big, 0);
  EXPECT_LE(g_big, 1024) << "verifying a 48 MiB image grew RSS by " << g_big << " KiB";
  EXPECT_LE(g_big - g_small, 64) << "growth depends on image size: " << g_small << " vs " << g_big << " KiB";
  std::printf("peak RSS growth: small image %ld KiB, 48 MiB image %ld KiB\n", g_small, g_big);
}

}  // namespace
}  // namespace nestbox
