// Test helpers: a temporary directory removed afterwards, file creation,
// running a command and capturing its output.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/test_dir.h"

namespace nestbox::composer::testing {

using TempDir = nestbox::testing::TestDir;  // tests/test_dir.h

inline void write(const std::string& path, const std::string& data, mode_t mode = 0644) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  chmod(path.c_str(), mode);
}

inline void symlink_at(const std::string& target, const std::string& path) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  ::unlink(path.c_str());
  if (::symlink(target.c_str(), path.c_str()) != 0) std::abort();
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs a shell command, returns its stdout; *status gets the exit status.
inline std::string run(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = pclose(p);
  if (status) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

// The cache of real foreign-architecture Debian roots (armhf, arm64, mipsel:
// libc6 + busybox), fetched on first use by fetch_foreign_roots.sh, which is
// safe to run from concurrent tests. Returns the cache directory
// (<it>/<arch>/root, <it>/<arch>/debs), or "" with *why set when it cannot be
// fetched (no archive reachable).
inline std::string foreign_roots(std::string* why) {
  std::string script = std::string(NESTBOX_SOURCE_DIR) + "/tests/composer/fetch_foreign_roots.sh";
  int status = 0;
  std::string out = run(script + " 2>&1", &status);
  if (status != 0) {
    *why = "could not fetch foreign-arch debs: " + out;
    return "";
  }
  out = out.substr(0, out.find_last_not_of('\n') + 1);
  return out.substr(out.rfind('\n') + 1);
}

}  // namespace nestbox::composer::testing
