// dm-verity hash tree builder (format 1, sha256, 4096-byte data and hash
// blocks), byte-compatible with `veritysetup format --hash-offset=<data size>`
// on the same file: a 4096-byte block holding the veritysetup superblock, then
// the tree levels from the top (one block) down to the leaves.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "util/result.h"

namespace nestbox::signer {

struct VerityTree {
  std::string region;      // superblock block + hash levels (multiple of 4096)
  std::string root;        // 32 raw bytes
  uint64_t data_blocks = 0;
};

// Reads `data_size` bytes (a multiple of 4096, > 0) from `fd` at offset 0.
// `salt` is 32 raw bytes, `uuid` 16 raw bytes (stored in the superblock).
// `read` (optional) is told the bytes of each chunk it has hashed.
Result<VerityTree> build_verity_tree(int fd, uint64_t data_size, const std::string& salt, const std::string& uuid,
                                     const std::function<void(uint64_t)>& read = {});

}  // namespace nestbox::signer
