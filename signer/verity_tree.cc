#include "signer/verity_tree.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "verifier/crypto.h"
#include "verifier/image_format.h"

namespace nestbox::signer {

namespace {

constexpr size_t kBlock = 4096;
constexpr size_t kHashesPerBlock = kBlock / 32;  // 128: 7 bits per level

// struct verity_sb from cryptsetup (lib/verity/verity.c), little-endian.
struct VeritySuperblock {
  uint8_t signature[8];  // "verity\0\0"
  image::Le32 version;   // 1
  image::Le32 hash_type; // 1
  uint8_t uuid[16];
  uint8_t algorithm[32];  // "sha256"
  image::Le32 data_block_size;
  image::Le32 hash_block_size;
  image::Le64 data_blocks;
  image::Le16 salt_size;
  uint8_t pad1[6];
  uint8_t salt[256];
  uint8_t pad2[168];
};
static_assert(offsetof(VeritySuperblock, data_block_size) == 64);
static_assert(offsetof(VeritySuperblock, salt) == 88);
static_assert(sizeof(VeritySuperblock) == 512);

std::string hash_block(const std::string& salt, const char* block) {
  crypto::Sha256 h;
  h.update(salt.data(), salt.size());
  h.update(block, kBlock);
  return h.finish();
}

// Hashes every block of `level` into a new level, zero-padded to whole blocks.
std::string hash_level(const std::string& salt, const std::string& level) {
  size_t blocks = level.size() / kBlock;
  std::string out;
  out.reserve((blocks + kHashesPerBlock - 1) / kHashesPerBlock * kBlock);
  for (size_t i = 0; i < blocks; ++i) out += hash_block(salt, level.data() + i * kBlock);
  out.resize(image::align_up(out.size(), kBlock), '\0');
  return out;
}

}  // namespace

Result<VerityTree> build_verity_tree(int fd, uint64_t data_size, const std::string& salt, const std::string& uuid,
                                     const std::function<void(uint64_t)>& read) {
  if (data_size == 0 || data_size % kBlock != 0) return bad_input("verity: data size not a multiple of 4096");
  if (salt.size() != image::kVeritySaltSize || uuid.size() != 16) return bad_input("verity: bad salt or uuid size");
  VerityTree out;
  out.data_blocks = data_size / kBlock;

  // Leaves: one hash per data block, streamed.
  std::string level;
  std::vector<char> buf(kBlock * 64);
  for (uint64_t off = 0; off < data_size;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), data_size - off));
    ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("verity: read");
    if (n == 0) return failure("verity: data shorter than expected");
    // Hash whole blocks only; a partial block is read again next time.
    size_t whole = static_cast<size_t>(n) / kBlock * kBlock;
    if (whole == 0) return failure("verity: short read");
    for (size_t i = 0; i < whole; i += kBlock) level += hash_block(salt, buf.data() + i);
    off += whole;
    if (read) read(whole);
  }

  // cryptsetup's level count: the smallest L with (blocks - 1) >> (7 * L) == 0.
  int levels = 0;
  while (levels * 7 < 64 && ((out.data_blocks - 1) >> (7 * levels)) != 0) ++levels;
  std::vector<std::string> tree;  // tree[0] = leaves
  if (levels == 0) {
    out.root = level.substr(0, 32);  // one data block: its hash is the root
  } else {
    level.resize(image::align_up(level.size(), kBlock), '\0');
    tree.push_back(std::move(level));
    while (static_cast<int>(tree.size()) < levels) tree.push_back(hash_level(salt, tree.back()));
    if (tree.back().size() != kBlock) return failure("verity: top level is not one block");
    out.root = hash_block(salt, tree.back().data());
  }

  VeritySuperblock sb;
  std::memset(&sb, 0, sizeof sb);
  std::memcpy(sb.signature, "verity\0\0", 8);
  sb.version.set(1);
  sb.hash_type.set(1);
  std::memcpy(sb.uuid, uuid.data(), 16);
  std::memcpy(sb.algorithm, "sha256", 6);
  sb.data_block_size.set(kBlock);
  sb.hash_block_size.set(kBlock);
  sb.data_blocks.set(out.data_blocks);
  sb.salt_size.set(salt.size());
  std::memcpy(sb.salt, salt.data(), salt.size());
  out.region.assign(reinterpret_cast<const char*>(&sb), sizeof sb);
  out.region.resize(kBlock, '\0');
  for (size_t i = tree.size(); i-- > 0;) out.region += tree[i];
  return out;
}

}  // namespace nestbox::signer
