// Test helpers shared by the signer and verifier tests: temp dirs, squashfs
// images made with the real mksquashfs, key pairs, signed images.
#pragma once

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "signer/image_builder.h"
#include "signer/keys.h"
#include "tests/test_dir.h"

namespace nestbox::testing {

using TempDir = TestDir;  // tests/test_dir.h

// Runs a shell command; returns its exit status (stdout+stderr into *output).
inline int run(const std::string& cmd, std::string* output = nullptr) {
  std::string full = cmd + " 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  if (!p) return -1;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  if (output) *output = out;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void spit(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
}

// A squashfs with `files` files of `file_size` pseudo-random bytes (seeded),
// stored uncompressed so the image size is predictable.
inline std::string make_squashfs(const TempDir& dir, const std::string& name, unsigned seed, int files,
                                 size_t file_size) {
  std::string src = dir / (name + ".src");
  ::mkdir(src.c_str(), 0755);
  std::mt19937 rng(seed);
  for (int i = 0; i < files; ++i) {
    std::string data(file_size, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    spit(src + "/file" + std::to_string(i), data);
  }
  spit(src + "/hello", "hello from " + name + "\n");
  std::string out = dir / (name + ".sqfs");
  std::string log;
  int rc = run("mksquashfs '" + src + "' '" + out +
                   "' -noappend -quiet -no-progress -all-root -mkfs-time 0 -all-time 0 -noI -noD -noF -noX",
               &log);
  EXPECT_EQ(rc, 0) << log;
  return out;
}

struct KeyPair {
  std::string private_path, public_path, id;
};

inline KeyPair make_key(const TempDir& dir, const std::string& name,
                        signer::KeyType type = signer::KeyType::kEd25519) {
  KeyPair k{dir / (name + ".key"), dir / (name + ".pub"), ""};
  auto id = signer::generate_key(type, k.private_path, k.public_path);
  EXPECT_TRUE(id.ok()) << (id.ok() ? "" : id.error().message);
  if (id.ok()) k.id = *id;
  return k;
}

// A keyring directory holding the given public keys.
inline std::string make_keyring(const TempDir& dir, const std::string& name, const std::vector<KeyPair>& keys) {
  std::string ring = dir / name;
  ::mkdir(ring.c_str(), 0755);
  for (const KeyPair& k : keys) spit(ring + "/" + k.id.substr(0, 16) + ".pem", slurp(k.public_path));
  return ring;
}

inline signer::ImageSpec spec_for(const std::string& squashfs, const std::vector<KeyPair>& keys,
                                  const std::string& policy = "policy-bytes:demo\n", uint64_t version = 7) {
  signer::ImageSpec s;
  s.payload_path = squashfs;
  s.policy = policy;
  s.name = "demo";
  s.version = version;
  s.version_string = "1.2." + std::to_string(version);
  s.arch = "x86_64";
  s.compat = "nestbox-demo-board";
  s.created = 1700000000;
  for (const KeyPair& k : keys) s.key_uris.push_back(k.private_path);
  return s;
}

}  // namespace nestbox::testing
