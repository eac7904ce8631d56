// Helpers for the kernel-check tests: temp dirs, gzip, the shared kernel
// configs and synthetic variants derived from them.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_dir.h"

namespace nestbox::kernel_check::testing {

using TempDir = nestbox::testing::TestDir;  // tests/test_dir.h

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string gzip(const std::string& data) {
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// Directory of Debian's 6.1 configs (amd64, arm64, armhf, mipsel), or "".
inline std::string shared_configs_dir() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("NESTBOX_KERNEL_CONFIGS")) candidates.push_back(env);
  candidates.push_back(std::string(NESTBOX_SOURCE_DIR) + "/../shared/kernel-configs");
  candidates.push_back("/work/shared/kernel-configs");
  for (const std::string& c : candidates)
    if (std::filesystem::exists(c + "/debian-6.1-amd64_none_amd64")) return c;
  return "";
}

inline std::vector<std::string> debian_configs() {
  std::string dir = shared_configs_dir();
  if (dir.empty()) return {};
  return {dir + "/debian-6.1-amd64_none_amd64", dir + "/debian-6.1-arm64_none_arm64",
          dir + "/debian-6.1-armhf_none_armmp", dir + "/debian-6.1-mipsel_none_4kc-malta"};
}

#define NESTBOX_REQUIRE_SHARED_CONFIGS()                                                    \
  if (::nestbox::kernel_check::testing::shared_configs_dir().empty())                                                      \
  GTEST_SKIP() << "Debian kernel configs not found (set NESTBOX_KERNEL_CONFIGS to the "   \
                  "directory holding debian-6.1-amd64_none_amd64)"

// Rewrites config text: each listed symbol becomes "CONFIG_X=v", or
// "# CONFIG_X is not set" when v is "n"; symbols matching a prefix in
// `unset_prefixes` are unset too (Kconfig's dependents of a disabled option).
inline std::string derive_config(const std::string& text, const std::map<std::string, std::string>& set,
                                 const std::vector<std::string>& unset_prefixes = {}) {
  std::map<std::string, std::string> pending = set;
  std::string out;
  std::istringstream in(text);
  std::string line;
  auto render = [](const std::string& sym, const std::string& v) {
    return v == "n" ? "# CONFIG_" + sym + " is not set" : "CONFIG_" + sym + "=" + v;
  };
  while (std::getline(in, line)) {
    std::string sym;
    if (line.rfind("CONFIG_", 0) == 0) sym = line.substr(7, line.find('=') - 7);
    if (line.rfind("# CONFIG_", 0) == 0) sym = line.substr(9, line.find(' ', 9) - 9);
    if (!sym.empty()) {
      auto it = pending.find(sym);
      if (it != pending.end()) {
        out += render(sym, it->second) + "\n";
        pending.erase(it);
        continue;
      }
      bool unset = false;
      for (const std::string& p : unset_prefixes) unset |= sym.rfind(p, 0) == 0;
      if (unset && line[0] == 'C') {
        out += render(sym, "n") + "\n";
        continue;
      }
    }
    out += line + "\n";
  }
  for (const auto& [sym, v] : pending) out += render(sym, v) + "\n";
  return out;
}

// OpenWrt's small-flash defaults: no namespaces, no cgroups, no seccomp;
// squashfs with xz only.
inline std::string openwrt_small_flash(const std::string& debian_text) {
  return derive_config(
      debian_text,
      {{"NAMESPACES", "n"}, {"CGROUPS", "n"}, {"SECCOMP", "n"}, {"SECCOMP_FILTER", "n"},
       {"SQUASHFS", "y"}, {"SQUASHFS_XZ", "y"}, {"SQUASHFS_ZLIB", "n"}, {"SQUASHFS_LZ4", "n"},
       {"SQUASHFS_LZO", "n"}, {"SQUASHFS_ZSTD", "n"}, {"USER_NS", "n"}, {"UTS_NS", "n"},
       {"IPC_NS", "n"}, {"PID_NS", "n"}, {"NET_NS", "n"}, {"TIME_NS", "n"}, {"MEMCG", "n"},
       {"CPUSETS", "n"}, {"BLK_CGROUP", "n"}, {"CFS_BANDWIDTH", "n"}, {"FAIR_GROUP_SCHED", "n"},
       {"NET_CLS_CGROUP", "n"}, {"CHECKPOINT_RESTORE", "n"}},
      {"CGROUP_", "MEMCG_", "BLK_CGROUP_", "BLK_DEV_THROTTLING", "CGROUP_NET_", "SECCOMP_"});
}

}  // namespace nestbox::kernel_check::testing
